package devapp_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// benchApp drives the whole handler in-process over a real SQLite file
// with rate limiting on, as in production. Every request comes from its own
// address, so the limiter does its database work but never refuses.
type benchApp struct {
	ts *testServer
	h  http.Handler
	n  int
}

func newBenchApp(b *testing.B) *benchApp {
	ts := newServer(b, map[string]string{"RATE_LIMIT_ENABLED": "true"})
	return &benchApp{ts: ts, h: ts.app.Handler()}
}

func (ba *benchApp) do(b *testing.B, method, path, body, cookie string) *httptest.ResponseRecorder {
	ba.n++
	var req *http.Request
	if body != "" {
		req = httptest.NewRequest(method, path, strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
	} else {
		req = httptest.NewRequest(method, path, nil)
	}
	req.Header.Set("Origin", spaOrigin)
	req.RemoteAddr = fmt.Sprintf("10.%d.%d.%d:1234", ba.n>>16&255, ba.n>>8&255, ba.n&255)
	if cookie != "" {
		req.Header.Set("Cookie", cookie)
	}
	w := httptest.NewRecorder()
	ba.h.ServeHTTP(w, req)
	if w.Code != 200 {
		b.Fatalf("%s %s: %d %s", method, path, w.Code, w.Body)
	}
	return w
}

// cookieHeader turns a response's Set-Cookie lines into a Cookie header.
func cookieHeader(w *httptest.ResponseRecorder) string {
	var parts []string
	for _, c := range w.Result().Cookies() {
		if c.MaxAge >= 0 {
			parts = append(parts, c.Name+"="+c.Value)
		}
	}
	return strings.Join(parts, "; ")
}

func (ba *benchApp) signUp(b *testing.B, email string) string {
	return cookieHeader(ba.do(b, "POST", "/api/auth/sign-up/email", `{"name":"Bench","email":"`+email+`","password":"password123"}`, ""))
}

// run times f and reports round trips per operation beside ns/op.
func (ba *benchApp) run(b *testing.B, f func(i int)) {
	b.ReportAllocs()
	before := ba.ts.app.DB.RoundTrips()
	i := 0
	for b.Loop() {
		f(i)
		i++
	}
	b.ReportMetric(float64(ba.ts.app.DB.RoundTrips()-before)/float64(i), "db-trips/op")
}

// scryptCost measures one password hash in this run, the baseline that the
// sign-in and sign-up figures are reported against.
func scryptCost(ba *benchApp) time.Duration {
	start := time.Now()
	for range 5 {
		ba.ts.app.Hasher.Burn(context.Background(), "password123")
	}
	return time.Since(start) / 5
}

func BenchmarkEndpoints(b *testing.B) {
	b.Run("get-session/cache-hit", func(b *testing.B) {
		ba := newBenchApp(b)
		c := ba.signUp(b, "hit@example.com")
		ba.run(b, func(int) { ba.do(b, "GET", "/api/auth/get-session", "", c) })
	})
	b.Run("get-session/cache-miss", func(b *testing.B) {
		ba := newBenchApp(b)
		c := ba.signUp(b, "miss@example.com")
		ba.run(b, func(int) { ba.do(b, "GET", "/api/auth/get-session?disableCookieCache=1", "", c) })
	})
	b.Run("api-me/cache-hit", func(b *testing.B) {
		ba := newBenchApp(b)
		c := ba.signUp(b, "me@example.com")
		ba.run(b, func(int) { ba.do(b, "GET", "/api/me", "", c) })
	})
	b.Run("sign-in", func(b *testing.B) {
		ba := newBenchApp(b)
		ba.signUp(b, "in@example.com")
		base := scryptCost(ba)
		start := time.Now()
		ba.run(b, func(int) {
			ba.do(b, "POST", "/api/auth/sign-in/email", `{"email":"in@example.com","password":"password123"}`, "")
		})
		b.ReportMetric(float64(time.Since(start))/float64(b.N)/float64(base), "x-scrypt")
	})
	b.Run("sign-up", func(b *testing.B) {
		ba := newBenchApp(b)
		base := scryptCost(ba)
		start := time.Now()
		ba.run(b, func(i int) { ba.signUp(b, fmt.Sprintf("u%d@example.com", i)) })
		b.ReportMetric(float64(time.Since(start))/float64(b.N)/float64(base), "x-scrypt")
	})
}
