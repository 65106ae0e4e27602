package devapp_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"adstudio/internal/config"
	"adstudio/internal/devtools/devapp"
	"adstudio/internal/routes"
)

const (
	testSecret = "test-secret-0123456789-abcdefghijklmnopqrstuvwxyz"
	spaOrigin  = "http://localhost:5173"
)

// clock is a settable time source shared by the app under test.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// testServer is the real app over a real SQLite file in a temp dir. It
// keeps no *testing.T: every helper that can fail takes its caller's.
type testServer struct {
	app   *devapp.App
	srv   *httptest.Server
	clock *clock
}

// newServer starts the whole API. env overrides the defaults below, which
// turn rate limiting off so tests are not limited by each other, and pick
// first-party Lax cookies: Go's cookie jar never sends a Secure cookie over
// plain http, which the two-site default (SameSite=None; Secure) would set.
func newServer(t testing.TB, env map[string]string) *testServer {
	t.Helper()
	return startServer(t, env, false)
}

// newLocalServer is newServer in make dev's local mode: without a
// QWEN_API_KEY in env, generations use the built-in generator.
func newLocalServer(t testing.TB, env map[string]string) *testServer {
	t.Helper()
	return startServer(t, env, true)
}

func startServer(t testing.TB, env map[string]string, local bool) *testServer {
	t.Helper()
	vars := map[string]string{
		"TURSO_DATABASE_URL": "file:" + filepath.Join(t.TempDir(), "test.db"),
		"BETTER_AUTH_SECRET": testSecret,
		"BETTER_AUTH_URL":    "http://127.0.0.1:1",
		"TRUSTED_ORIGINS":    spaOrigin,
		"RATE_LIMIT_ENABLED": "false",
		"COOKIE_SAMESITE":    "lax",
	}
	for k, v := range env {
		vars[k] = v
	}
	cfg, err := config.Load(func(k string) string { return vars[k] }, local)
	if err != nil {
		t.Fatalf("config: %v", err)
	}
	clk := &clock{t: time.Date(2026, 11, 24, 12, 0, 0, 0, time.UTC)}
	a, err := devapp.New(cfg, clk.Now)
	if err != nil {
		t.Fatalf("app: %v", err)
	}
	if _, err := a.Migrate(context.Background()); err != nil {
		t.Fatalf("migrate: %v", err)
	}
	// A line per request would bury a failure's output (and a benchmark's);
	// TestAccessLog reads its own.
	a.SetAccessLog(slog.New(slog.DiscardHandler))
	srv := httptest.NewServer(a.DevHandler())
	t.Cleanup(func() { srv.Close(); a.Close() })
	return &testServer{app: a, srv: srv, clock: clk}
}

// browser is a client with a cookie jar that sends the SPA's Origin, as a
// browser's credentialed fetch from the SPA would.
type browser struct {
	ts     *testServer
	jar    *cookiejar.Jar
	origin string
}

func (ts *testServer) browser() *browser {
	jar, _ := cookiejar.New(nil)
	return &browser{ts: ts, jar: jar, origin: spaOrigin}
}

// resp is a finished response with its body read.
type resp struct {
	*http.Response
	body []byte
}

func (r resp) json(t testing.TB) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(r.body, &m); err != nil {
		t.Fatalf("body %q is not a JSON object: %v", r.body, err)
	}
	return m
}

// setCookies returns the Set-Cookie lines whose cookie name contains part.
func (r resp) setCookies(part string) []string {
	var out []string
	for _, c := range r.Header.Values("Set-Cookie") {
		name, _, _ := strings.Cut(c, "=")
		if strings.Contains(name, part) {
			out = append(out, c)
		}
	}
	return out
}

type header map[string]string

// do sends one request and fails the calling test t on a transport error.
// It must run on t's own goroutine; goroutines use try and report back.
func (b *browser) do(t testing.TB, method, path string, body any, h header) resp {
	t.Helper()
	r, err := b.try(method, path, body, h)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// try is do without a test: for requests sent from goroutines, whose
// results the test goroutine asserts on.
func (b *browser) try(method, path string, body any, h header) (resp, error) {
	var rd io.Reader
	switch v := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(v)
	default:
		buf, _ := json.Marshal(v)
		rd = bytes.NewReader(buf)
	}
	req, err := http.NewRequest(method, b.ts.srv.URL+path, rd)
	if err != nil {
		return resp{}, err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if b.origin != "" {
		req.Header.Set("Origin", b.origin)
	}
	for k, v := range h {
		if v == "" {
			req.Header.Del(k)
		} else {
			req.Header.Set(k, v)
		}
	}
	u, _ := url.Parse(b.ts.srv.URL)
	for _, c := range b.jar.Cookies(u) {
		req.AddCookie(c)
	}
	res, err := http.DefaultTransport.RoundTrip(req)
	if err != nil {
		return resp{}, err
	}
	defer res.Body.Close()
	data, err := io.ReadAll(res.Body)
	if err != nil {
		return resp{}, err
	}
	b.jar.SetCookies(u, res.Cookies())
	return resp{res, data}, nil
}

func (b *browser) signUp(t testing.TB, email, pw string) resp {
	t.Helper()
	r := b.do(t, "POST", "/api/auth/sign-up/email", map[string]any{"name": "Test User", "email": email, "password": pw}, nil)
	if r.StatusCode != 200 {
		t.Fatalf("sign-up %s: %d %s", email, r.StatusCode, r.body)
	}
	return r
}

func (b *browser) signIn(t testing.TB, email, pw string) resp {
	t.Helper()
	return b.do(t, "POST", "/api/auth/sign-in/email", map[string]any{"email": email, "password": pw}, nil)
}

// sessionUser returns the email get-session reports, or "" for null.
func (b *browser) sessionUser(t testing.TB, query string) string {
	t.Helper()
	r := b.do(t, "GET", "/api/auth/get-session"+query, nil, nil)
	if r.StatusCode != 200 {
		t.Fatalf("get-session: %d %s", r.StatusCode, r.body)
	}
	if string(r.body) == "null" {
		return ""
	}
	return r.json(t)["user"].(map[string]any)["email"].(string)
}

// wantError asserts a better-auth error envelope.
func wantError(t *testing.T, r resp, status int, code, message string) {
	t.Helper()
	if r.StatusCode != status {
		t.Fatalf("status %d, want %d; body %s", r.StatusCode, status, r.body)
	}
	m := r.json(t)
	if c, _ := m["code"].(string); c != code {
		t.Errorf("code %q, want %q (body %s)", c, code, r.body)
	}
	if message != "" && m["message"] != message {
		t.Errorf("message %q, want %q", m["message"], message)
	}
}

func appRoutes() []routes.Route { return routes.Table() }
