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

	"adstudio/internal/audit"
	"adstudio/internal/auth/authdb"
	"adstudio/internal/auth/password"
	"adstudio/internal/auth/session"
	"adstudio/internal/httpapi"
	"adstudio/internal/jscompat"
	"adstudio/internal/mail"
	"adstudio/internal/metrics"
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
	// AuthURL is BETTER_AUTH_URL + BasePath: the links in mails start there.
	AuthURL string
	// Mail sends the reset and verification mails; nil turns those
	// endpoints off as better-auth answers without a sender.
	Mail mail.Sender
	// AppName names the product in mails.
	AppName string
	// Secrets sign verification links (the first) and check them (all):
	// BETTER_AUTH_SECRET's list, as for the cookies.
	Secrets []string
	// Verification is EMAIL_VERIFICATION: config.VerifyOff, VerifySend or
	// VerifyRequired.
	Verification string
	// Metrics counts sign-ins, refused sign-ins and rate-limited requests
	// (nil: none).
	Metrics *metrics.Emitter
	// Sleep stands in for the timer of mailPace in tests (nil: real).
	Sleep func(context.Context, time.Duration)

	pace mailPace
}

// Errors with better-auth's codes (internal/httpapi/codes.go) and its
// messages exactly as it spells them; the SPA matches on the messages.
var (
	errUnauthorized        = &httpapi.AuthError{Status: 401, Code: httpapi.AuthCodeUnauthorized, Message: "Unauthorized"}
	errInvalidCredentials  = &httpapi.AuthError{Status: 401, Code: httpapi.AuthCodeInvalidEmailOrPassword, Message: "Invalid email or password"}
	errInvalidEmail        = &httpapi.AuthError{Status: 400, Code: httpapi.AuthCodeInvalidEmail, Message: "Invalid email"}
	errUserExists          = &httpapi.AuthError{Status: 422, Code: httpapi.AuthCodeUserAlreadyExistsUseAnotherEmail, Message: "User already exists. Use another email."}
	errPasswordTooShort    = &httpapi.AuthError{Status: 400, Code: httpapi.AuthCodePasswordTooShort, Message: "Password too short"}
	errPasswordTooLong     = &httpapi.AuthError{Status: 400, Code: httpapi.AuthCodePasswordTooLong, Message: "Password too long"}
	errInvalidPassword     = &httpapi.AuthError{Status: 400, Code: httpapi.AuthCodeInvalidPassword, Message: "Invalid password"}
	errNoCredential        = &httpapi.AuthError{Status: 400, Code: httpapi.AuthCodeCredentialAccountNotFound, Message: "Credential account not found"}
	errEmailNotUpdatable   = &httpapi.AuthError{Status: 400, Code: httpapi.AuthCodeEmailCanNotBeUpdated, Message: "Email can not be updated"}
	errNoFieldsToUpdate    = &httpapi.AuthError{Status: 400, Message: "No fields to update"}
	errSessionExpired      = &httpapi.AuthError{Status: 400, Code: httpapi.AuthCodeSessionExpired, Message: "Session expired. Re-authenticate to perform this action."}
	errSessionNotFresh     = &httpapi.AuthError{Status: 403, Code: httpapi.AuthCodeSessionNotFresh, Message: "Session is not fresh"}
	errFailedToGetSession  = &httpapi.AuthError{Status: 401, Code: httpapi.AuthCodeFailedToGetSession, Message: "Failed to get session"}
	errEmailSame           = &httpapi.AuthError{Status: 400, Message: "Email is the same"}
	errVerificationEmailNA = &httpapi.AuthError{Status: 400, Message: "Verification email isn't enabled"}
	errMissingOrigin       = &httpapi.AuthError{Status: 403, Code: httpapi.AuthCodeMissingOrNullOrigin, Message: "Missing or null Origin"}
	errInvalidOrigin       = &httpapi.AuthError{Status: 403, Code: httpapi.AuthCodeInvalidOrigin, Message: "Invalid origin"}
	errCrossSiteLogin      = &httpapi.AuthError{Status: 403, Code: httpapi.AuthCodeCrossSiteNavigationLoginBlocked, Message: "Cross-site navigation login blocked. This request appears to be a CSRF attack."}
	errNotFound            = &httpapi.AuthError{Status: 404, NoBody: true}
	errDeferRefresh        = &httpapi.AuthError{Status: 405, Code: httpapi.AuthCodeMethodNotAllowedDeferSessionRequired, Message: "POST method requires deferSessionRefresh to be enabled in session config"}
)

// redirectFields are the body members every non-GET endpoint validates as
// redirect targets, with the error each one raises.
var redirectFields = []struct{ name, code, msg string }{
	{"callbackURL", httpapi.AuthCodeInvalidCallbackURL, "Invalid callbackURL"},
	{"redirectTo", httpapi.AuthCodeInvalidRedirectURL, "Invalid redirectURL"},
	{"errorCallbackURL", httpapi.AuthCodeInvalidErrorCallbackURL, "Invalid errorCallbackURL"},
	{"newUserCallbackURL", httpapi.AuthCodeInvalidNewUserCallbackURL, "Invalid newUserCallbackURL"},
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
	src := origin.FromRequest(r)
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
		return &httpapi.AuthError{Status: 403, Code: httpapi.AuthCodeInvalidCallbackURL, Message: "Invalid callbackURL"}
	}
	return nil
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
			scope := authLimitScope(ratelimit.RuleFor(path))
			a.Metrics.Count(r.Context(), metrics.RateLimited, 1, metrics.Dim{Name: metrics.DimScope, Value: scope})
			if d.First {
				if err := a.record(r, audit.RateLimited, "", audit.Refused, map[string]any{"scope": scope, "path": clip(path, 64)}); err != nil {
					httpapi.WriteError(w, r, err)
					return
				}
			}
			httpapi.WriteError(w, r, &httpapi.AuthError{
				Status: http.StatusTooManyRequests, Message: "Too many requests. Please try again later.",
				Header: http.Header{"X-Retry-After": {strconv.Itoa(d.RetryAfter)}},
			})
			return
		}
		next.ServeHTTP(w, r)
	})
}

// event is a row of the security trail about request r, to append to the
// batch that makes the change (authdb's trail arguments).
func (a *API) event(r *http.Request, name, userID, outcome string, detail map[string]any) audit.Event {
	ip := ""
	if a.Limiter != nil {
		ip = a.Limiter.ClientIP(r)
	}
	return audit.Event{Event: name, UserID: userID, IP: ip, UserAgent: r.UserAgent(), Outcome: outcome, Detail: detail, At: a.Now()}
}

// record writes a row for an event that has no write of its own (a
// refused sign-in, a rate-limit refusal): one round trip.
func (a *API) record(r *http.Request, name, userID, outcome string, detail map[string]any) error {
	return audit.Write(r.Context(), a.Store.DB(), a.event(r, name, userID, outcome, detail))
}

// clip bounds a client-chosen string kept in the trail.
func clip(s string, n int) string {
	if len(s) > n {
		return s[:n]
	}
	return s
}

// Scopes of the auth tree's rate limits (metrics.DimScope): the strict
// per-IP rules on the password and mail endpoints, counted across
// instances, the general per-IP rule, and the per-recipient limit on mail
// (one mailbox, whoever asks). Named by the rule, not the path, which a
// client chooses.
const (
	ScopeAuthStrict  = "auth-strict"
	ScopeAuthGeneral = "auth-general"
	ScopeMailAddress = "mail-address"
)

func authLimitScope(r ratelimit.Rule) string {
	if r.PerInstance {
		return ScopeAuthGeneral
	}
	return ScopeAuthStrict
}

// signedIn counts a sign-in by method.
func (a *API) signedIn(ctx context.Context, method string) {
	a.Metrics.Count(ctx, metrics.SignIns, 1, metrics.Dim{Name: metrics.DimMethod, Value: method})
}

// signInRefused counts a refused sign-in by method and reason.
func (a *API) signInRefused(ctx context.Context, method, reason string) {
	a.Metrics.Count(ctx, metrics.SignInFailures, 1,
		metrics.Dim{Name: metrics.DimMethod, Value: method}, metrics.Dim{Name: metrics.DimReason, Value: reason})
}

// Reasons of refused email sign-ins (metrics.DimReason).
const (
	ReasonInvalidCredentials = "invalid_credentials"
	ReasonEmailNotVerified   = "email_not_verified"
)

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
