package devapp_test

import (
	"strings"
	"testing"
	"time"
)

// TestBadInput walks hostile and malformed requests: every one must get a
// 4xx in better-auth's shape, never a 500.
func TestBadInput(t *testing.T) {
	t.Parallel()
	ts := newServer(t, nil)
	ts.browser().signUp(t, "taken@example.com", "password123")
	huge := `{"name":"` + strings.Repeat("x", 70<<10) + `","email":"a@example.com","password":"password123"}`
	for _, tc := range []struct {
		name, method, path string
		body               any
		hdr                header
		status             int
		code, message      string
	}{
		{"malformed JSON", "POST", "/api/auth/sign-up/email", `{"email":`, nil, 400, "BAD_REQUEST", "Invalid JSON in request body"},
		{"trailing garbage", "POST", "/api/auth/sign-in/email", `{"email":"a@b.co","password":"x"} x`, nil, 400, "BAD_REQUEST", "Invalid JSON in request body"},
		{"array body", "POST", "/api/auth/sign-in/email", `[1,2]`, nil, 400, "VALIDATION_ERROR", "[body] Invalid input: expected object, received array"},
		{"huge body", "POST", "/api/auth/sign-up/email", huge, nil, 413, "PAYLOAD_TOO_LARGE", ""},
		{"text/plain", "POST", "/api/auth/sign-in/email", `{}`, header{"Content-Type": "text/plain"}, 415, "UNSUPPORTED_MEDIA_TYPE", `Content-Type "text/plain" is not allowed. Allowed types: application/x-www-form-urlencoded, application/json`},
		{"no content type", "POST", "/api/auth/update-user", `{"name":"x"}`, header{"Content-Type": ""}, 415, "UNSUPPORTED_MEDIA_TYPE", "Content-Type is required. Allowed types: application/json"},
		{"sign-up missing name", "POST", "/api/auth/sign-up/email", map[string]any{"email": "a@example.com", "password": "password123"}, nil, 400, "VALIDATION_ERROR", "[body.name] Invalid input: expected string, received undefined"},
		{"sign-up bad email", "POST", "/api/auth/sign-up/email", map[string]any{"name": "A", "email": "not-an-email", "password": "password123"}, nil, 400, "VALIDATION_ERROR", "[body.email] Invalid email address"},
		{"sign-up unicode email", "POST", "/api/auth/sign-up/email", map[string]any{"name": "A", "email": "zoë@exämple.com", "password": "password123"}, nil, 400, "VALIDATION_ERROR", "[body.email] Invalid email address"},
		{"sign-up email number", "POST", "/api/auth/sign-up/email", map[string]any{"name": "A", "email": 42, "password": "password123"}, nil, 400, "VALIDATION_ERROR", "[body.email] Invalid input: expected string, received number"},
		{"sign-up two issues", "POST", "/api/auth/sign-up/email", map[string]any{"name": true, "email": "x", "password": "password123"}, nil, 400, "VALIDATION_ERROR", "[body.name] Invalid input: expected string, received boolean; [body.email] Invalid email address"},
		{"sign-up rememberMe string", "POST", "/api/auth/sign-up/email", map[string]any{"name": "A", "email": "r@example.com", "password": "password123", "rememberMe": "no"}, nil, 400, "VALIDATION_ERROR", "[body.rememberMe] Invalid input: expected boolean, received string"},
		{"short password", "POST", "/api/auth/sign-up/email", map[string]any{"name": "A", "email": "s@example.com", "password": "short"}, nil, 400, "PASSWORD_TOO_SHORT", "Password too short"},
		{"short in UTF-16 units", "POST", "/api/auth/sign-up/email", map[string]any{"name": "A", "email": "s@example.com", "password": "ééééééé"}, nil, 400, "PASSWORD_TOO_SHORT", "Password too short"},
		{"long password", "POST", "/api/auth/sign-up/email", map[string]any{"name": "A", "email": "l@example.com", "password": strings.Repeat("p", 129)}, nil, 400, "PASSWORD_TOO_LONG", "Password too long"},
		{"long in UTF-16 units", "POST", "/api/auth/sign-up/email", map[string]any{"name": "A", "email": "l@example.com", "password": strings.Repeat("😀", 65)}, nil, 400, "PASSWORD_TOO_LONG", "Password too long"},
		{"duplicate email, other case", "POST", "/api/auth/sign-up/email", map[string]any{"name": "A", "email": "TAKEN@example.com", "password": "password123"}, nil, 422, "USER_ALREADY_EXISTS_USE_ANOTHER_EMAIL", "User already exists. Use another email."},
		{"sign-in bad email", "POST", "/api/auth/sign-in/email", map[string]any{"email": "nope", "password": "password123"}, nil, 400, "INVALID_EMAIL", "Invalid email"},
		{"sign-in long password", "POST", "/api/auth/sign-in/email", map[string]any{"email": "taken@example.com", "password": strings.Repeat("p", 129)}, nil, 400, "PASSWORD_TOO_LONG", "Password too long"},
		{"sign-in long password, unknown email", "POST", "/api/auth/sign-in/email", map[string]any{"email": "nobody@example.com", "password": strings.Repeat("😀", 65)}, nil, 400, "PASSWORD_TOO_LONG", "Password too long"},
		{"sign-in bad email and long password", "POST", "/api/auth/sign-in/email", map[string]any{"email": "a@b", "password": strings.Repeat("p", 129)}, nil, 400, "INVALID_EMAIL", "Invalid email"},
		{"sign-in missing password", "POST", "/api/auth/sign-in/email", map[string]any{"email": "taken@example.com"}, nil, 400, "VALIDATION_ERROR", "[body.password] Invalid input: expected string, received undefined"},
		{"sign-in wrong password", "POST", "/api/auth/sign-in/email", map[string]any{"email": "taken@example.com", "password": "password124"}, nil, 401, "INVALID_EMAIL_OR_PASSWORD", "Invalid email or password"},
		{"sign-in unknown email", "POST", "/api/auth/sign-in/email", map[string]any{"email": "nobody@example.com", "password": "password123"}, nil, 401, "INVALID_EMAIL_OR_PASSWORD", "Invalid email or password"},
		{"update-user signed out", "POST", "/api/auth/update-user", map[string]any{"name": "x"}, nil, 401, "UNAUTHORIZED", "Unauthorized"},
		{"revoke-session wrong type", "POST", "/api/auth/revoke-session", map[string]any{"token": 7}, nil, 400, "VALIDATION_ERROR", "[body.token] Invalid input: expected string, received number"},
		{"get-session by POST", "POST", "/api/auth/get-session", map[string]any{}, nil, 405, "METHOD_NOT_ALLOWED_DEFER_SESSION_REQUIRED", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := ts.browser().do(t, tc.method, tc.path, tc.body, tc.hdr)
			wantError(t, r, tc.status, tc.code, tc.message)
		})
	}
}

// TestSignInEmailForm checks sign-in's email check against zod 4's
// z.email(), which better-auth 1.7.24 applies before any lookup: the
// verdicts below were produced by zod itself (node, zod 4 as installed by
// tests/compat). A malformed email is 400 INVALID_EMAIL, never the 401 of a
// wrong password.
func TestSignInEmailForm(t *testing.T) {
	t.Parallel()
	ts := newServer(t, nil)
	for _, tc := range []struct {
		email string
		valid bool
	}{
		{"nope", false}, {"a@b", false}, {"a@b.c", false}, {".a@b.co", false}, {"a..b@c.co", false},
		{"a.@b.co", false}, {"a@-b.co", false}, {"a@b..co", false}, {"a b@c.co", false}, {"a@b.c0m", false},
		{"é@b.co", false}, {"a@é.co", false}, {`"a"@b.co`, false}, {"a@[1.2.3.4]", false}, {"a@b.co ", false},
		{"  a@b.co", false}, {"a@b_c.co", false}, {"a@b.co.", false}, {"a@b.1co", false},
		{"a@b.co", true}, {"A@B.CO", true}, {"a@b-.co", true}, {"a+b@c.co", true}, {"a'b@c.co", true},
		{"a_@b.co", true}, {"a-@b.co", true}, {"-a@b.co", true}, {"a@1.co", true},
	} {
		r := ts.browser().do(t, "POST", "/api/auth/sign-in/email", map[string]any{"email": tc.email, "password": "password123"}, nil)
		switch {
		case tc.valid && r.StatusCode != 401:
			t.Errorf("%q: %d %s, want the 401 of an unknown account", tc.email, r.StatusCode, r.body)
		case !tc.valid:
			wantError(t, r, 400, "INVALID_EMAIL", "Invalid email")
		}
	}
}

func TestNotFoundShapes(t *testing.T) {
	t.Parallel()
	ts := newServer(t, nil)
	b := ts.browser()
	for _, tc := range []struct{ method, path, body string }{
		{"GET", "/api/auth/nope", ""},
		{"GET", "/api/auth/sign-in/email", ""}, // known path, wrong method
		{"POST", "/api/auth/ok", ""},
		{"HEAD", "/api/auth/ok", ""},
		{"GET", "/api/auth/get-session/", ""}, // trailing slash
		{"GET", "/api/auth//get-session", ""},
	} {
		r := b.do(t, tc.method, tc.path, nil, nil)
		if r.StatusCode != 404 || len(r.body) != 0 {
			t.Errorf("%s %s: %d %q, want 404 with empty body", tc.method, tc.path, r.StatusCode, r.body)
		}
	}
	for _, p := range []string{"/api/nope", "/api/health/", "/api/me/x"} {
		r := b.do(t, "GET", p, nil, nil)
		if r.StatusCode != 404 || string(r.body) != `{"error":"Not found"}` {
			t.Errorf("GET %s: %d %s, want 404 {\"error\":\"Not found\"}", p, r.StatusCode, r.body)
		}
	}
}

func TestSignUpSignInAndSession(t *testing.T) {
	t.Parallel()
	ts := newServer(t, nil)
	b := ts.browser()
	if got := b.sessionUser(t, ""); got != "" {
		t.Fatalf("fresh browser has session %q", got)
	}
	r := b.signUp(t, "Ann@Example.com", "password123")
	m := r.json(t)
	user := m["user"].(map[string]any)
	if user["email"] != "ann@example.com" || user["emailVerified"] != false || user["image"] != nil || m["token"] == "" {
		t.Fatalf("sign-up body %s", r.body)
	}
	if ca := user["createdAt"].(string); len(ca) != 24 || !strings.HasSuffix(ca, "Z") || ca[19] != '.' {
		t.Fatalf("createdAt %q is not Date.toJSON format", ca)
	}
	tok := r.setCookies("session_token")
	if len(tok) != 1 || !strings.Contains(tok[0], "; Max-Age=604800; Path=/; HttpOnly; SameSite=Lax") {
		t.Fatalf("session_token cookie %v", tok)
	}
	if len(r.setCookies("session_data")) != 1 {
		t.Fatalf("no session_data cookie: %v", r.Header.Values("Set-Cookie"))
	}
	if got := b.sessionUser(t, ""); got != "ann@example.com" {
		t.Fatalf("after sign-up get-session = %q", got)
	}

	// A second browser signs in; both sessions are listed.
	b2 := ts.browser()
	r = b2.signIn(t, "ANN@example.com", "password123")
	if r.StatusCode != 200 || r.json(t)["redirect"] != false {
		t.Fatalf("sign-in: %d %s", r.StatusCode, r.body)
	}
	r = b2.do(t, "GET", "/api/auth/list-sessions", nil, nil)
	if r.StatusCode != 200 || strings.Count(string(r.body), `"token"`) != 2 {
		t.Fatalf("list-sessions: %d %s", r.StatusCode, r.body)
	}

	// sign-in with callbackURL answers redirect:true with the URL.
	r = ts.browser().do(t, "POST", "/api/auth/sign-in/email", map[string]any{"email": "ann@example.com", "password": "password123", "callbackURL": spaOrigin + "/studio"}, nil)
	if m := r.json(t); m["redirect"] != true || m["url"] != spaOrigin+"/studio" || r.Header.Get("Location") != spaOrigin+"/studio" {
		t.Fatalf("sign-in with callbackURL: %s %v", r.body, r.Header)
	}

	// Sign-out always succeeds and clears the cookies.
	r = b.do(t, "POST", "/api/auth/sign-out", map[string]any{}, nil)
	if r.StatusCode != 200 || string(r.body) != `{"success":true}` || len(r.setCookies("")) != 3 {
		t.Fatalf("sign-out: %d %s %v", r.StatusCode, r.body, r.Header.Values("Set-Cookie"))
	}
	if got := b.sessionUser(t, ""); got != "" {
		t.Fatalf("after sign-out get-session = %q", got)
	}
	if r := ts.browser().do(t, "POST", "/api/auth/sign-out", map[string]any{}, nil); r.StatusCode != 200 {
		t.Fatalf("sign-out without session: %d", r.StatusCode)
	}
	if got := b2.sessionUser(t, ""); got != "ann@example.com" {
		t.Fatalf("other browser lost its session: %q", got)
	}
}

func TestRememberMeFalse(t *testing.T) {
	t.Parallel()
	ts := newServer(t, nil)
	ts.browser().signUp(t, "r@example.com", "password123")
	b := ts.browser()
	r := b.do(t, "POST", "/api/auth/sign-in/email", map[string]any{"email": "r@example.com", "password": "password123", "rememberMe": false}, nil)
	if r.StatusCode != 200 {
		t.Fatalf("sign-in: %d %s", r.StatusCode, r.body)
	}
	for _, name := range []string{"session_token", "session_data", "dont_remember"} {
		c := r.setCookies(name)
		if len(c) != 1 || strings.Contains(c[0], "Max-Age") {
			t.Errorf("%s cookie %v: want one browser-session cookie without Max-Age", name, c)
		}
	}
	// The session lives one day and is never extended.
	ts.clock.Advance(23 * time.Hour)
	if got := b.sessionUser(t, "?disableCookieCache=1"); got != "r@example.com" {
		t.Fatalf("after 23h: %q", got)
	}
	ts.clock.Advance(2 * time.Hour)
	if got := b.sessionUser(t, "?disableCookieCache=1"); got != "" {
		t.Fatalf("after 25h a rememberMe:false session is still alive")
	}
}

func TestFormSignIn(t *testing.T) {
	t.Parallel()
	ts := newServer(t, nil)
	ts.browser().signUp(t, "form@example.com", "password123")
	r := ts.browser().do(t, "POST", "/api/auth/sign-in/email", "email=form%40example.com&password=password123",
		header{"Content-Type": "application/x-www-form-urlencoded"})
	if r.StatusCode != 200 {
		t.Fatalf("form sign-in: %d %s", r.StatusCode, r.body)
	}
	// Form bodies are accepted only where better-auth accepts them.
	r = ts.browser().do(t, "POST", "/api/auth/update-user", "name=x", header{"Content-Type": "application/x-www-form-urlencoded"})
	wantError(t, r, 415, "UNSUPPORTED_MEDIA_TYPE", "")
}
