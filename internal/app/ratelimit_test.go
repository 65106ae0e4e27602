package app_test

import (
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
	ts.browser().do(t, "GET", "/api/auth/ok", nil, nil)
	count := func() (n int) {
		ts.app.DB.QueryRow(t.Context(), `SELECT count(*) FROM "rate_limit"`).Scan(&n)
		return n
	}
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
