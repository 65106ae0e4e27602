package devapp_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"adstudio/internal/devtools/oauthfake"
)

// socialServer is the app wired to a fake Google and GitHub. baseURL is the
// API's public origin (BETTER_AUTH_URL): http://localhost:1 makes the SPA
// at http://localhost:5173 same-site, http://127.0.0.1:1 cross-site.
func socialServer(t *testing.T, baseURL string, env map[string]string) (*testServer, *oauthfake.Server) {
	t.Helper()
	fake := oauthfake.New(oauthfake.Options{})
	fs := httptest.NewServer(fake)
	t.Cleanup(fs.Close)
	vars := map[string]string{
		"BETTER_AUTH_URL":      baseURL,
		"GOOGLE_CLIENT_ID":     oauthfake.DefaultGoogleClientID,
		"GOOGLE_CLIENT_SECRET": oauthfake.DefaultGoogleClientSecret,
		"GOOGLE_AUTH_URL":      fs.URL + oauthfake.GoogleAuthPath,
		"GOOGLE_TOKEN_URL":     fs.URL + oauthfake.GoogleTokenPath,
		"GITHUB_CLIENT_ID":     oauthfake.DefaultGitHubClientID,
		"GITHUB_CLIENT_SECRET": oauthfake.DefaultGitHubClientSecret,
		"GITHUB_AUTH_URL":      fs.URL + oauthfake.GitHubAuthPath,
		"GITHUB_TOKEN_URL":     fs.URL + oauthfake.GitHubTokenPath,
		"GITHUB_API_URL":       fs.URL + "/github",
	}
	for k, v := range env {
		vars[k] = v
	}
	return newServer(t, vars), fake
}

// flow is one social sign-in in progress.
type flow struct {
	authURL  string
	callback string // the provider's redirect back to the API, rewritten to the test server
}

// startSocial posts sign-in/social (or link-social) and walks the fake
// provider's authorize step, returning the callback URL it redirects to.
func (b *browser) startSocial(t testing.TB, path, provider, hint string, extra map[string]any) flow {
	t.Helper()
	body := map[string]any{
		"provider":           provider,
		"callbackURL":        spaOrigin + "/dash",
		"newUserCallbackURL": spaOrigin + "/welcome",
		"errorCallbackURL":   spaOrigin + "/login",
	}
	if hint != "" {
		body["loginHint"] = hint
	}
	for k, v := range extra {
		body[k] = v
	}
	r := b.do(t, "POST", path, body, nil)
	if r.StatusCode != 200 {
		t.Fatalf("%s: %d %s", path, r.StatusCode, r.body)
	}
	m := r.json(t)
	authURL, _ := m["url"].(string)
	if m["redirect"] != true || r.Header.Get("Location") != authURL || authURL == "" {
		t.Fatalf("%s: body %s, Location %q", path, r.body, r.Header.Get("Location"))
	}
	if len(r.setCookies(".state")) != 1 {
		t.Fatalf("%s set no state cookie: %v", path, r.Header.Values("Set-Cookie"))
	}
	res := roundTrip(t, "GET", authURL)
	loc, err := url.Parse(res.Header.Get("Location"))
	if res.StatusCode != http.StatusFound || err != nil {
		t.Fatalf("authorize: %d, Location %q", res.StatusCode, res.Header.Get("Location"))
	}
	// The redirect_uri names BETTER_AUTH_URL; the test server listens elsewhere.
	if loc.Path == "/api/auth/callback/"+provider {
		loc.Scheme, loc.Host = "http", strings.TrimPrefix(b.ts.srv.URL, "http://")
	}
	return flow{authURL: authURL, callback: loc.String()}
}

func roundTrip(t testing.TB, method, u string) *http.Response {
	t.Helper()
	req, _ := http.NewRequest(method, u, nil)
	res, err := http.DefaultTransport.RoundTrip(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	return res
}

// land follows the callback as the browser's top-level navigation: no
// Origin header, the API site's cookies.
func (b *browser) land(t testing.TB, callback string) resp {
	t.Helper()
	path := strings.TrimPrefix(callback, b.ts.srv.URL)
	return b.do(t, "GET", path, nil, header{"Origin": ""})
}

func wantRedirect(t *testing.T, r resp, want string) {
	t.Helper()
	if r.StatusCode != http.StatusFound || r.Header.Get("Location") != want {
		t.Fatalf("got %d Location %q, want 302 %q (body %s)", r.StatusCode, r.Header.Get("Location"), want, r.body)
	}
}

func TestSocialSignIn(t *testing.T) {
	t.Parallel()
	ts, fake := socialServer(t, "http://localhost:1", nil)

	// A new GitHub user: the new-user URL, a session, the account listed.
	b := ts.browser()
	f := b.startSocial(t, "/api/auth/sign-in/social", "github", "octo@example.com", map[string]any{"scopes": []string{"repo"}})
	q := fake.LastAuthorize("github")
	if q.Get("code_challenge_method") != "S256" || q.Get("code_challenge") == "" || q.Get("redirect_uri") != "http://localhost:1/api/auth/callback/github" || q.Get("scope") != "read:user user:email repo" {
		t.Errorf("authorize query %v", q)
	}
	r := b.land(t, f.callback)
	wantRedirect(t, r, spaOrigin+"/welcome")
	if len(r.setCookies("session_token")) != 1 || !strings.Contains(strings.Join(r.setCookies(".state"), ""), "Max-Age=0") {
		t.Errorf("callback cookies: %v", r.Header.Values("Set-Cookie"))
	}
	if got := b.sessionUser(t, "?disableCookieCache=true"); got != "octo@example.com" {
		t.Fatalf("session after GitHub sign-in: %q", got)
	}
	if tq := fake.LastToken("github"); tq.Get("code_verifier") == "" || tq.Get("client_secret") != oauthfake.DefaultGitHubClientSecret {
		t.Errorf("token request %v", tq)
	}
	accts := b.do(t, "GET", "/api/auth/list-accounts", nil, nil)
	if !strings.Contains(string(accts.body), `"providerId":"github"`) || !strings.Contains(string(accts.body), `"scopes":["read:user","user:email","repo"]`) {
		t.Errorf("list-accounts: %s", accts.body)
	}
	// Tokens are encrypted at rest.
	var access string
	if err := ts.app.DB.QueryRow(context.Background(), `SELECT "access_token" FROM "account" WHERE "provider_id" = 'github'`).Scan(&access); err != nil {
		t.Fatal(err)
	}
	if access == "" || strings.HasPrefix(access, "gho_") {
		t.Errorf("stored access token %q is not encrypted", access)
	}

	// The same identity again, in another browser: the same user, the
	// plain callback URL.
	b2 := ts.browser()
	wantRedirect(t, b2.land(t, b2.startSocial(t, "/api/auth/sign-in/social", "github", "octo@example.com", nil).callback), spaOrigin+"/dash")
	if got := b2.sessionUser(t, ""); got != "octo@example.com" {
		t.Fatalf("second sign-in: %q", got)
	}

	// GitHub with a private email: found through /user/emails.
	b3 := ts.browser()
	wantRedirect(t, b3.land(t, b3.startSocial(t, "/api/auth/sign-in/social", "github", "private@example.com", nil).callback), spaOrigin+"/welcome")
	if got := b3.sessionUser(t, ""); got != "private@example.com" {
		t.Fatalf("private-email sign-in: %q", got)
	}

	// Google: verified email from the ID token.
	g := ts.browser()
	wantRedirect(t, g.land(t, g.startSocial(t, "/api/auth/sign-in/social", "google", "Ann@Example.com", nil).callback), spaOrigin+"/welcome")
	m := g.do(t, "GET", "/api/auth/get-session", nil, nil).json(t)
	if u := m["user"].(map[string]any); u["email"] != "ann@example.com" || u["emailVerified"] != true {
		t.Errorf("google user %v", u)
	}
	if q := fake.LastAuthorize("google"); q.Get("include_granted_scopes") != "true" || q.Get("scope") != "email profile openid" {
		t.Errorf("google authorize query %v", q)
	}
}

func TestSocialFailures(t *testing.T) {
	t.Parallel()
	ts, _ := socialServer(t, "http://localhost:1", nil)
	login := spaOrigin + "/login"

	// A password user's email: never linked implicitly (the local email is
	// unverified), no session.
	pw := ts.browser()
	pw.signUp(t, "taken@example.com", "password123")
	b := ts.browser()
	r := b.land(t, b.startSocial(t, "/api/auth/sign-in/social", "google", "taken@example.com", nil).callback)
	wantRedirect(t, r, login+"?error=account_not_linked")
	if b.sessionUser(t, "") != "" || len(r.setCookies("session_token")) != 0 {
		t.Error("account_not_linked left a session")
	}

	for _, c := range []struct{ provider, hint, want string }{
		{"github", "deny@example.com", login + "?error=access_denied&error_description=The+user+has+denied+your+application+access."},
		{"google", "deny@example.com", login + "?error=access_denied"},
		{"github", "badtoken@example.com", login + "?error=invalid_code"},
		{"google", "badtoken@example.com", login + "?error=invalid_code"},
		{"github", "baduser@example.com", login + "?error=unable_to_get_user_info"},
		{"google", "baduser@example.com", login + "?error=unable_to_get_user_info"},
		{"github", "noemail@example.com", login + "?error=email_not_found"},
		{"google", "noemail@example.com", login + "?error=email_not_found"},
	} {
		b := ts.browser()
		r := b.land(t, b.startSocial(t, "/api/auth/sign-in/social", c.provider, c.hint, nil).callback)
		if r.StatusCode != http.StatusFound || r.Header.Get("Location") != c.want {
			t.Errorf("%s %s: %d %q, want %q", c.provider, c.hint, r.StatusCode, r.Header.Get("Location"), c.want)
		}
		if b.sessionUser(t, "") != "" {
			t.Errorf("%s %s left a session", c.provider, c.hint)
		}
	}

	// State: replayed, missing cookie, expired, unknown, absent.
	b = ts.browser()
	f := b.startSocial(t, "/api/auth/sign-in/social", "github", "replay@example.com", nil)
	wantRedirect(t, b.land(t, f.callback), spaOrigin+"/welcome")
	wantRedirect(t, b.land(t, f.callback), "http://localhost:1/api/auth/error?error=state_mismatch")

	b = ts.browser()
	f = b.startSocial(t, "/api/auth/sign-in/social", "github", "nocookie@example.com", nil)
	other := ts.browser() // login CSRF: the victim's browser never started this flow
	r = other.land(t, f.callback)
	wantRedirect(t, r, login+"?error=state_mismatch")
	if other.sessionUser(t, "") != "" {
		t.Error("a callback without the state cookie signed someone in")
	}

	b = ts.browser()
	f = b.startSocial(t, "/api/auth/sign-in/social", "github", "late@example.com", nil)
	ts.clock.Advance(11 * time.Minute)
	wantRedirect(t, b.land(t, f.callback), login+"?error=state_mismatch")

	wantRedirect(t, b.land(t, ts.srv.URL+"/api/auth/callback/github?code=x&state=unknown"), "http://localhost:1/api/auth/error?error=state_mismatch")
	wantRedirect(t, b.land(t, ts.srv.URL+"/api/auth/callback/github?code=x"), "http://localhost:1/api/auth/error?error=state_not_found")

	// Refused before any redirect.
	wantError(t, b.do(t, "POST", "/api/auth/sign-in/social", map[string]any{"provider": "gitlab", "callbackURL": spaOrigin}, nil), 404, "PROVIDER_NOT_FOUND", "Provider not found")
	wantError(t, b.do(t, "POST", "/api/auth/sign-in/social", map[string]any{"provider": "github", "callbackURL": "https://evil.example/x"}, nil), 403, "INVALID_CALLBACK_URL", "Invalid callbackURL")
	wantError(t, b.do(t, "POST", "/api/auth/sign-in/social", map[string]any{"provider": "github", "errorCallbackURL": "https://evil.example/x"}, nil), 403, "INVALID_ERROR_CALLBACK_URL", "")
	wantError(t, b.do(t, "POST", "/api/auth/sign-in/social", map[string]any{"provider": "github", "additionalParams": map[string]any{"redirect_uri": "https://evil.example"}}, nil), 400, "VALIDATION_ERROR", "")
	wantError(t, b.do(t, "POST", "/api/auth/sign-in/social", map[string]any{"callbackURL": spaOrigin}, nil), 400, "VALIDATION_ERROR", "")
	wantError(t, b.do(t, "POST", "/api/auth/sign-in/social", map[string]any{"provider": "github", "idToken": map[string]any{"token": "x"}}, nil), 404, "ID_TOKEN_NOT_SUPPORTED", "")

	// A provider without credentials is not offered.
	solo := newServer(t, nil)
	wantError(t, solo.browser().do(t, "POST", "/api/auth/sign-in/social", map[string]any{"provider": "google", "callbackURL": spaOrigin}, nil), 404, "PROVIDER_NOT_FOUND", "")
}

func TestSocialFormPostCallback(t *testing.T) {
	t.Parallel()
	ts, _ := socialServer(t, "http://localhost:1", nil)
	b := ts.browser()
	r := b.do(t, "POST", "/api/auth/callback/google?iss=x", "code=abc&state=xyz&ignored=1", header{"Content-Type": "application/x-www-form-urlencoded", "Origin": "https://accounts.google.com"})
	wantRedirect(t, r, "http://localhost:1/api/auth/callback/google?code=abc&iss=x&state=xyz")
}

func TestSocialCrossSiteOneTimeToken(t *testing.T) {
	t.Parallel()
	// The SPA (localhost:5173) and the API (127.0.0.1) are different sites.
	ts, _ := socialServer(t, "http://127.0.0.1:1", nil)

	// The callback arrives without the state cookie, as in a browser whose
	// state cookie sits in the SPA site's partition: nothing is signed in
	// yet, the SPA gets a one-time token.
	spa := ts.browser()
	f := spa.startSocial(t, "/api/auth/sign-in/social", "github", "cross@example.com", nil)
	top := ts.browser() // the API site's own, first-party jar
	r := top.land(t, f.callback)
	loc, _ := url.Parse(r.Header.Get("Location"))
	ott := loc.Query().Get("ott")
	if r.StatusCode != http.StatusFound || !strings.HasPrefix(r.Header.Get("Location"), spaOrigin+"/dash?ott=") || ott == "" {
		t.Fatalf("deferred callback: %d %q", r.StatusCode, r.Header.Get("Location"))
	}
	if len(r.setCookies("session_token")) != 0 {
		t.Error("the deferred callback set a session cookie on the API's site")
	}
	var users int
	ts.app.DB.QueryRow(context.Background(), `SELECT COUNT(*) FROM "users" WHERE "email" = 'cross@example.com'`).Scan(&users)
	if users != 0 {
		t.Fatal("the deferred callback created the user before the browser was proven")
	}

	// Another browser cannot redeem it (login CSRF): without the flow's
	// state cookie, or with the state cookie of a flow of its own. Neither
	// attempt spends it.
	attacker := ts.browser()
	wantError(t, attacker.do(t, "POST", "/api/auth/one-time-token/verify", map[string]any{"token": ott}, nil), 403, "STATE_MISMATCH", "")
	attacker.startSocial(t, "/api/auth/sign-in/social", "github", "attacker@example.com", nil)
	wantError(t, attacker.do(t, "POST", "/api/auth/one-time-token/verify", map[string]any{"token": ott}, nil), 400, "INVALID_TOKEN", "Invalid token")
	if attacker.sessionUser(t, "") != "" {
		t.Fatal("a browser that did not start the flow got a session")
	}

	// The browser that started the flow redeems it: {session, user} and the
	// session cookies, in the SPA's partition.
	r = spa.do(t, "POST", "/api/auth/one-time-token/verify", map[string]any{"token": ott}, nil)
	if r.StatusCode != 200 || len(r.setCookies("session_token")) != 1 {
		t.Fatalf("verify: %d %s", r.StatusCode, r.body)
	}
	m := r.json(t)
	if m["url"] != spaOrigin+"/welcome" || m["newUser"] != true || m["user"].(map[string]any)["email"] != "cross@example.com" || m["session"].(map[string]any)["token"] == "" {
		t.Errorf("verify body %s", r.body)
	}
	if got := spa.sessionUser(t, "?disableCookieCache=true"); got != "cross@example.com" {
		t.Fatalf("session after verify: %q", got)
	}
	// Spent: the state cookie went with it.
	wantError(t, spa.do(t, "POST", "/api/auth/one-time-token/verify", map[string]any{"token": ott}, nil), 403, "STATE_MISMATCH", "")

	// Expired tokens are refused.
	f = spa.startSocial(t, "/api/auth/sign-in/social", "github", "cross@example.com", nil)
	loc, _ = url.Parse(top.land(t, f.callback).Header.Get("Location"))
	ts.clock.Advance(4 * time.Minute)
	wantError(t, spa.do(t, "POST", "/api/auth/one-time-token/verify", map[string]any{"token": loc.Query().Get("ott")}, nil), 400, "INVALID_TOKEN", "")

	// With the cookie present (a browser that sends it), the flow is the
	// plain one even cross-site.
	b := ts.browser()
	wantRedirect(t, b.land(t, b.startSocial(t, "/api/auth/sign-in/social", "github", "cross@example.com", nil).callback), spaOrigin+"/dash")
}

func TestSocialLinkAndUnlink(t *testing.T) {
	t.Parallel()
	ts, _ := socialServer(t, "http://localhost:1", nil)
	b := ts.browser()
	b.signUp(t, "linker@example.com", "password123")

	// Linking needs a session.
	wantError(t, ts.browser().do(t, "POST", "/api/auth/link-social", map[string]any{"provider": "github", "callbackURL": spaOrigin}, nil), 401, "UNAUTHORIZED", "")

	// A different email is refused; the same (verified) email links.
	r := b.land(t, b.startSocial(t, "/api/auth/link-social", "github", "someone-else@example.com", nil).callback)
	wantRedirect(t, r, spaOrigin+"/login?error=email_does_not_match")
	r = b.land(t, b.startSocial(t, "/api/auth/link-social", "github", "linker@example.com", nil).callback)
	wantRedirect(t, r, spaOrigin+"/dash")
	if len(r.setCookies("session_token")) != 0 {
		t.Error("linking changed the session")
	}
	accts := b.do(t, "GET", "/api/auth/list-accounts", nil, nil)
	var list []map[string]any
	if err := jsonUnmarshal(accts.body, &list); err != nil || len(list) != 2 || list[0]["providerId"] != "credential" || list[1]["providerId"] != "github" {
		t.Fatalf("accounts after link: %s", accts.body)
	}
	// The linked identity now signs in to the same user.
	g := ts.browser()
	wantRedirect(t, g.land(t, g.startSocial(t, "/api/auth/sign-in/social", "github", "linker@example.com", nil).callback), spaOrigin+"/dash")
	if got := g.sessionUser(t, ""); got != "linker@example.com" {
		t.Fatalf("sign-in with the linked account: %q", got)
	}
	// Someone else cannot link the same GitHub account.
	other := ts.browser()
	other.signUp(t, "thief@example.com", "password123")
	r = other.land(t, other.startSocial(t, "/api/auth/link-social", "github", "linker@example.com", nil).callback)
	wantRedirect(t, r, spaOrigin+"/login?error=email_does_not_match")

	// Unlink: unknown id, then GitHub, then never the last one.
	wantError(t, b.do(t, "POST", "/api/auth/unlink-account", map[string]any{"accountId": "nope"}, nil), 400, "ACCOUNT_NOT_FOUND", "Account not found")
	r = b.do(t, "POST", "/api/auth/unlink-account", map[string]any{"accountId": list[1]["id"]}, nil)
	if r.StatusCode != 200 || string(r.body) != `{"status":true}` {
		t.Fatalf("unlink: %d %s", r.StatusCode, r.body)
	}
	wantError(t, b.do(t, "POST", "/api/auth/unlink-account", map[string]any{"accountId": list[0]["id"]}, nil), 400, "FAILED_TO_UNLINK_LAST_ACCOUNT", "You can't unlink your last account")
	if got := b.sessionUser(t, ""); got != "linker@example.com" {
		t.Fatalf("session after unlinking: %q", got)
	}
}

func jsonUnmarshal(b []byte, v any) error { return json.Unmarshal(b, v) }

// TestSweepPurgesAbandonedFlows: a state nobody came back for is removed by
// the scheduled sweep once expired, and only then.
func TestSweepPurgesAbandonedFlows(t *testing.T) {
	t.Parallel()
	ts, _ := socialServer(t, "http://localhost:1", nil)
	b := ts.browser()
	b.startSocial(t, "/api/auth/sign-in/social", "github", "gone@example.com", nil)
	count := func() (n int) {
		ts.app.DB.QueryRow(context.Background(), `SELECT COUNT(*) FROM "verification"`).Scan(&n)
		return n
	}
	if _, err := ts.app.Sweep(context.Background()); err != nil || count() != 1 {
		t.Fatalf("sweep removed a live state: %v, %d rows", err, count())
	}
	ts.clock.Advance(11 * time.Minute)
	if _, err := ts.app.Sweep(context.Background()); err != nil || count() != 0 {
		t.Fatalf("sweep kept an expired state: %v, %d rows", err, count())
	}
}

// TestSocialTrustedProviders: a provider that does not vouch for the email
// links only when it is trusted (TRUSTED_PROVIDERS), as in better-auth.
func TestSocialTrustedProviders(t *testing.T) {
	t.Parallel()
	for _, trusted := range []string{"", "github"} {
		ts, _ := socialServer(t, "http://localhost:1", map[string]string{"TRUSTED_PROVIDERS": trusted})
		b := ts.browser()
		b.signUp(t, "unverified@example.com", "password123")
		r := b.land(t, b.startSocial(t, "/api/auth/link-social", "github", "unverified@example.com", nil).callback)
		want := spaOrigin + "/login?error=unable_to_link_account"
		if trusted != "" {
			want = spaOrigin + "/dash"
		}
		wantRedirect(t, r, want)
	}
}

// TestSocialTrustNeverSkipsTheProvidersWord: with TRUSTED_PROVIDERS=github,
// a GitHub identity whose email GitHub has not verified must not sign in to
// an existing, verified account with that address (the account takeover of
// better-auth's trustedProviders). Trust only skips our own side's check:
// a verified provider email links into an unverified local account, which
// then counts as verified, and every older session of it ends.
func TestSocialTrustNeverSkipsTheProvidersWord(t *testing.T) {
	t.Parallel()
	ts, _ := socialServer(t, "http://localhost:1", map[string]string{"TRUSTED_PROVIDERS": "github,google"})
	victim := ts.browser()
	victim.signUp(t, "unverified@example.com", "password123")
	if err := ts.app.DB.Exec(t.Context(), `UPDATE "users" SET "email_verified" = 1 WHERE "email" = 'unverified@example.com'`); err != nil {
		t.Fatal(err)
	}
	// The fake's "unverified" identity: GitHub lists the address with
	// verified:false.
	thief := ts.browser()
	r := thief.land(t, thief.startSocial(t, "/api/auth/sign-in/social", "github", "unverified@example.com", nil).callback)
	wantRedirect(t, r, spaOrigin+"/login?error=account_not_linked")
	if thief.sessionUser(t, "") != "" {
		t.Fatal("an unverified GitHub email signed in to the verified account")
	}
	var accounts int
	ts.app.DB.QueryRow(t.Context(), `SELECT count(*) FROM "account" WHERE "provider_id" = 'github'`).Scan(&accounts)
	if accounts != 0 {
		t.Fatalf("%d github accounts linked", accounts)
	}

	// Someone registered ann@example.com with a password before Ann came;
	// Ann signs in with Google, which vouches for the address.
	squatter := ts.browser()
	squatter.signUp(t, "ann@example.com", "password123")
	ann := ts.browser()
	wantRedirect(t, ann.land(t, ann.startSocial(t, "/api/auth/sign-in/social", "google", "ann@example.com", nil).callback), spaOrigin+"/dash")
	u := ann.do(t, "GET", "/api/auth/get-session?disableCookieCache=true", nil, nil).json(t)["user"].(map[string]any)
	if u["email"] != "ann@example.com" || u["emailVerified"] != true {
		t.Fatalf("linked user %v", u)
	}
	if squatter.sessionUser(t, "?disableCookieCache=true") != "" {
		t.Fatal("the squatter's session outlived the link")
	}
}
