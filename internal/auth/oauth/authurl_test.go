package oauth_test

import (
	"net/url"
	"reflect"
	"strings"
	"testing"

	"adstudio/internal/auth/oauth"
)

// A verifier and the challenge better-auth computed for it (docs/auth-wire.md §11).
const (
	vectorVerifier  = "LqDhxhwnrrDrJcGisjQyqVls-uoT9h3IFVZ2e8qLZJzT0q9pTsRj7WTT4F6dZLCMBDbRgk78-Ft3IVGK61Xg1HPDFI6_KaZrnsgvwB04tmYurfwnKbLmSfPbsvur_kSJ"
	vectorChallenge = "gdf2gJ_rQDghcgAqkEQPtqxQ8ApKbAgttlRZu4TiI8E"
	vectorState     = "ztlNMiGy-6FHRJXcgaOgzQt8F7IHIpRw"
)

// queryKeys returns the parameter names of a raw query in order.
func queryKeys(t *testing.T, raw string) []string {
	t.Helper()
	var keys []string
	for _, kv := range strings.Split(raw, "&") {
		k, _, _ := strings.Cut(kv, "=")
		keys = append(keys, k)
	}
	return keys
}

func TestAuthCodeURLMatchesBetterAuth(t *testing.T) {
	// The Google URL better-auth produced (docs/auth-wire.md §8.3, §11), with the state and
	// verifier of the test vectors.
	p := oauth.NewGoogle("gid", "secret", oauth.Endpoints{}, nil)
	got := p.AuthCodeURL(vectorState, vectorVerifier, "https://api.example.com/api/auth/callback/google", nil, "")
	want := "https://accounts.google.com/o/oauth2/v2/auth?response_type=code&client_id=gid&state=" + vectorState +
		"&scope=email+profile+openid&redirect_uri=https%3A%2F%2Fapi.example.com%2Fapi%2Fauth%2Fcallback%2Fgoogle" +
		"&code_challenge_method=S256&code_challenge=" + vectorChallenge + "&include_granted_scopes=true"
	if got != want {
		t.Errorf("AuthCodeURL =\n %s\nwant\n %s", got, want)
	}
}

func TestAuthCodeURLParameters(t *testing.T) {
	cases := []struct {
		name      string
		p         *oauth.Provider
		extra     []string
		hint      string
		base      string
		wantKeys  []string
		wantQuery url.Values
	}{
		{
			name:  "google with extras and hint",
			p:     oauth.NewGoogle("gid", "gsecret", oauth.Endpoints{}, nil),
			extra: []string{"openid", "https://www.googleapis.com/auth/drive.file", "", "email", "https://www.googleapis.com/auth/drive.file"},
			hint:  "ann@example.com",
			base:  "https://accounts.google.com/o/oauth2/v2/auth",
			wantKeys: []string{"response_type", "client_id", "state", "scope", "redirect_uri", "login_hint",
				"code_challenge_method", "code_challenge", "include_granted_scopes"},
			wantQuery: url.Values{
				"response_type":          {"code"},
				"client_id":              {"gid"},
				"state":                  {vectorState},
				"scope":                  {"email profile openid https://www.googleapis.com/auth/drive.file"},
				"redirect_uri":           {"https://api.example.com/api/auth/callback/google"},
				"login_hint":             {"ann@example.com"},
				"code_challenge_method":  {"S256"},
				"code_challenge":         {vectorChallenge},
				"include_granted_scopes": {"true"},
			},
		},
		{
			name:     "github defaults",
			p:        oauth.NewGitHub("ghid", "ghsecret", oauth.Endpoints{}, nil),
			base:     "https://github.com/login/oauth/authorize",
			wantKeys: []string{"response_type", "client_id", "state", "scope", "redirect_uri", "code_challenge_method", "code_challenge"},
			wantQuery: url.Values{
				"response_type":         {"code"},
				"client_id":             {"ghid"},
				"state":                 {vectorState},
				"scope":                 {"read:user user:email"},
				"redirect_uri":          {"https://api.example.com/api/auth/callback/github"},
				"code_challenge_method": {"S256"},
				"code_challenge":        {vectorChallenge},
			},
		},
		{
			name:     "github with extras, endpoint override",
			p:        oauth.NewGitHub("ghid", "ghsecret", oauth.Endpoints{AuthURL: "http://127.0.0.1:9/github/login/oauth/authorize"}, nil),
			extra:    []string{"repo", "user:email", "gist"},
			hint:     "octo@example.com",
			base:     "http://127.0.0.1:9/github/login/oauth/authorize",
			wantKeys: []string{"response_type", "client_id", "state", "scope", "redirect_uri", "login_hint", "code_challenge_method", "code_challenge"},
			wantQuery: url.Values{
				"response_type":         {"code"},
				"client_id":             {"ghid"},
				"state":                 {vectorState},
				"scope":                 {"read:user user:email repo gist"},
				"redirect_uri":          {"https://api.example.com/api/auth/callback/github"},
				"login_hint":            {"octo@example.com"},
				"code_challenge_method": {"S256"},
				"code_challenge":        {vectorChallenge},
			},
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			raw := c.p.AuthCodeURL(vectorState, vectorVerifier, "https://api.example.com/api/auth/callback/"+c.p.ID(), c.extra, c.hint)
			u, err := url.Parse(raw)
			if err != nil {
				t.Fatal(err)
			}
			if got := u.Scheme + "://" + u.Host + u.Path; got != c.base {
				t.Errorf("base = %s, want %s", got, c.base)
			}
			if got := u.Query(); !reflect.DeepEqual(got, c.wantQuery) {
				t.Errorf("query = %v\nwant    %v", got, c.wantQuery)
			}
			if got := queryKeys(t, u.RawQuery); !reflect.DeepEqual(got, c.wantKeys) {
				t.Errorf("parameter order = %v\nwant              %v", got, c.wantKeys)
			}
		})
	}
}

func TestRandomStateAndVerifier(t *testing.T) {
	const alphabet = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_"
	seen := map[string]bool{}
	counts := map[rune]int{}
	for range 200 {
		s, v := oauth.RandomState(), oauth.RandomVerifier()
		if len(s) != 32 || len(v) != 128 {
			t.Fatalf("lengths %d and %d, want 32 and 128", len(s), len(v))
		}
		if seen[s] {
			t.Fatalf("state %q repeated", s)
		}
		seen[s] = true
		for _, r := range s + v {
			if !strings.ContainsRune(alphabet, r) {
				t.Fatalf("character %q outside the alphabet", r)
			}
			counts[r]++
		}
	}
	// 32000 draws over 64 symbols: every symbol appears (expected 500 each).
	if len(counts) != 64 {
		t.Errorf("%d distinct characters over 32000 draws, want all 64", len(counts))
	}
}
