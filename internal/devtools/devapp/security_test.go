package devapp_test

import (
	"net/http"
	"strings"
	"testing"

	"adstudio/internal/routes"
)

// formPostCallback is the one POST that is not a write: a provider's
// form_post lands there from the provider's own origin, and it only moves
// the fields into a GET of the callback (TestSocialFormPostCallback). The
// /api/auth/ catch-all is not a write either: it answers better-auth's
// empty 404.
const formPostCallback = "/api/auth/callback/{provider}"

// TestEveryCookieWriteNeedsTrustedOrigin walks the route table: a
// state-changing request that carries a cookie is refused without a trusted
// Origin on every route, so a new route cannot forget the check.
func TestEveryCookieWriteNeedsTrustedOrigin(t *testing.T) {
	t.Parallel()
	ts := newServer(t, nil)
	b := ts.browser()
	b.signUp(t, "victim@example.com", "password123")
	for _, rt := range routes.Table() {
		if rt.Method == "GET" || rt.Path == formPostCallback || rt.Path == "/api/auth/" {
			continue
		}
		if rt.Path == stripeWebhook {
			// Stripe's deliveries carry no cookie and are authenticated by
			// their signature alone: with the victim's cookies and any
			// Origin, an unsigned one is refused all the same.
			r := b.do(t, "POST", rt.Path, map[string]any{}, header{"Origin": "https://evil.example"})
			if r.StatusCode != 400 || !strings.Contains(string(r.body), "INVALID_SIGNATURE") {
				t.Errorf("webhook with cookies: %d %s", r.StatusCode, r.body)
			}
			continue
		}
		for _, tc := range []struct {
			name   string
			hdr    header
			status int
			code   string
		}{
			{"no origin", header{"Origin": ""}, 403, "MISSING_OR_NULL_ORIGIN"},
			{"null origin", header{"Origin": "null"}, 403, "MISSING_OR_NULL_ORIGIN"},
			{"evil origin", header{"Origin": "https://evil.example"}, 403, "INVALID_ORIGIN"},
			{"look-alike origin", header{"Origin": "http://localhost:5173.evil.example"}, 403, "INVALID_ORIGIN"},
			{"evil referer", header{"Origin": "", "Referer": "https://evil.example/page"}, 403, "INVALID_ORIGIN"},
		} {
			method := rt.Method
			if method == "" {
				method = "PUT"
			}
			r := b.do(t, method, strings.ReplaceAll(rt.Path, "{id}", "some-id"), map[string]any{}, tc.hdr)
			if r.StatusCode != tc.status || !strings.Contains(string(r.body), tc.code) {
				t.Errorf("%s with %s: %d %s, want %d %s", rt.Pattern(), tc.name, r.StatusCode, r.body, tc.status, tc.code)
			}
		}
	}
	// And the victim's session survived all of it.
	if got := b.sessionUser(t, ""); got != "victim@example.com" {
		t.Fatalf("session after attacks: %q", got)
	}
}

// TestEveryWriteRejectsBadJSON walks the route table: malformed bodies are a
// 4xx everywhere, never a 500.
func TestEveryWriteRejectsBadJSON(t *testing.T) {
	t.Parallel()
	ts := newServer(t, nil)
	b := ts.browser()
	b.signUp(t, "json@example.com", "password123")
	for _, rt := range routes.Table() {
		if rt.Method == "GET" || rt.Method == "" || rt.Method == "DELETE" || rt.Path == formPostCallback {
			continue
		}
		for _, body := range []string{`{`, `"str"`, `{"a":1}{`, "\xff\xfe"} {
			r := b.do(t, rt.Method, rt.Path, body, nil)
			if r.StatusCode < 400 || r.StatusCode >= 500 {
				t.Errorf("%s with body %q: %d %s", rt.Pattern(), body, r.StatusCode, r.body)
			}
		}
	}
}

func TestLoginCSRF(t *testing.T) {
	t.Parallel()
	ts := newServer(t, nil)
	ts.browser().signUp(t, "csrf@example.com", "password123")
	creds := map[string]any{"email": "csrf@example.com", "password": "password123"}
	for _, tc := range []struct {
		name   string
		hdr    header
		status int
		code   string
	}{
		{"cross-site form navigation", header{"Origin": "https://evil.example", "Sec-Fetch-Site": "cross-site", "Sec-Fetch-Mode": "navigate", "Sec-Fetch-Dest": "document"}, 403, "CROSS_SITE_NAVIGATION_LOGIN_BLOCKED"},
		{"browser fetch from evil origin", header{"Origin": "https://evil.example", "Sec-Fetch-Site": "cross-site", "Sec-Fetch-Mode": "cors"}, 403, "INVALID_ORIGIN"},
		{"browser fetch without origin", header{"Origin": "", "Sec-Fetch-Site": "same-origin", "Sec-Fetch-Mode": "cors"}, 403, "MISSING_OR_NULL_ORIGIN"},
		{"no metadata, evil origin", header{"Origin": "https://evil.example"}, 403, "INVALID_ORIGIN"},
		{"SPA fetch", header{"Sec-Fetch-Site": "cross-site", "Sec-Fetch-Mode": "cors"}, 200, ""},
		{"server to server, no origin", header{"Origin": ""}, 200, ""},
	} {
		r := ts.browser().do(t, "POST", "/api/auth/sign-in/email", creds, tc.hdr)
		if r.StatusCode != tc.status || !strings.Contains(string(r.body), tc.code) {
			t.Errorf("%s: %d %s, want %d %s", tc.name, r.StatusCode, r.body, tc.status, tc.code)
		}
	}
}

func TestRedirectTargetsValidated(t *testing.T) {
	t.Parallel()
	ts := newServer(t, nil)
	ts.browser().signUp(t, "cb@example.com", "password123")
	for _, target := range []string{"//evil.com", `/\evil.com`, "https:/evil.com", "https://evil.com", "https://localhost:5173@evil.com", "javascript:alert(1)", "/%2fevil.com", "http://localhost:5174"} {
		r := ts.browser().do(t, "POST", "/api/auth/sign-in/email", map[string]any{"email": "cb@example.com", "password": "password123", "callbackURL": target}, nil)
		wantError(t, r, 403, "INVALID_CALLBACK_URL", "Invalid callbackURL")
		if len(r.setCookies("session_token")) != 0 {
			t.Errorf("callbackURL %q: refused but still signed in", target)
		}
	}
	for field, code := range map[string]string{"errorCallbackURL": "INVALID_ERROR_CALLBACK_URL", "newUserCallbackURL": "INVALID_NEW_USER_CALLBACK_URL", "redirectTo": "INVALID_REDIRECT_URL"} {
		r := ts.browser().do(t, "POST", "/api/auth/sign-out", map[string]any{field: "https://evil.com"}, nil)
		wantError(t, r, 403, code, "")
	}
	r := ts.browser().do(t, "POST", "/api/auth/sign-out", map[string]any{"callbackURL": 5}, nil)
	if r.StatusCode != 400 || !strings.Contains(string(r.body), "Invalid callbackURL: expected a string") {
		t.Fatalf("non-string callbackURL: %d %s", r.StatusCode, r.body)
	}
	for _, ok := range []string{"/dashboard?tab=1", spaOrigin + "/welcome"} {
		r := ts.browser().do(t, "POST", "/api/auth/sign-in/email", map[string]any{"email": "cb@example.com", "password": "password123", "callbackURL": ok}, nil)
		if r.StatusCode != 200 {
			t.Errorf("callbackURL %q refused: %s", ok, r.body)
		}
	}
}

func TestCORS(t *testing.T) {
	t.Parallel()
	ts := newServer(t, nil)
	pre := func(origin string) *http.Response {
		req, _ := http.NewRequest("OPTIONS", ts.srv.URL+"/api/auth/sign-in/email", nil)
		req.Header.Set("Origin", origin)
		req.Header.Set("Access-Control-Request-Method", "POST")
		req.Header.Set("Access-Control-Request-Headers", "content-type")
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		return res
	}
	for _, evil := range []string{"https://evil.example", "null", spaOrigin + "/", "http://localhost:5173.evil.example"} {
		if res := pre(evil); res.Header.Get("Access-Control-Allow-Origin") != "" {
			t.Errorf("preflight from %q allowed", evil)
		}
	}
	res := pre(spaOrigin)
	if res.StatusCode != 204 || res.Header.Get("Access-Control-Allow-Origin") != spaOrigin || res.Header.Get("Access-Control-Allow-Credentials") != "true" ||
		!strings.Contains(strings.ToLower(res.Header.Get("Access-Control-Allow-Headers")), "content-type") || !strings.Contains(res.Header.Get("Access-Control-Allow-Methods"), "POST") {
		t.Fatalf("preflight: %d %v", res.StatusCode, res.Header)
	}
	r := ts.browser().do(t, "GET", "/api/me", nil, nil)
	if r.Header.Get("Access-Control-Allow-Origin") != spaOrigin || r.Header.Get("Access-Control-Allow-Credentials") != "true" || r.Header.Get("Vary") != "Origin" {
		t.Fatalf("401 from /api/me lacks CORS headers: %v", r.Header)
	}
}

func TestMalformedStoredHashIs401(t *testing.T) {
	t.Parallel()
	ts := newServer(t, nil)
	ts.browser().signUp(t, "broken@example.com", "password123")
	for _, bad := range []string{"no-colon-here", "zz:zz", ""} {
		if err := ts.app.DB.Exec(t.Context(), `UPDATE "account" SET "password" = ?`, bad); err != nil {
			t.Fatal(err)
		}
		r := ts.browser().signIn(t, "broken@example.com", "password123")
		wantError(t, r, 401, "INVALID_EMAIL_OR_PASSWORD", "Invalid email or password")
	}
}
