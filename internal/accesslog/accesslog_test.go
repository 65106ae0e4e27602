package accesslog

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"
)

// line runs one request through the middleware and returns its log record.
func line(t *testing.T, m Middleware, h http.Handler, path string) map[string]any {
	t.Helper()
	var buf bytes.Buffer
	m.Log = slog.New(slog.NewJSONHandler(&buf, nil))
	m.Wrap(h).ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", path, nil))
	var rec map[string]any
	if err := json.Unmarshal(buf.Bytes(), &rec); err != nil {
		t.Fatalf("log %q: %v", buf.String(), err)
	}
	return rec
}

func TestLine(t *testing.T) {
	h := Route("GET /api/history/{id}/asset", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		e := From(r.Context())
		e.AddTrip()
		e.AddTrip()
		e.SetUser("user-1", true)
		w.WriteHeader(http.StatusCreated)
		w.Write([]byte("hello"))
		w.WriteHeader(http.StatusTeapot) // too late: not what the client got
	}))
	m := Middleware{RequestIDs: func(*http.Request) IDs { return IDs{Gateway: "gw-1", Lambda: "lambda-1"} }}
	rec := line(t, m, h, "/api/history/g1/asset?exp=1&sig=secret-signature")
	want := map[string]any{
		"msg": "request", "route": "GET /api/history/{id}/asset", "method": "GET", "status": 201.0, "bytes": 5.0,
		"dbTrips": 2.0, "userId": "user-1", "sessionFromCache": true, "apiRequestId": "gw-1", "lambdaRequestId": "lambda-1",
	}
	for k, v := range want {
		if rec[k] != v {
			t.Errorf("%s = %v, want %v (line %v)", k, rec[k], v, rec)
		}
	}
	if _, ok := rec["durationMs"].(float64); !ok {
		t.Errorf("no durationMs: %v", rec)
	}
	raw, _ := json.Marshal(rec)
	if bytes.Contains(raw, []byte("secret-signature")) || bytes.Contains(raw, []byte("g1")) {
		t.Errorf("the raw path or query reached the log: %s", raw)
	}
}

func TestLineWithoutRouteOrUser(t *testing.T) {
	rec := line(t, Middleware{}, http.NotFoundHandler(), "/nowhere")
	if rec["route"] != "unmatched" || rec["status"] != 404.0 || rec["dbTrips"] != 0.0 {
		t.Errorf("line %v", rec)
	}
	for _, k := range []string{"userId", "sessionFromCache", "apiRequestId", "lambdaRequestId"} {
		if _, ok := rec[k]; ok {
			t.Errorf("%s present without a value: %v", k, rec)
		}
	}
}

// Outside the middleware every setter is a no-op.
func TestNoEntry(t *testing.T) {
	var e *Entry
	e.AddTrip()
	e.SetUser("u", false)
	if From(t.Context()) != nil {
		t.Fatal("an entry out of nowhere")
	}
}
