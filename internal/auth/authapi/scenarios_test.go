package authapi_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"adstudio/internal/devtools/apitest"
	"adstudio/internal/functions/auth"
	"adstudio/internal/server"
)

// newEnv is the auth function as its Lambda builds it.
func newEnv(t *testing.T) *apitest.Env {
	return apitest.New(t, nil, func(c *server.Core) (http.Handler, error) { return auth.New(c, auth.Options{}).Handler() })
}

// invalidCredentials is the one body of a failed sign-in: a wrong password
// and an unknown email must not be told apart.
const invalidCredentials = `{"message":"Invalid email or password","code":"INVALID_EMAIL_OR_PASSWORD"}`

// hdr is the SPA's header with the given values replaced ("" removes one).
func hdr(kv ...string) http.Header {
	h := apitest.SPA()
	for i := 0; i+1 < len(kv); i += 2 {
		if kv[i+1] == "" {
			h.Del(kv[i])
		} else {
			h.Set(kv[i], kv[i+1])
		}
	}
	return h
}

// body asserts the whole response body.
func body(want string) func(*testing.T, *apitest.Env, *http.Response, string) {
	return func(t *testing.T, _ *apitest.Env, _ *http.Response, got string) {
		t.Helper()
		if got != want {
			t.Errorf("body %q, want %q", got, want)
		}
	}
}

// signedUp signs up ann@example.com and sends her cookie.
func signedUp(t *testing.T, env *apitest.Env) { env.Cookie = env.SignUp(t, "ann@example.com") }

func TestScenarios(t *testing.T) {
	const annUp = `{"name":"Ann","email":"Ann@Example.com","password":"password123"}`
	const annIn = `{"email":"ann@example.com","password":"password123"}`
	apitest.Run(t, newEnv, []apitest.Scenario{
		// sign-up
		{
			Name: "sign-up from the SPA", Method: "POST", Path: "/api/auth/sign-up/email", Body: annUp, Header: apitest.SPA(),
			Status: 200, Contains: []string{`"token":"`, `"email":"ann@example.com"`, `"emailVerified":false`}, NotContains: []string{"password"},
			Rows: map[string]int{"users": 1, "account": 1, "session": 1, "user_profile": 1},
			After: func(t *testing.T, env *apitest.Env, res *http.Response, _ string) {
				if c := res.Header.Values("Set-Cookie"); len(c) != 2 || !strings.Contains(c[0]+c[1], "session_token=") {
					t.Errorf("Set-Cookie %v", c)
				}
			},
		},
		{
			Name: "sign-up with a taken email in another case", Method: "POST", Path: "/api/auth/sign-up/email", Body: annUp, Header: apitest.SPA(),
			Before: func(t *testing.T, env *apitest.Env) { env.SignUp(t, "ann@example.com") },
			Status: 422, Contains: []string{`"code":"USER_ALREADY_EXISTS_USE_ANOTHER_EMAIL"`},
			Rows: map[string]int{"users": 0, "account": 0, "session": 0, "user_profile": 0},
		},
		{
			Name: "sign-up with a short password", Method: "POST", Path: "/api/auth/sign-up/email", Header: apitest.SPA(),
			Body:   `{"name":"A","email":"s@example.com","password":"short"}`,
			Status: 400, After: body(`{"message":"Password too short","code":"PASSWORD_TOO_SHORT"}`),
			Rows: map[string]int{"users": 0},
		},
		{
			Name: "sign-up with an invalid email", Method: "POST", Path: "/api/auth/sign-up/email", Header: apitest.SPA(),
			Body:   `{"name":"A","email":"not-an-email","password":"password123"}`,
			Status: 400, Contains: []string{`"code":"VALIDATION_ERROR"`, `[body.email] Invalid email address`},
			Rows: map[string]int{"users": 0},
		},
		{
			Name: "sign-up with malformed JSON", Method: "POST", Path: "/api/auth/sign-up/email", Body: `{"email":`, Header: apitest.SPA(),
			Status: 400, Contains: []string{`"code":"BAD_REQUEST"`}, Rows: map[string]int{"users": 0},
		},
		{
			Name: "sign-up from an untrusted origin", Method: "POST", Path: "/api/auth/sign-up/email", Body: annUp,
			Header: hdr("Origin", "https://evil.example"),
			Status: 403, Contains: []string{`"code":"INVALID_ORIGIN"`}, Rows: map[string]int{"users": 0, "session": 0},
		},
		{
			Name: "sign-up by a cross-site form navigation", Method: "POST", Path: "/api/auth/sign-up/email", Body: annUp,
			Header: hdr("Origin", "https://evil.example", "Sec-Fetch-Site", "cross-site", "Sec-Fetch-Mode", "navigate"),
			Status: 403, Contains: []string{`"code":"CROSS_SITE_NAVIGATION_LOGIN_BLOCKED"`}, Rows: map[string]int{"users": 0},
		},

		// sign-in
		{
			Name: "sign-in", Method: "POST", Path: "/api/auth/sign-in/email", Body: annIn, Header: apitest.SPA(),
			Before: func(t *testing.T, env *apitest.Env) { env.SignUp(t, "ann@example.com") },
			Status: 200, Contains: []string{`"redirect":false`, `"email":"ann@example.com"`}, NotContains: []string{`"url"`},
			Rows: map[string]int{"session": 1, "users": 0},
		},
		{
			Name: "sign-in with a wrong password", Method: "POST", Path: "/api/auth/sign-in/email", Header: apitest.SPA(),
			Body:   `{"email":"ann@example.com","password":"password124"}`,
			Before: func(t *testing.T, env *apitest.Env) { env.SignUp(t, "ann@example.com") },
			Status: 401, After: body(invalidCredentials), Rows: map[string]int{"session": 0},
		},
		{
			Name: "sign-in with an unknown email answers the same", Method: "POST", Path: "/api/auth/sign-in/email", Header: apitest.SPA(),
			Body:   `{"email":"nobody@example.com","password":"password123"}`,
			Before: func(t *testing.T, env *apitest.Env) { env.SignUp(t, "ann@example.com") },
			Status: 401, After: body(invalidCredentials), Rows: map[string]int{"session": 0},
		},
		{
			Name: "sign-in with a malformed email", Method: "POST", Path: "/api/auth/sign-in/email", Header: apitest.SPA(),
			Body:   `{"email":"nope","password":"password123"}`,
			Status: 400, After: body(`{"message":"Invalid email","code":"INVALID_EMAIL"}`),
		},
		{
			Name: "sign-in with a foreign callbackURL", Method: "POST", Path: "/api/auth/sign-in/email", Header: apitest.SPA(),
			Body:   `{"email":"ann@example.com","password":"password123","callbackURL":"//evil.com"}`,
			Before: func(t *testing.T, env *apitest.Env) { env.SignUp(t, "ann@example.com") },
			Status: 403, Contains: []string{`"code":"INVALID_CALLBACK_URL"`}, Rows: map[string]int{"session": 0},
		},

		// get-session
		{
			Name: "get-session signed out", Method: "GET", Path: "/api/auth/get-session",
			Status: 200, After: body("null"),
		},
		{
			Name: "get-session signed in", Method: "GET", Path: "/api/auth/get-session", Before: signedUp,
			Status: 200, Contains: []string{`"session":{`, `"email":"ann@example.com"`}, NotContains: []string{"password"},
		},
		{
			Name: "get-session with a forged cookie", Method: "GET", Path: "/api/auth/get-session",
			Header: http.Header{"Cookie": {"better-auth.session_token=forged.AAAA"}},
			Before: signedUp, Status: 200, After: body("null"),
		},
		{
			Name: "get-session by POST", Method: "POST", Path: "/api/auth/get-session", Body: `{}`, Header: apitest.SPA(),
			Status: 405, Contains: []string{`"code":"METHOD_NOT_ALLOWED_DEFER_SESSION_REQUIRED"`},
		},

		// sign-out
		{
			Name: "sign-out", Method: "POST", Path: "/api/auth/sign-out", Body: `{}`, Header: apitest.SPA(), Before: signedUp,
			Status: 200, After: body(`{"success":true}`), Rows: map[string]int{"session": -1, "users": 0},
		},
		{
			Name: "sign-out with a cookie and no Origin", Method: "POST", Path: "/api/auth/sign-out", Body: `{}`,
			Header: hdr("Origin", ""), Before: signedUp,
			Status: 403, Contains: []string{`"code":"MISSING_OR_NULL_ORIGIN"`}, Rows: map[string]int{"session": 0},
		},
		{
			Name: "sign-out with a cookie and a foreign Referer", Method: "POST", Path: "/api/auth/sign-out", Body: `{}`,
			Header: hdr("Origin", "", "Referer", "https://evil.example/page"), Before: signedUp,
			Status: 403, Contains: []string{`"code":"INVALID_ORIGIN"`}, Rows: map[string]int{"session": 0},
		},

		// list-sessions
		{
			Name: "list-sessions", Method: "GET", Path: "/api/auth/list-sessions",
			Before: func(t *testing.T, env *apitest.Env) {
				env.Cookie = env.SignUp(t, "ann@example.com")
				env.SignIn(t, "ann@example.com")
			},
			Status: 200,
			After: func(t *testing.T, _ *apitest.Env, _ *http.Response, body string) {
				if n := strings.Count(body, `"token"`); n != 2 {
					t.Errorf("%d sessions listed, want 2: %s", n, body)
				}
			},
		},
		{
			Name: "list-sessions signed out", Method: "GET", Path: "/api/auth/list-sessions",
			Status: 401, After: body(`{"message":"Unauthorized","code":"UNAUTHORIZED"}`),
		},
		{
			Name: "list-sessions with a day-old session", Method: "GET", Path: "/api/auth/list-sessions",
			Before: func(t *testing.T, env *apitest.Env) { signedUp(t, env); env.Clock.Advance(25 * time.Hour) },
			Status: 403, Contains: []string{`"code":"SESSION_NOT_FRESH"`},
		},

		// revoke-other-sessions
		{
			Name: "revoke-other-sessions", Method: "POST", Path: "/api/auth/revoke-other-sessions", Body: `{}`, Header: apitest.SPA(),
			Before: func(t *testing.T, env *apitest.Env) {
				env.Cookie = env.SignUp(t, "ann@example.com")
				env.SignIn(t, "ann@example.com")
				env.SignIn(t, "ann@example.com")
			},
			Status: 200, After: body(`{"status":true}`), Rows: map[string]int{"session": -2},
		},
		{
			Name: "revoke-other-sessions from an untrusted origin", Method: "POST", Path: "/api/auth/revoke-other-sessions", Body: `{}`,
			Header: hdr("Origin", "https://evil.example"),
			Before: func(t *testing.T, env *apitest.Env) { signedUp(t, env); env.SignIn(t, "ann@example.com") },
			Status: 403, Contains: []string{`"code":"INVALID_ORIGIN"`}, Rows: map[string]int{"session": 0},
		},

		// update-user
		{
			Name: "update-user", Method: "POST", Path: "/api/auth/update-user", Body: `{"name":"Zoë <b>"}`, Header: apitest.SPA(), Before: signedUp,
			Status: 200, After: func(t *testing.T, env *apitest.Env, res *http.Response, body string) {
				var name string
				env.Core.DB.QueryRow(t.Context(), `SELECT "name" FROM "users"`).Scan(&name)
				if body != `{"status":true}` || name != "Zoë <b>" {
					t.Errorf("body %s, stored name %q", body, name)
				}
			},
			Rows: map[string]int{"users": 0},
		},
		{
			Name: "update-user signed out", Method: "POST", Path: "/api/auth/update-user", Body: `{"name":"x"}`, Header: apitest.SPA(),
			Status: 401, After: body(`{"message":"Unauthorized","code":"UNAUTHORIZED"}`),
		},
		{
			Name: "update-user with a bad cookie", Method: "POST", Path: "/api/auth/update-user", Body: `{"name":"x"}`,
			Header: hdr("Cookie", "better-auth.session_token=garbage"), Before: signedUp,
			Status: 401, Contains: []string{`"code":"UNAUTHORIZED"`},
		},
		{
			Name: "update-user cannot change the email", Method: "POST", Path: "/api/auth/update-user", Body: `{"email":"x@example.com"}`,
			Header: apitest.SPA(), Before: signedUp,
			Status: 400, Contains: []string{`"code":"EMAIL_CAN_NOT_BE_UPDATED"`},
		},
		{
			Name: "update-user without a Content-Type", Method: "POST", Path: "/api/auth/update-user", Body: `{"name":"x"}`,
			Header: http.Header{"Origin": {apitest.Origin}, "Content-Type": {""}}, Before: signedUp,
			Status: 415, Contains: []string{`"code":"UNSUPPORTED_MEDIA_TYPE"`},
		},

		// method and path edges: better-auth's empty 404
		{Name: "unknown path below /api/auth", Method: "GET", Path: "/api/auth/nope", Status: 404, After: body("")},
		{Name: "known path, wrong method", Method: "GET", Path: "/api/auth/sign-in/email", Status: 404, After: body("")},
		{Name: "HEAD is refused", Method: "HEAD", Path: "/api/auth/ok", Status: 404, After: body("")},
		{Name: "unclean path", Method: "GET", Path: "/api/auth//get-session", Status: 404, After: body("")},
		{Name: "trailing slash", Method: "GET", Path: "/api/auth/get-session/", Status: 404, After: body("")},
		{Name: "ok", Method: "GET", Path: "/api/auth/ok", Status: 200, After: body(`{"ok":true}`)},
	})
}
