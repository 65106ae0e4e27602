package authapi

import (
	"adstudio/internal/audit"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"adstudio/internal/auth/authdb"
	"adstudio/internal/auth/cookie"
	"adstudio/internal/auth/oauth"
	"adstudio/internal/httpapi"
	"adstudio/internal/origin"
)

// Social holds what Google and GitHub sign-in need beyond the API's own
// dependencies.
type Social struct {
	// Providers are the configured providers by id; one without
	// credentials is absent, and its sign-in answers PROVIDER_NOT_FOUND.
	Providers map[string]*oauth.Provider
	// Tokens encrypts access and refresh tokens at rest.
	Tokens *oauth.TokenCipher
	// BaseURL is the API's public origin: the redirect_uri's and the
	// default callback's.
	BaseURL string
	// TrustedProviders may link to an existing account by email even when
	// they do not report the email verified (better-auth's
	// accountLinking.trustedProviders).
	TrustedProviders []string
	// Logger receives the causes of failed callbacks, which the browser
	// only sees as ?error=invalid_code and the like (nil: slog's default).
	Logger *slog.Logger
}

const (
	stateCookie    = "state"
	stateTTL       = 10 * time.Minute
	stateCookieTTL = 300 // seconds, as better-auth
	// A deferred sign-in (two-site shape) waits this long for the SPA to
	// redeem it, as better-auth's one-time tokens.
	oneTimeTokenTTL = 3 * time.Minute
)

var (
	errProviderNotFound     = &httpapi.AuthError{Status: 404, Code: httpapi.AuthCodeProviderNotFound, Message: "Provider not found"}
	errIDTokenNotSupported  = &httpapi.AuthError{Status: 404, Code: httpapi.AuthCodeIDTokenNotSupported, Message: "id_token not supported"}
	errLastAccount          = &httpapi.AuthError{Status: 400, Code: httpapi.AuthCodeFailedToUnlinkLastAccount, Message: "You can't unlink your last account"}
	errAccountNotFound      = &httpapi.AuthError{Status: 400, Code: httpapi.AuthCodeAccountNotFound, Message: "Account not found"}
	errInvalidOneTimeToken  = &httpapi.AuthError{Status: 400, Code: httpapi.AuthCodeInvalidToken, Message: "Invalid token"}
	errOneTimeTokenMismatch = &httpapi.AuthError{Status: 403, Code: httpapi.AuthCodeStateMismatch, Message: "This sign-in was started in another browser"}
)

// reservedParams may not be overridden through additionalParams.
var reservedParams = []string{"state", "client_id", "redirect_uri", "response_type", "code_challenge", "code_challenge_method", "nonce", "scope"}

// stateLink marks a link-social flow: the account goes to this user.
type stateLink struct {
	Email  string `json:"email"`
	UserID string `json:"userId"`
}

// stateData is the verification row of one OAuth flow, in better-auth
// 1.7's key order, so either server can finish a flow the other started.
type stateData struct {
	CallbackURL   string     `json:"callbackURL"`
	CodeVerifier  string     `json:"codeVerifier"`
	ErrorURL      string     `json:"errorURL,omitempty"`
	NewUserURL    string     `json:"newUserURL,omitempty"`
	Link          *stateLink `json:"link,omitempty"`
	ExpiresAt     int64      `json:"expiresAt"` // epoch ms
	RequestSignUp *bool      `json:"requestSignUp,omitempty"`
	OAuthState    string     `json:"oauthState,omitempty"`
	// CrossSite records that the flow started from a page on another site
	// than the API (the two-site shape): its state cookie then lives in
	// that site's cookie partition and never reaches the callback, a
	// top-level visit to the API's own site. better-auth ignores the key.
	CrossSite bool `json:"adstudioCrossSite,omitempty"`
}

func stateIdentifier(state string) string { return "auth-state:" + state }

// SignInSocial is POST /sign-in/social.
func (a *API) SignInSocial() httpapi.Handler {
	return a.post(false, false, func(w http.ResponseWriter, r *http.Request, b *httpapi.Body) error {
		return a.startSocial(w, r, b, nil)
	})
}

// LinkSocial is POST /link-social: the same flow, ending in a new account
// for the signed-in user instead of a session.
func (a *API) LinkSocial() httpapi.Handler {
	return a.post(false, false, func(w http.ResponseWriter, r *http.Request, b *httpapi.Body) error {
		cur, err := a.requireSession(r.Context(), w, r)
		if err != nil {
			return err
		}
		// A linked identity is a new way in that outlives every password
		// change and revocation, so, unlike better-auth, only a fresh
		// session may add one: a stolen cookie must not become permanent.
		if !a.Sessions.Fresh(cur.Session) {
			return errSessionNotFresh
		}
		return a.startSocial(w, r, b, &stateLink{Email: cur.User.Email, UserID: cur.User.ID})
	})
}

func (a *API) startSocial(w http.ResponseWriter, r *http.Request, b *httpapi.Body, link *stateLink) error {
	ctx := r.Context()
	providerID, _ := b.String("provider", true)
	callbackURL, _ := b.String("callbackURL", false)
	errorURL, _ := b.String("errorCallbackURL", false)
	newUserURL, _ := b.String("newUserCallbackURL", false)
	disableRedirect, _ := b.Bool("disableRedirect")
	loginHint, _ := b.String("loginHint", false)
	requestSignUp, hasRequestSignUp := b.Bool("requestSignUp")
	scopes := b.Strings("scopes")
	extra := b.StringMap("additionalParams")
	hasIDToken := b.Has("idToken")
	if err := b.Err(); err != nil {
		return err
	}
	for k := range extra {
		if slices.Contains(reservedParams, k) {
			return &httpapi.AuthError{Status: 400, Code: httpapi.AuthCodeValidationError, Message: "[body.additionalParams] " + k + " is reserved"}
		}
	}
	p, ok := a.Social.Providers[providerID]
	if !ok {
		return errProviderNotFound
	}
	if hasIDToken {
		// Google's ID-token sign-in (One Tap) needs Google's signing keys;
		// this server only runs the redirect flow.
		return errIDTokenNotSupported
	}
	if callbackURL == "" {
		callbackURL = a.Social.BaseURL
	}
	now := a.Now()
	state, verifier := oauth.RandomState(), oauth.RandomVerifier()
	data := stateData{
		CallbackURL: callbackURL, CodeVerifier: verifier, ErrorURL: errorURL, NewUserURL: newUserURL,
		Link: link, ExpiresAt: now.Add(stateTTL).UnixMilli(), OAuthState: state,
		CrossSite: crossSite(origin.FromRequest(r), a.Social.BaseURL),
	}
	if hasRequestSignUp {
		data.RequestSignUp = &requestSignUp
	}
	raw, err := json.Marshal(data)
	if err != nil {
		return err
	}
	if err := a.Store.CreateVerification(ctx, stateIdentifier(state), string(raw), now.Add(stateTTL), now); err != nil {
		return err
	}
	authURL := p.AuthCodeURL(state, verifier, a.redirectURI(providerID), scopes, loginHint)
	if len(extra) > 0 {
		u, err := url.Parse(authURL)
		if err != nil {
			return err
		}
		q := u.Query()
		for k, v := range extra {
			q.Set(k, v)
		}
		u.RawQuery = q.Encode()
		authURL = u.String()
	}
	a.Sessions.Cookies.Set(w.Header(), stateCookie, a.Sessions.Signer.Sign(state), stateCookieTTL)
	if !disableRedirect {
		w.Header().Set("Location", authURL)
	}
	httpapi.WriteJSON(w, http.StatusOK, struct {
		URL      string `json:"url"`
		Redirect bool   `json:"redirect"`
	}{authURL, !disableRedirect})
	return nil
}

func (a *API) redirectURI(providerID string) string {
	return a.Social.BaseURL + BasePath + "/callback/" + providerID
}

// crossSite reports whether a request from origin src is cross-site for an
// API at base: a different scheme, or a different registrable domain
// (eTLD+1, from the public suffix list).
func crossSite(src, base string) bool {
	if src == "" || src == "null" {
		return false
	}
	return !origin.SameSite(src, base)
}

// callbackParams are the fields the callback reads.
var callbackParams = []string{"code", "state", "error", "error_description", "device_id", "user", "iss"}

// CallbackPost is POST /callback/{provider} (form_post providers): it
// moves the fields to the query of a GET, so that SameSite=Lax cookies are
// sent with the follow-up.
func (a *API) CallbackPost(w http.ResponseWriter, r *http.Request) error {
	r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
	merged := url.Values{}
	if err := r.ParseForm(); err == nil {
		for _, k := range callbackParams {
			if v := r.PostForm.Get(k); v != "" {
				merged.Set(k, v)
			}
		}
	}
	q := r.URL.Query()
	for _, k := range callbackParams {
		if v := q.Get(k); v != "" {
			merged.Set(k, v)
		}
	}
	target := a.Social.BaseURL + BasePath + "/callback/" + url.PathEscape(r.PathValue("provider"))
	if len(merged) > 0 {
		target += "?" + merged.Encode()
	}
	http.Redirect(w, r, target, http.StatusFound)
	return nil
}

// flowError is a callback failure: its code goes to the error URL. A
// failure the code alone does not explain (the provider refused, storage
// failed) also has the step where it happened and its cause, which are
// logged (logFlowFailure) and never sent.
type flowError struct {
	code, description string
	step              string
	cause             error
	// fromProvider: code is the provider's own ?error=, which whoever
	// crafts the callback URL chooses.
	fromProvider bool
}

// ReasonProviderError is the metrics.DimReason of a social sign-in the
// provider refused (its ?error=, not repeated: a client may make it up).
const ReasonProviderError = "provider_error"

// reason is the failure's metrics.DimReason: one of our own OAuth error
// codes, or ReasonProviderError.
func (e *flowError) reason() string {
	if e.fromProvider {
		return ReasonProviderError
	}
	return e.code
}

// socialMethod is the metrics.DimMethod of a social flow: the provider id
// when it is a configured provider, "unknown" otherwise (the id comes from
// the path).
func (a *API) socialMethod(providerID string) string {
	if _, ok := a.Social.Providers[providerID]; ok {
		return providerID
	}
	return "unknown"
}

func (e *flowError) Error() string {
	if e.cause == nil {
		return e.code
	}
	return e.code + ": " + e.cause.Error()
}

// Unwrap returns the cause.
func (e *flowError) Unwrap() error { return e.cause }

func failFlow(code string) error { return &flowError{code: code} }

// failFlowAt is a failure at step that the log must explain with cause.
func failFlowAt(code, step string, cause error) error {
	return &flowError{code: code, step: step, cause: cause}
}

// Steps of the callback a logged failure names, besides the provider's
// own (oauth.Step…), which an *oauth.Error cause names more precisely.
const (
	stepUserInfo    = "user_info"
	stepLinkAccount = "link_account"
)

// logFlowFailure records why a callback failed: the provider, the step
// and the cause, which for the provider's refusals is its HTTP status and
// OAuth error code. The cause's text holds no authorization code, token,
// client secret or response body (see oauth.Error); nothing else of the
// request is logged. A refused code is routine (a reload of the callback,
// an expired code), so the provider's failures are warnings; a failure of
// ours is an error.
func (a *API) logFlowFailure(ctx context.Context, provider string, fe *flowError) {
	step, level := fe.step, slog.LevelError
	attrs := []slog.Attr{slog.String("provider", provider)}
	var oe *oauth.Error
	if errors.As(fe.cause, &oe) {
		step, level = oe.Step, slog.LevelWarn
		if oe.Status != 0 {
			attrs = append(attrs, slog.Int("upstreamStatus", oe.Status))
		}
		if oe.Code != "" {
			attrs = append(attrs, slog.String("upstreamError", oe.Code))
		}
	}
	attrs = append(attrs, slog.String("step", step), slog.String("error", fe.code), slog.Any("err", fe.cause))
	log := a.Social.Logger
	if log == nil {
		log = slog.Default()
	}
	log.LogAttrs(ctx, level, "oauth callback failed", attrs...)
}

// Callback is GET /callback/{provider}. Every outcome is a 302: to the
// flow's callback (or new-user) URL, or to its error URL with ?error=.
func (a *API) Callback(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	providerID := r.PathValue("provider")
	defaultErrorURL := a.Social.BaseURL + BasePath + "/error"
	linking := false
	fail := func(errorURL string, err error) error {
		var fe *flowError
		if !errors.As(err, &fe) {
			return err
		}
		if fe.cause != nil {
			a.logFlowFailure(ctx, providerID, fe)
		}
		if !linking {
			a.signInRefused(ctx, a.socialMethod(providerID), fe.reason())
			if err := a.record(r, audit.SignIn, "", audit.Failure, map[string]any{"provider": providerID, "reason": fe.code}); err != nil {
				return err
			}
		}
		params := url.Values{"error": {fe.code}}
		if fe.description != "" {
			params.Set("error_description", fe.description)
		}
		http.Redirect(w, r, appendQuery(errorURL, params), http.StatusFound)
		return nil
	}
	q := r.URL.Query()
	state := q.Get("state")
	if state == "" {
		return fail(defaultErrorURL, failFlow(httpapi.OAuthErrStateNotFound))
	}
	// Single use: the row is gone whatever happens next. Its expiry is
	// checked below, from the state's own expiresAt, as better-auth does.
	raw, err := a.Store.ConsumeVerification(ctx, stateIdentifier(state), time.Time{})
	if errors.Is(err, authdb.ErrNotFound) {
		return fail(defaultErrorURL, failFlow(httpapi.OAuthErrStateMismatch))
	}
	if err != nil {
		return err
	}
	var st stateData
	if json.Unmarshal([]byte(raw), &st) != nil || st.CodeVerifier == "" {
		return fail(defaultErrorURL, failFlow(httpapi.OAuthErrStateInvalid))
	}
	linking = st.Link != nil
	errorURL := st.ErrorURL
	if errorURL == "" {
		errorURL = defaultErrorURL
	}
	if st.OAuthState != "" && st.OAuthState != state {
		return fail(errorURL, failFlow(httpapi.OAuthErrStateMismatch))
	}
	cookieState, hasCookie := a.flowState(r)
	a.Sessions.Cookies.Expire(w.Header(), stateCookie)
	// A flow started cross-site cannot have its cookie here (it sits in the
	// SPA site's partition); it is finished at the SPA instead, where the
	// cookie proves the browser (deferred below). Anything else without
	// the right cookie is a login-CSRF attempt or a stale link.
	deferred := !hasCookie && st.CrossSite
	if !deferred && (!hasCookie || cookieState != state) {
		return fail(errorURL, failFlow(httpapi.OAuthErrStateMismatch))
	}
	if time.UnixMilli(st.ExpiresAt).Before(a.Now()) {
		return fail(errorURL, failFlow(httpapi.OAuthErrStateMismatch))
	}
	if e := q.Get("error"); e != "" {
		return fail(errorURL, &flowError{code: e, description: q.Get("error_description"), fromProvider: true})
	}
	code := q.Get("code")
	if code == "" {
		return fail(errorURL, failFlow(httpapi.OAuthErrNoCode))
	}
	p, ok := a.Social.Providers[providerID]
	if !ok {
		return fail(errorURL, failFlow(httpapi.OAuthErrProviderNotFound))
	}
	if iss := q.Get("iss"); iss != "" && iss != p.Issuer() {
		return fail(errorURL, failFlow(httpapi.OAuthErrIssuerMismatch))
	}
	tok, err := p.Exchange(ctx, code, st.CodeVerifier, a.redirectURI(providerID))
	if err != nil {
		return fail(errorURL, failFlowAt(httpapi.OAuthErrInvalidCode, oauth.StepTokenExchange, err))
	}
	info, err := p.UserInfo(ctx, tok)
	if err != nil {
		return fail(errorURL, failFlowAt(httpapi.OAuthErrUnableToGetUserInfo, stepUserInfo, err))
	}
	info.Email = strings.ToLower(info.Email)
	acct, err := a.pendingAccount(tok)
	if err != nil {
		return err
	}
	if deferred {
		if err := a.deferSignIn(ctx, w, r, &pendingSignIn{State: state, Provider: providerID, Info: *info, Account: acct, Flow: st}); err != nil {
			return fail(errorURL, err)
		}
		return nil
	}
	if st.Link != nil {
		if err := a.finishLink(ctx, r, st.Link, providerID, info, acct); err != nil {
			return fail(errorURL, err)
		}
		http.Redirect(w, r, st.CallbackURL, http.StatusFound)
		return nil
	}
	_, _, isNew, err := a.finishSignIn(ctx, w, r, providerID, info, acct)
	if err != nil {
		return fail(errorURL, err)
	}
	a.signedIn(ctx, a.socialMethod(providerID))
	to := st.CallbackURL
	if isNew && st.NewUserURL != "" {
		to = st.NewUserURL
	}
	http.Redirect(w, r, to, http.StatusFound)
	return nil
}

// appendQuery adds params to a URL that may already have a query.
func appendQuery(target string, params url.Values) string {
	u, err := url.Parse(target)
	if err != nil {
		sep := "?"
		if strings.Contains(target, "?") {
			sep = "&"
		}
		return target + sep + params.Encode()
	}
	q := u.Query()
	for k, vs := range params {
		q[k] = vs
	}
	u.RawQuery = q.Encode()
	return u.String()
}

// flowState is the state the request's signed state cookie holds, if any.
func (a *API) flowState(r *http.Request) (string, bool) {
	return a.Sessions.Signer.Verify(cookie.Read(r)[a.Sessions.Cookies.Name(stateCookie)])
}
