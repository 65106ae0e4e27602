package httpapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"

	"adstudio/internal/accesslog"
)

// logTo is a logger writing JSON lines to b.
func logTo(b *bytes.Buffer) *slog.Logger {
	return slog.New(slog.NewJSONHandler(b, nil))
}

// logLines decodes the JSON lines of b.
func logLines(t *testing.T, b *bytes.Buffer) []map[string]any {
	t.Helper()
	var out []map[string]any
	for _, line := range strings.Split(strings.TrimSpace(b.String()), "\n") {
		if line == "" {
			continue
		}
		var m map[string]any
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Fatalf("log line %q: %v", line, err)
		}
		out = append(out, m)
	}
	return out
}

const fixedID = "2f1c3e4d-0000-4000-8000-000000000001"

// TestWriteErrorShapes: each type answers in its dialect, byte for byte,
// with ErrorBody's bytes, and only 5xx are logged, once, with the cause and
// the request id the body shows, and nothing of the request's credentials.
func TestWriteErrorShapes(t *testing.T) {
	t.Parallel()
	cause := errors.New("disk on fire")
	for _, tc := range []struct {
		name     string
		path     string
		err      error
		status   int
		body     string // "" for none; {id} stands for the request id
		header   http.Header
		logged   bool
		logCause string
	}{
		{name: "auth error", path: "/api/auth/sign-in/email",
			err:    &AuthError{Status: 401, Code: AuthCodeInvalidEmailOrPassword, Message: "Invalid email or password", Cause: cause},
			status: 401, body: `{"message":"Invalid email or password","code":"INVALID_EMAIL_OR_PASSWORD"}`},
		{name: "auth error without code", path: "/api/auth/update-user",
			err:    &AuthError{Status: 400, Message: "No fields to update"},
			status: 400, body: `{"message":"No fields to update"}`},
		{name: "auth error without body", path: "/api/auth/nope",
			err:    &AuthError{Status: 404, NoBody: true},
			status: 404},
		{name: "auth rate limit header", path: "/api/auth/sign-in/email",
			err:    &AuthError{Status: 429, Message: "Too many requests. Please try again later.", Header: http.Header{"X-Retry-After": {"7"}}},
			status: 429, body: `{"message":"Too many requests. Please try again later."}`, header: http.Header{"X-Retry-After": {"7"}}},
		{name: "app error with its id and fields", path: "/api/workflows/image-from-text",
			err: &AppError{Status: 502, Code: CodeUpstreamRequestFailed, Message: "Image provider request failed.", RequestID: fixedID,
				Fields: map[string]any{"providerCode": "Throttling", "providerRequestId": "p-1"}, Cause: cause},
			status: 502, body: `{"error":{"code":"UPSTREAM_REQUEST_FAILED","message":"Image provider request failed.","providerCode":"Throttling","providerRequestId":"p-1"},"requestId":"{id}"}`,
			logged: true, logCause: "disk on fire"},
		{name: "app error with extra and header", path: "/api/me",
			err:    &AppError{Status: 429, Code: CodeRateLimited, Message: "Too many requests. Please try again later.", Extra: map[string]any{"credits": map[string]int{"adGraphics": 0}}, Header: http.Header{"Retry-After": {"3"}}},
			status: 429, body: `{"credits":{"adGraphics":0},"error":{"code":"RATE_LIMITED","message":"Too many requests. Please try again later."},"requestId":"{id}"}`, header: http.Header{"Retry-After": {"3"}}},
		{name: "app 5xx without cause", path: "/api/history/x/asset",
			err:    &AppError{Status: 500, Code: CodeBackendMisconfigured, Message: "GENERATIONS_BUCKET is not configured."},
			status: 500, body: `{"error":{"code":"BACKEND_MISCONFIGURED","message":"GENERATIONS_BUCKET is not configured."},"requestId":"{id}"}`,
			logged: true, logCause: "BACKEND_MISCONFIGURED: GENERATIONS_BUCKET is not configured."},
		{name: "plain", path: "/api/history/x",
			err:    &PlainError{Status: 404, Message: "History item not found.", Cause: cause},
			status: 404, body: `{"error":"History item not found."}`},
		{name: "unknown, app route", path: "/api/me",
			err:    fmt.Errorf("load profile: %w", cause),
			status: 500, body: `{"error":{"code":"INTERNAL_SERVER_ERROR","message":"Internal server error."},"requestId":"{id}"}`,
			logged: true, logCause: "load profile: disk on fire"},
		{name: "unknown, auth route", path: "/api/auth/get-session",
			err:    fmt.Errorf("read session: %w", cause),
			status: 500, logged: true, logCause: "read session: disk on fire"},
		{name: "internal", path: "/api/workflows/image-from-text",
			err:    Internal(cause),
			status: 500, body: `{"error":{"code":"INTERNAL_SERVER_ERROR","message":"Internal server error."},"requestId":"{id}"}`,
			logged: true, logCause: "disk on fire"},
		// The handler's choice is the outermost of our types, whatever its
		// cause is.
		{name: "app error caused by an auth error", path: "/api/me",
			err:    &AppError{Status: 401, Code: CodeUnauthorized, Message: "Authentication required.", Cause: &AuthError{Status: 500, Code: AuthCodeFailedToGetSession}},
			status: 401, body: `{"error":{"code":"UNAUTHORIZED","message":"Authentication required."},"requestId":"{id}"}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var logs bytes.Buffer
			req := httptest.NewRequest("POST", tc.path+"?token=query-secret", nil)
			req.Header.Set("Cookie", "better-auth.session_token=cookie-secret")
			req.Header.Set("Authorization", "Bearer header-secret")
			rec := httptest.NewRecorder()
			writeError(logTo(&logs), rec, req, tc.err)

			if rec.Code != tc.status {
				t.Errorf("status %d, want %d", rec.Code, tc.status)
			}
			got := rec.Body.String()
			var id string
			if strings.Contains(tc.body, "{id}") {
				var m struct{ RequestID string }
				if err := json.Unmarshal(rec.Body.Bytes(), &m); err != nil || len(m.RequestID) != 36 {
					t.Fatalf("body %s has no request id", got)
				}
				id = m.RequestID
			}
			if want := strings.ReplaceAll(tc.body, "{id}", id); got != want {
				t.Errorf("body\n %s\nwant\n %s", got, want)
			}
			if tc.body != "" {
				if ct, cl := rec.Header().Get("Content-Type"), rec.Header().Get("Content-Length"); ct != "application/json" || cl != strconv.Itoa(len(got)) {
					t.Errorf("Content-Type %q, Content-Length %q", ct, cl)
				}
				if !strings.HasPrefix(tc.path, "/api/auth/") || tc.status < 500 {
					// What the engine stores is what WriteError sends.
					st, body := ErrorBody(tc.err, id)
					if st != tc.status || string(body) != got {
						t.Errorf("ErrorBody = %d %s, WriteError sent %d %s", st, body, rec.Code, got)
					}
				}
			}
			for k, v := range tc.header {
				if g := rec.Header().Values(k); len(g) != len(v) || g[0] != v[0] {
					t.Errorf("header %s = %q, want %q", k, g, v)
				}
			}

			lines := logLines(t, &logs)
			if !tc.logged {
				if len(lines) != 0 {
					t.Errorf("logged a %d: %s", tc.status, logs.String())
				}
				return
			}
			if len(lines) != 1 {
				t.Fatalf("%d log lines, want 1: %s", len(lines), logs.String())
			}
			l := lines[0]
			if l["level"] != "ERROR" || l["err"] != tc.logCause || l["status"] != float64(tc.status) || l["route"] != "unmatched" || l["path"] != nil {
				t.Errorf("log line %v, want err %q", l, tc.logCause)
			}
			if logID, _ := l["requestId"].(string); len(logID) != 36 || (id != "" && logID != id) {
				t.Errorf("log requestId %q, body's %q", logID, id)
			}
			for _, secret := range []string{"query-secret", "cookie-secret", "header-secret"} {
				if strings.Contains(logs.String(), secret) {
					t.Errorf("log holds %q: %s", secret, logs.String())
				}
			}
		})
	}
}

// TestErrorLogNamesTheRoute: a 5xx is logged under its route pattern, as
// the access log names it, never under its path, which can carry a token:
// from a handler the mux routed to, from outside the mux once the request
// reached a route (a panic Recover catches), and "unmatched" before.
func TestErrorLogNamesTheRoute(t *testing.T) {
	t.Parallel()
	const pattern = "GET /api/auth/reset-password/{token}"
	const path = "/api/auth/reset-password/token-secret"
	for _, tc := range []struct {
		name string
		h    func(log *slog.Logger) http.Handler
		want string
	}{
		{"routed", func(log *slog.Logger) http.Handler {
			mux := http.NewServeMux()
			mux.HandleFunc(pattern, func(w http.ResponseWriter, r *http.Request) { writeError(log, w, r, errors.New("database gone")) })
			return mux
		}, pattern},
		{"outside the mux", func(log *slog.Logger) http.Handler {
			return accesslog.Middleware{Log: slog.New(slog.DiscardHandler)}.Wrap(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				accesslog.Route(pattern, http.NotFoundHandler()).ServeHTTP(httptest.NewRecorder(), r)
				writeError(log, w, r, errors.New("panic: database gone"))
			}))
		}, pattern},
		{"unrouted", func(log *slog.Logger) http.Handler {
			return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { writeError(log, w, r, errors.New("database gone")) })
		}, "unmatched"},
	} {
		var logs bytes.Buffer
		rec := httptest.NewRecorder()
		tc.h(logTo(&logs)).ServeHTTP(rec, httptest.NewRequest("GET", path, nil))
		lines := logLines(t, &logs)
		if rec.Code != 500 || len(lines) != 1 || lines[0]["route"] != tc.want || strings.Contains(logs.String(), "token-secret") {
			t.Errorf("%s: %d, log %s; want route %q and no path", tc.name, rec.Code, logs.String(), tc.want)
		}
	}
}

// TestErrorBodyRequestID: an AppError's own id wins over the caller's, the
// caller's is used otherwise, and a fresh one is drawn when neither is set.
func TestErrorBodyRequestID(t *testing.T) {
	t.Parallel()
	idOf := func(body []byte) string {
		var m struct{ RequestID string }
		json.Unmarshal(body, &m)
		return m.RequestID
	}
	_, b := ErrorBody(&AppError{Status: 400, Code: CodeInvalidRequest, Message: "x", RequestID: "own"}, "caller")
	if got := idOf(b); got != "own" {
		t.Errorf("own id: %q", got)
	}
	_, b = ErrorBody(&AppError{Status: 400, Code: CodeInvalidRequest, Message: "x"}, "caller")
	if got := idOf(b); got != "caller" {
		t.Errorf("caller's id: %q", got)
	}
	_, b = ErrorBody(errors.New("boom"), "caller")
	if got := idOf(b); got != "caller" {
		t.Errorf("generic 500: %q", got)
	}
	_, b1 := ErrorBody(errors.New("boom"), "")
	_, b2 := ErrorBody(errors.New("boom"), "")
	if a, b := idOf(b1), idOf(b2); len(a) != 36 || a == b {
		t.Errorf("fresh ids %q, %q", a, b)
	}
	// Something JSON cannot carry is a bug, answered as one.
	st, b := ErrorBody(&AppError{Status: 402, Code: CodeOutOfCredits, Message: "x", Extra: map[string]any{"bad": func() {}}}, "caller")
	if st != 500 || string(b) != `{"error":{"code":"INTERNAL_SERVER_ERROR","message":"Internal server error."},"requestId":"caller"}` {
		t.Errorf("unencodable: %d %s", st, b)
	}
}

// TestErrorCauses: every error type carries its cause for errors.Is and
// errors.As, and says it in its text (for the log), never in a body.
func TestErrorCauses(t *testing.T) {
	t.Parallel()
	cause := errors.New("the cause")
	for _, err := range []error{
		&AuthError{Status: 400, Code: AuthCodeBadRequest, Message: "m", Cause: cause},
		&AppError{Status: 400, Code: CodeInvalidRequest, Message: "m", Cause: cause},
		&PlainError{Status: 400, Message: "m", Cause: cause},
		Internal(cause),
	} {
		if !errors.Is(err, cause) {
			t.Errorf("%T: errors.Is lost the cause", err)
		}
		if !strings.HasSuffix(err.Error(), ": the cause") {
			t.Errorf("%T: text %q", err, err.Error())
		}
		if _, body := ErrorBody(err, fixedID); bytes.Contains(body, []byte("the cause")) {
			t.Errorf("%T: body %s shows the cause", err, body)
		}
	}
}
