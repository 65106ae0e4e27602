// Package accesslog writes one line per request: the route pattern (never
// the raw path, which can carry ids and tokens), method, status, duration,
// response bytes, the request ids a client or AWS shows, the user, whether
// the session came from the cookie cache, and the database round trips it
// took. What only the inner layers know (the route, the user, each round
// trip) they add to the request's Entry, which the middleware put in its
// context; every setter is a no-op without one, so code and tests that run
// outside the middleware need nothing.
package accesslog

import (
	"context"
	"log/slog"
	"net/http"
	"sync"
	"sync/atomic"
	"time"
)

// Entry is what one request's line will say, filled in while it runs.
type Entry struct {
	trips atomic.Int64

	mu     sync.Mutex
	route  string
	userID string
	cached bool
}

type ctxKey struct{}

// From is the request's entry, or nil outside the middleware.
func From(ctx context.Context) *Entry {
	e, _ := ctx.Value(ctxKey{}).(*Entry)
	return e
}

// With returns ctx carrying e.
func With(ctx context.Context, e *Entry) context.Context { return context.WithValue(ctx, ctxKey{}, e) }

// AddTrip counts one database round trip.
func (e *Entry) AddTrip() {
	if e != nil {
		e.trips.Add(1)
	}
}

// Route is the route pattern recorded so far: "" before the request
// reaches a route, and outside the middleware.
func (e *Entry) Route() string {
	if e == nil {
		return ""
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.route
}

// SetUser records who the request's session belongs to, and whether it
// was read from the signed cookie cache rather than the database.
func (e *Entry) SetUser(userID string, fromCache bool) {
	if e == nil {
		return
	}
	e.mu.Lock()
	e.userID, e.cached = userID, fromCache
	e.mu.Unlock()
}

// Route wraps the handler of one route pattern so its requests are logged
// under the pattern.
func Route(pattern string, h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if e := From(r.Context()); e != nil {
			e.mu.Lock()
			e.route = pattern
			e.mu.Unlock()
		}
		h.ServeHTTP(w, r)
	})
}

// IDs are the request ids of one request: API Gateway's (the one its
// access log and the client's error bodies carry) and Lambda's.
type IDs struct{ Gateway, Lambda string }

// Middleware logs each request to Log once it is answered. RequestIDs
// reads the ids the platform gave the request (nil: none, as locally).
type Middleware struct {
	Log        *slog.Logger
	RequestIDs func(*http.Request) IDs
}

// Wrap puts an Entry in each request's context and logs it when next is done.
func (m Middleware) Wrap(next http.Handler) http.Handler {
	log := m.Log
	if log == nil {
		log = slog.Default()
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		e := &Entry{}
		rw := &recorder{ResponseWriter: w, status: http.StatusOK}
		next.ServeHTTP(rw, r.WithContext(With(r.Context(), e)))
		var ids IDs
		if m.RequestIDs != nil {
			ids = m.RequestIDs(r)
		}
		e.mu.Lock()
		route, user, cached := e.route, e.userID, e.cached
		e.mu.Unlock()
		if route == "" {
			route = "unmatched"
		}
		attrs := []slog.Attr{
			slog.String("route", route), slog.String("method", r.Method), slog.Int("status", rw.status),
			slog.Float64("durationMs", float64(time.Since(start).Microseconds())/1000), slog.Int64("bytes", rw.bytes),
			slog.Int64("dbTrips", e.trips.Load()),
		}
		if ids.Gateway != "" {
			attrs = append(attrs, slog.String("apiRequestId", ids.Gateway))
		}
		if ids.Lambda != "" {
			attrs = append(attrs, slog.String("lambdaRequestId", ids.Lambda))
		}
		if user != "" {
			attrs = append(attrs, slog.String("userId", user), slog.Bool("sessionFromCache", cached))
		}
		log.LogAttrs(r.Context(), slog.LevelInfo, "request", attrs...)
	})
}

// recorder keeps the status and the byte count of an answer.
type recorder struct {
	http.ResponseWriter
	status      int
	bytes       int64
	wroteHeader bool
}

func (r *recorder) WriteHeader(status int) {
	if !r.wroteHeader {
		r.status, r.wroteHeader = status, true
	}
	r.ResponseWriter.WriteHeader(status)
}

func (r *recorder) Write(b []byte) (int, error) {
	r.wroteHeader = true
	n, err := r.ResponseWriter.Write(b)
	r.bytes += int64(n)
	return n, err
}

// Unwrap lets http.ResponseController reach the writer underneath.
func (r *recorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }
