package devapp_test

import (
	"adstudio/internal/audit"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"
)

// TestRateLimitExactlyThree fires 12 sign-ins at once from one client:
// exactly three get through, however the requests interleave.
func TestRateLimitExactlyThree(t *testing.T) {
	t.Parallel()
	ts := newServer(t, map[string]string{"RATE_LIMIT_ENABLED": "true"})
	// The goroutines only send; the test goroutine asserts.
	results := make(chan resp, 12)
	errs := make(chan error, 12)
	var wg sync.WaitGroup
	for range 12 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r, err := ts.browser().try("POST", "/api/auth/sign-in/email", map[string]any{"email": "nobody@example.com", "password": "password123"}, nil)
			if err != nil {
				errs <- err
				return
			}
			results <- r
		}()
	}
	wg.Wait()
	close(results)
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	codes := map[int]int{}
	retry := ""
	for r := range results {
		codes[r.StatusCode]++
		if r.StatusCode == 429 {
			retry = r.Header.Get("X-Retry-After")
			if string(r.body) != `{"message":"Too many requests. Please try again later."}` || r.Header.Get("Content-Type") != "application/json" {
				t.Errorf("429 body %s, type %s", r.body, r.Header.Get("Content-Type"))
			}
		}
	}
	if codes[401] != 3 || codes[429] != 9 {
		t.Fatalf("status counts %v, want 3×401 and 9×429", codes)
	}
	if n, err := strconv.Atoi(retry); err != nil || n < 1 || n > 10 {
		t.Fatalf("X-Retry-After %q", retry)
	}
	// Other paths have their own, larger budget.
	if r := ts.browser().do(t, "GET", "/api/auth/get-session", nil, nil); r.StatusCode != 200 {
		t.Fatalf("get-session limited by sign-in's bucket: %d", r.StatusCode)
	}
	// The window ends after a quiet gap of ten seconds.
	ts.clock.Advance(10 * time.Second)
	if r := ts.browser().signIn(t, "nobody@example.com", "password123"); r.StatusCode != 401 {
		t.Fatalf("after the window: %d", r.StatusCode)
	}
}

func TestRateLimitKeyCannotBeSpoofed(t *testing.T) {
	t.Parallel()
	ts := newServer(t, map[string]string{"RATE_LIMIT_ENABLED": "true"})
	for i := range 5 {
		r := ts.browser().do(t, "POST", "/api/auth/sign-up/email", map[string]any{"name": "x", "email": "bad", "password": "p"},
			header{"X-Forwarded-For": "203.0.113." + strconv.Itoa(i), "X-Real-Ip": "198.51.100." + strconv.Itoa(i)})
		if i >= 3 && r.StatusCode != 429 {
			t.Fatalf("request %d with a fresh X-Forwarded-For was not limited: %d", i, r.StatusCode)
		}
	}
	// Behind a trusted proxy the configured header names the client.
	proxied := newServer(t, map[string]string{"RATE_LIMIT_ENABLED": "true", "IP_ADDRESS_HEADERS": "x-forwarded-for"})
	for i := range 5 {
		r := proxied.browser().do(t, "POST", "/api/auth/sign-up/email", map[string]any{"name": "x", "email": "bad", "password": "p"},
			header{"X-Forwarded-For": "203.0.113." + strconv.Itoa(i)})
		if r.StatusCode == 429 {
			t.Fatalf("distinct clients behind the proxy share a bucket (request %d)", i)
		}
	}
}

func TestSweepPurgesIdleRateLimits(t *testing.T) {
	t.Parallel()
	ts := newServer(t, map[string]string{"RATE_LIMIT_ENABLED": "true"})
	count := func() (n int) {
		ts.app.DB.QueryRow(t.Context(), `SELECT count(*) FROM "rate_limit"`).Scan(&n)
		return n
	}
	// The general limit is counted in the process: no row.
	ts.browser().do(t, "GET", "/api/auth/ok", nil, nil)
	if count() != 0 {
		t.Fatalf("the general limit wrote %d counters", count())
	}
	ts.browser().signIn(t, "nobody@example.com", "password123")
	if count() != 1 {
		t.Fatalf("%d counters", count())
	}
	ts.app.Sweep(t.Context())
	if count() != 1 {
		t.Fatal("a fresh counter was purged")
	}
	ts.clock.Advance(2 * time.Hour)
	ts.app.Sweep(t.Context())
	if count() != 0 {
		t.Fatal("an idle counter was kept")
	}
}

// wantLimited asserts better-auth's 429 with its retry delay in seconds.
func wantLimited(t *testing.T, r resp, retry string) {
	t.Helper()
	if r.StatusCode != 429 || string(r.body) != `{"message":"Too many requests. Please try again later."}` {
		t.Fatalf("status %d body %s, want better-auth's 429", r.StatusCode, r.body)
	}
	if got := r.Header.Get("X-Retry-After"); got != retry {
		t.Fatalf("X-Retry-After %q, want %q", got, retry)
	}
}

// TestRateLimitGeneralWindow: every auth path other than the password and
// mail ones allows 100 requests per client and path in a window, counted in
// the process without a database round trip, and resets after a quiet gap
// of 10 s.
func TestRateLimitGeneralWindow(t *testing.T) {
	t.Parallel()
	// Behind a trusted proxy the header names the client, so one test can
	// be several clients.
	ts := newServer(t, map[string]string{"RATE_LIMIT_ENABLED": "true", "IP_ADDRESS_HEADERS": "x-forwarded-for"})
	from := func(ip string) header { return header{"X-Forwarded-For": ip} }
	b := ts.browser()
	before := ts.app.DB.RoundTrips()
	for i := range 100 {
		if r := b.do(t, "GET", "/api/auth/get-session", nil, from("203.0.113.1")); r.StatusCode != 200 {
			t.Fatalf("request %d: %d", i+1, r.StatusCode)
		}
	}
	if got := ts.app.DB.RoundTrips() - before; got != 0 {
		t.Fatalf("100 signed-out get-sessions made %d round trips, want 0", got)
	}
	// The first refusal of the window writes its audit row (one round
	// trip); later ones in the same window write nothing.
	wantLimited(t, b.do(t, "GET", "/api/auth/get-session", nil, from("203.0.113.1")), "10")
	wantLimited(t, b.do(t, "GET", "/api/auth/get-session", nil, from("203.0.113.1")), "10")
	if got := ts.app.DB.RoundTrips() - before; got != 1 {
		t.Fatalf("102 signed-out get-sessions made %d round trips, want 1 (the refusal's audit row)", got)
	}
	rows := auditRows(t, ts, audit.RateLimited)
	if len(rows) != 1 || rows[0].IP != "203.0.113.1" || rows[0].Outcome != audit.Refused || rows[0].UserID != "" ||
		rows[0].Detail != `{"path":"/get-session","scope":"auth-general"}` {
		t.Fatalf("rate-limit audit rows %+v, want one refused row for 203.0.113.1", rows)
	}
	// Other clients, and other paths of the same client, have their own.
	if r := b.do(t, "GET", "/api/auth/get-session", nil, from("203.0.113.2")); r.StatusCode != 200 {
		t.Fatalf("another client limited: %d", r.StatusCode)
	}
	if r := b.do(t, "GET", "/api/auth/ok", nil, from("203.0.113.1")); r.StatusCode != 200 {
		t.Fatalf("another path limited: %d", r.StatusCode)
	}
	// Unknown paths count too (the limiter runs before routing).
	for range 100 {
		b.do(t, "GET", "/api/auth/no-such-path", nil, from("203.0.113.3"))
	}
	wantLimited(t, b.do(t, "GET", "/api/auth/no-such-path", nil, from("203.0.113.3")), "10")
	// A refused request does not extend the window: 4 s on, 6 s remain.
	ts.clock.Advance(4 * time.Second)
	wantLimited(t, b.do(t, "GET", "/api/auth/get-session", nil, from("203.0.113.1")), "6")
	// After a quiet gap of 10 s since the last allowed request, a new window.
	ts.clock.Advance(6 * time.Second)
	for i := range 100 {
		if r := b.do(t, "GET", "/api/auth/get-session", nil, from("203.0.113.1")); r.StatusCode != 200 {
			t.Fatalf("new window, request %d: %d", i+1, r.StatusCode)
		}
	}
	wantLimited(t, b.do(t, "GET", "/api/auth/get-session", nil, from("203.0.113.1")), "10")
}

// TestRateLimitAcrossInstances runs two app instances on one database file,
// as two warm Lambdas share Turso: the sign-in rule is counted in the
// database, so their three tries are shared; the general rule is counted
// per instance.
func TestRateLimitAcrossInstances(t *testing.T) {
	t.Parallel()
	env := map[string]string{
		"RATE_LIMIT_ENABLED": "true",
		"TURSO_DATABASE_URL": "file:" + filepath.Join(t.TempDir(), "shared.db"),
	}
	one, two := newServer(t, env), newServer(t, env)
	for i, ts := range []*testServer{one, two, one} {
		if r := ts.browser().signIn(t, "nobody@example.com", "password123"); r.StatusCode != 401 {
			t.Fatalf("sign-in %d: %d %s", i+1, r.StatusCode, r.body)
		}
	}
	for _, ts := range []*testServer{two, one} {
		if r := ts.browser().signIn(t, "nobody@example.com", "password123"); r.StatusCode != 429 {
			t.Fatalf("4th sign-in across instances: %d, want 429", r.StatusCode)
		}
	}

	for range 100 {
		one.browser().do(t, "GET", "/api/auth/get-session", nil, nil)
	}
	wantLimited(t, one.browser().do(t, "GET", "/api/auth/get-session", nil, nil), "10")
	if r := two.browser().do(t, "GET", "/api/auth/get-session", nil, nil); r.StatusCode != 200 {
		t.Fatalf("the general limit of one instance applied to another: %d", r.StatusCode)
	}
}
