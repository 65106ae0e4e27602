package authapi_test

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"adstudio/internal/config"
	"adstudio/internal/devtools/oauthfake"
	"adstudio/internal/functions/auth"
	"adstudio/internal/server"
)

// TestCallbackLogsOAuthFailure: a callback that fails at the provider
// redirects with the bare code better-auth sends (invalid_code,
// unable_to_get_user_info) and logs why, once: the provider, the step, the
// provider's status and OAuth error code. The log holds none of the
// secrets of the flow: the authorization code, the PKCE verifier, the
// state, the client secret, an access token or the cookies.
func TestCallbackLogsOAuthFailure(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		provider, hint string
		redirect       string // the ?error= of the redirect
		want           map[string]any
	}{
		{"github", "badtoken@example.com", "invalid_code", map[string]any{
			"level": "WARN", "step": "token_exchange", "upstreamStatus": float64(200), "upstreamError": "bad_verification_code",
			"err": `oauth: github token_exchange failed: status 200, error "bad_verification_code"`}},
		{"google", "badtoken@example.com", "invalid_code", map[string]any{
			"level": "WARN", "step": "token_exchange", "upstreamStatus": float64(400), "upstreamError": "invalid_grant",
			"err": `oauth: google token_exchange failed: status 400, error "invalid_grant"`}},
		{"github", "baduser@example.com", "unable_to_get_user_info", map[string]any{
			"level": "WARN", "step": "user", "upstreamStatus": float64(500),
			"err": "oauth: github user failed: status 500"}},
		{"google", "baduser@example.com", "unable_to_get_user_info", map[string]any{
			"level": "WARN", "step": "id_token",
			"err": "oauth: google id_token failed: token response has no id_token"}},
	} {
		t.Run(tc.provider+" "+tc.hint, func(t *testing.T) {
			t.Parallel()
			fake := oauthfake.New(oauthfake.Options{})
			fs := httptest.NewServer(fake)
			t.Cleanup(fs.Close)
			var logs bytes.Buffer
			h := oauthLogHandler(t, fs.URL, slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug})))

			// Start the flow as the SPA does, and let the fake provider
			// answer its authorize page.
			start := httptest.NewRequest("POST", "/api/auth/sign-in/social", strings.NewReader(`{"provider":"`+tc.provider+`","loginHint":"`+tc.hint+`","callbackURL":"http://localhost:5173/dash","errorCallbackURL":"http://localhost:5173/login"}`))
			start.Header.Set("Origin", "http://localhost:5173")
			start.Header.Set("Content-Type", "application/json")
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, start)
			var started struct{ URL string }
			if rec.Code != 200 || json.Unmarshal(rec.Body.Bytes(), &started) != nil {
				t.Fatalf("sign-in/social: %d %s", rec.Code, rec.Body)
			}
			var cookies []string
			for _, c := range rec.Result().Cookies() {
				cookies = append(cookies, c.Name+"="+c.Value)
			}
			noFollow := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
			res, err := noFollow.Get(started.URL)
			if err != nil {
				t.Fatal(err)
			}
			res.Body.Close()
			back, err := url.Parse(res.Header.Get("Location"))
			if err != nil || back.Query().Get("code") == "" {
				t.Fatalf("authorize answered %d, Location %q", res.StatusCode, res.Header.Get("Location"))
			}

			cb := httptest.NewRequest("GET", "/api/auth/callback/"+tc.provider+"?"+back.RawQuery, nil)
			cb.Header.Set("Cookie", strings.Join(cookies, "; "))
			rec = httptest.NewRecorder()
			h.ServeHTTP(rec, cb)
			if want := "http://localhost:5173/login?error=" + tc.redirect; rec.Code != http.StatusFound || rec.Header().Get("Location") != want {
				t.Fatalf("callback: %d Location %q, want %q", rec.Code, rec.Header().Get("Location"), want)
			}

			lines := strings.Split(strings.TrimSpace(logs.String()), "\n")
			if len(lines) != 1 {
				t.Fatalf("%d log lines, want 1:\n%s", len(lines), logs.String())
			}
			var got map[string]any
			if err := json.Unmarshal([]byte(lines[0]), &got); err != nil {
				t.Fatal(err)
			}
			want := map[string]any{"msg": "oauth callback failed", "provider": tc.provider, "error": tc.redirect}
			for k, v := range tc.want {
				want[k] = v
			}
			for k, v := range want {
				if got[k] != v {
					t.Errorf("log %s = %v, want %v", k, got[k], v)
				}
			}

			secrets := map[string]string{
				"code":          back.Query().Get("code"),
				"state":         back.Query().Get("state"),
				"client secret": map[string]string{"github": oauthfake.DefaultGitHubClientSecret, "google": oauthfake.DefaultGoogleClientSecret}[tc.provider],
				"verifier":      fake.LastToken(tc.provider).Get("code_verifier"),
				"cookies":       strings.Join(cookies, "; "),
			}
			for _, r := range fake.Requests() {
				if tok := strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer "); tok != "" {
					secrets["access token"] = tok
				}
			}
			if tc.hint == "baduser@example.com" && tc.provider == "github" && secrets["access token"] == "" {
				t.Fatal("the profile request carried no token: is the test still reaching /user?")
			}
			for what, s := range secrets {
				if s == "" {
					if what != "access token" {
						t.Fatalf("no %s to look for", what)
					}
					continue
				}
				if strings.Contains(logs.String(), s) {
					t.Errorf("the log holds the %s %q: %s", what, s, logs.String())
				}
			}
		})
	}
}

// oauthLogHandler is the auth function as its Lambda builds it, on a fresh
// database, its social sign-in pointed at the fake at fakeURL and logging
// to log.
func oauthLogHandler(t *testing.T, fakeURL string, log *slog.Logger) http.Handler {
	t.Helper()
	vars := map[string]string{
		"TURSO_DATABASE_URL":   "file:" + filepath.Join(t.TempDir(), "test.db"),
		"BETTER_AUTH_SECRET":   "test-secret-0123456789-abcdefghijklmnopqrstuvwxyz",
		"BETTER_AUTH_URL":      "http://localhost:1",
		"TRUSTED_ORIGINS":      "http://localhost:5173",
		"RATE_LIMIT_ENABLED":   "false",
		"COOKIE_SAMESITE":      "lax",
		"GOOGLE_CLIENT_ID":     oauthfake.DefaultGoogleClientID,
		"GOOGLE_CLIENT_SECRET": oauthfake.DefaultGoogleClientSecret,
		"GOOGLE_AUTH_URL":      fakeURL + oauthfake.GoogleAuthPath,
		"GOOGLE_TOKEN_URL":     fakeURL + oauthfake.GoogleTokenPath,
		"GITHUB_CLIENT_ID":     oauthfake.DefaultGitHubClientID,
		"GITHUB_CLIENT_SECRET": oauthfake.DefaultGitHubClientSecret,
		"GITHUB_AUTH_URL":      fakeURL + oauthfake.GitHubAuthPath,
		"GITHUB_TOKEN_URL":     fakeURL + oauthfake.GitHubTokenPath,
		"GITHUB_API_URL":       fakeURL + "/github",
	}
	cfg, err := config.Load(func(k string) string { return vars[k] }, false)
	if err != nil {
		t.Fatalf("config: %v", err)
	}
	core, err := server.New(cfg, time.Now)
	if err != nil {
		t.Fatalf("server: %v", err)
	}
	t.Cleanup(func() { core.Close() })
	if _, err := core.DB.Migrate(t.Context(), string(cfg.AuthSchema)); err != nil {
		t.Fatalf("migrate: %v", err)
	}
	f := auth.New(core, auth.Options{})
	f.API.Social.Logger = log
	h, err := f.Handler()
	if err != nil {
		t.Fatalf("handler: %v", err)
	}
	return h
}
