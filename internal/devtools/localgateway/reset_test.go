package localgateway

import (
	"io"
	"net/http"
	"net/mail"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"adstudio/internal/devtools/sesfake"
	"adstudio/internal/routes"
)

// resetAnswer is POST /request-password-reset's one answer (docs/auth-wire.md §3.11).
const resetAnswer = `{"status":true,"message":"If this email exists in our system, check your email for the reset link"}`

var (
	linkRE  = regexp.MustCompile(`https?://\S+`)
	tokenRE = regexp.MustCompile(`^[A-Za-z0-9]{24}$`)
)

// withSES restarts s's auth function with its SES calls sent to a fake
// that accepts exactly the credentials and region the gateway gives the
// functions (FunctionEnv: dummy long-term keys, no session token). The
// gateway passes none of its own AWS_* variables on, so
// AWS_ENDPOINT_URL_SESV2 cannot be set through its environment; it is
// added to the function's here, the rest of which is the gateway's. The
// returned buffer gets the function's log lines too.
func withSES(t *testing.T, s *Server) (*sesfake.Server, *syncBuffer) {
	t.Helper()
	cfg := s.Functions[routes.Auth].cfg
	env := lookup(cfg.Env)
	if env("EMAIL_TRANSPORT") != "ses" || env("AWS_ENDPOINT_URL_SESV2") != "" {
		t.Fatalf("auth function's environment: EMAIL_TRANSPORT=%q AWS_ENDPOINT_URL_SESV2=%q", env("EMAIL_TRANSPORT"), env("AWS_ENDPOINT_URL_SESV2"))
	}
	fake := sesfake.NewFor(t, sesfake.Credentials{
		AccessKeyID: env("AWS_ACCESS_KEY_ID"), SecretAccessKey: env("AWS_SECRET_ACCESS_KEY"),
		SessionToken: env("AWS_SESSION_TOKEN"), Region: env("AWS_REGION"),
	})
	logs := &syncBuffer{}
	cfg.Env = append(slices.Clone(cfg.Env), "AWS_ENDPOINT_URL_SESV2="+fake.URL())
	cfg.Log = io.MultiWriter(cfg.Log, logs)
	f, err := StartFunction(routes.Auth, cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(f.Close)
	// Before any request: every invocation of auth is the new function's.
	s.Gateway.Functions[routes.Auth] = f
	return fake, logs
}

// requestReset asks for a reset link for email, to come back to spa, and
// checks the one answer.
func requestReset(t *testing.T, c *client, email, spa string) {
	t.Helper()
	status, _, body := c.do("POST", "/api/auth/request-password-reset", map[string]string{"email": email, "redirectTo": spa})
	if status != 200 || string(body) != resetAnswer {
		t.Fatalf("request-password-reset: %d %s, want 200 %s", status, body, resetAnswer)
	}
}

// resetToken checks that m is a reset mail to email whose text part holds
// exactly one link, base's reset link coming back to spa, and returns its
// token.
func resetToken(t *testing.T, m sesfake.Message, email, base, spa string) string {
	t.Helper()
	// EMAIL_FROM as an address; its name may be quoted ("AdDreams").
	from, err := mail.ParseAddress(m.From)
	if err != nil || from.Name != "AdDreams" || from.Address != "noreply@example.com" || !slices.Equal(m.To, []string{email}) || len(m.Cc)+len(m.Bcc) != 0 ||
		m.Subject.Data != "Reset your AdDreams password" {
		t.Errorf("mail: from %q to %v cc %v bcc %v subject %q", m.From, m.To, m.Cc, m.Bcc, m.Subject.Data)
	}
	links := linkRE.FindAllString(m.Text.Data, -1)
	if len(links) != 1 {
		t.Fatalf("links in the text part: %q", m.Text.Data)
	}
	link := links[0]
	prefix, suffix := base+"/api/auth/reset-password/", "?callbackURL="+url.QueryEscape(spa)
	token, ok := strings.CutPrefix(link, prefix)
	if ok {
		token, ok = strings.CutSuffix(token, suffix)
	}
	if !ok || !tokenRE.MatchString(token) {
		t.Fatalf("link %s, want %s<24 letters and digits>%s", link, prefix, suffix)
	}
	if !strings.Contains(m.HTML.Data, "/api/auth/reset-password/"+token) {
		t.Errorf("HTML part without the link: %q", m.HTML.Data)
	}
	// Signed by the function's own credentials for SES in its region (the
	// fake accepted the signature, recomputed with those).
	if a := m.Header.Get("Authorization"); !strings.HasPrefix(a, "AWS4-HMAC-SHA256 Credential=AKIDLOCALGATEWAY/") || !strings.Contains(a, "/us-east-1/ses/aws4_request") {
		t.Errorf("Authorization %q", a)
	}
	return token
}

// TestPasswordResetThroughSES proves that a user can recover their account
// on Lambda with SES: the packaged auth function, configured with
// EMAIL_TRANSPORT=ses, mails the reset link through SES v2 SendEmail
// (a fake that checks the SigV4 signature against the function's
// credentials), and the link, followed through the gateway, sets a new
// password. A throttled SendEmail is retried, and a refused one is only
// logged: the requester gets the same answer.
func TestPasswordResetThroughSES(t *testing.T) {
	rie := needRIE(t)
	dist := lambdaDist(t)
	s := startServer(t, rie, dist, map[string]string{
		"EMAIL_TRANSPORT": "ses", "EMAIL_FROM": "AdDreams <noreply@example.com>",
	})
	fake, logs := withSES(t, s)
	const email = "reset@example.com"
	spa := spaOrigin + "/reset-password"

	c := newClient(t, s.URL)
	c.signUp(email)
	if n := fake.Calls(); n != 0 {
		t.Fatalf("SES called %d times by sign-up", n)
	}
	requestReset(t, c, email, spa)
	msgs := fake.Messages()
	if len(msgs) != 1 || fake.Calls() != 1 {
		t.Fatalf("SES: %d calls, %d messages; want one of each", fake.Calls(), len(msgs))
	}
	token := resetToken(t, msgs[0], email, s.Config.BaseURL, spa)

	// The link, opened through the gateway as a browser would (no cookie,
	// no Origin), hands the token to the SPA's page.
	// (resetToken checked that the link is BETTER_AUTH_URL followed by
	// this path and query.)
	noFollow := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	res, err := noFollow.Get(s.URL + "/api/auth/reset-password/" + token + "?callbackURL=" + url.QueryEscape(spa))
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	to, err := url.Parse(res.Header.Get("Location"))
	if res.StatusCode != 302 || err != nil || to.Scheme+"://"+to.Host+to.Path != spa || to.Query().Get("token") != token {
		t.Fatalf("GET the link: %d Location %q, want 302 to %s?token=%s", res.StatusCode, res.Header.Get("Location"), spa, token)
	}

	// The SPA posts the token back with the new password.
	if got := c.json("POST", "/api/auth/reset-password", map[string]string{"newPassword": "new-password-456", "token": token}, 200); got["status"] != true {
		t.Fatalf("reset-password: %v", got)
	}
	signIn := func(password string) (int, []byte) {
		t.Helper()
		status, _, body := newClient(t, s.URL).do("POST", "/api/auth/sign-in/email", map[string]string{"email": email, "password": password})
		return status, body
	}
	if status, body := signIn("password123"); status != 401 || !strings.Contains(string(body), "INVALID_EMAIL_OR_PASSWORD") {
		t.Errorf("sign-in with the old password: %d %s, want 401 INVALID_EMAIL_OR_PASSWORD", status, body)
	}
	if status, body := signIn("new-password-456"); status != 200 {
		t.Errorf("sign-in with the new password: %d %s", status, body)
	}
	// The token is spent.
	if status, _, body := c.do("POST", "/api/auth/reset-password", map[string]string{"newPassword": "third-password-789", "token": token}); status != 400 || !strings.Contains(string(body), "INVALID_TOKEN") {
		t.Errorf("reset-password with a spent token: %d %s, want 400 INVALID_TOKEN", status, body)
	}

	// SES throttles once: the function retries, and the mail arrives.
	fake.FailNext(1, 429, "TooManyRequestsException", "Maximum sending rate exceeded.")
	requestReset(t, c, email, spa)
	msgs = fake.Messages()
	if fake.Calls() != 3 || len(msgs) != 2 {
		t.Fatalf("after a throttled call: %d calls, %d messages; want 3 and 2 (the throttled call retried)", fake.Calls(), len(msgs))
	}
	if again := resetToken(t, msgs[1], email, s.Config.BaseURL, spa); again == token {
		t.Errorf("second reset mail has the first token")
	}

	// SES refuses: nothing is sent, nothing is retried, and the answer is
	// the same; the failure is in the function's log only.
	fake.FailNext(1, 400, "MessageRejected", "Email address is not verified.")
	requestReset(t, c, email, spa)
	if fake.Calls() != 4 || len(fake.Messages()) != 2 {
		t.Errorf("after a refused call: %d calls, %d messages; want 4 and 2", fake.Calls(), len(fake.Messages()))
	}
	// The log line crosses RIE's pipe after the answer may have: wait for
	// it (a missing line fails by the test binary's timeout, not a clock
	// of ours).
	for !strings.Contains(logs.String(), "mail not sent") {
		time.Sleep(10 * time.Millisecond)
	}
	var logged string
	for line := range strings.SplitSeq(logs.String(), "\n") {
		if strings.Contains(line, "mail not sent") {
			logged += line + "\n"
		}
	}
	if strings.Count(logged, "\n") != 1 || !strings.Contains(logged, "password reset") || !strings.Contains(logged, "MessageRejected") {
		t.Errorf("logged failures:\n%s\nwant one, of the password reset, naming MessageRejected", logged)
	}
}
