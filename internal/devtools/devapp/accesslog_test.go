package devapp_test

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
)

// syncBuffer is a buffer the server's goroutines may write while the test reads.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

// lines are the JSON records written so far.
func (b *syncBuffer) lines(t *testing.T) []map[string]any {
	t.Helper()
	b.mu.Lock()
	defer b.mu.Unlock()
	var out []map[string]any
	for _, l := range strings.Split(strings.TrimSpace(b.buf.String()), "\n") {
		if l == "" {
			continue
		}
		var m map[string]any
		if err := json.Unmarshal([]byte(l), &m); err != nil {
			t.Fatalf("log line %q: %v", l, err)
		}
		out = append(out, m)
	}
	return out
}

// TestAccessLog: one line per request, named by its route pattern, with
// the user, where the session came from and the round trips the request
// really made (TestRoundTrips counts the same from the outside).
func TestAccessLog(t *testing.T) {
	t.Parallel()
	ts := newServer(t, map[string]string{"OBJECTS_DIR": t.TempDir()})
	var logs syncBuffer
	ts.app.SetAccessLog(slog.New(slog.NewJSONHandler(&logs, nil)))
	srv := httptest.NewServer(ts.app.Handler())
	t.Cleanup(srv.Close)
	ts.srv = srv
	b := ts.browser()
	b.signUp(t, "log@example.com", "password123")
	uid := userID(t, ts, "log@example.com")
	b.do(t, "GET", "/api/auth/get-session", nil, nil)
	b.do(t, "GET", "/api/me", nil, nil)
	b.do(t, "GET", "/api/history/some-id/asset?exp=1&sig=not-a-secret-but-a-query", nil, nil)
	b.do(t, "GET", "/nowhere", nil, nil)

	lines := logs.lines(t)
	if len(lines) != 5 {
		t.Fatalf("%d lines for 5 requests: %v", len(lines), lines)
	}
	want := []map[string]any{
		{"route": "POST /api/auth/sign-up/email", "status": 200.0},
		{"route": "GET /api/auth/get-session", "status": 200.0, "userId": uid, "sessionFromCache": true, "dbTrips": 0.0},
		{"route": "GET /api/me", "status": 200.0, "userId": uid, "sessionFromCache": true, "dbTrips": 1.0},
		{"route": "GET /api/history/{id}/asset", "status": 404.0},
		{"route": "unmatched", "status": 404.0},
	}
	for i, w := range want {
		for k, v := range w {
			if lines[i][k] != v {
				t.Errorf("line %d: %s = %v, want %v (%v)", i, k, lines[i][k], v, lines[i])
			}
		}
	}
	raw, _ := json.Marshal(lines)
	for _, leak := range []string{"not-a-secret-but-a-query", "some-id", "password123", "log@example.com"} {
		if bytes.Contains(raw, []byte(leak)) {
			t.Errorf("%q reached the access log", leak)
		}
	}
}
