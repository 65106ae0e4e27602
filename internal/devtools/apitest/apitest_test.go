package apitest_test

import (
	"net/http"
	"testing"
	"time"

	"adstudio/internal/devtools/apitest"
	"adstudio/internal/server"
)

// newEnv serves only what every function serves: the health check and the
// app API's 404.
func newEnv(t *testing.T) *apitest.Env {
	return apitest.New(t, nil, func(c *server.Core) (http.Handler, error) { return c.Handler() })
}

// TestRunner runs the runner on the shared routes: the clock reaches the
// handler, Before's rows are not counted as the request's, and env.Cookie
// is sent.
func TestRunner(t *testing.T) {
	apitest.Run(t, newEnv, []apitest.Scenario{
		{
			Name: "health reads the injected clock", Method: "GET", Path: "/api/health",
			Before:   func(t *testing.T, env *apitest.Env) { env.Clock.Advance(90 * time.Minute) },
			Status:   200,
			Contains: []string{`"status":"ok"`, `"timestamp":"2026-11-24T13:30:00.000Z"`},
		},
		{
			Name: "rows seeded in Before are the baseline", Method: "GET", Path: "/api/health",
			Before: func(t *testing.T, env *apitest.Env) { env.Cookie = env.SignUp(t, "runner@example.com") },
			Status: 200,
			Rows:   map[string]int{"users": 0, "session": 0},
			After: func(t *testing.T, env *apitest.Env, res *http.Response, body string) {
				if env.Count(t, "users") != 1 || env.Count(t, "session") != 1 {
					t.Errorf("SignUp wrote %d users, %d sessions", env.Count(t, "users"), env.Count(t, "session"))
				}
			},
		},
		{
			Name: "unknown path is the app API's 404", Method: "GET", Path: "/api/nope",
			Status: 404, Contains: []string{`{"error":"Not found"}`},
		},
	})
}

// TestSignInCookie: SignIn's cookie names a second session of the same
// user, distinct from SignUp's.
func TestSignInCookie(t *testing.T) {
	env := newEnv(t)
	a := env.SignUp(t, "two@example.com")
	b := env.SignIn(t, "two@example.com")
	if a == "" || b == "" || a == b || env.Count(t, "session") != 2 {
		t.Fatalf("cookies %q / %q, %d sessions", a, b, env.Count(t, "session"))
	}
	if env.UserID(t, "two@example.com") == "" {
		t.Fatal("no user id")
	}
}
