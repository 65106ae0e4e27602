package oauthfake_test

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"adstudio/internal/auth/oauth"
	"adstudio/internal/devtools/oauthfake"
)

const verifier = "verifier-0123456789-abcdefghijklmnopqrstuvwxyz-ABCDEFGHIJKLMNOPQRSTUVWXYZ"

func challenge(v string) string {
	sum := sha256.Sum256([]byte(v))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

// noRedirect is a client that reports redirects instead of following them.
var noRedirect = &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}

func start(t *testing.T, opts oauthfake.Options) (*oauthfake.Server, *httptest.Server) {
	t.Helper()
	fake := oauthfake.New(opts)
	srv := httptest.NewServer(fake)
	t.Cleanup(srv.Close)
	return fake, srv
}

// authQuery is a valid authorize query for provider; edit applies changes.
func authQuery(provider, hint string, edit func(url.Values)) url.Values {
	q := url.Values{
		"response_type":         {"code"},
		"client_id":             {oauthfake.DefaultGitHubClientID},
		"state":                 {"state-123"},
		"scope":                 {"read:user user:email"},
		"redirect_uri":          {"https://api.example.com/api/auth/callback/" + provider},
		"code_challenge_method": {"S256"},
		"code_challenge":        {challenge(verifier)},
	}
	if provider == oauth.Google {
		q.Set("client_id", oauthfake.DefaultGoogleClientID)
		q.Set("scope", "email profile openid")
	}
	if hint != "" {
		q.Set("login_hint", hint)
	}
	if edit != nil {
		edit(q)
	}
	return q
}

func do(t *testing.T, req *http.Request) (*http.Response, string) {
	t.Helper()
	res, err := noRedirect.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	return res, string(body)
}

func get(t *testing.T, u string, header http.Header) (*http.Response, string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, u, nil)
	for k, v := range header {
		req.Header[k] = v
	}
	return do(t, req)
}

func post(t *testing.T, u string, form url.Values, header http.Header) (*http.Response, string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, u, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	for k, v := range header {
		req.Header[k] = v
	}
	return do(t, req)
}

func authPath(provider string) string {
	if provider == oauth.Google {
		return oauthfake.GoogleAuthPath
	}
	return oauthfake.GitHubAuthPath
}

// code runs the authorize step and returns the code.
func code(t *testing.T, srv *httptest.Server, provider, hint string) string {
	t.Helper()
	res, _ := get(t, srv.URL+authPath(provider)+"?"+authQuery(provider, hint, nil).Encode(), nil)
	if res.StatusCode != http.StatusFound {
		t.Fatalf("authorize status %d", res.StatusCode)
	}
	loc, _ := url.Parse(res.Header.Get("Location"))
	return loc.Query().Get("code")
}

func tokenForm(provider, code string) url.Values {
	f := url.Values{
		"grant_type":    {"authorization_code"},
		"code":          {code},
		"redirect_uri":  {"https://api.example.com/api/auth/callback/" + provider},
		"code_verifier": {verifier},
		"client_id":     {oauthfake.DefaultGitHubClientID},
		"client_secret": {oauthfake.DefaultGitHubClientSecret},
	}
	if provider == oauth.Google {
		f.Set("client_id", oauthfake.DefaultGoogleClientID)
		f.Set("client_secret", oauthfake.DefaultGoogleClientSecret)
	}
	return f
}

// Hostile and malformed authorize requests get an HTML page with 400 and never a redirect.
func TestAuthorizeRejects(t *testing.T) {
	_, srv := start(t, oauthfake.Options{})
	cases := []struct {
		name, problem string
		edit          func(url.Values)
	}{
		{"javascript redirect", "redirect_uri_mismatch", func(q url.Values) { q.Set("redirect_uri", "javascript:alert(1)") }},
		{"relative redirect", "redirect_uri_mismatch", func(q url.Values) { q.Set("redirect_uri", "/api/auth/callback") }},
		{"scheme-relative redirect", "redirect_uri_mismatch", func(q url.Values) { q.Set("redirect_uri", "//evil.example/cb") }},
		{"redirect with fragment", "redirect_uri_mismatch", func(q url.Values) { q.Set("redirect_uri", "https://api.example.com/cb#x") }},
		{"unknown client", "invalid_client", func(q url.Values) { q.Set("client_id", "someone-else") }},
		{"no client", "invalid_request", func(q url.Values) { q.Del("client_id") }},
		{"no redirect", "invalid_request", func(q url.Values) { q.Del("redirect_uri") }},
		{"implicit flow", "unsupported_response_type", func(q url.Values) { q.Set("response_type", "token") }},
		{"no challenge", "invalid_request", func(q url.Values) { q.Del("code_challenge") }},
		{"short challenge", "invalid_request", func(q url.Values) { q.Set("code_challenge", "abc") }},
		{"plain method", "invalid_request", func(q url.Values) { q.Set("code_challenge_method", "plain") }},
		{"no state", "invalid_request", func(q url.Values) { q.Del("state") }},
	}
	for _, provider := range []string{oauth.Google, oauth.GitHub} {
		for _, c := range cases {
			t.Run(provider+"/"+c.name, func(t *testing.T) {
				res, body := get(t, srv.URL+authPath(provider)+"?"+authQuery(provider, "", c.edit).Encode(), nil)
				if res.StatusCode != http.StatusBadRequest || res.Header.Get("Location") != "" {
					t.Fatalf("status %d, Location %q; want 400 without a redirect", res.StatusCode, res.Header.Get("Location"))
				}
				if !strings.HasPrefix(res.Header.Get("Content-Type"), "text/html") || !strings.Contains(body, c.problem) {
					t.Errorf("body %q; want an HTML page naming %s", body, c.problem)
				}
			})
		}
	}
}

func TestAuthorizeRedirectKeepsExistingQuery(t *testing.T) {
	_, srv := start(t, oauthfake.Options{})
	q := authQuery(oauth.GitHub, "", func(q url.Values) { q.Set("redirect_uri", "http://127.0.0.1:8787/cb?x=1") })
	res, _ := get(t, srv.URL+oauthfake.GitHubAuthPath+"?"+q.Encode(), nil)
	loc, _ := url.Parse(res.Header.Get("Location"))
	if loc.Host != "127.0.0.1:8787" || loc.Path != "/cb" || loc.Query().Get("x") != "1" || loc.Query().Get("code") == "" || loc.Query().Get("state") != "state-123" {
		t.Errorf("Location = %s", loc)
	}
}

func TestInteractiveConsent(t *testing.T) {
	_, srv := start(t, oauthfake.Options{Interactive: true})
	for _, provider := range []string{oauth.Google, oauth.GitHub} {
		t.Run(provider, func(t *testing.T) {
			page := srv.URL + authPath(provider) + "?" + authQuery(provider, "ann@example.com", nil).Encode()
			res, body := get(t, page, nil)
			if res.StatusCode != http.StatusOK {
				t.Fatalf("status %d, want the consent page", res.StatusCode)
			}
			for _, want := range []string{"<title>Authorize adstudio</title>", `id="approve"`, `id="deny"`, "ann@example.com", `method="post"`} {
				if !strings.Contains(body, want) {
					t.Errorf("consent page lacks %q", want)
				}
			}

			res, _ = post(t, page, url.Values{"decision": {"approve"}}, nil)
			loc, _ := url.Parse(res.Header.Get("Location"))
			if res.StatusCode != http.StatusFound || loc.Query().Get("code") == "" || loc.Query().Get("state") != "state-123" {
				t.Errorf("approve → %d %s; want a redirect with a code", res.StatusCode, loc)
			}

			res, _ = post(t, page, url.Values{"decision": {"deny"}}, nil)
			loc, _ = url.Parse(res.Header.Get("Location"))
			if res.StatusCode != http.StatusFound || loc.Query().Get("error") != "access_denied" || loc.Query().Has("code") {
				t.Errorf("deny → %d %s; want access_denied", res.StatusCode, loc)
			}
		})
	}
}

func TestTokenEndpointClientAuthentication(t *testing.T) {
	_, srv := start(t, oauthfake.Options{})

	// HTTP Basic instead of client_secret_post.
	c := code(t, srv, oauth.Google, "")
	f := tokenForm(oauth.Google, c)
	f.Del("client_id")
	f.Del("client_secret")
	req, _ := http.NewRequest(http.MethodPost, srv.URL+oauthfake.GoogleTokenPath, strings.NewReader(f.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(oauthfake.DefaultGoogleClientID, oauthfake.DefaultGoogleClientSecret)
	if res, body := do(t, req); res.StatusCode != http.StatusOK || !strings.Contains(body, `"access_token":"ya29.`) {
		t.Errorf("Basic auth: %d %s", res.StatusCode, body)
	}

	// Wrong secret: Google 401 invalid_client, GitHub 200 with an error body.
	f = tokenForm(oauth.Google, code(t, srv, oauth.Google, ""))
	f.Set("client_secret", "wrong")
	if res, body := post(t, srv.URL+oauthfake.GoogleTokenPath, f, nil); res.StatusCode != http.StatusUnauthorized || !strings.Contains(body, `"error":"invalid_client"`) {
		t.Errorf("Google wrong secret: %d %s", res.StatusCode, body)
	}
	f = tokenForm(oauth.GitHub, code(t, srv, oauth.GitHub, ""))
	f.Set("client_secret", "wrong")
	res, body := post(t, srv.URL+oauthfake.GitHubTokenPath, f, http.Header{"Accept": {"application/json"}})
	if res.StatusCode != http.StatusOK || !strings.Contains(body, `"error":"incorrect_client_credentials"`) {
		t.Errorf("GitHub wrong secret: %d %s", res.StatusCode, body)
	}
}

func TestTokenEndpointErrorBodies(t *testing.T) {
	_, srv := start(t, oauthfake.Options{})
	// GitHub: a replayed code, JSON when asked for, form-encoded otherwise.
	f := tokenForm(oauth.GitHub, code(t, srv, oauth.GitHub, ""))
	asJSON := http.Header{"Accept": {"application/json"}}
	if res, body := post(t, srv.URL+oauthfake.GitHubTokenPath, f, asJSON); res.StatusCode != 200 || !strings.HasPrefix(body, `{"access_token":"gho_`) || !strings.HasSuffix(body, `"token_type":"bearer","scope":"read:user,user:email"}`) {
		t.Errorf("GitHub JSON success: %d %s", res.StatusCode, body)
	}
	want := `{"error":"bad_verification_code","error_description":"The code passed is incorrect or expired.","error_uri":"https://docs.github.com/apps/managing-oauth-apps/troubleshooting-oauth-app-access-token-request-errors/#bad-verification-code"}`
	if res, body := post(t, srv.URL+oauthfake.GitHubTokenPath, f, asJSON); res.StatusCode != 200 || body != want {
		t.Errorf("GitHub replay: %d %s", res.StatusCode, body)
	}
	res, body := post(t, srv.URL+oauthfake.GitHubTokenPath, f, nil)
	if res.StatusCode != 200 || !strings.HasPrefix(res.Header.Get("Content-Type"), "application/x-www-form-urlencoded") || !strings.HasPrefix(body, "error=bad_verification_code&") {
		t.Errorf("GitHub replay, form-encoded: %d %s %s", res.StatusCode, res.Header.Get("Content-Type"), body)
	}

	// Google: a replay and a PKCE mismatch are 400 invalid_grant.
	f = tokenForm(oauth.Google, code(t, srv, oauth.Google, ""))
	f.Set("code_verifier", verifier+"x")
	if res, body := post(t, srv.URL+oauthfake.GoogleTokenPath, f, nil); res.StatusCode != 400 || body != `{"error":"invalid_grant","error_description":"Bad Request"}` {
		t.Errorf("Google PKCE mismatch: %d %s", res.StatusCode, body)
	}
	f.Set("code_verifier", verifier) // the code was spent by the failed attempt
	if res, body := post(t, srv.URL+oauthfake.GoogleTokenPath, f, nil); res.StatusCode != 400 || !strings.Contains(body, "invalid_grant") {
		t.Errorf("Google reuse after failure: %d %s", res.StatusCode, body)
	}
	// GitHub form-encoded success, as GitHub answers clients that do not ask for JSON.
	f = tokenForm(oauth.GitHub, code(t, srv, oauth.GitHub, ""))
	if res, body := post(t, srv.URL+oauthfake.GitHubTokenPath, f, nil); res.StatusCode != 200 || !strings.HasPrefix(body, "access_token=gho_") || !strings.HasSuffix(body, "&token_type=bearer&scope=read%3Auser%2Cuser%3Aemail") {
		t.Errorf("GitHub form success: %d %s", res.StatusCode, body)
	}
}

func TestCodeExpires(t *testing.T) {
	var offset atomic.Int64 // read by the server's goroutines
	base := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	_, srv := start(t, oauthfake.Options{Now: func() time.Time { return base.Add(time.Duration(offset.Load())) }})
	f := tokenForm(oauth.Google, code(t, srv, oauth.Google, ""))
	offset.Store(int64(10*time.Minute + time.Second))
	if res, body := post(t, srv.URL+oauthfake.GoogleTokenPath, f, nil); res.StatusCode != 400 || !strings.Contains(body, "invalid_grant") {
		t.Errorf("expired code: %d %s", res.StatusCode, body)
	}
}

func decodeSegment(t *testing.T, seg string, v any) {
	t.Helper()
	raw, err := base64.RawURLEncoding.DecodeString(seg)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(raw, v); err != nil {
		t.Fatal(err)
	}
}

func TestGoogleIDToken(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	_, srv := start(t, oauthfake.Options{Now: func() time.Time { return now }})
	res, body := post(t, srv.URL+oauthfake.GoogleTokenPath, tokenForm(oauth.Google, code(t, srv, oauth.Google, "Ann.Smith@example.com")), nil)
	if res.StatusCode != 200 {
		t.Fatalf("token: %d %s", res.StatusCode, body)
	}
	var tr map[string]any
	if err := json.Unmarshal([]byte(body), &tr); err != nil {
		t.Fatal(err)
	}
	if tr["expires_in"] != float64(3599) || tr["token_type"] != "Bearer" ||
		tr["scope"] != "openid https://www.googleapis.com/auth/userinfo.email https://www.googleapis.com/auth/userinfo.profile" {
		t.Errorf("token response %v", tr)
	}
	parts := strings.Split(tr["id_token"].(string), ".")
	if len(parts) != 3 || parts[2] == "" {
		t.Fatalf("id_token %q is not three segments", tr["id_token"])
	}
	var header map[string]string
	decodeSegment(t, parts[0], &header)
	if header["alg"] != "RS256" || header["kid"] != "fake" || header["typ"] != "JWT" {
		t.Errorf("header %v", header)
	}
	var claims map[string]any
	decodeSegment(t, parts[1], &claims)
	want := map[string]any{
		"iss": "https://accounts.google.com", "azp": oauthfake.DefaultGoogleClientID, "aud": oauthfake.DefaultGoogleClientID,
		"email": "Ann.Smith@example.com", "email_verified": true, "name": "Ann Smith", "given_name": "Ann", "family_name": "Smith",
		"iat": float64(now.Unix()), "exp": float64(now.Unix() + 3600),
	}
	for k, v := range want {
		if claims[k] != v {
			t.Errorf("claim %s = %v, want %v", k, claims[k], v)
		}
	}
	if sub, _ := claims["sub"].(string); sub == "" || strings.Trim(sub, "0123456789") != "" {
		t.Errorf("sub = %v, want a decimal string", claims["sub"])
	}
}

func TestGitHubAPI(t *testing.T) {
	_, srv := start(t, oauthfake.Options{})
	f := tokenForm(oauth.GitHub, code(t, srv, oauth.GitHub, "private@example.com"))
	_, body := post(t, srv.URL+oauthfake.GitHubTokenPath, f, http.Header{"Accept": {"application/json"}})
	var tr struct {
		AccessToken string `json:"access_token"`
	}
	json.Unmarshal([]byte(body), &tr)

	badCreds := `{"documentation_url":"https://docs.github.com/rest","message":"Bad credentials","status":"401"}`
	for name, auth := range map[string]string{"none": "", "unknown": "Bearer gho_nope", "basic": "Basic " + tr.AccessToken} {
		for _, path := range []string{oauthfake.GitHubUserPath, oauthfake.GitHubEmailsPath} {
			res, body := get(t, srv.URL+path, http.Header{"Authorization": {auth}})
			if res.StatusCode != 401 || body != badCreds {
				t.Errorf("%s %s: %d %s", name, path, res.StatusCode, body)
			}
		}
	}

	// "token <t>" is accepted like "Bearer <t>".
	res, body := get(t, srv.URL+oauthfake.GitHubUserPath, http.Header{"Authorization": {"token " + tr.AccessToken}})
	var user map[string]any
	if err := json.Unmarshal([]byte(body), &user); err != nil || res.StatusCode != 200 {
		t.Fatalf("/user: %d %s", res.StatusCode, body)
	}
	id, _ := user["id"].(float64)
	if user["login"] != "private" || user["email"] != nil || user["name"] != "Private" || id <= 0 || id >= 1<<53 ||
		user["avatar_url"] != "https://avatars.githubusercontent.com/u/"+jsonNumber(body, "id")+"?v=4" {
		t.Errorf("/user = %s", body)
	}

	_, body = get(t, srv.URL+oauthfake.GitHubEmailsPath, http.Header{"Authorization": {"Bearer " + tr.AccessToken}})
	want := `[{"email":"private@users.noreply.github.com","primary":false,"verified":true,"visibility":null},` +
		`{"email":"private@example.com","primary":true,"verified":true,"visibility":"private"}]`
	if body != want {
		t.Errorf("/user/emails = %s\nwant %s", body, want)
	}
}

// jsonNumber returns the literal of a top-level number field of a JSON object.
func jsonNumber(body, key string) string {
	var m map[string]json.RawMessage
	json.Unmarshal([]byte(body), &m)
	return string(m[key])
}

func TestGitHubNoEmail(t *testing.T) {
	_, srv := start(t, oauthfake.Options{})
	_, body := post(t, srv.URL+oauthfake.GitHubTokenPath, tokenForm(oauth.GitHub, code(t, srv, oauth.GitHub, "noemail@example.com")), http.Header{"Accept": {"application/json"}})
	var tr struct {
		AccessToken string `json:"access_token"`
	}
	json.Unmarshal([]byte(body), &tr)
	auth := http.Header{"Authorization": {"Bearer " + tr.AccessToken}}
	if _, body := get(t, srv.URL+oauthfake.GitHubEmailsPath, auth); body != "[]" {
		t.Errorf("/user/emails = %s, want []", body)
	}
	if _, body := get(t, srv.URL+oauthfake.GitHubUserPath, auth); !strings.Contains(body, `"email":null`) {
		t.Errorf("/user = %s, want a null email", body)
	}
}

func TestKeywordsNeedASeparator(t *testing.T) {
	_, srv := start(t, oauthfake.Options{})
	for hint, denied := range map[string]bool{
		"deny@example.com":     true,
		"deny+1@example.com":   true,
		"Deny.2@example.com":   true,
		"denys@example.com":    false,
		"ann.deny@example.com": false,
	} {
		res, _ := get(t, srv.URL+oauthfake.GitHubAuthPath+"?"+authQuery(oauth.GitHub, hint, nil).Encode(), nil)
		loc, _ := url.Parse(res.Header.Get("Location"))
		if got := loc.Query().Get("error") == "access_denied"; got != denied {
			t.Errorf("%s: denied = %v, want %v", hint, got, denied)
		}
	}
}

func TestRecordsRequests(t *testing.T) {
	fake, srv := start(t, oauthfake.Options{})
	if fake.LastAuthorize(oauth.Google) != nil {
		t.Error("LastAuthorize before any request is not nil")
	}
	c := code(t, srv, oauth.Google, "ann@example.com")
	post(t, srv.URL+oauthfake.GoogleTokenPath, tokenForm(oauth.Google, c), nil)
	if got := fake.LastAuthorize(oauth.Google).Get("login_hint"); got != "ann@example.com" {
		t.Errorf("LastAuthorize login_hint = %q", got)
	}
	if got := fake.LastToken(oauth.Google).Get("code"); got != c {
		t.Errorf("LastToken code = %q, want %q", got, c)
	}
	if fake.LastAuthorize(oauth.GitHub) != nil {
		t.Error("LastAuthorize(github) is not nil")
	}
	reqs := fake.Requests()
	if len(reqs) != 2 || reqs[0].Method != "GET" || reqs[0].Path != oauthfake.GoogleAuthPath || reqs[1].Form.Get("grant_type") != "authorization_code" {
		t.Errorf("Requests = %+v", reqs)
	}
}

func TestEndpoints(t *testing.T) {
	fake := oauthfake.New(oauthfake.Options{})
	if got := fake.Endpoints("http://127.0.0.1:1234/", oauth.Google); got != (oauth.Endpoints{
		AuthURL: "http://127.0.0.1:1234/google/o/oauth2/v2/auth", TokenURL: "http://127.0.0.1:1234/google/token",
	}) {
		t.Errorf("google endpoints %+v", got)
	}
	if got := fake.Endpoints("http://127.0.0.1:1234", oauth.GitHub); got != (oauth.Endpoints{
		AuthURL: "http://127.0.0.1:1234/github/login/oauth/authorize", TokenURL: "http://127.0.0.1:1234/github/login/oauth/access_token",
		UserURL: "http://127.0.0.1:1234/github/user", EmailsURL: "http://127.0.0.1:1234/github/user/emails",
	}) {
		t.Errorf("github endpoints %+v", got)
	}
}
