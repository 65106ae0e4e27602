package oauthfake

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"

	"adstudio/internal/auth/oauth"
)

// tokenFailure is a refused token request: the OAuth error code and text, and Google's status.
// The zero value means success.
type tokenFailure struct {
	status      int
	code, descr string
}

var (
	googleBadClient  = tokenFailure{http.StatusUnauthorized, "invalid_client", "Unauthorized"}
	googleNoClient   = tokenFailure{http.StatusUnauthorized, "invalid_client", "The OAuth client was not found."}
	googleBadGrant   = tokenFailure{http.StatusBadRequest, "invalid_grant", "Bad Request"}
	googleNoVerifier = tokenFailure{http.StatusBadRequest, "invalid_grant", "Missing code verifier."}
	googleBadRedir   = tokenFailure{http.StatusBadRequest, "redirect_uri_mismatch", "Bad Request"}
	googleGrantType  = tokenFailure{http.StatusBadRequest, "unsupported_grant_type", "Invalid grant_type: "}

	githubBadClient = tokenFailure{http.StatusOK, "incorrect_client_credentials", "The client_id and/or client_secret passed are incorrect."}
	githubBadCode   = tokenFailure{http.StatusOK, "bad_verification_code", "The code passed is incorrect or expired."}
	githubBadRedir  = tokenFailure{http.StatusOK, "redirect_uri_mismatch", "The redirect_uri MUST match the registered callback URL for this application."}
	githubGrantType = tokenFailure{http.StatusOK, "unsupported_grant_type", "The grant type is not supported."}
)

// githubErrorURIs are the documentation links GitHub sends with its token errors.
var githubErrorURIs = map[string]string{
	"incorrect_client_credentials": "https://docs.github.com/apps/managing-oauth-apps/troubleshooting-oauth-app-access-token-request-errors/#incorrect-client-credentials",
	"bad_verification_code":        "https://docs.github.com/apps/managing-oauth-apps/troubleshooting-oauth-app-access-token-request-errors/#bad-verification-code",
	"redirect_uri_mismatch":        "https://docs.github.com/apps/managing-oauth-apps/troubleshooting-oauth-app-access-token-request-errors/#redirect-uri-mismatch",
	"unsupported_grant_type":       "https://docs.github.com/apps/managing-oauth-apps/troubleshooting-oauth-app-access-token-request-errors",
}

// redeem checks a token request and, if it is good, consumes its code. Client authentication
// comes first and does not consume the code; after that the code is spent whatever happens, so
// a replay fails even when the first attempt did.
func (s *Server) redeem(provider string, r *http.Request) (*grant, tokenFailure) {
	google := provider == oauth.Google
	badClient, noClient, badGrant, badRedir := githubBadClient, githubBadClient, githubBadCode, githubBadRedir
	if google {
		badClient, noClient, badGrant, badRedir = googleBadClient, googleNoClient, googleBadGrant, googleBadRedir
	}

	form := r.PostForm
	gt := form.Get("grant_type")
	if google && gt != "authorization_code" {
		f := googleGrantType
		f.descr += gt
		return nil, f
	}
	if !google && gt != "" && gt != "authorization_code" { // GitHub does not require grant_type
		return nil, githubGrantType
	}

	id, secret := form.Get("client_id"), form.Get("client_secret")
	if u, p, ok := r.BasicAuth(); ok {
		// RFC 6749 §2.3.1: both halves are form-encoded before Basic encoding.
		id, _ = url.QueryUnescape(u)
		secret, _ = url.QueryUnescape(p)
	}
	wantID, wantSecret := s.client(provider)
	if id != wantID {
		return nil, noClient
	}
	if subtle.ConstantTimeCompare([]byte(secret), []byte(wantSecret)) != 1 {
		return nil, badClient
	}

	code := form.Get("code")
	s.mu.Lock()
	g := s.codes[code]
	delete(s.codes, code)
	s.mu.Unlock()
	if g == nil || g.provider != provider || g.clientID != id || !s.now().Before(g.expires) {
		return nil, badGrant
	}
	redirect := form.Get("redirect_uri")
	if (google || redirect != "") && redirect != g.redirectURI {
		return nil, badRedir
	}
	verifier := form.Get("code_verifier")
	if verifier == "" && google {
		return nil, googleNoVerifier
	}
	sum := sha256.Sum256([]byte(verifier))
	if subtle.ConstantTimeCompare([]byte(base64.RawURLEncoding.EncodeToString(sum[:])), []byte(g.challenge)) != 1 {
		return nil, badGrant
	}
	if g.who.badToken {
		return nil, badGrant
	}
	return g, tokenFailure{}
}

func (s *Server) issue(provider string, g *grant, prefix string) string {
	tok := randomToken(prefix)
	s.mu.Lock()
	s.tokens[tok] = &issued{provider: provider, who: g.who}
	s.mu.Unlock()
	return tok
}

// googleTokenResponse is Google's token answer, in Google's field order.
type googleTokenResponse struct {
	AccessToken  string `json:"access_token"`
	ExpiresIn    int    `json:"expires_in"`
	RefreshToken string `json:"refresh_token,omitempty"`
	Scope        string `json:"scope"`
	TokenType    string `json:"token_type"`
	IDToken      string `json:"id_token,omitempty"`
}

func (s *Server) googleToken(w http.ResponseWriter, r *http.Request) {
	g, fail := s.redeem(oauth.Google, r)
	if fail.code != "" {
		writeJSON(w, fail.status, map[string]string{"error": fail.code, "error_description": fail.descr})
		return
	}
	res := googleTokenResponse{
		AccessToken: s.issue(oauth.Google, g, "ya29.a0"),
		ExpiresIn:   3599,
		Scope:       googleGrantedScopes(g.scopes),
		TokenType:   "Bearer",
	}
	if g.offline {
		res.RefreshToken = "1//0" + randomToken("")
	}
	if !g.who.badUser {
		res.IDToken = s.idToken(g)
	}
	writeJSON(w, http.StatusOK, res)
}

// googleGrantedScopes is the scope string Google answers with: the basic scopes under their
// long names, then any other requested scope.
func googleGrantedScopes(requested []string) string {
	out := []string{"openid", "https://www.googleapis.com/auth/userinfo.email", "https://www.googleapis.com/auth/userinfo.profile"}
	for _, sc := range requested {
		switch sc {
		case "openid", "email", "profile", out[1], out[2]:
		default:
			out = append(out, sc)
		}
	}
	return strings.Join(out, " ")
}

// idToken is a well-formed JWT with Google's claims and a dummy signature: the code flow reads
// the claims without verifying (the token comes straight from the token endpoint).
func (s *Server) idToken(g *grant) string {
	now := s.now().Unix()
	type claims struct {
		Iss           string `json:"iss"`
		Azp           string `json:"azp"`
		Aud           string `json:"aud"`
		Sub           string `json:"sub"`
		Email         string `json:"email,omitempty"`
		EmailVerified *bool  `json:"email_verified,omitempty"`
		Nonce         string `json:"nonce,omitempty"`
		Name          string `json:"name,omitempty"`
		Picture       string `json:"picture"`
		GivenName     string `json:"given_name,omitempty"`
		FamilyName    string `json:"family_name,omitempty"`
		Iat           int64  `json:"iat"`
		Exp           int64  `json:"exp"`
	}
	c := claims{
		Iss:     oauth.GoogleIssuer,
		Azp:     g.clientID,
		Aud:     g.clientID,
		Sub:     g.who.googleSub(),
		Nonce:   g.nonce,
		Name:    g.who.name,
		Picture: "https://lh3.googleusercontent.com/a/fake-" + g.who.googleSub() + "=s96-c",
		Iat:     now,
		Exp:     now + 3600,
	}
	if given, family, ok := strings.Cut(g.who.name, " "); ok {
		c.GivenName, c.FamilyName = given, family
	} else {
		c.GivenName = g.who.name
	}
	if !g.who.noEmail {
		verified := !g.who.unverified
		c.Email, c.EmailVerified = g.who.email, &verified
	}
	header := `{"alg":"RS256","kid":"fake","typ":"JWT"}`
	payload, _ := json.Marshal(c)
	enc := base64.RawURLEncoding
	return enc.EncodeToString([]byte(header)) + "." + enc.EncodeToString(payload) + "." +
		enc.EncodeToString([]byte("fake-signature-not-verifiable"))
}

func (s *Server) githubToken(w http.ResponseWriter, r *http.Request) {
	asJSON := strings.Contains(r.Header.Get("Accept"), "application/json")
	g, fail := s.redeem(oauth.GitHub, r)
	if fail.code != "" {
		// GitHub answers 200 even for errors; only the body says it failed.
		writeGitHub(w, asJSON, [][2]string{
			{"error", fail.code}, {"error_description", fail.descr}, {"error_uri", githubErrorURIs[fail.code]},
		})
		return
	}
	scope := "read:user,user:email"
	if len(g.scopes) > 0 {
		scope = strings.Join(g.scopes, ",")
	}
	writeGitHub(w, asJSON, [][2]string{
		{"access_token", s.issue(oauth.GitHub, g, "gho_")}, {"token_type", "bearer"}, {"scope", scope},
	})
}

// writeGitHub writes a token-endpoint answer as JSON, or form-encoded when the client did not
// ask for JSON, as GitHub does. Fields keep their order.
func writeGitHub(w http.ResponseWriter, asJSON bool, fields [][2]string) {
	if !asJSON {
		var b strings.Builder
		for i, f := range fields {
			if i > 0 {
				b.WriteByte('&')
			}
			b.WriteString(url.QueryEscape(f[0]) + "=" + url.QueryEscape(f[1]))
		}
		w.Header().Set("Content-Type", "application/x-www-form-urlencoded; charset=utf-8")
		w.WriteHeader(http.StatusOK)
		_, _ = w.Write([]byte(b.String()))
		return
	}
	var b strings.Builder
	b.WriteByte('{')
	for i, f := range fields {
		if i > 0 {
			b.WriteByte(',')
		}
		k, _ := json.Marshal(f[0])
		v, _ := json.Marshal(f[1])
		b.Write(k)
		b.WriteByte(':')
		b.Write(v)
	}
	b.WriteByte('}')
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write([]byte(b.String()))
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	body, err := json.Marshal(v)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_, _ = w.Write(body)
}
