// Package authapi serves better-auth's HTTP endpoints under /api/auth with
// better-auth 1.7's statuses, bodies, messages and cookies, so better-auth's
// own client works against it unchanged.
package authapi

import (
	"context"
	"net/http"
	"strconv"
	"strings"
	"time"

	"adstudio/internal/auth/authdb"
	"adstudio/internal/auth/password"
	"adstudio/internal/auth/session"
	"adstudio/internal/httpapi"
	"adstudio/internal/jscompat"
	"adstudio/internal/origin"
	"adstudio/internal/ratelimit"
)

// BasePath is where better-auth's endpoints live.
const BasePath = "/api/auth"

// API holds the dependencies of the auth endpoints.
type API struct {
	Store       *authdb.Store
	Sessions    *session.Manager
	Hasher      *password.Hasher
	Origins     origin.List
	Limiter     *ratelimit.Limiter
	Limits      bool   // enforce rate limits (the limiter still reports client IPs)
	FrontendURL string // where /error sends browsers, when set
	Now         func() time.Time
	// BeforeDeleteUser removes what a user owns outside the database (their
	// stored images) before delete-user removes the rows.
	BeforeDeleteUser func(ctx context.Context, userID string) error
	// Social is Google and GitHub sign-in (social.go).
	Social Social
}

// Error codes and messages exactly as better-auth spells them; the SPA
// matches on the messages.
var (
	errUnauthorized        = &httpapi.AuthError{Status: 401, Code: "UNAUTHORIZED", Message: "Unauthorized"}
	errInvalidCredentials  = &httpapi.AuthError{Status: 401, Code: "INVALID_EMAIL_OR_PASSWORD", Message: "Invalid email or password"}
	errInvalidEmail        = &httpapi.AuthError{Status: 400, Code: "INVALID_EMAIL", Message: "Invalid email"}
	errUserExists          = &httpapi.AuthError{Status: 422, Code: "USER_ALREADY_EXISTS_USE_ANOTHER_EMAIL", Message: "User already exists. Use another email."}
	errPasswordTooShort    = &httpapi.AuthError{Status: 400, Code: "PASSWORD_TOO_SHORT", Message: "Password too short"}
	errPasswordTooLong     = &httpapi.AuthError{Status: 400, Code: "PASSWORD_TOO_LONG", Message: "Password too long"}
	errInvalidPassword     = &httpapi.AuthError{Status: 400, Code: "INVALID_PASSWORD", Message: "Invalid password"}
	errNoCredential        = &httpapi.AuthError{Status: 400, Code: "CREDENTIAL_ACCOUNT_NOT_FOUND", Message: "Credential account not found"}
	errEmailNotUpdatable   = &httpapi.AuthError{Status: 400, Code: "EMAIL_CAN_NOT_BE_UPDATED", Message: "Email can not be updated"}
	errNoFieldsToUpdate    = &httpapi.AuthError{Status: 400, Message: "No fields to update"}
	errSessionExpired      = &httpapi.AuthError{Status: 400, Code: "SESSION_EXPIRED", Message: "Session expired. Re-authenticate to perform this action."}
	errSessionNotFresh     = &httpapi.AuthError{Status: 403, Code: "SESSION_NOT_FRESH", Message: "Session is not fresh"}
	errFailedToGetSession  = &httpapi.AuthError{Status: 401, Code: "FAILED_TO_GET_SESSION", Message: "Failed to get session"}
	errEmailSame           = &httpapi.AuthError{Status: 400, Message: "Email is the same"}
	errVerificationEmailNA = &httpapi.AuthError{Status: 400, Message: "Verification email isn't enabled"}
	errMissingOrigin       = &httpapi.AuthError{Status: 403, Code: "MISSING_OR_NULL_ORIGIN", Message: "Missing or null Origin"}
	errInvalidOrigin       = &httpapi.AuthError{Status: 403, Code: "INVALID_ORIGIN", Message: "Invalid origin"}
	errCrossSiteLogin      = &httpapi.AuthError{Status: 403, Code: "CROSS_SITE_NAVIGATION_LOGIN_BLOCKED", Message: "Cross-site navigation login blocked. This request appears to be a CSRF attack."}
	errNotFound            = &httpapi.AuthError{Status: 404, NoBody: true}
	errDeferRefresh        = &httpapi.AuthError{Status: 405, Code: "METHOD_NOT_ALLOWED_DEFER_SESSION_REQUIRED", Message: "POST method requires deferSessionRefresh to be enabled in session config"}
)

// redirectFields are the body members every non-GET endpoint validates as
// redirect targets, with the error each one raises.
var redirectFields = []struct{ name, code, msg string }{
	{"callbackURL", "INVALID_CALLBACK_URL", "Invalid callbackURL"},
	{"redirectTo", "INVALID_REDIRECT_URL", "Invalid redirectURL"},
	{"errorCallbackURL", "INVALID_ERROR_CALLBACK_URL", "Invalid errorCallbackURL"},
	{"newUserCallbackURL", "INVALID_NEW_USER_CALLBACK_URL", "Invalid newUserCallbackURL"},
}

// bodyHandler is an endpoint that takes a decoded body.
type bodyHandler func(w http.ResponseWriter, r *http.Request, b *httpapi.Body) error

// post wraps a state-changing endpoint with better-auth's order: body
// parsing, the origin check, then (for sign-in and sign-up) the form-CSRF
// check, then the endpoint.
func (a *API) post(allowForm, loginCSRF bool, h bodyHandler) httpapi.Handler {
	return func(w http.ResponseWriter, r *http.Request) error {
		b, err := httpapi.DecodeBody(w, r, allowForm)
		if err != nil {
			return err
		}
		if err := a.checkOrigin(r, b, loginCSRF); err != nil {
			return err
		}
		return h(w, r, b)
	}
}

// checkOrigin applies better-auth's origin check. A request carrying any
// cookie must come from a trusted Origin (or Referer): that is what stops a
// cross-site form from acting with the victim's session. Sign-in and
// sign-up also refuse cross-site navigations and, when the browser sent
// fetch metadata, an untrusted or missing origin (login CSRF).
func (a *API) checkOrigin(r *http.Request, b *httpapi.Body, loginCSRF bool) error {
	src := requestOrigin(r)
	needOrigin := r.Header.Get("Cookie") != ""
	if loginCSRF && !needOrigin {
		site, mode := r.Header.Get("Sec-Fetch-Site"), r.Header.Get("Sec-Fetch-Mode")
		if site != "" || mode != "" || r.Header.Get("Sec-Fetch-Dest") != "" {
			if site == "cross-site" && mode == "navigate" {
				return errCrossSiteLogin
			}
			needOrigin = true
		} else if src != "" && !a.Origins.Trusted(src) {
			return errInvalidOrigin
		}
	}
	if needOrigin {
		if src == "" || src == "null" {
			return errMissingOrigin
		}
		if !a.Origins.Trusted(src) {
			return errInvalidOrigin
		}
	}
	for _, f := range redirectFields {
		if !b.Has(f.name) {
			continue
		}
		v, ok := b.String(f.name, false)
		if !ok {
			return &httpapi.AuthError{Status: 400, Message: "Invalid " + f.name + ": expected a string"}
		}
		if !a.Origins.TrustedTarget(v) {
			return &httpapi.AuthError{Status: 403, Code: f.code, Message: f.msg}
		}
	}
	if cb := r.URL.Query().Get("callbackURL"); cb != "" && !a.Origins.TrustedTarget(cb) {
		return &httpapi.AuthError{Status: 403, Code: "INVALID_CALLBACK_URL", Message: "Invalid callbackURL"}
	}
	return nil
}

// requestOrigin is the Origin header, or the origin of the Referer.
func requestOrigin(r *http.Request) string {
	if o := r.Header.Get("Origin"); o != "" {
		return o
	}
	if ref := r.Header.Get("Referer"); ref != "" {
		if o, ok := origin.Of(ref); ok {
			return o
		}
		return "null"
	}
	return ""
}

// RateLimit wraps the whole /api/auth tree: like better-auth's limiter it
// runs before routing, so unknown paths count too. ratelimit.RuleFor says
// where each path is counted: the password and mail rules in the database
// (one round trip, exact across instances), every other path in this
// process (none), so get-session answered from the cookie cache costs no
// database call at all.
func (a *API) RateLimit(next http.Handler) http.Handler {
	if !a.Limits {
		return next
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodOptions {
			next.ServeHTTP(w, r)
			return
		}
		path := strings.TrimRight(strings.TrimPrefix(r.URL.Path, BasePath), "/")
		ip := a.Limiter.ClientIP(r)
		if ip == "" {
			// better-auth 1.7: clients without an address share one bucket.
			ip = "no-trusted-ip"
		}
		d, err := a.Limiter.Allow(r.Context(), ip+"|"+path, ratelimit.RuleFor(path))
		if err != nil {
			httpapi.WriteError(w, r, err)
			return
		}
		if !d.Allowed {
			httpapi.WriteError(w, r, &httpapi.AuthError{
				Status: http.StatusTooManyRequests, Message: "Too many requests. Please try again later.",
				Header: http.Header{"X-Retry-After": {strconv.Itoa(d.RetryAfter)}},
			})
			return
		}
		next.ServeHTTP(w, r)
	})
}

// requireSession resolves the session from the database (every caller
// changes state or reads something sensitive) or answers 401.
func (a *API) requireSession(ctx context.Context, w http.ResponseWriter, r *http.Request) (*session.Current, error) {
	cur, err := a.Sessions.Get(ctx, w.Header(), r, session.Options{})
	if err != nil {
		return nil, err
	}
	if cur == nil {
		return nil, errUnauthorized
	}
	return cur, nil
}

// NotFound answers unknown paths and methods below /api/auth as better-auth
// does: 404 with no body.
func (a *API) NotFound(w http.ResponseWriter, r *http.Request) error { return errNotFound }

// OK is GET /ok.
func (a *API) OK(w http.ResponseWriter, r *http.Request) error {
	httpapi.WriteJSON(w, http.StatusOK, map[string]bool{"ok": true})
	return nil
}

// checkPasswordLength applies better-auth's limits, in UTF-16 code units.
func checkPasswordLength(pw string) error {
	switch n := jscompat.Length(pw); {
	case n < password.MinLength:
		return errPasswordTooShort
	case n > password.MaxLength:
		return errPasswordTooLong
	}
	return nil
}
