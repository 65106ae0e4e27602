package localgateway

import (
	"fmt"
	"strings"

	"adstudio/internal/routes"
)

// Match is the route API Gateway picks for one request.
type Match struct {
	Key            string // the route key, e.g. "GET /api/history/{id}"
	Function       routes.Function
	PathParameters map[string]string // nil when the route has none
}

// Router matches requests against HTTP API route keys the way API Gateway
// does. It reads the keys themselves (routes.GatewayRoutes), not the ServeMux
// patterns they come from, so a key that would route differently on AWS
// than in `make dev` shows up here.
type Router struct {
	routes []route
}

type route struct {
	key    string
	method string // "ANY" or an upper-case method
	segs   []segment
	fn     routes.Function
}

type segKind int

// Ordered by specificity: a literal segment beats a {param}, which beats a
// greedy {proxy+}.
const (
	segLiteral segKind = iota
	segParam
	segGreedy
)

type segment struct {
	kind segKind
	text string // the literal, or the parameter's name
}

// NewRouter builds a router from route keys ("METHOD /path").
func NewRouter(keys []routes.GatewayRoute) (*Router, error) {
	rt := &Router{}
	for _, gr := range keys {
		method, path, ok := strings.Cut(gr.Key, " ")
		if !ok || !strings.HasPrefix(path, "/") {
			return nil, fmt.Errorf("route key %q: want \"METHOD /path\"", gr.Key)
		}
		r := route{key: gr.Key, method: method, fn: gr.Function}
		parts := strings.Split(strings.TrimPrefix(path, "/"), "/")
		for i, p := range parts {
			switch {
			case strings.HasPrefix(p, "{") && strings.HasSuffix(p, "+}"):
				if i != len(parts)-1 {
					return nil, fmt.Errorf("route key %q: a greedy variable must be last", gr.Key)
				}
				r.segs = append(r.segs, segment{segGreedy, p[1 : len(p)-2]})
			case strings.HasPrefix(p, "{") && strings.HasSuffix(p, "}"):
				r.segs = append(r.segs, segment{segParam, p[1 : len(p)-1]})
			default:
				r.segs = append(r.segs, segment{segLiteral, p})
			}
		}
		rt.routes = append(rt.routes, r)
	}
	return rt, nil
}

// Match finds the route for method and path (the decoded request path).
// API Gateway prefers, segment by segment, a literal over a {param} over a
// greedy {proxy+}; at equal paths an exact method over ANY. A {param}
// matches one non-empty segment and {proxy+} one or more, so "/" never
// matches "/{proxy+}". HEAD is a method of its own: a GET route does not
// take it.
func (rt *Router) Match(method, path string) (Match, bool) {
	if !strings.HasPrefix(path, "/") {
		return Match{}, false
	}
	parts := strings.Split(strings.TrimPrefix(path, "/"), "/")
	var best *route
	var bestParams map[string]string
	for i := range rt.routes {
		r := &rt.routes[i]
		if r.method != "ANY" && r.method != method {
			continue
		}
		params, ok := r.match(parts)
		if !ok {
			continue
		}
		if best == nil || r.beats(best) {
			best, bestParams = r, params
		}
	}
	if best == nil {
		return Match{}, false
	}
	return Match{Key: best.key, Function: best.fn, PathParameters: bestParams}, true
}

func (r *route) match(parts []string) (map[string]string, bool) {
	var params map[string]string
	set := func(k, v string) {
		if params == nil {
			params = map[string]string{}
		}
		params[k] = v
	}
	for i, s := range r.segs {
		if s.kind == segGreedy {
			rest := parts[i:]
			if len(rest) == 0 || (len(rest) == 1 && rest[0] == "") {
				return nil, false
			}
			set(s.text, strings.Join(rest, "/"))
			return params, true
		}
		if i >= len(parts) {
			return nil, false
		}
		switch s.kind {
		case segLiteral:
			if parts[i] != s.text {
				return nil, false
			}
		case segParam:
			if parts[i] == "" {
				return nil, false
			}
			set(s.text, parts[i])
		}
	}
	if len(parts) != len(r.segs) {
		return nil, false
	}
	return params, true
}

// beats reports whether r is a more specific match than o for the same
// request.
func (r *route) beats(o *route) bool {
	for i := 0; i < len(r.segs) && i < len(o.segs); i++ {
		if r.segs[i].kind != o.segs[i].kind {
			return r.segs[i].kind < o.segs[i].kind
		}
	}
	if len(r.segs) != len(o.segs) {
		// Both matched, so the longer one has a greedy tail that the
		// shorter one's greedy segment also covers: more literal prefix.
		return len(r.segs) > len(o.segs)
	}
	return r.method != "ANY" && o.method == "ANY"
}
