package devapp_test

import (
	"encoding/json"
	"errors"
	"io"
	"log"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stripe/stripe-go/v85/webhook"

	"adstudio/internal/devtools/mailpittest"
	"adstudio/internal/devtools/oauthfake"
	"adstudio/internal/devtools/qwenfake"
	"adstudio/internal/devtools/stripemocktest"
	"adstudio/internal/devtools/testenv"
)

// captureLogs sends everything the process logs through slog's default
// logger or the log package to the returned buffer, as JSON lines, until
// the test ends.
//
// Swapping the process-wide default is unavoidable: httpapi.WriteError
// (every 5xx with its cause) and httpapi.WriteJSON log to slog.Default()
// with no logger to inject, and a check that sees every log line must not
// rely on each package offering one. It is safe only because the caller is
// not parallel: go test runs a package's parallel tests after all of its
// sequential top-level tests have returned, so nothing else runs while the
// default is swapped (every other test here calls t.Parallel first), and
// the capture needs no filter. slog.SetDefault also re-points the log
// package at the new handler, and setting the old default back does not
// undo that, so the log package's writer and flags are restored too.
func captureLogs(t *testing.T) *syncBuffer {
	t.Helper()
	buf := &syncBuffer{}
	prev, prevOut, prevFlags := slog.Default(), log.Writer(), log.Flags()
	slog.SetDefault(slog.New(slog.NewJSONHandler(buf, &slog.HandlerOptions{Level: slog.LevelDebug})))
	t.Cleanup(func() {
		slog.SetDefault(prev)
		log.SetOutput(prevOut)
		log.SetFlags(prevFlags)
	})
	return buf
}

// knownSecrets are the values of one flow that no log line may hold, each
// with what it is.
type knownSecrets struct {
	mu   sync.Mutex
	vals map[string]string
}

func (k *knownSecrets) add(what, v string) {
	if v == "" {
		return
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.vals == nil {
		k.vals = map[string]string{}
	}
	k.vals[v] = what
}

// addCookie records a Set-Cookie line's value: as sent, decoded, and the
// token before a signed cookie's signature.
func (k *knownSecrets) addCookie(line string) {
	c, err := http.ParseSetCookie(line)
	if err != nil || c.Value == "" {
		return
	}
	what := "cookie " + c.Name
	k.add(what, c.Value)
	if v, err := url.QueryUnescape(c.Value); err == nil {
		k.add(what, v)
		if tok, _, ok := strings.Cut(v, "."); ok {
			k.add(what+" (token)", tok)
		}
	}
}

// appSpy counts the requests the app serves and keeps every cookie it sets.
type appSpy struct {
	mu     sync.Mutex
	served int
	known  *knownSecrets
}

func (s *appSpy) wrap(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h.ServeHTTP(w, r)
		for _, c := range w.Header().Values("Set-Cookie") {
			s.known.addCookie(c)
		}
		s.mu.Lock()
		s.served++
		s.mu.Unlock()
	})
}

// tokenSpy is the OAuth fake with its token answers read on the way out:
// the access, refresh and ID tokens it issues are secrets of the flow.
func tokenSpy(fake http.Handler, known *knownSecrets) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rec := httptest.NewRecorder()
		fake.ServeHTTP(rec, r)
		if r.URL.Path == oauthfake.GoogleTokenPath || r.URL.Path == oauthfake.GitHubTokenPath {
			var m map[string]any
			json.Unmarshal(rec.Body.Bytes(), &m)
			for _, k := range []string{"access_token", "refresh_token", "id_token"} {
				s, _ := m[k].(string)
				known.add("OAuth "+k, s)
			}
		}
		for k, vs := range rec.Header() {
			w.Header()[k] = vs
		}
		w.WriteHeader(rec.Code)
		io.Copy(w, rec.Body)
	})
}

// emailRE finds anything shaped like an email address.
var emailRE = regexp.MustCompile(`[A-Za-z0-9._%+-]+(@|%40)[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+`)

// TestNoSecretsInLogs runs a whole user's life (sign-up, sign-in with the
// wrong and the right password, email verification, social sign-in and
// linking through the fake Google and GitHub, failed social callbacks,
// password reset, a mail the SMTP server refuses, failed and successful
// generations through the fake DashScope, history, deletes, a purchase
// through stripe-mock and signed webhook deliveries, delete-user)
// with known secret values, capturing every line the process logs, and
// fails if any of those values, or any email address, appears in them.
//
// Mail goes over SMTP to Mailpit, the transport a deployment uses, so the
// check covers every line a deployment logs. (The outbox transport of make
// dev deliberately logs its links for the developer; it is never deployed.)
//
// Not parallel: see captureLogs.
func TestNoSecretsInLogs(t *testing.T) {
	logs := captureLogs(t) // first, so it is restored after everything else has stopped
	known := &knownSecrets{}

	const (
		password      = "Pw-Secret-9f3b1c7e2a"
		wrongPassword = "Pw-Wrong-71c5e9d2b3"
		newPassword   = "Pw-Reset-4d8e0a6b1f"
		authSecret    = "Auth-Secret-3a7f9e1c5b2d8f4a6c0e9b7d5f3a1c8e"
		googleSecret  = "Google-Secret-8c1d4f7a2e"
		githubSecret  = "GitHub-Secret-2b6e9c3f1a"
		smtpPassword  = "Smtp-Secret-5e2c8a1f7b"
		stripeKey     = "sk_test_NoSecretsStripeKey7c2e9a4f1b"
		stripeHook    = "whsec_NoSecretsHookSecret3d8b6f0e2a"
		fromDomain    = "adstudio.test"

		annEmail    = "ns-ann.lovelace@example.com"  // the password user
		octoEmail   = "ns-octo.cat@example.com"      // GitHub sign-up
		graceEmail  = "ns-grace.hopper@example.com"  // Google sign-up
		badToken    = "badtoken+ns@example.com"      // the fake refuses the code
		badUser     = "baduser+ns@example.com"       // the fake's profile call fails
		nobodyEmail = "ns-nobody@example.com"        // a reset for an unknown address
		bounceEmail = "ns-bounce@bounce.example.org" // the SMTP server refuses it
	)
	for what, v := range map[string]string{
		"password": password, "wrong password": wrongPassword, "new password": newPassword,
		"BETTER_AUTH_SECRET": authSecret, "Google client secret": googleSecret,
		"GitHub client secret": githubSecret, "SMTP password": smtpPassword,
		"Stripe secret key": stripeKey, "Stripe webhook secret": stripeHook,
	} {
		known.add(what, v)
	}
	emails := []string{annEmail, octoEmail, graceEmail, badToken, badUser, nobodyEmail, bounceEmail}

	// Mailpit takes any login and refuses every recipient outside
	// example.com, so the bounce address's mails fail as a real server's
	// refusal would.
	mp := mailpittest.Start(t, testenv.Tool(t, mailpittest.BinEnv, mailpittest.BinHow), "--smtp-auth-accept-any", "--smtp-auth-allow-insecure", "--smtp-allowed-recipients", `@example\.com$`)
	gen := qwenfake.New(t)
	known.add("DashScope API key", gen.APIKey())
	stripeAPI := stripemocktest.Start(t, testenv.Tool(t, stripemocktest.BinEnv, stripemocktest.BinHow))
	oauth := oauthfake.New(oauthfake.Options{GoogleClientSecret: googleSecret, GitHubClientSecret: githubSecret})
	fs := httptest.NewServer(tokenSpy(oauth, known))
	t.Cleanup(fs.Close)

	ts := newServer(t, map[string]string{
		"BETTER_AUTH_SECRET": authSecret,
		"BETTER_AUTH_URL":    "http://localhost:1", // same-site with the SPA: the plain social flow

		"GOOGLE_CLIENT_ID": oauthfake.DefaultGoogleClientID, "GOOGLE_CLIENT_SECRET": googleSecret,
		"GOOGLE_AUTH_URL": fs.URL + oauthfake.GoogleAuthPath, "GOOGLE_TOKEN_URL": fs.URL + oauthfake.GoogleTokenPath,
		"GITHUB_CLIENT_ID": oauthfake.DefaultGitHubClientID, "GITHUB_CLIENT_SECRET": githubSecret,
		"GITHUB_AUTH_URL": fs.URL + oauthfake.GitHubAuthPath, "GITHUB_TOKEN_URL": fs.URL + oauthfake.GitHubTokenPath,
		"GITHUB_API_URL": fs.URL + "/github",

		"QWEN_API_KEY": gen.APIKey(), "QWEN_BASE_URL": gen.URL(), "QWEN_TIMEOUT_MS": "1800000",
		"FETCH_ALLOW_HOSTS": strings.TrimPrefix(gen.URL(), "http://"),
		"OBJECTS_DIR":       filepath.Join(t.TempDir(), "objects"),

		"EMAIL_TRANSPORT": "smtp", "EMAIL_FROM": "AdStudio <noreply@" + fromDomain + ">", "EMAIL_VERIFICATION": "send",
		"SMTP_URL": "smtp://mailer:" + smtpPassword + "@" + mp.SMTPAddr,

		"BILLING_PACKS": billingPacks, "STRIPE_SECRET_KEY": stripeKey, "STRIPE_WEBHOOK_SECRET": stripeHook, "STRIPE_API_BASE": stripeAPI,
	})
	ts.app.SetSyncBudget(time.Hour) // as newGenServer: no clock decides an outcome
	// The access log goes where everything else goes (as on Lambda, where
	// it is slog's default too).
	ts.app.SetAccessLog(slog.Default())
	spy := &appSpy{known: known}
	srv := httptest.NewServer(spy.wrap(ts.app.DevHandler()))
	t.Cleanup(srv.Close)
	ts.srv = srv

	status := func(what string, r resp, want int) resp {
		t.Helper()
		if r.StatusCode != want {
			t.Fatalf("%s: %d %s, want %d", what, r.StatusCode, r.body, want)
		}
		return r
	}
	// open follows a link of a mail (on BETTER_AUTH_URL) to the test server.
	open := func(b *browser, u *url.URL) resp {
		t.Helper()
		return b.do(t, "GET", u.RequestURI(), nil, header{"Origin": ""})
	}
	// social walks one flow through the fake provider, recording its code
	// and state.
	social := func(b *browser, path, provider, email string) resp {
		t.Helper()
		f := b.startSocial(t, path, provider, email, nil)
		if u, err := url.Parse(f.callback); err == nil {
			known.add("OAuth code", u.Query().Get("code"))
			known.add("OAuth state", u.Query().Get("state"))
		}
		return b.land(t, f.callback)
	}

	// Sign-up (which mails a verification link), the session, sign-in with
	// the wrong and the right password.
	ann := ts.browser()
	r := ann.do(t, "POST", "/api/auth/sign-up/email", map[string]any{"name": "Ann", "email": annEmail, "password": password, "callbackURL": spaOrigin + "/welcome"}, nil)
	known.add("session token", status("sign-up", r, 200).json(t)["token"].(string))
	if got := ann.sessionUser(t, "?disableCookieCache=true"); got != annEmail {
		t.Fatalf("session after sign-up: %q", got)
	}
	status("wrong password", ts.browser().signIn(t, annEmail, wrongPassword), 401)
	known.add("session token", status("sign-in", ann.signIn(t, annEmail, password), 200).json(t)["token"].(string))

	// Verification.
	link := mp.Link(t, annEmail, "/api/auth/verify-email")
	known.add("verification token", link.Query().Get("token"))
	wantRedirect(t, open(ts.browser(), link), spaOrigin+"/welcome")

	// Social: a GitHub sign-up, a Google one, Ann links GitHub and unlinks
	// it, and two callbacks that fail (the fake refuses the code; the
	// profile call fails), which the server logs.
	wantRedirect(t, social(ts.browser(), "/api/auth/sign-in/social", "github", octoEmail), spaOrigin+"/welcome")
	grace := ts.browser()
	wantRedirect(t, social(grace, "/api/auth/sign-in/social", "google", graceEmail), spaOrigin+"/welcome")
	wantRedirect(t, social(ann, "/api/auth/link-social", "github", annEmail), spaOrigin+"/dash")
	var accounts []map[string]any
	if err := json.Unmarshal(status("list-accounts", ann.do(t, "GET", "/api/auth/list-accounts", nil, nil), 200).body, &accounts); err != nil || len(accounts) != 2 {
		t.Fatalf("accounts after link: %v %v", accounts, err)
	}
	status("unlink", ann.do(t, "POST", "/api/auth/unlink-account", map[string]any{"accountId": accounts[1]["id"]}, nil), 200)
	wantRedirect(t, social(ts.browser(), "/api/auth/sign-in/social", "github", badToken), spaOrigin+"/login?error=invalid_code")
	wantRedirect(t, social(ts.browser(), "/api/auth/sign-in/social", "github", badUser), spaOrigin+"/login?error=unable_to_get_user_info")

	// Password reset: the mail, its link, the new password. An unknown
	// address is answered alike.
	status("request reset", ts.browser().do(t, "POST", "/api/auth/request-password-reset", map[string]any{"email": annEmail, "redirectTo": spaOrigin + "/reset"}, nil), 200)
	status("request reset, unknown", ts.browser().do(t, "POST", "/api/auth/request-password-reset", map[string]any{"email": nobodyEmail, "redirectTo": spaOrigin + "/reset"}, nil), 200)
	link = mp.Link(t, annEmail, "/api/auth/reset-password/")
	token := strings.TrimPrefix(link.Path, "/api/auth/reset-password/")
	known.add("reset token", token)
	wantRedirect(t, open(ts.browser(), link), spaOrigin+"/reset?token="+token)
	status("reset", ts.browser().do(t, "POST", "/api/auth/reset-password", map[string]any{"newPassword": newPassword, "token": token}, nil), 200)
	ann = ts.browser()
	known.add("session token", status("sign-in, new password", ann.signIn(t, annEmail, newPassword), 200).json(t)["token"].(string))

	// Mails the SMTP server refuses (sign-up's verification, a reset):
	// answered as sent, the failure logged.
	ts.browser().signUp(t, bounceEmail, password)
	status("request reset, refused", ts.browser().do(t, "POST", "/api/auth/request-password-reset", map[string]any{"email": bounceEmail}, nil), 200)

	// Generations: two the provider fails (its credit comes back), one
	// that succeeds; history, the image, delete.
	for _, marker := range []string{qwenfake.BadKey, qwenfake.Internal} {
		status("generation "+marker, ann.do(t, "POST", "/api/workflows/image-from-text", spaTextPayload("a mug "+marker), nil), 502)
	}
	id, _ := status("generation", ann.do(t, "POST", "/api/workflows/image-from-text", spaTextPayload("a ceramic mug"), nil), 200).json(t)["generationId"].(string)
	status("history", ann.do(t, "GET", "/api/history?limit=12", nil, nil), 200)
	status("history item", ann.do(t, "GET", "/api/history/"+id, nil, nil), 200)
	status("asset", ann.do(t, "GET", "/api/history/"+id+"/asset", nil, nil), 200)
	// A delete the bucket fails is an unexpected error: a 500 whose cause
	// httpapi logs. The retry succeeds.
	ts.app.InjectFaults(func(step string) error {
		if step == "delete-objects" {
			return errors.New("storage is down")
		}
		return nil
	})
	status("delete, storage down", ann.do(t, "DELETE", "/api/history/"+id, nil, nil), 500)
	ts.app.InjectFaults(nil)
	status("delete", ann.do(t, "DELETE", "/api/history/"+id, nil, nil), 200)

	// A purchase: the checkout at Stripe, the webhook's grant, one
	// delivery signed with another secret (refused), and a checkout while
	// Stripe is unreachable (a logged 502).
	cs, _ := status("checkout", ann.do(t, "POST", "/api/billing/checkout", map[string]any{"packId": "starter", "successUrl": spaOrigin + "/ok", "cancelUrl": spaOrigin + "/no"}, nil), 200).json(t)["sessionId"].(string)
	paid := stripeEvent("evt_ns", "checkout.session.completed", paidSession(cs, userID(t, ts, annEmail), "starter", "pi_ns"))
	for _, secret := range []string{stripeHook, "whsec_someone_else"} {
		signed := webhook.GenerateTestSignedPayload(&webhook.UnsignedPayload{Payload: paid, Secret: secret, Timestamp: ts.clock.Now()})
		known.add("Stripe-Signature", signed.Header)
		ts.deliver(t, paid, secret, ts.clock.Now())
	}
	ts.app.SetStripeHTTPClient(&http.Client{Transport: roundTripFunc(func(*http.Request) (*http.Response, error) { return nil, errors.New("connection refused") })})
	status("checkout, Stripe down", ann.do(t, "POST", "/api/billing/checkout", map[string]any{"packId": "starter", "successUrl": spaOrigin + "/ok", "cancelUrl": spaOrigin + "/no"}, nil), 502)
	status("purchases", ann.do(t, "GET", "/api/billing/purchases", nil, nil), 200)

	// Sign-out, and the account deleted.
	status("sign-out", grace.do(t, "POST", "/api/auth/sign-out", map[string]any{}, nil), 200)
	status("delete-user", ann.do(t, "POST", "/api/auth/delete-user", map[string]any{"password": newPassword}, nil), 200)

	// A reset link opened while the database fails: an unexpected error,
	// whose 500 is logged with its cause and the request it answered.
	if err := ts.app.DB.Exec(t.Context(), `DROP TABLE "verification"`); err != nil {
		t.Fatal(err)
	}
	const probe = "Probe-Reset-Token-6b1e9d4c2a"
	known.add("reset token", probe)
	status("reset link, database failing", ts.browser().do(t, "GET", "/api/auth/reset-password/"+probe+"?callbackURL="+url.QueryEscape(spaOrigin+"/reset"), nil, header{"Origin": ""}), 500)

	// Everything has been logged once the server has answered every
	// request (Close waits for them) and the generation jobs are done.
	srv.Close()
	ts.app.WaitJobs()
	// What the app sent the providers: the PKCE verifiers, the bearer
	// tokens (the token answers were recorded on the way out).
	for _, req := range oauth.Requests() {
		known.add("PKCE verifier", req.Form.Get("code_verifier"))
		if _, tok, ok := strings.Cut(req.Header.Get("Authorization"), " "); ok {
			known.add("OAuth bearer token", tok)
		}
	}

	lines := logs.lines(t)
	var access int
	msgs := map[string]bool{}
	for _, l := range lines {
		msg, _ := l["msg"].(string)
		msgs[msg] = true
		if msg == "request" {
			access++
		}
	}
	// The capture works: a line per request, and the error paths' lines.
	if access != spy.served || access == 0 {
		t.Errorf("%d access lines for %d requests", access, spy.served)
	}
	for _, want := range []string{"oauth callback failed", "mail not sent", "generation failed", "request failed"} {
		if !msgs[want] {
			t.Errorf("no %q line was captured", want)
		}
	}

	// The lines re-encoded without HTML escaping, so that "<a@b.example>"
	// reads as written, not as "\u003ca@b.example\u003e".
	raw := make([]string, len(lines))
	for i, l := range lines {
		var b strings.Builder
		enc := json.NewEncoder(&b)
		enc.SetEscapeHTML(false)
		enc.Encode(l)
		raw[i] = strings.TrimSuffix(b.String(), "\n")
	}
	all := strings.Join(raw, "\n")
	for v, what := range known.vals {
		if len(v) < 8 {
			t.Errorf("%s %q is too short to look for", what, v)
			continue
		}
		enc, _ := json.Marshal(v)
		for _, form := range []string{v, url.QueryEscape(v), url.PathEscape(v), strings.Trim(string(enc), `"`)} {
			if strings.Contains(all, form) {
				t.Errorf("%s %q is in the log:\n%s", what, v, linesWith(raw, form))
				break
			}
		}
	}
	lower := strings.ToLower(all)
	for _, e := range emails {
		if strings.Contains(lower, strings.ToLower(e)) || strings.Contains(lower, strings.ToLower(url.QueryEscape(e))) {
			t.Errorf("the address %s is in the log:\n%s", e, linesWith(strings.Split(lower, "\n"), strings.ToLower(e)))
		}
	}
	// Nor any other address (a provider's secondary one, one a server's
	// reply quotes): only the service's own domain (its sender, its
	// Message-IDs), which is nobody's personal data.
	for _, l := range raw {
		for _, m := range emailRE.FindAllString(l, -1) {
			if !strings.HasSuffix(m, "@"+fromDomain) {
				t.Errorf("an email address (%s) is in the log: %s", m, l)
			}
		}
	}
	t.Logf("%d lines captured (%d access lines), %d known secrets and %d addresses looked for", len(lines), access, len(known.vals), len(emails))
	if t.Failed() {
		for _, l := range raw {
			if !strings.Contains(l, `"msg":"request"`) {
				t.Log(l)
			}
		}
	}
}

// linesWith returns the lines that contain s.
func linesWith(lines []string, s string) string {
	var out []string
	for _, l := range lines {
		if strings.Contains(l, s) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}
