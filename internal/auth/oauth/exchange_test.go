package oauth_test

import (
	"context"
	"encoding/base64"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"reflect"
	"sync/atomic"
	"testing"
	"time"

	"adstudio/internal/auth/oauth"
)

// tokenServer answers every token request with status and body (content type ctype), and
// hands the request's form and headers to inspect.
func tokenServer(t *testing.T, status int, ctype, body string, inspect func(url.Values, http.Header)) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := r.ParseForm(); err != nil {
			t.Errorf("parse form: %v", err)
		}
		if inspect != nil {
			inspect(r.PostForm, r.Header)
		}
		w.Header().Set("Content-Type", ctype)
		w.WriteHeader(status)
		io.WriteString(w, body)
	}))
	t.Cleanup(srv.Close)
	return srv
}

func providerAt(id, tokenURL string) *oauth.Provider {
	ep := oauth.Endpoints{TokenURL: tokenURL}
	var p *oauth.Provider
	if id == oauth.Google {
		p = oauth.NewGoogle("cid", "csecret", ep, nil)
	} else {
		p = oauth.NewGitHub("cid", "csecret", ep, nil)
	}
	p.Now = func() time.Time { return fixedNow }
	return p
}

func TestExchangeRequestShape(t *testing.T) {
	var form url.Values
	var header http.Header
	srv := tokenServer(t, 200, "application/json", `{"access_token":"a","token_type":"bearer"}`,
		func(f url.Values, h http.Header) { form, header = f, h })
	if _, err := providerAt(oauth.GitHub, srv.URL).Exchange(context.Background(), "the-code", "the-verifier", "https://api.example.com/cb"); err != nil {
		t.Fatal(err)
	}
	want := url.Values{
		"grant_type":    {"authorization_code"},
		"code":          {"the-code"},
		"code_verifier": {"the-verifier"},
		"redirect_uri":  {"https://api.example.com/cb"},
		"client_id":     {"cid"},
		"client_secret": {"csecret"},
	}
	if !reflect.DeepEqual(form, want) {
		t.Errorf("form = %v\nwant   %v", form, want)
	}
	if got := header.Get("Accept"); got != "application/json" {
		t.Errorf("Accept = %q, want application/json", got)
	}
	if got := header.Get("Content-Type"); got != "application/x-www-form-urlencoded" {
		t.Errorf("Content-Type = %q", got)
	}
	if got := header.Get("Authorization"); got != "" {
		t.Errorf("Authorization = %q, want none (client_secret_post)", got)
	}
}

func TestTokensMapping(t *testing.T) {
	at := func(d time.Duration) *time.Time { v := fixedNow.Add(d); return &v }
	cases := []struct {
		name, ctype, body string
		want              oauth.Tokens
	}{
		{
			name:  "google-style json",
			ctype: "application/json; charset=utf-8",
			body:  `{"access_token":"ya29.x","expires_in":3599,"refresh_token":"1//r","refresh_token_expires_in":"604799","scope":"openid https://www.googleapis.com/auth/userinfo.email","token_type":"Bearer","id_token":"h.p.s"}`,
			want: oauth.Tokens{
				AccessToken: "ya29.x", RefreshToken: "1//r", IDToken: "h.p.s",
				AccessTokenExpiresAt: at(3599 * time.Second), RefreshTokenExpiresAt: at(604799 * time.Second),
				Scopes: []string{"openid", "https://www.googleapis.com/auth/userinfo.email"},
			},
		},
		{
			name:  "github comma scopes",
			ctype: "application/json",
			body:  `{"access_token":"gho_x","token_type":"bearer","scope":"read:user,user:email"}`,
			want:  oauth.Tokens{AccessToken: "gho_x", Scopes: []string{"read:user", "user:email"}},
		},
		{
			name:  "scope array, zero expiry",
			ctype: "application/json",
			body:  `{"access_token":"t","expires_in":0,"scope":["a"," b ",""]}`,
			want:  oauth.Tokens{AccessToken: "t", Scopes: []string{"a", "b"}},
		},
		{
			name:  "form-encoded",
			ctype: "application/x-www-form-urlencoded; charset=utf-8",
			body:  "access_token=gho_f&expires_in=28800&refresh_token=ghr_r&refresh_token_expires_in=15811200&scope=&token_type=bearer",
			want: oauth.Tokens{
				AccessToken: "gho_f", RefreshToken: "ghr_r",
				AccessTokenExpiresAt: at(28800 * time.Second), RefreshTokenExpiresAt: at(15811200 * time.Second),
			},
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			srv := tokenServer(t, 200, c.ctype, c.body, nil)
			got, err := providerAt(oauth.Google, srv.URL).Exchange(context.Background(), "c", "v", "https://x/cb")
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(*got, c.want) {
				t.Errorf("Tokens = %+v\nwant     %+v", *got, c.want)
			}
		})
	}
}

func TestExchangeFailures(t *testing.T) {
	cases := []struct {
		name, ctype, body string
		status            int
	}{
		{"github 200 with error", "application/json", `{"error":"bad_verification_code","error_description":"The code passed is incorrect or expired.","error_uri":"https://docs.github.com"}`, 200},
		{"github form error", "application/x-www-form-urlencoded", "error=bad_verification_code&error_description=x", 200},
		{"google invalid_grant", "application/json", `{"error":"invalid_grant","error_description":"Bad Request"}`, 400},
		{"server error", "text/html", "<h1>oops</h1>", 500},
		{"no access token", "application/json", `{"token_type":"bearer"}`, 200},
		{"not json", "application/json", `{"access_token":`, 200},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			srv := tokenServer(t, c.status, c.ctype, c.body, nil)
			tok, err := providerAt(oauth.GitHub, srv.URL).Exchange(context.Background(), "c", "v", "https://x/cb")
			if !errors.Is(err, oauth.ErrExchange) {
				t.Errorf("Exchange = %+v, %v; want ErrExchange", tok, err)
			}
		})
	}
}

// A redirect from the token endpoint is refused, not followed: following a 307 would re-send
// the client secret to wherever it points.
func TestExchangeRefusesRedirect(t *testing.T) {
	var hit atomic.Bool
	target := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hit.Store(true)
		io.WriteString(w, `{"access_token":"stolen"}`)
	}))
	defer target.Close()
	redirector := httptest.NewServer(http.RedirectHandler(target.URL, http.StatusTemporaryRedirect))
	defer redirector.Close()
	if _, err := providerAt(oauth.Google, redirector.URL).Exchange(context.Background(), "c", "v", "https://x/cb"); !errors.Is(err, oauth.ErrExchange) {
		t.Errorf("err = %v, want ErrExchange", err)
	}
	if hit.Load() {
		t.Error("the redirect target received the token request")
	}
}

func TestExchangeHonoursContext(t *testing.T) {
	block := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { <-block }))
	defer srv.Close()
	defer close(block)
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if _, err := providerAt(oauth.Google, srv.URL).Exchange(ctx, "c", "v", "https://x/cb"); !errors.Is(err, oauth.ErrExchange) || !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("err = %v, want ErrExchange wrapping the deadline", err)
	}
}

func jwt(payload string) string {
	enc := base64.RawURLEncoding
	return enc.EncodeToString([]byte(`{"alg":"RS256","kid":"k","typ":"JWT"}`)) + "." + enc.EncodeToString([]byte(payload)) + ".c2ln"
}

func TestGoogleUserInfoClaims(t *testing.T) {
	p := oauth.NewGoogle("cid", "cs", oauth.Endpoints{}, nil)
	pic := "https://lh3.googleusercontent.com/a/x"
	cases := []struct {
		name    string
		idToken string
		want    *oauth.UserInfo
	}{
		{"bool verified", jwt(`{"sub":"1234567890","name":"Ann","email":"Ann@Example.com","email_verified":true,"picture":"` + pic + `"}`),
			&oauth.UserInfo{ID: "1234567890", Name: "Ann", Email: "ann@example.com", EmailVerified: true, Image: &pic}},
		{"string verified", jwt(`{"sub":"1","email":"a@b.c","email_verified":"true"}`),
			&oauth.UserInfo{ID: "1", Email: "a@b.c", EmailVerified: true}},
		{"string false", jwt(`{"sub":"1","email":"a@b.c","email_verified":"false"}`),
			&oauth.UserInfo{ID: "1", Email: "a@b.c"}},
		{"no email", jwt(`{"sub":"1","name":"N"}`), &oauth.UserInfo{ID: "1", Name: "N"}},
		{"no id_token", "", nil},
		{"not a jwt", "abc.def", nil},
		{"bad payload", "a.!!!.c", nil},
		{"payload not json", jwt(`[1,2]`), nil},
		{"no subject", jwt(`{"email":"a@b.c"}`), nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := p.UserInfo(context.Background(), &oauth.Tokens{AccessToken: "ya29.x", IDToken: c.idToken})
			if c.want == nil {
				if !errors.Is(err, oauth.ErrUserInfo) {
					t.Errorf("UserInfo = %+v, %v; want ErrUserInfo", got, err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, c.want) {
				t.Errorf("UserInfo = %+v, want %+v", got, c.want)
			}
		})
	}
}

// better-auth ignores an error answer from /user/emails; the public email is then kept, unverified.
func TestGitHubEmailsFailureIsNotFatal(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/user" {
			io.WriteString(w, `{"login":"octo","id":9007199254740993,"name":"","email":"Octo@Example.com","avatar_url":""}`)
			return
		}
		w.WriteHeader(http.StatusForbidden)
		io.WriteString(w, `{"message":"Resource not accessible by integration"}`)
	}))
	defer srv.Close()
	p := oauth.NewGitHub("cid", "cs", oauth.Endpoints{UserURL: srv.URL + "/user", EmailsURL: srv.URL + "/user/emails"}, nil)
	got, err := p.UserInfo(context.Background(), &oauth.Tokens{AccessToken: "gho_x"})
	if err != nil {
		t.Fatal(err)
	}
	// The id is kept exactly although it is beyond float64's integers.
	want := &oauth.UserInfo{ID: "9007199254740993", Name: "octo", Email: "octo@example.com"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("UserInfo = %+v, want %+v", got, want)
	}
}

func TestGitHubUserInfoFailures(t *testing.T) {
	cases := []struct {
		name   string
		status int
		body   string
	}{
		{"unauthorized", 401, `{"message":"Bad credentials"}`},
		{"no id", 200, `{"login":"octo"}`},
		{"id not a number", 200, `{"login":"octo","id":"abc"}`},
		{"not json", 200, `<html>`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.WriteHeader(c.status)
				io.WriteString(w, c.body)
			}))
			defer srv.Close()
			p := oauth.NewGitHub("cid", "cs", oauth.Endpoints{UserURL: srv.URL + "/user", EmailsURL: srv.URL + "/emails"}, nil)
			if got, err := p.UserInfo(context.Background(), &oauth.Tokens{AccessToken: "gho_x"}); !errors.Is(err, oauth.ErrUserInfo) {
				t.Errorf("UserInfo = %+v, %v; want ErrUserInfo", got, err)
			}
		})
	}
}
