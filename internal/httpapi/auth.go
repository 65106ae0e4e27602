package httpapi

import (
	"adstudio/internal/audit"
	"context"
	"net/http"
	"strconv"

	"adstudio/internal/auth/session"
	"adstudio/internal/metrics"
	"adstudio/internal/origin"
	"adstudio/internal/ratelimit"
)

// Guard admits requests to the application routes: a trusted origin on any
// cookie-carrying write, then a session, then the route's per-user limit.
type Guard struct {
	Sessions *session.Manager
	Origins  origin.List
	// Limiter counts per-user limits in the database, so they hold across
	// every Lambda instance; nil (or rate limits off) counts nothing.
	Limiter *ratelimit.Limiter
	// Metrics counts the requests a per-user limit refuses (nil: none).
	Metrics *metrics.Emitter
}

// UserLimit is a per-user rate limit attached to a route where it is
// registered: Name keys the counter (routes sharing a name share it).
type UserLimit struct {
	Name string
	Rule ratelimit.Rule
}

type userLimitKey struct{}

// Limited attaches l to every request of h; Guard.User enforces it once it
// knows the user.
func Limited(l UserLimit, h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), userLimitKey{}, l)))
	})
}

var errRateLimited = &AppError{Status: http.StatusTooManyRequests, Code: CodeRateLimited, Message: "Too many requests. Please try again later."}

// User resolves the caller or fails with the app API's error. useCache lets
// a read be answered from the signed cookie cache (up to five minutes stale
// after a revocation); everything else reads the session from the database.
func (g *Guard) User(w http.ResponseWriter, r *http.Request, useCache bool) (*session.Current, error) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead && r.Header.Get("Cookie") != "" {
		switch g.Origins.Check(r) {
		case origin.Missing:
			return nil, &AppError{Status: http.StatusForbidden, Code: CodeMissingOrNullOrigin, Message: "Missing or null Origin."}
		case origin.Untrusted:
			return nil, &AppError{Status: http.StatusForbidden, Code: CodeInvalidOrigin, Message: "Invalid origin."}
		}
	}
	safe := r.Method == http.MethodGet || r.Method == http.MethodHead
	cur, err := g.Sessions.Get(r.Context(), w.Header(), r, session.Options{UseCache: useCache && safe})
	if err != nil && err != session.ErrRefreshFailed {
		return nil, err
	}
	if cur == nil {
		return nil, &AppError{Status: http.StatusUnauthorized, Code: CodeUnauthorized, Message: "Authentication required."}
	}
	if l, ok := r.Context().Value(userLimitKey{}).(UserLimit); ok && g.Limiter != nil {
		d, err := g.Limiter.Allow(r.Context(), "user:"+cur.User.ID+"|"+l.Name, l.Rule)
		if err != nil {
			return nil, err
		}
		if !d.Allowed {
			g.Metrics.Count(r.Context(), metrics.RateLimited, 1, metrics.Dim{Name: metrics.DimScope, Value: l.Name})
			if d.First {
				ev := audit.Event{Event: audit.RateLimited, UserID: cur.User.ID, IP: g.Limiter.ClientIP(r), UserAgent: r.UserAgent(),
					Outcome: audit.Refused, Detail: map[string]any{"scope": l.Name}, At: g.Limiter.Now()}
				if err := audit.Write(r.Context(), g.Limiter.DB, ev); err != nil {
					return nil, err
				}
			}
			e := *errRateLimited
			e.Header = http.Header{"Retry-After": {strconv.Itoa(d.RetryAfter)}}
			return nil, &e
		}
	}
	return cur, nil
}
