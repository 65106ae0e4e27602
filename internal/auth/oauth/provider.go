// Package oauth is the provider side of better-auth's Google and GitHub social sign-in: the
// authorize URL, the code exchange, the profile, and the encryption of stored tokens
// (docs/auth-wire.md §8.2–8.6, §8.9).
package oauth

import (
	"errors"
	"net/http"
	"net/url"
	"strings"
	"time"

	"golang.org/x/oauth2"
)

// Provider IDs, as they appear in /sign-in/social, the callback path and account.providerId.
const (
	Google = "google"
	GitHub = "github"
)

// GoogleIssuer is the issuer Google names in its callbacks and ID tokens.
const GoogleIssuer = "https://accounts.google.com"

// Sentinel errors, which every *Error is one of. The callback maps ErrExchange to invalid_code
// and ErrUserInfo to unable_to_get_user_info (docs/auth-wire.md §8.4); the *Error itself is for
// the log only.
var (
	ErrExchange = errors.New("oauth: code exchange failed")
	ErrUserInfo = errors.New("oauth: profile fetch failed")
)

// Endpoints are a provider's URLs; tests point them at the fakes.
type Endpoints struct {
	AuthURL   string // Google: https://accounts.google.com/o/oauth2/v2/auth ; GitHub: https://github.com/login/oauth/authorize
	TokenURL  string // Google: https://oauth2.googleapis.com/token ; GitHub: https://github.com/login/oauth/access_token
	UserURL   string // GitHub only: https://api.github.com/user
	EmailsURL string // GitHub only: https://api.github.com/user/emails
}

var (
	googleEndpoints = Endpoints{
		AuthURL:  "https://accounts.google.com/o/oauth2/v2/auth",
		TokenURL: "https://oauth2.googleapis.com/token",
	}
	githubEndpoints = Endpoints{
		AuthURL:   "https://github.com/login/oauth/authorize",
		TokenURL:  "https://github.com/login/oauth/access_token",
		UserURL:   "https://api.github.com/user",
		EmailsURL: "https://api.github.com/user/emails",
	}
)

// withDefaults fills the zero fields of ep from def.
func (ep Endpoints) withDefaults(def Endpoints) Endpoints {
	if ep.AuthURL == "" {
		ep.AuthURL = def.AuthURL
	}
	if ep.TokenURL == "" {
		ep.TokenURL = def.TokenURL
	}
	if ep.UserURL == "" {
		ep.UserURL = def.UserURL
	}
	if ep.EmailsURL == "" {
		ep.EmailsURL = def.EmailsURL
	}
	return ep
}

// defaultTimeout bounds every provider call when the caller passes no client: a hung provider
// must not hold a Lambda until its own deadline.
const defaultTimeout = 10 * time.Second

// Provider is one configured social provider. It is safe for concurrent use.
type Provider struct {
	id            string
	clientID      string
	clientSecret  string
	ep            Endpoints
	defaultScopes []string
	hc            *http.Client // profile requests
	tokenHC       *http.Client // the code exchange: redirects refused, Accept: application/json

	// Now is the clock for token expiries; nil means time.Now.
	Now func() time.Time
}

// NewGoogle returns the Google provider. Zero fields of ep take Google's real URLs; a nil hc
// takes a client with a 10-second timeout.
func NewGoogle(clientID, clientSecret string, ep Endpoints, hc *http.Client) *Provider {
	return newProvider(Google, clientID, clientSecret, ep.withDefaults(googleEndpoints),
		[]string{"email", "profile", "openid"}, hc)
}

// NewGitHub returns the GitHub provider. Zero fields of ep take GitHub's real URLs; a nil hc
// takes a client with a 10-second timeout.
func NewGitHub(clientID, clientSecret string, ep Endpoints, hc *http.Client) *Provider {
	return newProvider(GitHub, clientID, clientSecret, ep.withDefaults(githubEndpoints),
		[]string{"read:user", "user:email"}, hc)
}

func newProvider(id, clientID, clientSecret string, ep Endpoints, scopes []string, hc *http.Client) *Provider {
	if hc == nil {
		hc = &http.Client{Timeout: defaultTimeout}
	}
	tokenHC := *hc
	// better-auth refuses redirects from the token endpoint (fetchRefusingRedirects): a 307/308
	// would make the client re-send the form, client_secret included, to wherever it points.
	tokenHC.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	tokenHC.Transport = acceptJSON{next: hc.Transport}
	return &Provider{
		id:            id,
		clientID:      clientID,
		clientSecret:  clientSecret,
		ep:            ep,
		defaultScopes: scopes,
		hc:            hc,
		tokenHC:       &tokenHC,
	}
}

// ID is "google" or "github".
func (p *Provider) ID() string { return p.id }

// Issuer is the value a callback's `iss` parameter must have when present: Google's issuer, or
// "" for GitHub, which names none (docs/auth-wire.md §8.4).
func (p *Provider) Issuer() string {
	if p.id == Google {
		return GoogleIssuer
	}
	return ""
}

func (p *Provider) now() time.Time {
	if p.Now != nil {
		return p.Now()
	}
	return time.Now()
}

// AuthCodeURL is the authorize URL of docs/auth-wire.md §8.3. The query is written in better-auth's order rather
// than through oauth2.Config.AuthCodeURL, which sorts it; the order is cosmetic, but identical
// URLs make the two servers easy to compare.
func (p *Provider) AuthCodeURL(state, codeVerifier, redirectURI string, extraScopes []string, loginHint string) string {
	var q orderedQuery
	q.add("response_type", "code")
	q.add("client_id", p.clientID)
	q.add("state", state)
	if scopes := p.scopes(extraScopes); len(scopes) > 0 {
		q.add("scope", strings.Join(scopes, " "))
	}
	q.add("redirect_uri", redirectURI)
	if loginHint != "" {
		q.add("login_hint", loginHint)
	}
	q.add("code_challenge_method", "S256")
	q.add("code_challenge", oauth2.S256ChallengeFromVerifier(codeVerifier))
	if p.id == Google {
		q.add("include_granted_scopes", "true")
	}
	sep := "?"
	if strings.Contains(p.ep.AuthURL, "?") {
		sep = "&"
	}
	return p.ep.AuthURL + sep + q.String()
}

// scopes is the default scopes followed by extra, without duplicates or empty entries.
// better-auth appends without deduplicating; a repeated scope means nothing to the provider.
func (p *Provider) scopes(extra []string) []string {
	out := make([]string, 0, len(p.defaultScopes)+len(extra))
	seen := make(map[string]bool, cap(out))
	for _, s := range append(append([]string(nil), p.defaultScopes...), extra...) {
		s = strings.TrimSpace(s)
		if s == "" || seen[s] {
			continue
		}
		seen[s] = true
		out = append(out, s)
	}
	return out
}

// orderedQuery is a form-encoded query that keeps insertion order.
type orderedQuery struct{ b strings.Builder }

func (q *orderedQuery) add(key, value string) {
	if q.b.Len() > 0 {
		q.b.WriteByte('&')
	}
	q.b.WriteString(url.QueryEscape(key))
	q.b.WriteByte('=')
	q.b.WriteString(url.QueryEscape(value))
}

func (q *orderedQuery) String() string { return q.b.String() }

// acceptJSON asks token endpoints for JSON: GitHub answers form-encoded otherwise. better-auth
// sends the same header (docs/auth-wire.md §8.5).
type acceptJSON struct{ next http.RoundTripper }

func (t acceptJSON) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context()) // a RoundTripper must not change the caller's request
	r.Header.Set("Accept", "application/json")
	next := t.next
	if next == nil {
		next = http.DefaultTransport
	}
	return next.RoundTrip(r)
}
