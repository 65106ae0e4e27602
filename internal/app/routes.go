package app

import (
	"net/http"

	"adstudio/internal/httpapi"
	"adstudio/internal/ratelimit"
)

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

// Route is one entry of the route table: the Lambda entry points, the local
// server and the CDK stack all read this one list.
type Route struct {
	Method   string
	Path     string // net/http ServeMux pattern path
	Function Function
	handler  func(*App) http.Handler
}

// Pattern is the ServeMux pattern "METHOD /path" ("/path" for a route that
// takes every method).
func (r Route) Pattern() string {
	if r.Method == "" {
		return r.Path
	}
	return r.Method + " " + r.Path
}

func h(f httpapi.Handler) http.Handler { return f }

// Per-user limits of the app routes that cost the most, counted in the
// database (on when RATE_LIMIT_ENABLED): a 429 RATE_LIMITED with
// Retry-After. The auth routes have better-auth's per-IP rules instead.
var (
	workflowLimit      = httpapi.UserLimit{Name: "workflows", Rule: ratelimit.Workflows()}
	historyDeleteLimit = httpapi.UserLimit{Name: "history-delete", Rule: ratelimit.HistoryDeletes()}
)

// Routes is the route table.
func Routes() []Route {
	return []Route{
		// better-auth's endpoints (auth-protocol.md §2).
		{"POST", "/api/auth/sign-up/email", Auth, func(a *App) http.Handler { return a.auth.SignUpEmail() }},
		{"POST", "/api/auth/sign-in/email", Auth, func(a *App) http.Handler { return a.auth.SignInEmail() }},
		{"GET", "/api/auth/get-session", Auth, func(a *App) http.Handler { return h(a.auth.GetSession) }},
		{"POST", "/api/auth/get-session", Auth, func(a *App) http.Handler { return a.auth.GetSessionPost() }},
		{"POST", "/api/auth/sign-out", Auth, func(a *App) http.Handler { return a.auth.SignOut() }},
		{"GET", "/api/auth/list-sessions", Auth, func(a *App) http.Handler { return h(a.auth.ListSessions) }},
		{"POST", "/api/auth/revoke-session", Auth, func(a *App) http.Handler { return a.auth.RevokeSession() }},
		{"POST", "/api/auth/revoke-sessions", Auth, func(a *App) http.Handler { return a.auth.RevokeSessions() }},
		{"POST", "/api/auth/revoke-other-sessions", Auth, func(a *App) http.Handler { return a.auth.RevokeOtherSessions() }},
		{"POST", "/api/auth/update-user", Auth, func(a *App) http.Handler { return a.auth.UpdateUser() }},
		{"POST", "/api/auth/change-password", Auth, func(a *App) http.Handler { return a.auth.ChangePassword() }},
		{"POST", "/api/auth/change-email", Auth, func(a *App) http.Handler { return a.auth.ChangeEmail() }},
		{"POST", "/api/auth/delete-user", Auth, func(a *App) http.Handler { return a.auth.DeleteUser() }},
		{"GET", "/api/auth/list-accounts", Auth, func(a *App) http.Handler { return h(a.auth.ListAccounts) }},
		// Social sign-in (auth-protocol.md §7).
		{"POST", "/api/auth/sign-in/social", Auth, func(a *App) http.Handler { return a.auth.SignInSocial() }},
		{"GET", "/api/auth/callback/{provider}", Auth, func(a *App) http.Handler { return h(a.auth.Callback) }},
		{"POST", "/api/auth/callback/{provider}", Auth, func(a *App) http.Handler { return h(a.auth.CallbackPost) }},
		{"POST", "/api/auth/link-social", Auth, func(a *App) http.Handler { return a.auth.LinkSocial() }},
		{"POST", "/api/auth/unlink-account", Auth, func(a *App) http.Handler { return a.auth.UnlinkAccount() }},
		// The two-site shape's last step of a social sign-in (README).
		{"POST", "/api/auth/one-time-token/verify", Auth, func(a *App) http.Handler { return a.auth.VerifyOneTimeToken() }},
		// Anything else below /api/auth: better-auth's empty 404, answered by
		// the auth function (after its rate limit) rather than by API
		// Gateway's own {"message":"Not Found"}.
		{"", "/api/auth/", Auth, func(a *App) http.Handler { return h(a.auth.NotFound) }},
		{"GET", "/api/auth/ok", Auth, func(a *App) http.Handler { return h(a.auth.OK) }},
		{"GET", "/api/auth/error", Auth, func(a *App) http.Handler { return h(a.auth.Error) }},

		// Application API (app-api.md).
		{"GET", "/api/me", Auth, func(a *App) http.Handler { return h(a.profile.Me) }},
		{"GET", "/api/health", Auth, func(a *App) http.Handler { return h(a.profile.Health) }},

		// One per-user counter for every workflow: see ratelimit.Workflows.
		{"POST", "/api/workflows/image-from-text", Generate, func(a *App) http.Handler { return httpapi.Limited(workflowLimit, h(a.workflows.ImageFromText)) }},
		{"POST", "/api/workflows/image-from-reference", Generate, func(a *App) http.Handler { return httpapi.Limited(workflowLimit, h(a.workflows.ImageFromReference)) }},
		{"POST", "/api/workflows/video-from-reference", Generate, func(a *App) http.Handler { return httpapi.Limited(workflowLimit, h(a.workflows.VideoFromReference)) }},
		// Anything else below /api/workflows/ is 401 signed out, 404 signed in.
		{"", "/api/workflows/", Generate, func(a *App) http.Handler { return h(a.workflows.NotFound) }},

		{"GET", "/api/history", History, func(a *App) http.Handler { return h(a.history.List) }},
		{"GET", "/api/history/{id}", History, func(a *App) http.Handler { return h(a.history.Detail) }},
		{"DELETE", "/api/history/{id}", History, func(a *App) http.Handler { return httpapi.Limited(historyDeleteLimit, h(a.history.Delete)) }},

		{"GET", "/api/history/{id}/asset", ImageProxy, func(a *App) http.Handler { return h(a.history.Asset) }},
	}
}
