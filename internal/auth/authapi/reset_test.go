package authapi_test

import (
	"context"
	"io"
	"log/slog"
	"mime"
	"mime/multipart"
	"net/http"
	"net/mail"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"adstudio/internal/devtools/apitest"
	"adstudio/internal/functions/auth"
	mailer "adstudio/internal/mail"
	"adstudio/internal/server"
)

// mailEnv is the auth function with mail: the real outbox transport in a
// temporary folder, whose .eml files the tests read back.
type mailEnv struct {
	*apitest.Env
	dir   string
	api   *auth.Function
	slept *[]time.Duration
}

func newMailEnv(t *testing.T, vars map[string]string) mailEnv {
	t.Helper()
	dir := t.TempDir()
	box, err := mailer.NewOutbox("AdDreams <noreply@example.com>", dir, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	// The configuration names the same outbox, as make dev's would.
	all := map[string]string{"EMAIL_TRANSPORT": "outbox", "EMAIL_FROM": "AdDreams <noreply@example.com>", "OUTBOX_DIR": dir}
	for k, v := range vars {
		all[k] = v
	}
	var mu sync.Mutex
	slept := &[]time.Duration{}
	var fn *auth.Function
	env := apitest.New(t, all, func(c *server.Core) (http.Handler, error) {
		fn = auth.New(c, auth.Options{Mail: box})
		fn.API.Sleep = func(_ context.Context, d time.Duration) { mu.Lock(); *slept = append(*slept, d); mu.Unlock() }
		return fn.Handler()
	})
	return mailEnv{Env: env, dir: dir, api: fn, slept: slept}
}

// sent is one message of the outbox: its recipient, subject and the links
// of its plain-text part.
type sent struct {
	to, subject string
	links       []string
}

var linkRE = regexp.MustCompile(`https?://\S+`)

// outbox reads every message written so far, oldest first.
func (e mailEnv) outbox(t *testing.T) []sent {
	t.Helper()
	names, err := filepath.Glob(filepath.Join(e.dir, "*.eml"))
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(names)
	var out []sent
	for _, name := range names {
		f, err := os.Open(name)
		if err != nil {
			t.Fatal(err)
		}
		m, err := mail.ReadMessage(f)
		if err != nil {
			t.Fatal(err)
		}
		dec := new(mime.WordDecoder)
		subject, _ := dec.DecodeHeader(m.Header.Get("Subject"))
		s := sent{to: m.Header.Get("To"), subject: subject}
		_, params, err := mime.ParseMediaType(m.Header.Get("Content-Type"))
		if err != nil {
			t.Fatal(err)
		}
		parts := multipart.NewReader(m.Body, params["boundary"])
		for {
			p, err := parts.NextPart() // decodes quoted-printable
			if err != nil {
				break
			}
			if strings.HasPrefix(p.Header.Get("Content-Type"), "text/plain") {
				text, _ := io.ReadAll(p)
				s.links = linkRE.FindAllString(string(text), -1)
			}
		}
		f.Close()
		out = append(out, s)
	}
	return out
}

// do sends one request from the SPA's origin.
func (e mailEnv) do(t *testing.T, method, path, body string, kv ...string) (*http.Response, string) {
	t.Helper()
	return apitest.Do(t, e.Handler, method, path, body, hdr(kv...))
}

const resetAnswer = `{"status":true,"message":"If this email exists in our system, check your email for the reset link"}`

// TestPasswordReset walks better-auth's reset flow: the mail, the link's
// redirect to the SPA with the token, the new password, and every way a
// token is refused.
func TestPasswordReset(t *testing.T) {
	t.Parallel()
	e := newMailEnv(t, nil)
	cookie := e.SignUp(t, "ann@example.com")
	spa := apitest.Origin + "/reset?from=mail"

	res, body := e.do(t, "POST", "/api/auth/request-password-reset", `{"email":"Ann@Example.com","redirectTo":"`+spa+`"}`)
	if res.StatusCode != 200 || body != resetAnswer {
		t.Fatalf("request: %d %s", res.StatusCode, body)
	}
	msgs := e.outbox(t)
	if len(msgs) != 1 || msgs[0].to != "<ann@example.com>" && msgs[0].to != "ann@example.com" || msgs[0].subject != "Reset your AdDreams password" || len(msgs[0].links) != 1 {
		t.Fatalf("outbox %+v", msgs)
	}
	link := msgs[0].links[0]
	prefix := "http://127.0.0.1:1/api/auth/reset-password/"
	if !strings.HasPrefix(link, prefix) || !strings.HasSuffix(link, "?callbackURL="+url.QueryEscape(spa)) {
		t.Fatalf("link %s", link)
	}
	token := strings.TrimPrefix(link[:strings.Index(link, "?")], prefix)
	if !regexp.MustCompile(`^[A-Za-z0-9]{24}$`).MatchString(token) {
		t.Fatalf("token %q", token)
	}

	// The same answer, and no mail, for an address without an account.
	if res, body := e.do(t, "POST", "/api/auth/request-password-reset", `{"email":"nobody@example.com"}`); res.StatusCode != 200 || body != resetAnswer {
		t.Fatalf("unknown address: %d %s", res.StatusCode, body)
	}
	if n := len(e.outbox(t)); n != 1 {
		t.Fatalf("%d messages after an unknown address", n)
	}
	// A redirect elsewhere is refused before anything is sent.
	if res, body := e.do(t, "POST", "/api/auth/request-password-reset", `{"email":"ann@example.com","redirectTo":"https://evil.example/x"}`); res.StatusCode != 403 || !strings.Contains(body, `"INVALID_REDIRECT_URL"`) {
		t.Fatalf("untrusted redirectTo: %d %s", res.StatusCode, body)
	}

	// The link sends the browser to the SPA with the token; it does not spend it.
	path := strings.TrimPrefix(link, "http://127.0.0.1:1")
	for range 2 {
		res, _ = e.do(t, "GET", path, "")
		if res.StatusCode != 302 || res.Header.Get("Location") != apitest.Origin+"/reset?from=mail&token="+token {
			t.Fatalf("link: %d Location %q", res.StatusCode, res.Header.Get("Location"))
		}
	}
	redirects := map[string]string{
		"/api/auth/reset-password/nope?callbackURL=" + url.QueryEscape(spa): apitest.Origin + "/reset?error=INVALID_TOKEN&from=mail",
		"/api/auth/reset-password/" + token:                                 "http://127.0.0.1:1/api/auth/error?error=INVALID_TOKEN",
	}
	for p, want := range redirects {
		if res, _ := e.do(t, "GET", p, ""); res.StatusCode != 302 || res.Header.Get("Location") != want {
			t.Errorf("GET %s: %d Location %q, want %q", p, res.StatusCode, res.Header.Get("Location"), want)
		}
	}
	if res, body := e.do(t, "GET", "/api/auth/reset-password/"+token+"?callbackURL=https%3A%2F%2Fevil.example", ""); res.StatusCode != 403 || !strings.Contains(body, "INVALID_CALLBACK_URL") {
		t.Errorf("untrusted callbackURL: %d %s", res.StatusCode, body)
	}

	// The new password: checked, then set; every session ends.
	for b, want := range map[string]string{
		`{"newPassword":"short","token":"` + token + `"}`:       `"code":"PASSWORD_TOO_SHORT"`,
		`{"newPassword":"a-new-password"}`:                      `"code":"INVALID_TOKEN"`,
		`{"newPassword":"a-new-password","token":"wrongtoken"}`: `"code":"INVALID_TOKEN"`,
	} {
		if res, body := e.do(t, "POST", "/api/auth/reset-password", b); res.StatusCode != 400 || !strings.Contains(body, want) {
			t.Errorf("reset %s: %d %s", b, res.StatusCode, body)
		}
	}
	if res, body := e.do(t, "POST", "/api/auth/reset-password?token="+token, `{"newPassword":"a-new-password"}`); res.StatusCode != 200 || body != `{"status":true}` {
		t.Fatalf("reset: %d %s", res.StatusCode, body)
	}
	if res, body := e.do(t, "GET", "/api/auth/get-session?disableCookieCache=true", "", "Cookie", cookie); res.StatusCode != 200 || body != "null" {
		t.Errorf("the old session survived the reset: %s", body)
	}
	if res, _ := e.do(t, "POST", "/api/auth/sign-in/email", `{"email":"ann@example.com","password":"password123"}`); res.StatusCode != 401 {
		t.Errorf("old password still signs in: %d", res.StatusCode)
	}
	if res, _ := e.do(t, "POST", "/api/auth/sign-in/email", `{"email":"ann@example.com","password":"a-new-password"}`); res.StatusCode != 200 {
		t.Errorf("new password: %d", res.StatusCode)
	}
	// Single use.
	if res, body := e.do(t, "POST", "/api/auth/reset-password", `{"newPassword":"another-password","token":"`+token+`"}`); res.StatusCode != 400 || !strings.Contains(body, "INVALID_TOKEN") {
		t.Errorf("reused token: %d %s", res.StatusCode, body)
	}
	if res, _ := e.do(t, "GET", path, ""); res.Header.Get("Location") != apitest.Origin+"/reset?error=INVALID_TOKEN&from=mail" {
		t.Errorf("spent token's link: %q", res.Header.Get("Location"))
	}
	// One trail row, for the reset that happened; refused tokens change
	// nothing and write nothing.
	if got, want := e.Audit(t, "password_reset"), []string{"password_reset " + e.UserID(t, "ann@example.com") + " success {}"}; !slices.Equal(got, want) {
		t.Errorf("audit rows %q, want %q", got, want)
	}

	// An hour later a token no longer works.
	e.do(t, "POST", "/api/auth/request-password-reset", `{"email":"ann@example.com","redirectTo":"`+spa+`"}`)
	late := e.outbox(t)[1].links[0]
	lateToken := late[len(prefix):strings.Index(late, "?")]
	e.Clock.Advance(time.Hour + time.Second)
	if res, _ := e.do(t, "GET", strings.TrimPrefix(late, "http://127.0.0.1:1"), ""); !strings.Contains(res.Header.Get("Location"), "error=INVALID_TOKEN") {
		t.Errorf("expired link: %q", res.Header.Get("Location"))
	}
	if res, body := e.do(t, "POST", "/api/auth/reset-password", `{"newPassword":"another-password","token":"`+lateToken+`"}`); res.StatusCode != 400 || !strings.Contains(body, "INVALID_TOKEN") {
		t.Errorf("expired token: %d %s", res.StatusCode, body)
	}
}

// TestPasswordResetSocialOnly: a user who signed up with Google has no
// password; a reset gives them one (a credential account), as better-auth
// does.
func TestPasswordResetSocialOnly(t *testing.T) {
	t.Parallel()
	e := newMailEnv(t, nil)
	e.SignUp(t, "bea@example.com")
	e.Exec(t, `DELETE FROM "account" WHERE "provider_id" = 'credential'`)
	if res, _ := e.do(t, "POST", "/api/auth/sign-in/email", `{"email":"bea@example.com","password":"password123"}`); res.StatusCode != 401 {
		t.Fatalf("no password yet: %d", res.StatusCode)
	}
	e.do(t, "POST", "/api/auth/request-password-reset", `{"email":"bea@example.com"}`)
	link := e.outbox(t)[0].links[0]
	token := link[strings.LastIndex(link, "/")+1 : strings.Index(link, "?")]
	if res, body := e.do(t, "POST", "/api/auth/reset-password", `{"newPassword":"first-password","token":"`+token+`"}`); res.StatusCode != 200 {
		t.Fatalf("reset: %d %s", res.StatusCode, body)
	}
	if n := e.Count(t, "account"); n != 1 {
		t.Errorf("%d accounts, want the new credential account", n)
	}
	if res, _ := e.do(t, "POST", "/api/auth/sign-in/email", `{"email":"bea@example.com","password":"first-password"}`); res.StatusCode != 200 {
		t.Errorf("sign-in with the password a reset set: %d", res.StatusCode)
	}
}

// TestPasswordResetLimitsAndTiming: one mailbox gets at most three mails a
// quarter of an hour however many addresses ask (the answer never says
// so), and an unknown address's answer waits as long as a send took.
func TestPasswordResetLimitsAndTiming(t *testing.T) {
	t.Parallel()
	e := newMailEnv(t, map[string]string{"RATE_LIMIT_ENABLED": "true"})
	e.SignUp(t, "cat@example.com")
	for i := range 5 {
		res, body := e.do(t, "POST", "/api/auth/request-password-reset", `{"email":"cat@example.com"}`)
		if res.StatusCode != 200 || body != resetAnswer {
			t.Fatalf("request %d: %d %s", i, res.StatusCode, body)
		}
		// A minute apart: past the per-IP rule's window (3 a minute), well
		// inside the address's quarter of an hour.
		e.Clock.Advance(time.Minute + time.Second)
	}
	if n := len(e.outbox(t)); n != 3 {
		t.Errorf("%d mails to one address, want 3", n)
	}
	// The first mail held back leaves a row under the account it was for
	// (the next one in the same window does not), with the address masked.
	if got, want := e.Audit(t, "rate_limited"), []string{"rate_limited " + e.UserID(t, "cat@example.com") + ` refused {"mail":"password reset","scope":"mail-address","to":"c***@example.com"}`}; !slices.Equal(got, want) {
		t.Errorf("audit rows %q, want %q", got, want)
	}
	e.Clock.Advance(16 * time.Minute)
	e.do(t, "POST", "/api/auth/request-password-reset", `{"email":"cat@example.com"}`)
	if n := len(e.outbox(t)); n != 4 {
		t.Errorf("after a quiet quarter: %d mails, want 4", n)
	}
	// An unknown address waits, as a send would have taken.
	before := len(*e.slept)
	e.do(t, "POST", "/api/auth/request-password-reset", `{"email":"nobody@example.com"}`)
	if len(*e.slept) != before+1 || (*e.slept)[before] <= 0 {
		t.Errorf("no pacing wait for an unknown address: %v", *e.slept)
	}
}

// Without a transport the endpoint answers as better-auth does without a
// sender.
func TestPasswordResetDisabled(t *testing.T) {
	t.Parallel()
	env := newEnv(t)
	res, body := apitest.Do(t, env.Handler, "POST", "/api/auth/request-password-reset", `{"email":"ann@example.com"}`, apitest.SPA())
	if res.StatusCode != 400 || body != `{"message":"Reset password isn't enabled","code":"RESET_PASSWORD_DISABLED"}` {
		t.Fatalf("%d %s", res.StatusCode, body)
	}
}

// TestResetClaimsTheAddress: someone registered Ann's address before she
// did. A reset proves the mailbox is hers: their password and sessions
// are gone, the address is verified, and her Google sign-in can then link
// by better-auth's rules. A reset link mailed before an email change stops
// working: it names an address the account no longer has.
func TestResetClaimsTheAddress(t *testing.T) {
	t.Parallel()
	e := newMailEnv(t, nil)
	squatter := e.SignUp(t, "ann@example.com")
	e.do(t, "POST", "/api/auth/request-password-reset", `{"email":"ann@example.com"}`)
	link := e.outbox(t)[0].links[0]
	token := link[strings.LastIndex(link, "/")+1 : strings.Index(link, "?")]
	if res, body := e.do(t, "POST", "/api/auth/reset-password", `{"newPassword":"anns-own-password","token":"`+token+`"}`); res.StatusCode != 200 {
		t.Fatalf("reset: %d %s", res.StatusCode, body)
	}
	if _, body := e.do(t, "GET", "/api/auth/get-session?disableCookieCache=true", "", "Cookie", squatter); body != "null" {
		t.Error("the squatter's session survived")
	}
	res, body := e.do(t, "POST", "/api/auth/sign-in/email", `{"email":"ann@example.com","password":"anns-own-password"}`)
	if res.StatusCode != 200 || !strings.Contains(body, `"emailVerified":true`) {
		t.Fatalf("Ann after the reset: %d %s", res.StatusCode, body)
	}

	// A link mailed to the old address dies with an email change.
	bob := e.SignUp(t, "bob@example.com")
	e.do(t, "POST", "/api/auth/request-password-reset", `{"email":"bob@example.com"}`)
	msgs := e.outbox(t)
	old := msgs[len(msgs)-1].links[0]
	oldToken := old[strings.LastIndex(old, "/")+1 : strings.Index(old, "?")]
	if res, body := e.do(t, "POST", "/api/auth/change-email", `{"newEmail":"bob.new@example.com"}`, "Cookie", bob); res.StatusCode != 200 {
		t.Fatalf("change-email: %d %s", res.StatusCode, body)
	}
	if res, body := e.do(t, "POST", "/api/auth/reset-password", `{"newPassword":"whoever-has-it","token":"`+oldToken+`"}`); res.StatusCode != 400 || !strings.Contains(body, "INVALID_TOKEN") {
		t.Errorf("a reset link from before the email change: %d %s", res.StatusCode, body)
	}
}
