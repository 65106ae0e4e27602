package oauth_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"adstudio/internal/auth/oauth"
	"adstudio/internal/devtools/oauthfake"
)

// fixedNow is the providers' clock in these tests, so expiries are exact.
var fixedNow = time.Date(2026, 11, 24, 13, 31, 22, 0, time.UTC)

const redirectBase = "https://api.example.com/api/auth/callback/"

// env is a fake provider server and real Providers pointed at it.
type env struct {
	fake   *oauthfake.Server
	srv    *httptest.Server
	google *oauth.Provider
	github *oauth.Provider
}

func newEnv(t *testing.T, opts oauthfake.Options) *env {
	t.Helper()
	fake := oauthfake.New(opts)
	srv := httptest.NewServer(fake)
	t.Cleanup(srv.Close)
	e := &env{fake: fake, srv: srv}
	e.google = e.provider(oauth.Google, oauthfake.DefaultGoogleClientSecret)
	e.github = e.provider(oauth.GitHub, oauthfake.DefaultGitHubClientSecret)
	return e
}

// provider builds a Provider against the fake with the given client secret.
func (e *env) provider(id, secret string) *oauth.Provider {
	var p *oauth.Provider
	if id == oauth.Google {
		p = oauth.NewGoogle(oauthfake.DefaultGoogleClientID, secret, e.fake.Endpoints(e.srv.URL, id), e.srv.Client())
	} else {
		p = oauth.NewGitHub(oauthfake.DefaultGitHubClientID, secret, e.fake.Endpoints(e.srv.URL, id), e.srv.Client())
	}
	p.Now = func() time.Time { return fixedNow }
	return p
}

func (e *env) pick(id string) *oauth.Provider {
	if id == oauth.Google {
		return e.google
	}
	return e.github
}

// visit GETs an authorize URL as a browser would, without following the redirect, and returns
// the callback URL it redirects to.
func (e *env) visit(t *testing.T, authURL string) *url.URL {
	t.Helper()
	c := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	res, err := c.Get(authURL)
	if err != nil {
		t.Fatalf("GET authorize: %v", err)
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusFound {
		t.Fatalf("authorize: status %d, want 302", res.StatusCode)
	}
	loc, err := url.Parse(res.Header.Get("Location"))
	if err != nil {
		t.Fatalf("Location: %v", err)
	}
	return loc
}

// flow is one sign-in up to the callback: it returns the code and the verifier used.
type flow struct {
	code, verifier, redirectURI string
	callback                    *url.URL
}

func (e *env) start(t *testing.T, id, hint string) flow {
	t.Helper()
	state, verifier := oauth.RandomState(), oauth.RandomVerifier()
	redirectURI := redirectBase + id
	loc := e.visit(t, e.pick(id).AuthCodeURL(state, verifier, redirectURI, nil, hint))
	if got := loc.Scheme + "://" + loc.Host + loc.Path; got != redirectURI {
		t.Fatalf("redirected to %s, want %s", got, redirectURI)
	}
	if got := loc.Query().Get("state"); got != state {
		t.Fatalf("state %q, want %q", got, state)
	}
	return flow{code: loc.Query().Get("code"), verifier: verifier, redirectURI: redirectURI, callback: loc}
}

// signIn runs the whole flow and returns the tokens and profile.
func (e *env) signIn(t *testing.T, id, hint string) (*oauth.Tokens, *oauth.UserInfo) {
	t.Helper()
	f := e.start(t, id, hint)
	if f.code == "" {
		t.Fatalf("no code in callback %s", f.callback)
	}
	ctx := context.Background()
	tok, err := e.pick(id).Exchange(ctx, f.code, f.verifier, f.redirectURI)
	if err != nil {
		t.Fatalf("Exchange: %v", err)
	}
	u, err := e.pick(id).UserInfo(ctx, tok)
	if err != nil {
		t.Fatalf("UserInfo: %v", err)
	}
	return tok, u
}

func TestFullFlow(t *testing.T) {
	e := newEnv(t, oauthfake.Options{})
	for _, id := range []string{oauth.Google, oauth.GitHub} {
		t.Run(id, func(t *testing.T) {
			tok, u := e.signIn(t, id, "Ann.Smith@Example.com")
			if u.Email != "ann.smith@example.com" {
				t.Errorf("Email = %q, want lower-cased ann.smith@example.com", u.Email)
			}
			if !u.EmailVerified {
				t.Error("EmailVerified = false, want true")
			}
			if u.Name != "Ann Smith" {
				t.Errorf("Name = %q, want Ann Smith", u.Name)
			}
			if u.ID == "" || strings.Trim(u.ID, "0123456789") != "" {
				t.Errorf("ID = %q, want a decimal number", u.ID)
			}
			if u.Image == nil || !strings.HasPrefix(*u.Image, "https://") {
				t.Errorf("Image = %v, want an https URL", u.Image)
			}
			// The same email is the same provider account on every sign-in.
			if _, again := e.signIn(t, id, "ann.smith@example.com"); again.ID != u.ID {
				t.Errorf("second sign-in ID = %q, want %q", again.ID, u.ID)
			}
			if _, other := e.signIn(t, id, "bob@example.com"); other.ID == u.ID {
				t.Error("another email got the same ID")
			}

			switch id {
			case oauth.Google:
				if !strings.HasPrefix(tok.AccessToken, "ya29.") || tok.IDToken == "" {
					t.Errorf("tokens = %+v, want ya29.… and an id_token", tok)
				}
				want := fixedNow.Add(3599 * time.Second)
				if tok.AccessTokenExpiresAt == nil || !tok.AccessTokenExpiresAt.Equal(want) {
					t.Errorf("AccessTokenExpiresAt = %v, want %v", tok.AccessTokenExpiresAt, want)
				}
				wantScopes := []string{"openid", "https://www.googleapis.com/auth/userinfo.email", "https://www.googleapis.com/auth/userinfo.profile"}
				if strings.Join(tok.Scopes, " ") != strings.Join(wantScopes, " ") {
					t.Errorf("Scopes = %q, want %q", tok.Scopes, wantScopes)
				}
			case oauth.GitHub:
				if !strings.HasPrefix(tok.AccessToken, "gho_") || tok.IDToken != "" || tok.RefreshToken != "" {
					t.Errorf("tokens = %+v, want gho_… only", tok)
				}
				if tok.AccessTokenExpiresAt != nil || tok.RefreshTokenExpiresAt != nil {
					t.Errorf("GitHub tokens have expiries %v %v, want none", tok.AccessTokenExpiresAt, tok.RefreshTokenExpiresAt)
				}
				if strings.Join(tok.Scopes, " ") != "read:user user:email" {
					t.Errorf("Scopes = %q, want [read:user user:email]", tok.Scopes)
				}
			}
		})
	}
}

func TestGoogleCallbackNamesIssuer(t *testing.T) {
	e := newEnv(t, oauthfake.Options{})
	f := e.start(t, oauth.Google, "ann@example.com")
	if got := f.callback.Query().Get("iss"); got != e.google.Issuer() || got != "https://accounts.google.com" {
		t.Errorf("iss = %q, want %q", got, e.google.Issuer())
	}
	if e.github.Issuer() != "" {
		t.Errorf("GitHub Issuer() = %q, want empty", e.github.Issuer())
	}
	if e.google.ID() != "google" || e.github.ID() != "github" {
		t.Errorf("IDs = %q %q", e.google.ID(), e.github.ID())
	}
}

func TestDefaultUser(t *testing.T) {
	e := newEnv(t, oauthfake.Options{})
	_, u := e.signIn(t, oauth.GitHub, "")
	if u.Email != "octo@example.com" || u.Name != "Octo Cat" {
		t.Errorf("no hint → %+v, want octo@example.com / Octo Cat", u)
	}
}

// exchangeFails asserts that an exchange is refused with ErrExchange.
func exchangeFails(t *testing.T, p *oauth.Provider, code, verifier, redirectURI string) {
	t.Helper()
	tok, err := p.Exchange(context.Background(), code, verifier, redirectURI)
	if !errors.Is(err, oauth.ErrExchange) {
		t.Fatalf("Exchange = %+v, %v; want ErrExchange", tok, err)
	}
}

func TestExchangeRefusals(t *testing.T) {
	for _, id := range []string{oauth.Google, oauth.GitHub} {
		t.Run(id, func(t *testing.T) {
			e := newEnv(t, oauthfake.Options{})
			p := e.pick(id)

			t.Run("PKCE mismatch", func(t *testing.T) {
				f := e.start(t, id, "ann@example.com")
				exchangeFails(t, p, f.code, oauth.RandomVerifier(), f.redirectURI)
			})
			t.Run("replayed code", func(t *testing.T) {
				f := e.start(t, id, "ann@example.com")
				if _, err := p.Exchange(context.Background(), f.code, f.verifier, f.redirectURI); err != nil {
					t.Fatalf("first exchange: %v", err)
				}
				exchangeFails(t, p, f.code, f.verifier, f.redirectURI)
			})
			t.Run("wrong client secret", func(t *testing.T) {
				f := e.start(t, id, "ann@example.com")
				exchangeFails(t, e.provider(id, "not-the-secret"), f.code, f.verifier, f.redirectURI)
				// Client authentication fails before the code is looked at, so it is not spent.
				if _, err := p.Exchange(context.Background(), f.code, f.verifier, f.redirectURI); err != nil {
					t.Errorf("exchange with the right secret after a wrong one: %v", err)
				}
			})
			t.Run("other redirect_uri", func(t *testing.T) {
				f := e.start(t, id, "ann@example.com")
				exchangeFails(t, p, f.code, f.verifier, "https://evil.example/callback")
			})
			t.Run("unknown code", func(t *testing.T) {
				exchangeFails(t, p, "no-such-code", oauth.RandomVerifier(), redirectBase+id)
			})
			t.Run("badtoken user", func(t *testing.T) {
				f := e.start(t, id, "badtoken@example.com")
				exchangeFails(t, p, f.code, f.verifier, f.redirectURI)
			})
		})
	}
}

func TestBadUserIsErrUserInfo(t *testing.T) {
	e := newEnv(t, oauthfake.Options{})
	for _, id := range []string{oauth.Google, oauth.GitHub} {
		t.Run(id, func(t *testing.T) {
			f := e.start(t, id, "baduser@example.com")
			tok, err := e.pick(id).Exchange(context.Background(), f.code, f.verifier, f.redirectURI)
			if err != nil {
				t.Fatalf("Exchange: %v", err)
			}
			if u, err := e.pick(id).UserInfo(context.Background(), tok); !errors.Is(err, oauth.ErrUserInfo) {
				t.Errorf("UserInfo = %+v, %v; want ErrUserInfo", u, err)
			}
		})
	}
}

func TestProfileVariants(t *testing.T) {
	e := newEnv(t, oauthfake.Options{})
	cases := []struct {
		provider, hint string
		email          string
		verified       bool
		name           string
	}{
		// GitHub keeps a private address out of /user; only /user/emails has it, after a
		// secondary address, so the primary entry must be chosen rather than the first.
		{oauth.GitHub, "private@example.com", "private@example.com", true, "Private"},
		{oauth.GitHub, "private+2@Example.com", "private+2@example.com", true, "Private 2"},
		{oauth.GitHub, "unverified@example.com", "unverified@example.com", false, "Unverified"},
		{oauth.Google, "unverified@example.com", "unverified@example.com", false, "Unverified"},
		{oauth.GitHub, "noemail@example.com", "", false, "Noemail"},
		{oauth.Google, "noemail@example.com", "", false, "Noemail"},
		// No display name: GitHub falls back to the login.
		{oauth.GitHub, "noname.zed@example.com", "noname.zed@example.com", true, "noname-zed"},
		{oauth.Google, "noname@example.com", "noname@example.com", true, ""},
	}
	for _, c := range cases {
		t.Run(c.provider+"/"+c.hint, func(t *testing.T) {
			_, u := e.signIn(t, c.provider, c.hint)
			if u.Email != c.email || u.EmailVerified != c.verified || u.Name != c.name {
				t.Errorf("got email %q verified %v name %q; want %q %v %q",
					u.Email, u.EmailVerified, u.Name, c.email, c.verified, c.name)
			}
		})
	}
}

func TestGitHubProfileRequests(t *testing.T) {
	e := newEnv(t, oauthfake.Options{})
	tok, _ := e.signIn(t, oauth.GitHub, "ann@example.com")
	seen := map[string]bool{}
	for _, r := range e.fake.Requests() {
		if r.Path != oauthfake.GitHubUserPath && r.Path != oauthfake.GitHubEmailsPath {
			continue
		}
		seen[r.Path] = true
		if got := r.Header.Get("Authorization"); got != "Bearer "+tok.AccessToken {
			t.Errorf("%s Authorization = %q", r.Path, got)
		}
		if got := r.Header.Get("User-Agent"); got != "better-auth" {
			t.Errorf("%s User-Agent = %q", r.Path, got)
		}
		if got := r.Header.Get("Accept"); got != "application/vnd.github+json" {
			t.Errorf("%s Accept = %q", r.Path, got)
		}
	}
	if !seen[oauthfake.GitHubUserPath] || !seen[oauthfake.GitHubEmailsPath] {
		t.Errorf("profile requests seen: %v; want /user and /user/emails", seen)
	}
}

func TestDenyRedirect(t *testing.T) {
	e := newEnv(t, oauthfake.Options{})
	cases := []struct {
		provider, description string
	}{
		{oauth.Google, ""},
		{oauth.GitHub, "The user has denied your application access."},
	}
	for _, c := range cases {
		t.Run(c.provider, func(t *testing.T) {
			f := e.start(t, c.provider, "deny@example.com")
			q := f.callback.Query()
			if q.Get("error") != "access_denied" || q.Get("error_description") != c.description || q.Has("code") {
				t.Errorf("callback query %v; want error=access_denied, description %q, no code", q, c.description)
			}
		})
	}
}

// Style guide #28: concurrency is tested. One code raced by many exchanges succeeds once.
func TestCodeRedeemedOnceUnderRace(t *testing.T) {
	e := newEnv(t, oauthfake.Options{})
	for _, id := range []string{oauth.Google, oauth.GitHub} {
		f := e.start(t, id, "ann@example.com")
		var (
			wg sync.WaitGroup
			mu sync.Mutex
			ok int
		)
		for range 16 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if _, err := e.pick(id).Exchange(context.Background(), f.code, f.verifier, f.redirectURI); err == nil {
					mu.Lock()
					ok++
					mu.Unlock()
				}
			}()
		}
		wg.Wait()
		if ok != 1 {
			t.Errorf("%s: %d exchanges of one code succeeded, want 1", id, ok)
		}
	}
}

func TestConcurrentSignIns(t *testing.T) {
	e := newEnv(t, oauthfake.Options{})
	var wg sync.WaitGroup
	for i := range 12 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			id := []string{oauth.Google, oauth.GitHub}[i%2]
			state, verifier := oauth.RandomState(), oauth.RandomVerifier()
			c := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
			res, err := c.Get(e.pick(id).AuthCodeURL(state, verifier, redirectBase+id, nil, "racer@example.com"))
			if err != nil {
				t.Error(err)
				return
			}
			res.Body.Close()
			loc, _ := url.Parse(res.Header.Get("Location"))
			tok, err := e.pick(id).Exchange(context.Background(), loc.Query().Get("code"), verifier, redirectBase+id)
			if err != nil {
				t.Error(err)
				return
			}
			if u, err := e.pick(id).UserInfo(context.Background(), tok); err != nil || u.Email != "racer@example.com" {
				t.Errorf("UserInfo = %+v, %v", u, err)
			}
		}()
	}
	wg.Wait()
}
