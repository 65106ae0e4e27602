// Package oauthfake is a fake Google and a fake GitHub for tests: their authorize pages, token
// endpoints and GitHub's profile API, on the real wire formats, under the path prefixes /google
// and /github of one http.Handler.
//
// Who signs in follows from the authorize request's login_hint: an email address is that user,
// with ids derived from the address (the same email is the same provider account in every
// run); no hint, or one that is not an address, is DefaultEmail. The local part of the address
// chooses a failure path when it is one of these keywords, alone or followed by one of
// "+-_.0-9" (so "private+run42@example.com" is a fresh private-email account, while
// "denys@example.com" is an ordinary user):
//
//	deny…       the user refuses: redirect with error=access_denied (at once, even when
//	            Interactive; the consent page's Cancel button is the other way to refuse)
//	private…    GitHub: /user has "email": null; /user/emails lists the address (primary,
//	            verified) after a secondary one
//	unverified… Google: email_verified false; GitHub: the address's entry has verified false
//	noemail…    no email at all (Google: no email claim; GitHub: null and an empty list)
//	badtoken…   the token endpoint refuses the code
//	baduser…    GitHub: /user answers 500; Google: the token response has no id_token
//	noname…     no display name (GitHub: "name": null, so the login is the fallback;
//	            Google: no name claim)
package oauthfake

import (
	"crypto/rand"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"adstudio/internal/auth/oauth"
)

// Default client credentials, also used by cmd/oauthfake.
const (
	DefaultGoogleClientID     = "google-test-client"
	DefaultGoogleClientSecret = "google-test-secret"
	DefaultGitHubClientID     = "github-test-client"
	DefaultGitHubClientSecret = "github-test-secret"
)

// Paths served, relative to the server's base URL.
const (
	GoogleAuthPath   = "/google/o/oauth2/v2/auth"
	GoogleTokenPath  = "/google/token"
	GitHubAuthPath   = "/github/login/oauth/authorize"
	GitHubTokenPath  = "/github/login/oauth/access_token"
	GitHubUserPath   = "/github/user"
	GitHubEmailsPath = "/github/user/emails"
)

// codeLifetime is how long an authorization code stays valid, as at Google (10 minutes).
const codeLifetime = 10 * time.Minute

// Options configure a Server. Empty client credentials take the Default… constants.
type Options struct {
	GoogleClientID, GoogleClientSecret string
	GitHubClientID, GitHubClientSecret string
	// Interactive makes the authorize endpoints show a consent page (buttons #approve and
	// #deny) instead of redirecting at once, for browser tests that click through.
	Interactive bool
	// Now is the clock for code expiry and ID-token times; nil means time.Now.
	Now func() time.Time
}

// Server is the fake. It is safe for concurrent use.
type Server struct {
	opts Options
	mux  *http.ServeMux

	mu       sync.Mutex
	codes    map[string]*grant  // authorization code → what it was issued for
	tokens   map[string]*issued // access token → who it belongs to
	requests []Request
}

// grant is what an authorization code is bound to.
type grant struct {
	provider    string
	clientID    string
	redirectURI string
	challenge   string
	scopes      []string
	offline     bool // Google access_type=offline: the token response has a refresh token
	nonce       string
	who         identity
	expires     time.Time
}

// issued is what an access token is bound to.
type issued struct {
	provider string
	who      identity
}

// Request is one request the fake received.
type Request struct {
	Method string
	Path   string
	Query  url.Values
	Form   url.Values // the form body of a POST
	Header http.Header
}

// New returns a fake with its routes installed.
func New(opts Options) *Server {
	if opts.GoogleClientID == "" {
		opts.GoogleClientID = DefaultGoogleClientID
	}
	if opts.GoogleClientSecret == "" {
		opts.GoogleClientSecret = DefaultGoogleClientSecret
	}
	if opts.GitHubClientID == "" {
		opts.GitHubClientID = DefaultGitHubClientID
	}
	if opts.GitHubClientSecret == "" {
		opts.GitHubClientSecret = DefaultGitHubClientSecret
	}
	s := &Server{
		opts:   opts,
		mux:    http.NewServeMux(),
		codes:  make(map[string]*grant),
		tokens: make(map[string]*issued),
	}
	// POST on the authorize paths is the consent page's answer.
	s.mux.HandleFunc("GET "+GoogleAuthPath, s.authorize(oauth.Google))
	s.mux.HandleFunc("POST "+GoogleAuthPath, s.authorize(oauth.Google))
	s.mux.HandleFunc("POST "+GoogleTokenPath, s.googleToken)
	s.mux.HandleFunc("GET "+GitHubAuthPath, s.authorize(oauth.GitHub))
	s.mux.HandleFunc("POST "+GitHubAuthPath, s.authorize(oauth.GitHub))
	s.mux.HandleFunc("POST "+GitHubTokenPath, s.githubToken)
	s.mux.HandleFunc("GET "+GitHubUserPath, s.githubUser)
	s.mux.HandleFunc("GET "+GitHubEmailsPath, s.githubEmails)
	return s
}

// maxForm caps request bodies; real token requests are well under 1 KB.
const maxForm = 64 << 10

// ServeHTTP records the request, then routes it.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method == http.MethodPost {
		r.Body = http.MaxBytesReader(w, r.Body, maxForm)
		if err := r.ParseForm(); err != nil {
			http.Error(w, "bad form body", http.StatusBadRequest)
			return
		}
	}
	rec := Request{
		Method: r.Method,
		Path:   r.URL.Path,
		Query:  r.URL.Query(),
		Header: r.Header.Clone(),
	}
	if r.PostForm != nil {
		rec.Form = cloneValues(r.PostForm)
	}
	s.mu.Lock()
	s.requests = append(s.requests, rec)
	s.mu.Unlock()
	s.mux.ServeHTTP(w, r)
}

// Endpoints are the URLs of one provider ("google" or "github") of a fake served at baseURL,
// ready for oauth.NewGoogle / oauth.NewGitHub.
func (s *Server) Endpoints(baseURL, provider string) oauth.Endpoints {
	base := strings.TrimRight(baseURL, "/")
	if provider == oauth.Google {
		return oauth.Endpoints{AuthURL: base + GoogleAuthPath, TokenURL: base + GoogleTokenPath}
	}
	return oauth.Endpoints{
		AuthURL:   base + GitHubAuthPath,
		TokenURL:  base + GitHubTokenPath,
		UserURL:   base + GitHubUserPath,
		EmailsURL: base + GitHubEmailsPath,
	}
}

// Requests returns a copy of every request received so far, oldest first.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Request, len(s.requests))
	copy(out, s.requests)
	return out
}

// LastAuthorize returns the query of the latest authorize request for provider, or nil.
func (s *Server) LastAuthorize(provider string) url.Values {
	return s.last(provider, GoogleAuthPath, GitHubAuthPath, func(r Request) url.Values { return r.Query })
}

// LastToken returns the form of the latest token request for provider, or nil.
func (s *Server) LastToken(provider string) url.Values {
	return s.last(provider, GoogleTokenPath, GitHubTokenPath, func(r Request) url.Values { return r.Form })
}

func (s *Server) last(provider, googlePath, githubPath string, pick func(Request) url.Values) url.Values {
	path := githubPath
	if provider == oauth.Google {
		path = googlePath
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for i := len(s.requests) - 1; i >= 0; i-- {
		if s.requests[i].Path == path {
			return cloneValues(pick(s.requests[i]))
		}
	}
	return nil
}

func (s *Server) now() time.Time {
	if s.opts.Now != nil {
		return s.opts.Now()
	}
	return time.Now()
}

func (s *Server) client(provider string) (id, secret string) {
	if provider == oauth.Google {
		return s.opts.GoogleClientID, s.opts.GoogleClientSecret
	}
	return s.opts.GitHubClientID, s.opts.GitHubClientSecret
}

// randomToken is a random string with a provider-like prefix.
func randomToken(prefix string) string {
	return prefix + rand.Text() + rand.Text()[:10]
}

func cloneValues(v url.Values) url.Values {
	if v == nil {
		return nil
	}
	out := make(url.Values, len(v))
	for k, vs := range v {
		out[k] = append([]string(nil), vs...)
	}
	return out
}
