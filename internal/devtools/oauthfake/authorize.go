package oauthfake

import (
	"html/template"
	"net/http"
	"net/url"
	"strings"

	"adstudio/internal/auth/oauth"
)

// authRequest is a validated authorize request.
type authRequest struct {
	provider    string
	clientID    string
	redirectURI *url.URL
	state       string
	challenge   string
	scopes      []string
	offline     bool
	nonce       string
	who         identity
}

// authorize serves a provider's authorize page. A malformed request gets an HTML error page
// with status 400: like the real providers, the fake never redirects to an unvetted
// redirect_uri. A valid one redirects with a code, or shows the consent page (Interactive),
// whose buttons POST back here.
func (s *Server) authorize(provider string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		// The consent forms post to the original URL, so the query is the request both times.
		ar, problem, detail := s.parseAuthorize(provider, r.URL.Query())
		if problem != "" {
			errorPage(w, provider, problem, detail)
			return
		}
		if ar.who.deny {
			s.redirectDenied(w, r, ar)
			return
		}
		if r.Method == http.MethodGet && s.opts.Interactive {
			consentPage(w, r, ar)
			return
		}
		if r.Method == http.MethodPost && r.PostForm.Get("decision") != "approve" {
			s.redirectDenied(w, r, ar)
			return
		}
		s.redirectWithCode(w, r, ar)
	}
}

func (s *Server) parseAuthorize(provider string, q url.Values) (ar authRequest, problem, detail string) {
	wantID, _ := s.client(provider)
	ar.provider = provider
	ar.clientID = q.Get("client_id")
	if ar.clientID == "" {
		return ar, "invalid_request", "Missing required parameter: client_id"
	}
	if ar.clientID != wantID {
		return ar, "invalid_client", "The OAuth client was not found."
	}
	raw := q.Get("redirect_uri")
	if raw == "" {
		return ar, "invalid_request", "Missing required parameter: redirect_uri"
	}
	u, err := url.Parse(raw)
	if err != nil || !u.IsAbs() || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.Fragment != "" {
		return ar, "redirect_uri_mismatch", "The redirect_uri is not an absolute http(s) URL: " + raw
	}
	ar.redirectURI = u
	if rt := q.Get("response_type"); rt != "code" {
		return ar, "unsupported_response_type", "Invalid response_type: " + rt
	}
	ar.challenge = q.Get("code_challenge")
	if !validChallenge(ar.challenge) {
		return ar, "invalid_request", "Missing or malformed code_challenge"
	}
	if m := q.Get("code_challenge_method"); m != "S256" {
		return ar, "invalid_request", "Unsupported code_challenge_method: " + m
	}
	ar.state = q.Get("state")
	if ar.state == "" {
		return ar, "invalid_request", "Missing required parameter: state"
	}
	ar.scopes = strings.Fields(q.Get("scope"))
	if provider == oauth.Google && len(ar.scopes) == 0 {
		return ar, "invalid_request", "Missing required parameter: scope"
	}
	ar.offline = q.Get("access_type") == "offline"
	ar.nonce = q.Get("nonce")
	ar.who = identityFor(q.Get("login_hint"))
	return ar, "", ""
}

// validChallenge: an S256 challenge is 43 base64url characters (a SHA-256 without padding).
func validChallenge(c string) bool {
	if len(c) != 43 {
		return false
	}
	for _, r := range c {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_') {
			return false
		}
	}
	return true
}

func (s *Server) redirectWithCode(w http.ResponseWriter, r *http.Request, ar authRequest) {
	code := randomToken("")
	if ar.provider == oauth.Google {
		code = "4/0A" + code
	}
	s.mu.Lock()
	s.codes[code] = &grant{
		provider:    ar.provider,
		clientID:    ar.clientID,
		redirectURI: ar.redirectURI.String(),
		challenge:   ar.challenge,
		scopes:      ar.scopes,
		offline:     ar.offline,
		nonce:       ar.nonce,
		who:         ar.who,
		expires:     s.now().Add(codeLifetime),
	}
	s.mu.Unlock()
	params := [][2]string{{"code", code}, {"state", ar.state}}
	if ar.provider == oauth.Google {
		// Google also reports its issuer (RFC 9207), the granted scopes and the account slot.
		params = [][2]string{{"state", ar.state}, {"iss", oauth.GoogleIssuer}, {"code", code},
			{"scope", googleGrantedScopes(ar.scopes)}, {"authuser", "0"}, {"prompt", "consent"}}
	}
	http.Redirect(w, r, withParams(ar.redirectURI, params), http.StatusFound)
}

func (s *Server) redirectDenied(w http.ResponseWriter, r *http.Request, ar authRequest) {
	params := [][2]string{{"error", "access_denied"}}
	if ar.provider == oauth.GitHub {
		params = append(params,
			[2]string{"error_description", "The user has denied your application access."},
			[2]string{"error_uri", "https://docs.github.com/apps/managing-oauth-apps/troubleshooting-authorization-request-errors/#access-denied"})
	}
	params = append(params, [2]string{"state", ar.state})
	http.Redirect(w, r, withParams(ar.redirectURI, params), http.StatusFound)
}

// withParams appends params to u's query in order, keeping the query u already has.
func withParams(u *url.URL, params [][2]string) string {
	var b strings.Builder
	b.WriteString(u.RawQuery)
	for _, p := range params {
		if b.Len() > 0 {
			b.WriteByte('&')
		}
		b.WriteString(url.QueryEscape(p[0]) + "=" + url.QueryEscape(p[1]))
	}
	out := *u
	out.RawQuery = b.String()
	return out.String()
}

var consentTmpl = template.Must(template.New("consent").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Authorize adstudio</title></head>
<body>
<h1>Authorize adstudio</h1>
<p>{{.Provider}} account <strong id="identity">{{.Identity}}</strong> ({{.Login}}) is signing in to adstudio.</p>
<form method="post" action="{{.Action}}"><input type="hidden" name="decision" value="approve"><button id="approve" type="submit">Authorize</button></form>
<form method="post" action="{{.Action}}"><input type="hidden" name="decision" value="deny"><button id="deny" type="submit">Cancel</button></form>
</body></html>
`))

func consentPage(w http.ResponseWriter, r *http.Request, ar authRequest) {
	who := ar.who.email
	if who == "" {
		who = "(no email)"
	}
	name := "Google"
	if ar.provider == oauth.GitHub {
		name = "GitHub"
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	_ = consentTmpl.Execute(w, map[string]string{
		"Provider": name,
		"Identity": who,
		"Login":    ar.who.login,
		"Action":   r.URL.Path + "?" + r.URL.RawQuery,
	})
}

var errorTmpl = template.Must(template.New("error").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Error 400: {{.Error}}</title></head>
<body>
<h1>{{.Provider}}: Error 400: <span id="error">{{.Error}}</span></h1>
<p id="error-description">{{.Detail}}</p>
</body></html>
`))

func errorPage(w http.ResponseWriter, provider, problem, detail string) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(http.StatusBadRequest)
	_ = errorTmpl.Execute(w, map[string]string{"Provider": provider, "Error": problem, "Detail": detail})
}
