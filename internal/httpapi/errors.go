// Package httpapi is the HTTP plumbing shared by every function: handlers
// that return errors, the one place that turns errors into responses, body
// decoding with better-auth's validation messages, and CORS.
package httpapi

import (
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"strconv"
	"strings"

	"github.com/google/uuid"

	"adstudio/internal/jscompat"
)

// AuthError is an error in better-auth's envelope: {"message","code"}.
// Code may be empty (a few better-auth errors carry only a message), and
// NoBody answers with the status alone, as better-auth does for 404s.
type AuthError struct {
	Status  int
	Code    string
	Message string
	NoBody  bool
	Header  http.Header // extra response headers (X-Retry-After)
}

func (e *AuthError) Error() string { return e.Code + ": " + e.Message }

// AppError is the application API's normalized error:
// {"error":{"code","message",…},"requestId"}.
type AppError struct {
	Status    int
	Code      string
	Message   string
	RequestID string         // generated when empty
	Extra     map[string]any // extra top-level members (OUT_OF_CREDITS' credits)
	Fields    map[string]any // extra members of "error" (providerCode, …)
	Header    http.Header    // extra response headers (Retry-After)
}

func (e *AppError) Error() string { return e.Code + ": " + e.Message }

// PlainError is the application API's {"error":"…"} shape.
type PlainError struct {
	Status  int
	Message string
}

func (e *PlainError) Error() string { return e.Message }

// Handler is an http.Handler that reports failure by returning an error.
type Handler func(w http.ResponseWriter, r *http.Request) error

// ServeHTTP runs the handler and maps its error.
func (h Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if err := h(w, r); err != nil {
		WriteError(w, r, err)
	}
}

// WriteError is the one function that maps errors to responses. Known error
// types choose their own shape; anything else is logged with its cause and
// answered as a generic 500 in the shape of the route family (better-auth
// answers unexpected errors with an empty 500; the app API with
// INTERNAL_SERVER_ERROR), so a cause never reaches a client.
func WriteError(w http.ResponseWriter, r *http.Request, err error) {
	var ae *AuthError
	var pe *AppError
	var ple *PlainError
	switch {
	case errors.As(err, &ae):
		for k, vs := range ae.Header {
			for _, v := range vs {
				w.Header().Add(k, v)
			}
		}
		if ae.NoBody {
			w.WriteHeader(ae.Status)
			return
		}
		WriteJSON(w, ae.Status, orderedAuthError{ae.Message, ae.Code})
	case errors.As(err, &pe):
		for k, vs := range pe.Header {
			for _, v := range vs {
				w.Header().Add(k, v)
			}
		}
		WriteJSON(w, pe.Status, appErrorBody(pe))
	case errors.As(err, &ple):
		WriteJSON(w, ple.Status, map[string]string{"error": ple.Message})
	default:
		id := uuid.NewString()
		slog.ErrorContext(r.Context(), "request failed", "requestId", id, "method", r.Method, "path", r.URL.Path, "err", err)
		if strings.HasPrefix(r.URL.Path, "/api/auth/") {
			w.WriteHeader(http.StatusInternalServerError)
			return
		}
		WriteJSON(w, http.StatusInternalServerError, appErrorBody(&AppError{Code: "INTERNAL_SERVER_ERROR", Message: "Internal server error.", RequestID: id}))
	}
}

type orderedAuthError struct {
	Message string `json:"message"`
	Code    string `json:"code,omitempty"`
}

func appErrorBody(e *AppError) map[string]any {
	inner := map[string]any{"code": e.Code, "message": e.Message}
	for k, v := range e.Fields {
		inner[k] = v
	}
	id := e.RequestID
	if id == "" {
		id = uuid.NewString()
	}
	body := map[string]any{"error": inner, "requestId": id}
	for k, v := range e.Extra {
		body[k] = v
	}
	return body
}

// WriteJSON writes v as JSON the way JSON.stringify would (no HTML
// escaping), with Content-Type application/json.
func WriteJSON(w http.ResponseWriter, status int, v any) {
	body, err := jscompat.Marshal(v)
	if err != nil {
		slog.Error("encode response", "err", err)
		w.WriteHeader(http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(status)
	w.Write(body)
}

// Recover turns a panic into a logged 500 instead of a dropped connection.
func Recover(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			if p := recover(); p != nil {
				if p == http.ErrAbortHandler {
					panic(p)
				}
				WriteError(w, r, panicError{p})
			}
		}()
		next.ServeHTTP(w, r)
	})
}

type panicError struct{ v any }

func (p panicError) Error() string { return "panic: " + strings.TrimSpace(slogValue(p.v)) }

func slogValue(v any) string {
	b, _ := json.Marshal(v)
	if len(b) > 0 && string(b) != "{}" {
		return string(b)
	}
	if e, ok := v.(error); ok {
		return e.Error()
	}
	return "unknown"
}
