package profile_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"adstudio/internal/devtools/apitest"
	"adstudio/internal/functions/auth"
	"adstudio/internal/server"
)

// newEnv is the auth function, which serves /api/me, as its Lambda builds it.
func newEnv(t *testing.T) *apitest.Env {
	return apitest.New(t, nil, func(c *server.Core) (http.Handler, error) { return auth.New(c, auth.Options{}).Handler() })
}

// signedOut is the app API's 401: the normalized error shape, never
// better-auth's envelope.
var signedOut = []string{`{"error":{"code":"UNAUTHORIZED","message":"Authentication required."},"requestId":"`}

func signedUp(t *testing.T, env *apitest.Env) { env.Cookie = env.SignUp(t, "ann@example.com") }

// withoutProfile is a user from an existing better-auth database, who has
// no profile row yet.
func withoutProfile(t *testing.T, env *apitest.Env) {
	signedUp(t, env)
	env.Exec(t, `DELETE FROM "user_profile"`)
}

// clearsSession asserts the response ends the session cookies.
func clearsSession(t *testing.T, _ *apitest.Env, res *http.Response, _ string) {
	t.Helper()
	for _, c := range res.Header.Values("Set-Cookie") {
		if strings.Contains(c, "session_token=") && strings.Contains(c, "Max-Age=0") {
			return
		}
	}
	t.Errorf("session cookie not cleared: %v", res.Header.Values("Set-Cookie"))
}

func TestScenarios(t *testing.T) {
	apitest.Run(t, newEnv, []apitest.Scenario{
		// who may read it
		{
			Name: "signed out", Method: "GET", Path: "/api/me",
			Status: 401, Contains: signedOut, NotContains: []string{`"profile"`},
		},
		{
			Name: "forged session cookie", Method: "GET", Path: "/api/me", Before: signedUp,
			Header: http.Header{"Cookie": {"better-auth.session_token=forged.AAAA"}},
			Status: 401, Contains: signedOut, Rows: map[string]int{"user_profile": 0},
		},
		{
			Name: "session expired after eight idle days", Method: "GET", Path: "/api/me",
			Before: func(t *testing.T, env *apitest.Env) { signedUp(t, env); env.Clock.Advance(8 * 24 * time.Hour) },
			Status: 401, Contains: signedOut, After: clearsSession,
		},
		{
			// better-auth's documented staleness: a plain read may come from
			// the signed cookie cache for five minutes after a revocation.
			Name: "revoked session, inside the cookie cache's five minutes", Method: "GET", Path: "/api/me",
			Before: func(t *testing.T, env *apitest.Env) { signedUp(t, env); env.Exec(t, `DELETE FROM "session"`) },
			Status: 200, Contains: []string{`"email":"ann@example.com"`},
		},
		{
			Name: "revoked session, past the cookie cache", Method: "GET", Path: "/api/me",
			Before: func(t *testing.T, env *apitest.Env) {
				signedUp(t, env)
				env.Exec(t, `DELETE FROM "session"`)
				env.Clock.Advance(301 * time.Second)
			},
			Status: 401, Contains: signedOut,
		},
		{
			// Only the cookie cache can still name a deleted user: the read
			// must not bring a profile row of theirs back.
			Name: "user deleted while the cookie cache names them", Method: "GET", Path: "/api/me",
			Before: func(t *testing.T, env *apitest.Env) {
				withoutProfile(t, env)
				env.Exec(t, `DELETE FROM "session"`)
				env.Exec(t, `DELETE FROM "account"`)
				env.Exec(t, `DELETE FROM "users"`)
			},
			Status: 401, Contains: signedOut, Rows: map[string]int{"user_profile": 0}, After: clearsSession,
		},

		// what it answers
		{
			Name: "free profile after sign-up", Method: "GET", Path: "/api/me", Before: signedUp,
			Status: 200,
			Contains: []string{`"user":{`, `"email":"ann@example.com"`, `"accountType":"free"`,
				`"creditsProductShoots":1`, `"creditsAdGraphics":1`, `"createdAt":"2026-11-24T12:00:00.000Z"`},
			NotContains: []string{"password", `"token"`},
			Rows:        map[string]int{"user_profile": 0, "users": 0, "session": 0},
		},
		{
			Name: "credits as spent", Method: "GET", Path: "/api/me",
			Before: func(t *testing.T, env *apitest.Env) {
				signedUp(t, env)
				env.Exec(t, `UPDATE "user_profile" SET "credits_product_shoots" = 0`)
			},
			Status: 200, Contains: []string{`"creditsProductShoots":0`, `"creditsAdGraphics":1`},
		},
		{
			Name: "paid profile", Method: "GET", Path: "/api/me",
			Before: func(t *testing.T, env *apitest.Env) {
				signedUp(t, env)
				if _, err := env.Core.Generations.MakePaid(t.Context(), env.UserID(t, "ann@example.com"), uuid.NewString, env.Clock.Now()); err != nil {
					t.Fatal(err)
				}
			},
			Status: 200, Contains: []string{`"accountType":"paid"`, `"creditsProductShoots":10`, `"creditsAdGraphics":10`},
		},

		// the row is created once
		{
			Name: "first read creates the missing profile", Method: "GET", Path: "/api/me", Before: withoutProfile,
			Status: 200, Contains: []string{`"accountType":"free"`, `"creditsAdGraphics":1`},
			Rows: map[string]int{"user_profile": 1},
		},
		{
			Name: "second read reuses it", Method: "GET", Path: "/api/me",
			Before: func(t *testing.T, env *apitest.Env) {
				withoutProfile(t, env)
				if res, body := apitest.Do(t, env.Handler, "GET", "/api/me", "", http.Header{"Cookie": {env.Cookie}}); res.StatusCode != 200 {
					t.Fatalf("first read: %d %s", res.StatusCode, body)
				}
			},
			Status: 200, Contains: []string{`"accountType":"free"`}, Rows: map[string]int{"user_profile": 0},
		},

		// method and path edges: the app API's 404
		{
			Name: "POST is not a route", Method: "POST", Path: "/api/me", Body: `{}`, Header: apitest.SPA(), Before: signedUp,
			Status: 404, Contains: []string{`{"error":"Not found"}`}, Rows: map[string]int{"user_profile": 0},
		},
		{
			Name: "path below /api/me", Method: "GET", Path: "/api/me/x", Before: signedUp,
			Status: 404, Contains: []string{`{"error":"Not found"}`},
		},
		{
			Name: "unclean path", Method: "GET", Path: "/api//me", Before: signedUp,
			Status: 404, Contains: []string{`{"error":"Not found"}`}, NotContains: []string{`"profile"`},
		},
	})
}
