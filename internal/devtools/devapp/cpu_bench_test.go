package devapp_test

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"syscall"
	"testing"
	"time"
)

// BenchmarkRequestCPU measures the CPU one whole request costs, client and
// server together, over a loopback HTTP connection with keep-alive: the
// process's user+system time per request (cpu-ns/op), and its ratio to a
// trivial JSON handler mounted behind the same middleware chain in the
// same run (x-trivial). Rate limiting is on, as deployed; every request
// names its own client address (X-Forwarded-For, trusted through
// IP_ADDRESS_HEADERS) so the per-IP window counts without refusing.
//
// Targets: get-session from the cookie cache within 1.5× the trivial
// handler, /api/me within 2×.
func BenchmarkRequestCPU(b *testing.B) {
	ts := newServer(b, map[string]string{"RATE_LIMIT_ENABLED": "true", "IP_ADDRESS_HEADERS": "x-forwarded-for"})
	trivial := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `{"ok":true}`)
	})
	srv := httptest.NewServer(ts.app.HandlerWith(map[string]http.Handler{
		"GET /api/auth/bench-trivial": trivial, // behind the auth subtree's middleware, as get-session is
		"GET /api/bench-trivial":      trivial, // behind the app API's, as /api/me is
	}))
	b.Cleanup(srv.Close)
	client := srv.Client()
	// Sign up through the real endpoint to get the session cookies.
	ba := &benchApp{ts: ts, h: ts.app.Handler()}
	cookie := ba.signUp(b, "cpu@example.com")

	n := 0
	get := func(b *testing.B, path string) {
		n++
		req, _ := http.NewRequest("GET", srv.URL+path, nil)
		req.Header.Set("Origin", spaOrigin)
		req.Header.Set("Cookie", cookie)
		req.Header.Set("X-Forwarded-For", fmt.Sprintf("10.%d.%d.%d", n>>16&255, n>>8&255, n&255))
		res, err := client.Do(req)
		if err != nil {
			b.Fatal(err)
		}
		io.Copy(io.Discard, res.Body)
		res.Body.Close()
		if res.StatusCode != 200 {
			b.Fatalf("GET %s: %d", path, res.StatusCode)
		}
	}
	// cpuPer runs path reps times and returns the process CPU per request.
	cpuPer := func(b *testing.B, path string, reps int) float64 {
		for range 50 { // warm the connection, the caches and the session row
			get(b, path)
		}
		before := cpuTime(b)
		for range reps {
			get(b, path)
		}
		return float64(cpuTime(b)-before) / float64(reps)
	}
	const reps = 2000
	cases := []struct{ name, path, base string }{
		{"trivial-auth", "/api/auth/bench-trivial", ""},
		{"get-session/cache-hit", "/api/auth/get-session", "/api/auth/bench-trivial"},
		{"trivial-app", "/api/bench-trivial", ""},
		{"api-me/cache-hit", "/api/me", "/api/bench-trivial"},
	}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			var cpu, base float64
			for b.Loop() {
				// Interleaved, so drift in the machine affects both alike.
				if c.base != "" {
					base += cpuPer(b, c.base, reps)
				}
				cpu += cpuPer(b, c.path, reps)
			}
			b.ReportMetric(cpu/float64(b.N), "cpu-ns/req")
			if c.base != "" {
				b.ReportMetric(cpu/base, "x-trivial")
			}
		})
	}
}

// cpuTime is the process's user+system CPU time so far.
func cpuTime(b *testing.B) time.Duration {
	b.Helper()
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
