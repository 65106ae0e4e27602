package server

import (
	"fmt"
	"net/http"
	"path"
	"slices"
	"strings"

	"adstudio/internal/accesslog"
	"adstudio/internal/httpapi"
	"adstudio/internal/ratelimit"
	"adstudio/internal/routes"
)

// Part is what one function contributes to a handler: a handler for every
// route the table gives it (by routes.Route.Pattern), and optionally a
// middleware for its own subtree (auth: better-auth's rate limits below
// /api/auth/).
type Part struct {
	Function routes.Function
	Handlers map[string]http.Handler
	Prefix   string
	Wrap     func(http.Handler) http.Handler
}

// userLimits maps the route table's limit names to their rules.
func userLimits() map[routes.Limit]ratelimit.Rule {
	return map[routes.Limit]ratelimit.Rule{
		routes.Workflows:      ratelimit.Workflows(),
		routes.HistoryDeletes: ratelimit.HistoryDeletes(),
		routes.Uploads:        ratelimit.Uploads(),
		routes.Checkouts:      ratelimit.Checkouts(),
	}
}

// Handler serves the routes of parts' functions (every function of the
// table that has a part), plus the health check, behind the shared
// middleware. A route of those functions without a handler, or a handler
// for no route, is an error: the table and the functions cannot drift.
func (c *Core) Handler(parts ...Part) (http.Handler, error) {
	mux, err := c.Mux(parts...)
	if err != nil {
		return nil, err
	}
	return c.Chain(mux, parts...), nil
}

// Mux is Handler without the middleware: the parts' routes and the health
// check on a ServeMux (benchmarks add a route of their own before Chain).
func (c *Core) Mux(parts ...Part) (*http.ServeMux, error) {
	mux := http.NewServeMux()
	limits := userLimits()
	health := false
	for _, p := range parts {
		want := map[string]bool{}
		for _, r := range routes.Of(p.Function) {
			want[r.Pattern()] = true
			var h http.Handler
			if r.Pattern() == routes.Health {
				h = httpapi.Handler(c.Health)
			} else if h = p.Handlers[r.Pattern()]; h == nil {
				return nil, fmt.Errorf("server: %s has no handler for %q", p.Function, r.Pattern())
			}
			if r.Limit != "" {
				rule, ok := limits[r.Limit]
				if !ok {
					return nil, fmt.Errorf("server: route %q: unknown limit %q", r.Pattern(), r.Limit)
				}
				h = httpapi.Limited(httpapi.UserLimit{Name: string(r.Limit), Rule: rule}, h)
			}
			mux.Handle(r.Pattern(), accesslog.Route(r.Pattern(), h))
			health = health || r.Pattern() == routes.Health
		}
		for pattern := range p.Handlers {
			if !want[pattern] {
				return nil, fmt.Errorf("server: %s has a handler for %q, which the route table does not give it", p.Function, pattern)
			}
		}
	}
	if !health {
		// Every function answers the health check, wherever it is routed.
		mux.Handle(routes.Health, accesslog.Route(routes.Health, httpapi.Handler(c.Health)))
	}
	return mux, nil
}

// Chain puts the shared middleware in front of mux: one access log line
// per request (internal/accesslog), panics become 500s, CORS for the
// trusted origins, unclean paths are 404s, and each part's own middleware
// runs for its subtree. Paths mux does not know answer the app API's 404.
func (c *Core) Chain(mux *http.ServeMux, parts ...Part) http.Handler {
	mux.Handle("/", httpapi.Handler(notFound))
	var h http.Handler = mux
	for _, p := range slices.Backward(parts) {
		if p.Wrap != nil {
			h = prefixed(p.Prefix, p.Wrap(h), h)
		}
	}
	h = strictPaths(h)
	h = httpapi.CORS(c.Origins, h)
	return accesslog.Middleware{Log: c.Log, RequestIDs: c.RequestIDs}.Wrap(httpapi.Recover(h))
}

func notFound(w http.ResponseWriter, r *http.Request) error {
	return &httpapi.PlainError{Status: http.StatusNotFound, Message: "Not found"}
}

// prefixed sends paths below prefix to in, everything else to out.
func prefixed(prefix string, in, out http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasPrefix(r.URL.Path, prefix) {
			in.ServeHTTP(w, r)
			return
		}
		out.ServeHTTP(w, r)
	})
}

// authBase is better-auth's base path: below it, errors are better-auth's
// (an empty 404), not the app API's JSON.
const authBase = "/api/auth/"

// strictPaths answers 404 for paths that are not already clean ("//",
// "/./", "/../"): ServeMux would otherwise redirect them, and neither
// better-auth nor the app API does.
func strictPaths(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p := r.URL.Path
		if p != "/" && path.Clean(p) != strings.TrimSuffix(p, "/") || strings.Contains(p, "//") {
			if strings.HasPrefix(p, authBase) {
				w.WriteHeader(http.StatusNotFound)
				return
			}
			httpapi.WriteError(w, r, &httpapi.PlainError{Status: http.StatusNotFound, Message: "Not found"})
			return
		}
		next.ServeHTTP(w, r)
	})
}
