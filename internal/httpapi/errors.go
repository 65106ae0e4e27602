// Package httpapi is the HTTP plumbing shared by every function: handlers
// that return errors, the one place that turns errors into responses, body
// decoding with better-auth's validation messages, and CORS.
package httpapi

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"strings"

	"github.com/google/uuid"

	"adstudio/internal/accesslog"
	"adstudio/internal/jscompat"
)

// Each error type below has two faces: what the client may see (status,
// code, message) and, separately, Cause, which says why for the log and
// never reaches a response body.

// AuthError is an error in better-auth's envelope: {"message","code"}.
// Code may be empty (a few better-auth errors carry only a message), and
// NoBody answers with the status alone, as better-auth does for 404s.
type AuthError struct {
	Status  int
	Code    string
	Message string
	NoBody  bool
	Header  http.Header // extra response headers (X-Retry-After)
	Cause   error       // for the log only
}

func (e *AuthError) Error() string { return withCause(e.Code+": "+e.Message, e.Cause) }

// Unwrap returns the cause.
func (e *AuthError) Unwrap() error { return e.Cause }

// AppError is the application API's normalized error:
// {"error":{"code","message",…},"requestId"}.
type AppError struct {
	Status    int
	Code      string
	Message   string
	RequestID string         // the caller's id when empty (see ErrorBody), else a fresh one
	Extra     map[string]any // extra top-level members (OUT_OF_CREDITS' credits)
	Fields    map[string]any // extra members of "error" (providerCode, …)
	Header    http.Header    // extra response headers (Retry-After)
	Cause     error          // for the log only
}

func (e *AppError) Error() string { return withCause(e.Code+": "+e.Message, e.Cause) }

// Unwrap returns the cause.
func (e *AppError) Unwrap() error { return e.Cause }

// PlainError is the application API's {"error":"…"} shape.
type PlainError struct {
	Status  int
	Message string
	Cause   error // for the log only
}

func (e *PlainError) Error() string { return withCause(e.Message, e.Cause) }

// Unwrap returns the cause.
func (e *PlainError) Unwrap() error { return e.Cause }

func withCause(s string, cause error) string {
	if cause == nil {
		return s
	}
	return s + ": " + cause.Error()
}

// Internal is the app API's answer to anything unexpected: a 500
// INTERNAL_SERVER_ERROR whose message says nothing of cause, which is only
// logged.
func Internal(cause error) *AppError {
	return &AppError{Status: http.StatusInternalServerError, Code: CodeInternalServerError, Message: "Internal server error.", Cause: cause}
}

// Handler is an http.Handler that reports failure by returning an error.
type Handler func(w http.ResponseWriter, r *http.Request) error

// ServeHTTP runs the handler and maps its error.
func (h Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if err := h(w, r); err != nil {
		WriteError(w, r, err)
	}
}

// WriteError is the one function that maps errors to responses. Known error
// types choose their own shape; anything else is answered as a generic 500
// in the shape of the route family (better-auth answers unexpected errors
// with an empty 500; the app API with INTERNAL_SERVER_ERROR), so a cause
// never reaches a client. Every 5xx is logged, once, here, with its cause
// and the request id its body shows, to slog's default logger.
func WriteError(w http.ResponseWriter, r *http.Request, err error) {
	writeError(slog.Default(), w, r, err)
}

// writeError is WriteError with the logger passed in (tests).
func writeError(log *slog.Logger, w http.ResponseWriter, r *http.Request, err error) {
	res := encodeError(err, "", strings.HasPrefix(r.URL.Path, "/api/auth/"))
	if res.status >= 500 {
		res.log(r.Context(), log, "request failed", slog.String("method", r.Method), slog.String("route", route(r)))
	}
	for k, vs := range res.header {
		for _, v := range vs {
			w.Header().Add(k, v)
		}
	}
	if res.body == nil {
		w.WriteHeader(res.status)
		return
	}
	writeErrorBody(w, res.status, res.body)
}

// route names r's route for the log as the access log does: its pattern,
// never the raw path, which can carry a token
// (/api/auth/reset-password/{token}) or ids. Outside the mux (a panic
// caught by Recover, an error of a part's middleware) it is the pattern the
// request had reached, if any, else "unmatched".
func route(r *http.Request) string {
	if r.Pattern != "" {
		return r.Pattern
	}
	if p := accesslog.From(r.Context()).Route(); p != "" {
		return p
	}
	return "unmatched"
}

// ErrorBody is the status and JSON body WriteError answers err with on an
// application route, for answers that are stored before they are sent (a
// generation's result, replayed by idempotency and history). requestID is
// the id of the request: an AppError without one of its own and the
// generic 500 carry it (a fresh one when it is empty). body is nil for an
// AuthError that has none. Headers are not part of it.
func ErrorBody(err error, requestID string) (status int, body []byte) {
	res := encodeError(err, requestID, false)
	return res.status, res.body
}

// errorResponse is what an error is answered with, and what a log of it
// says.
type errorResponse struct {
	status    int
	header    http.Header
	body      []byte // nil: the status alone
	code      string
	requestID string // the id the client is shown, if any
	cause     error  // why, for the log
}

// log records the response's cause (err's own text when it has none) with
// the code and the request id the client was shown. Causes are built to be
// loggable: no cookies, tokens or signed URLs.
func (res errorResponse) log(ctx context.Context, log *slog.Logger, msg string, attrs ...slog.Attr) {
	attrs = append(attrs, slog.Int("status", res.status))
	if res.code != "" {
		attrs = append(attrs, slog.String("code", res.code))
	}
	if res.requestID != "" {
		attrs = append(attrs, slog.String("requestId", res.requestID))
	}
	attrs = append(attrs, slog.Any("err", res.cause))
	log.LogAttrs(ctx, slog.LevelError, msg, attrs...)
}

// responder is implemented by the error types that choose their own answer.
// errors.As finds the outermost one, so the shape is the one the handler
// chose even when a cause deeper in the chain is one of ours too.
type responder interface {
	error
	respond(requestID string) errorResponse
}

// encodeError maps err to its answer. An error that is none of ours is the
// generic 500: empty below /api/auth (authRoute), INTERNAL_SERVER_ERROR
// elsewhere; either way it gets a request id for the log.
func encodeError(err error, requestID string, authRoute bool) errorResponse {
	var known responder
	if errors.As(err, &known) {
		res := known.respond(requestID)
		if res.cause == nil {
			res.cause = known
		}
		return res
	}
	if requestID == "" {
		requestID = uuid.NewString()
	}
	if authRoute {
		return errorResponse{status: http.StatusInternalServerError, requestID: requestID, cause: err}
	}
	return Internal(err).respond(requestID)
}

func (e *AuthError) respond(string) errorResponse {
	res := errorResponse{status: e.Status, header: e.Header, code: e.Code, cause: e.Cause}
	if !e.NoBody {
		res.body = mustEncode(orderedAuthError{e.Message, e.Code})
	}
	return res
}

func (e *AppError) respond(requestID string) errorResponse {
	id := e.RequestID
	if id == "" {
		id = requestID
	}
	if id == "" {
		id = uuid.NewString()
	}
	body, err := jscompat.Marshal(appErrorBody(e, id))
	if err != nil {
		// Extra or Fields hold something JSON cannot carry: a bug, answered
		// like anything unexpected.
		return Internal(fmt.Errorf("encode %s error: %w", e.Code, err)).respond(id)
	}
	return errorResponse{status: e.Status, header: e.Header, body: body, code: e.Code, requestID: id, cause: e.Cause}
}

func (e *PlainError) respond(string) errorResponse {
	return errorResponse{status: e.Status, body: mustEncode(map[string]string{"error": e.Message}), cause: e.Cause}
}

type orderedAuthError struct {
	Message string `json:"message"`
	Code    string `json:"code,omitempty"`
}

func appErrorBody(e *AppError, requestID string) map[string]any {
	inner := map[string]any{"code": e.Code, "message": e.Message}
	for k, v := range e.Fields {
		inner[k] = v
	}
	body := map[string]any{"error": inner, "requestId": requestID}
	for k, v := range e.Extra {
		body[k] = v
	}
	return body
}

// mustEncode encodes a value of strings only, which cannot fail.
func mustEncode(v any) []byte {
	b, err := jscompat.Marshal(v)
	if err != nil {
		panic("httpapi: encode error body: " + err.Error())
	}
	return b
}

// writeErrorBody sends an encoded error body with the headers WriteJSON
// sends.
func writeErrorBody(w http.ResponseWriter, status int, body []byte) {
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
