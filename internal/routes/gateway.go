package routes

import (
	"fmt"
	"strings"
)

// GatewayKey turns one entry of the route table into an API Gateway HTTP API
// route key ("METHOD /path"), the form the CDK stack declares and the local
// gateway (cmd/localgateway) puts in each event's routeKey:
//
//   - a path parameter stays as it is: /api/history/{id};
//   - a ServeMux rest wildcard {name...} becomes the greedy {name+};
//   - a trailing-slash subtree (/api/workflows/) becomes /api/workflows/{proxy+};
//   - {$} (ServeMux's "this path exactly") is dropped: gateway paths are exact;
//   - no method (ServeMux: every method) becomes ANY.
func (r Route) GatewayKey() (string, error) {
	method := strings.ToUpper(r.Method)
	if method == "" {
		method = "ANY"
	}
	p := r.Path
	if !strings.HasPrefix(p, "/") {
		return "", fmt.Errorf("route %q: path must start with /", r.Pattern())
	}
	p = strings.TrimSuffix(p, "{$}")
	if strings.HasSuffix(p, "/") && !strings.HasSuffix(r.Path, "{$}") {
		p += "{proxy+}"
	}
	segs := strings.Split(p, "/")
	for i, s := range segs {
		if strings.HasPrefix(s, "{") && strings.HasSuffix(s, "...}") {
			if i != len(segs)-1 {
				return "", fmt.Errorf("route %q: a {name...} wildcard must be last", r.Pattern())
			}
			segs[i] = strings.TrimSuffix(s, "...}") + "+}"
		}
	}
	p = strings.Join(segs, "/")
	if len(p) > 1 {
		p = strings.TrimSuffix(p, "/")
	}
	return method + " " + p, nil
}

// PreflightKey catches every CORS preflight the table's own routes do not.
// The functions answer OPTIONS themselves (internal/httpapi's CORS middleware),
// so the API has no CorsConfiguration (which would answer preflights in the
// gateway and drop the functions' Access-Control-* headers) and this route
// sends preflights to PreflightFunction. An OPTIONS request below
// /api/workflows/ matches the more specific ANY /api/workflows/{proxy+} and
// is answered by generate, which runs the same middleware.
const PreflightKey = "OPTIONS /{proxy+}"

// PreflightFunction owns PreflightKey.
const PreflightFunction = Auth

// GatewayRoute is one route of the deployed HTTP API.
type GatewayRoute struct {
	Key      string // "METHOD /path"
	Function Function
}

// GatewayRoutes is the HTTP API's route list: one per route-table entry, then
// the preflight route. Two entries that map to the same key are an error.
func GatewayRoutes() ([]GatewayRoute, error) {
	var out []GatewayRoute
	seen := map[string]bool{}
	add := func(key string, fn Function) error {
		if seen[key] {
			return fmt.Errorf("route key %q appears twice", key)
		}
		seen[key] = true
		out = append(out, GatewayRoute{key, fn})
		return nil
	}
	for _, r := range Table() {
		key, err := r.GatewayKey()
		if err != nil {
			return nil, err
		}
		if err := add(key, r.Function); err != nil {
			return nil, err
		}
	}
	if err := add(PreflightKey, PreflightFunction); err != nil {
		return nil, err
	}
	return out, nil
}
