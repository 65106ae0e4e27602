// Package routes is the route table: which Lambda function serves which
// method and path, and how big each function is. It is data only, so the
// Lambda entry points, the local server, the local gateway and the CDK
// stack all read this one list without linking any handler.
package routes

import "time"

// Function names one deployable Lambda.
type Function string

// The four functions, each shipped as its own Lambda.
const (
	Auth       Function = "auth"
	Generate   Function = "generate"
	History    Function = "history"
	ImageProxy Function = "imageproxy"
)

// Functions lists every function.
func Functions() []Function { return []Function{Auth, Generate, History, ImageProxy} }

// Size is a function's Lambda memory and time limit, read by the stack and
// by the local gateway (which runs each packaged function under the same
// limits).
type Size struct {
	MemoryMB int
	Timeout  time.Duration
}

// Size gives fn's size.
func (fn Function) Size() Size {
	switch fn {
	case Generate:
		// API Gateway cuts a request at 30 s, and the request path hands a
		// slow generation off at its 25 s sync budget (docs/generation.md),
		// so an API-facing invocation never uses more than ~29 s. The same
		// function also runs the asynchronous continuation of a handed-off
		// generation and the scheduled sweep; a continuation runs the whole
		// job, whose limit is QWEN_TIMEOUT_MS (45 s) + 60 s = 105 s. 120 s
		// covers that with a margin.
		return Size{512, 120 * time.Second}
	case History:
		return Size{256, 10 * time.Second}
	default:
		// auth: sign-up, sign-in and change-password run scrypt (N=16384,
		// r=16: 32 MB, CPU-bound), and Lambda's CPU share grows with memory.
		// imageproxy: serves image bytes up to 4 MB.
		return Size{512, 10 * time.Second}
	}
}

// Limit names the per-user limit a route is counted under ("" for none).
// The rules themselves are internal/ratelimit's; the name is also the
// counter's key prefix.
type Limit string

// The per-user limits of the app routes that cost the most.
const (
	// Workflows: one counter for every workflow, since each spends credits
	// and a provider call.
	Workflows Limit = "workflows"
	// HistoryDeletes: deletes reach the object store.
	HistoryDeletes Limit = "history-delete"
	// Uploads: each grants a write to the bucket.
	Uploads Limit = "uploads"
	// Checkouts: each creates objects at Stripe.
	Checkouts Limit = "billing-checkout"
)

// Route is one entry of the route table.
type Route struct {
	Method   string // "" for every method
	Path     string // net/http ServeMux pattern path
	Function Function
	Limit    Limit
}

// Pattern is the ServeMux pattern "METHOD /path" ("/path" for a route that
// takes every method). Handlers are bound to routes by it.
func (r Route) Pattern() string {
	if r.Method == "" {
		return r.Path
	}
	return r.Method + " " + r.Path
}

// Health is every function's health check: each serves it, so a probe of
// any function's URL answers; the gateway sends it to auth.
const Health = "GET /api/health"

// Table is the route table.
func Table() []Route {
	return []Route{
		// better-auth's endpoints (docs/auth-wire.md).
		{"POST", "/api/auth/sign-up/email", Auth, ""},
		{"POST", "/api/auth/sign-in/email", Auth, ""},
		{"GET", "/api/auth/get-session", Auth, ""},
		{"POST", "/api/auth/get-session", Auth, ""},
		{"POST", "/api/auth/sign-out", Auth, ""},
		{"GET", "/api/auth/list-sessions", Auth, ""},
		{"POST", "/api/auth/revoke-session", Auth, ""},
		{"POST", "/api/auth/revoke-sessions", Auth, ""},
		{"POST", "/api/auth/revoke-other-sessions", Auth, ""},
		{"POST", "/api/auth/update-user", Auth, ""},
		{"POST", "/api/auth/change-password", Auth, ""},
		{"POST", "/api/auth/change-email", Auth, ""},
		{"POST", "/api/auth/delete-user", Auth, ""},
		{"GET", "/api/auth/list-accounts", Auth, ""},
		// Social sign-in.
		{"POST", "/api/auth/sign-in/social", Auth, ""},
		{"GET", "/api/auth/callback/{provider}", Auth, ""},
		{"POST", "/api/auth/callback/{provider}", Auth, ""},
		{"POST", "/api/auth/link-social", Auth, ""},
		{"POST", "/api/auth/unlink-account", Auth, ""},
		// Password reset by mail (docs/auth-wire.md §3.11).
		{"POST", "/api/auth/request-password-reset", Auth, ""},
		{"GET", "/api/auth/reset-password/{token}", Auth, ""},
		{"POST", "/api/auth/reset-password", Auth, ""},
		// Email verification and confirmed email changes (docs/auth-wire.md §3.12).
		{"POST", "/api/auth/send-verification-email", Auth, ""},
		{"GET", "/api/auth/verify-email", Auth, ""},
		// The two-site shape's last step of a social sign-in (README).
		{"POST", "/api/auth/one-time-token/verify", Auth, ""},
		// Anything else below /api/auth: better-auth's empty 404, answered by
		// the auth function (after its rate limit) rather than by API
		// Gateway's own {"message":"Not Found"}.
		{"", "/api/auth/", Auth, ""},
		{"GET", "/api/auth/ok", Auth, ""},
		{"GET", "/api/auth/error", Auth, ""},

		// Application API (docs/app-api.md).
		{"GET", "/api/me", Auth, ""},
		{"GET", "/api/health", Auth, ""},

		{"POST", "/api/workflows/image-from-text", Generate, Workflows},
		{"POST", "/api/workflows/image-from-reference", Generate, Workflows},
		{"POST", "/api/workflows/video-from-reference", Generate, Workflows},
		// A reference image goes around the 6 MB event: the browser PUTs it
		// to the bucket (docs/generation.md).
		{"POST", "/api/uploads", Generate, Uploads},
		// Anything else below /api/workflows/ is 401 signed out, 404 signed in.
		{"", "/api/workflows/", Generate, ""},

		{"GET", "/api/history", History, ""},
		{"GET", "/api/history/{id}", History, ""},
		{"DELETE", "/api/history/{id}", History, HistoryDeletes},

		{"GET", "/api/history/{id}/asset", ImageProxy, ""},

		// Credit packs through Stripe Checkout (docs/billing.md). The
		// history function serves them: it is the one that already answers
		// a user's account data outside the sign-in path, it is small, and
		// its cold start is not on every page load as auth's is; Stripe's
		// library stays out of the other three.
		{"GET", "/api/billing/packs", History, ""},
		{"POST", "/api/billing/checkout", History, Checkouts},
		{"GET", "/api/billing/purchases", History, ""},
		// Stripe's deliveries: authenticated by signature, not a cookie.
		{"POST", "/api/billing/webhook", History, ""},
	}
}

// Of lists the routes fn serves.
func Of(fn Function) []Route {
	var out []Route
	for _, r := range Table() {
		if r.Function == fn {
			out = append(out, r)
		}
	}
	return out
}
