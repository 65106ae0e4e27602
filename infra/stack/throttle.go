package stack

import (
	"fmt"
	"strings"

	"adstudio/internal/routes"
)

// RouteClass names a group of expensive routes that share one route
// throttle setting. The class of a route is derived from the route table
// (ClassifyRoute), so a new workflow route is throttled like the others.
type RouteClass string

// The classes. Their names prefix the context keys: workflowThrottleRate,
// workflowThrottleBurst, and so on.
const (
	// Workflow: every route of the generate function that starts work
	// (POST, or ANY for the /api/workflows/ subtree).
	Workflow RouteClass = "workflow"
	// Password: the routes that run scrypt (PasswordRouteKeys).
	Password RouteClass = "password"
	// HistoryDelete: DELETE routes of the history function.
	HistoryDelete RouteClass = "historyDelete"
	// Asset: every route of the imageproxy function (image bytes).
	Asset RouteClass = "asset"
)

// RouteClasses lists every class, in the order the README documents them.
func RouteClasses() []RouteClass { return []RouteClass{Workflow, Password, HistoryDelete, Asset} }

// Throttle is one token bucket: Rate requests per second in the steady
// state, Burst the bucket size.
type Throttle struct {
	Rate  float64
	Burst float64
}

// DefaultRouteThrottles gives every class its default (settings.go says
// why each number).
func DefaultRouteThrottles() map[RouteClass]Throttle {
	return map[RouteClass]Throttle{
		Workflow:      {DefaultWorkflowThrottleRate, DefaultWorkflowThrottleBurst},
		Password:      {DefaultPasswordThrottleRate, DefaultPasswordThrottleBurst},
		HistoryDelete: {DefaultHistoryDeleteThrottleRate, DefaultHistoryDeleteThrottleBurst},
		Asset:         {DefaultAssetThrottleRate, DefaultAssetThrottleBurst},
	}
}

// PasswordRouteKeys are the routes whose handler runs scrypt: sign-up hashes
// the new password, sign-in verifies it (or burns the same work for an
// unknown email), change-password does both, and delete-user verifies the
// password when one is given. Nothing in the route table marks them, so
// they are listed; New refuses a key the table no longer has, so a renamed
// route cannot silently lose its throttle.
func PasswordRouteKeys() []string {
	return []string{
		"POST /api/auth/sign-up/email",
		"POST /api/auth/sign-in/email",
		"POST /api/auth/change-password",
		"POST /api/auth/delete-user",
	}
}

// ClassifyRoute says which route throttle a gateway route gets, or "" for
// none (the stage default applies).
func ClassifyRoute(r routes.GatewayRoute) RouteClass {
	method, _, _ := strings.Cut(r.Key, " ")
	for _, k := range PasswordRouteKeys() {
		if r.Key == k {
			return Password
		}
	}
	switch {
	case r.Function == routes.Generate && (method == "POST" || method == "ANY"):
		return Workflow
	case r.Function == routes.History && method == "DELETE":
		return HistoryDelete
	case r.Function == routes.ImageProxy:
		return Asset
	}
	return ""
}

// routeThrottles maps route keys to their throttle: each classified route
// gets its class's setting (a missing class or a zero field takes the
// default), never more than the stage default, since a route throttle is
// there to tighten it.
func routeThrottles(table []routes.GatewayRoute, set map[RouteClass]Throttle, stage Throttle) (map[string]Throttle, error) {
	keys := map[string]bool{}
	for _, r := range table {
		keys[r.Key] = true
	}
	for _, k := range PasswordRouteKeys() {
		if !keys[k] {
			return nil, fmt.Errorf("stack: password route %q is not in the route table (update PasswordRouteKeys)", k)
		}
	}
	out := map[string]Throttle{}
	for _, r := range table {
		c := ClassifyRoute(r)
		if c == "" {
			continue
		}
		t, def := set[c], DefaultRouteThrottles()[c]
		if t.Rate <= 0 {
			t.Rate = def.Rate
		}
		if t.Burst <= 0 {
			t.Burst = def.Burst
		}
		out[r.Key] = Throttle{min(t.Rate, stage.Rate), min(t.Burst, stage.Burst)}
	}
	return out, nil
}
