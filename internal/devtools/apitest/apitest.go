// Package apitest runs tables of HTTP request scenarios against one
// function's handler, in the style of PocketBase's tests.ApiScenario. Each
// scenario gets its own real SQLite file in t.TempDir(), migrated, and the
// handler built from a fresh server.Core exactly as the function's Lambda
// builds it. Test tooling only: nothing that ships imports it.
package apitest

import (
	"io"
	"maps"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"adstudio/internal/config"
	"adstudio/internal/functions/auth"
	"adstudio/internal/server"
)

// Origin is the SPA's origin, the one trusted origin of every Env.
const Origin = "http://localhost:5173"

// Password is the password SignUp gives every user.
const Password = "password123"

// Scenario is one request and what it must do.
type Scenario struct {
	Name               string
	Method, Path, Body string
	// Header is sent as is (SPA() for the SPA's credentialed fetch); a Body
	// without a Content-Type gets application/json.
	Header http.Header
	// Before prepares the database, the clock and env.Cookie.
	Before func(t *testing.T, env *Env)
	Status int
	// Contains and NotContains are fragments of the response body.
	Contains, NotContains []string
	// Rows is each table's expected change in row count ({"session": 1}).
	Rows  map[string]int
	After func(t *testing.T, env *Env, res *http.Response, body string)
}

// Env is one scenario's world: a core on its own database, the handler
// under test, and the clock every part of it reads.
type Env struct {
	Core    *server.Core
	Handler http.Handler
	Clock   *Clock
	// Cookie is sent as the Cookie header of the scenario's request when
	// the scenario's Header has none (set it in Before: SignUp's result).
	Cookie string
	// Extra is whatever newEnv wants scenarios to reach (a fake provider).
	Extra any
	auth  http.Handler // the auth function on the same core, for SignUp
}

// Clock is a settable time source; it starts at a fixed instant.
type Clock struct {
	mu sync.Mutex
	t  time.Time
}

// Now is the clock's time.
func (c *Clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }

// Advance moves the clock by d.
func (c *Clock) Advance(d time.Duration) { c.mu.Lock(); c.t = c.t.Add(d); c.mu.Unlock() }

// SPA is the header of the SPA's fetch: its Origin and a JSON body.
func SPA() http.Header {
	return http.Header{"Origin": {Origin}, "Content-Type": {"application/json"}}
}

// New builds an Env: a config like make dev's (vars override it), a fresh
// migrated database, and the handler that build makes from the core, as the
// function's Lambda main does. Everything is closed when t ends.
func New(t *testing.T, vars map[string]string, build func(c *server.Core) (http.Handler, error)) *Env {
	t.Helper()
	env := map[string]string{
		"TURSO_DATABASE_URL": "file:" + filepath.Join(t.TempDir(), "test.db"),
		"BETTER_AUTH_SECRET": "test-secret-0123456789-abcdefghijklmnopqrstuvwxyz",
		"BETTER_AUTH_URL":    "http://127.0.0.1:1",
		"TRUSTED_ORIGINS":    Origin,
		// Per-IP limits would make scenarios depend on each other's Before.
		"RATE_LIMIT_ENABLED": "false",
		"COOKIE_SAMESITE":    "lax",
	}
	for k, v := range vars {
		env[k] = v
	}
	cfg, err := config.Load(func(k string) string { return env[k] }, false)
	if err != nil {
		t.Fatalf("config: %v", err)
	}
	clk := &Clock{t: time.Date(2026, 11, 24, 12, 0, 0, 0, time.UTC)}
	core, err := server.New(cfg, clk.Now)
	if err != nil {
		t.Fatalf("server: %v", err)
	}
	// Registered before build runs, so a cleanup that build registers (a
	// wait for background jobs) runs while the database is still open.
	t.Cleanup(func() { core.Close() })
	if _, err := core.DB.Migrate(t.Context(), string(cfg.AuthSchema)); err != nil {
		t.Fatalf("migrate: %v", err)
	}
	e := &Env{Core: core, Clock: clk}
	if e.Handler, err = build(core); err != nil {
		t.Fatalf("handler: %v", err)
	}
	if e.auth, err = auth.New(core, auth.Options{}).Handler(); err != nil {
		t.Fatalf("auth handler: %v", err)
	}
	return e
}

// Do sends one request through h and returns the response and its body.
func Do(t *testing.T, h http.Handler, method, path, body string, hdr http.Header) (*http.Response, string) {
	t.Helper()
	req := httptest.NewRequest(method, path, strings.NewReader(body))
	req.Header = hdr.Clone()
	if req.Header == nil {
		req.Header = http.Header{}
	}
	if body != "" && req.Header.Values("Content-Type") == nil {
		req.Header.Set("Content-Type", "application/json")
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	res := rec.Result()
	data, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return res, string(data)
}

// SignUp creates a user with Password through the auth function and
// returns the Cookie header that carries their new session.
func (e *Env) SignUp(t *testing.T, email string) string {
	t.Helper()
	return e.session(t, "/api/auth/sign-up/email", `{"name":"Test User","email":"`+email+`","password":"`+Password+`"}`)
}

// SignIn starts another session for an existing user and returns its
// Cookie header.
func (e *Env) SignIn(t *testing.T, email string) string {
	t.Helper()
	return e.session(t, "/api/auth/sign-in/email", `{"email":"`+email+`","password":"`+Password+`"}`)
}

func (e *Env) session(t *testing.T, path, body string) string {
	t.Helper()
	res, text := Do(t, e.auth, "POST", path, body, SPA())
	if res.StatusCode != http.StatusOK {
		t.Fatalf("POST %s: %d %s", path, res.StatusCode, text)
	}
	var pairs []string
	for _, c := range res.Cookies() {
		pairs = append(pairs, c.Name+"="+c.Value)
	}
	return strings.Join(pairs, "; ")
}

// UserID is the id of the user with email.
func (e *Env) UserID(t *testing.T, email string) string {
	t.Helper()
	var id string
	if err := e.Core.DB.QueryRow(t.Context(), `SELECT "id" FROM "`+e.Core.Auth.UserTable()+`" WHERE "email" = ?`, email).Scan(&id); err != nil {
		t.Fatalf("user %s: %v", email, err)
	}
	return id
}

// Exec runs one SQL statement (seeding, breaking rows on purpose).
func (e *Env) Exec(t *testing.T, query string, args ...any) {
	t.Helper()
	if err := e.Core.DB.Exec(t.Context(), query, args...); err != nil {
		t.Fatalf("%s: %v", query, err)
	}
}

// Count is the number of rows in table.
func (e *Env) Count(t *testing.T, table string) int {
	t.Helper()
	var n int
	if err := e.Core.DB.QueryRow(t.Context(), `SELECT count(*) FROM "`+table+`"`).Scan(&n); err != nil {
		t.Fatalf("count %s: %v", table, err)
	}
	return n
}

// Run runs each scenario as a parallel subtest on its own Env from newEnv.
func Run(t *testing.T, newEnv func(t *testing.T) *Env, scenarios []Scenario) {
	t.Helper()
	for _, s := range scenarios {
		t.Run(s.Name, func(t *testing.T) {
			t.Parallel()
			env := newEnv(t)
			if s.Before != nil {
				s.Before(t, env)
			}
			tables := slices.Sorted(maps.Keys(s.Rows))
			before := map[string]int{}
			for _, tb := range tables {
				before[tb] = env.Count(t, tb)
			}
			hdr := s.Header.Clone()
			if env.Cookie != "" && hdr.Get("Cookie") == "" {
				if hdr == nil {
					hdr = http.Header{}
				}
				hdr.Set("Cookie", env.Cookie)
			}
			res, body := Do(t, env.Handler, s.Method, s.Path, s.Body, hdr)
			if res.StatusCode != s.Status {
				t.Errorf("status %d, want %d; body %s", res.StatusCode, s.Status, body)
			}
			for _, frag := range s.Contains {
				if !strings.Contains(body, frag) {
					t.Errorf("body lacks %q: %s", frag, body)
				}
			}
			for _, frag := range s.NotContains {
				if strings.Contains(body, frag) {
					t.Errorf("body has %q: %s", frag, body)
				}
			}
			for _, tb := range tables {
				if d := env.Count(t, tb) - before[tb]; d != s.Rows[tb] {
					t.Errorf("table %s changed by %+d rows, want %+d", tb, d, s.Rows[tb])
				}
			}
			if s.After != nil {
				s.After(t, env, res, body)
			}
		})
	}
}

// Audit is the audit trail of one event (all of them with ""), oldest
// first, each row as "event user outcome detail" (user "-" when none).
func (e *Env) Audit(t *testing.T, event string) []string {
	t.Helper()
	rows, err := e.Core.DB.Query(t.Context(), `SELECT "event", coalesce("user_id", '-'), "outcome", "detail" FROM "audit_log" WHERE ? = '' OR "event" = ? ORDER BY "rowid"`, event, event)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var ev, user, outcome, detail string
		if err := rows.Scan(&ev, &user, &outcome, &detail); err != nil {
			t.Fatal(err)
		}
		out = append(out, ev+" "+user+" "+outcome+" "+detail)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}
