package authapi_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"adstudio/internal/devtools/apitest"
)

// verifyPath is a verification link without its origin.
func verifyPath(t *testing.T, link string) string {
	t.Helper()
	p, ok := strings.CutPrefix(link, "http://127.0.0.1:1")
	if !ok || !strings.HasPrefix(p, "/api/auth/verify-email?token=") {
		t.Fatalf("not a verification link: %s", link)
	}
	return p
}

// withoutCallback drops a link's callbackURL, for the JSON answers.
func withoutCallback(t *testing.T, p string) string {
	t.Helper()
	u, err := url.Parse(p)
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	q.Del("callbackURL")
	u.RawQuery = q.Encode()
	return u.String()
}

// session reads the session from the database (not the cookie cache).
func (e mailEnv) session(t *testing.T, cookie string) map[string]any {
	t.Helper()
	_, body := e.do(t, "GET", "/api/auth/get-session?disableCookieCache=true", "", "Cookie", cookie)
	var m map[string]any
	if err := json.Unmarshal([]byte(body), &m); err != nil {
		t.Fatalf("get-session %s: %v", body, err)
	}
	return m
}

func userField(m map[string]any, k string) any {
	if m == nil {
		return nil
	}
	return m["user"].(map[string]any)[k]
}

// TestVerifyEmailSend: EMAIL_VERIFICATION=send mails a link on sign-up and
// lets the user in at once; the link verifies the address once, and every
// broken or late link is refused with better-auth's codes.
func TestVerifyEmailSend(t *testing.T) {
	t.Parallel()
	e := newMailEnv(t, map[string]string{"EMAIL_VERIFICATION": "send"})
	res, body := e.do(t, "POST", "/api/auth/sign-up/email", `{"name":"Ann","email":"ann@example.com","password":"password123","callbackURL":"`+apitest.Origin+`/welcome"}`)
	if res.StatusCode != 200 || !strings.Contains(body, `"token":"`) {
		t.Fatalf("sign-up: %d %s", res.StatusCode, body)
	}
	cookie := strings.Join(cookiesOf(res), "; ")
	msgs := e.outbox(t)
	if len(msgs) != 1 || msgs[0].subject != "Verify your email for AdDreams" || len(msgs[0].links) != 1 {
		t.Fatalf("outbox %+v", msgs)
	}
	link := verifyPath(t, msgs[0].links[0])
	if !strings.HasSuffix(link, "&callbackURL="+url.QueryEscape(apitest.Origin+"/welcome")) {
		t.Fatalf("link %s", link)
	}
	if userField(e.session(t, cookie), "emailVerified") != false {
		t.Fatal("verified before the link was opened")
	}

	// Tampered, then the real link: a 302 to the callback.
	if res, _ := e.do(t, "GET", strings.Replace(link, "token=", "token=x", 1), ""); res.StatusCode != 302 || res.Header.Get("Location") != apitest.Origin+"/welcome?error=INVALID_TOKEN" {
		t.Errorf("tampered: %d %q", res.StatusCode, res.Header.Get("Location"))
	}
	if res, body := e.do(t, "GET", withoutCallback(t, strings.Replace(link, "token=", "token=x", 1)), ""); res.StatusCode != 401 || body != `{"message":"Invalid token","code":"INVALID_TOKEN"}` {
		t.Errorf("tampered, JSON: %d %s", res.StatusCode, body)
	}
	if res, _ := e.do(t, "GET", link, ""); res.StatusCode != 302 || res.Header.Get("Location") != apitest.Origin+"/welcome" {
		t.Fatalf("link: %d %q", res.StatusCode, res.Header.Get("Location"))
	}
	if userField(e.session(t, cookie), "emailVerified") != true {
		t.Fatal("not verified after the link")
	}
	if got, want := e.Audit(t, "email_verify"), []string{"email_verify " + e.UserID(t, "ann@example.com") + " success {}"}; !slices.Equal(got, want) {
		t.Errorf("audit rows %q, want %q", got, want)
	}
	if res, body := e.do(t, "GET", withoutCallback(t, link), ""); res.StatusCode != 200 || body != `{"status":true,"user":null}` {
		t.Errorf("second click: %d %s", res.StatusCode, body)
	}
	if res, body := e.do(t, "POST", "/api/auth/send-verification-email", `{"email":"ann@example.com"}`, "Cookie", cookie); res.StatusCode != 400 || !strings.Contains(body, "EMAIL_ALREADY_VERIFIED") {
		t.Errorf("send when verified: %d %s", res.StatusCode, body)
	}

	// An hour later a link is TOKEN_EXPIRED.
	bob := e.SignUp(t, "bob@example.com")
	if res, body := e.do(t, "POST", "/api/auth/send-verification-email", `{"email":"ann@example.com"}`, "Cookie", bob); res.StatusCode != 400 || !strings.Contains(body, "EMAIL_MISMATCH") {
		t.Errorf("someone else's address: %d %s", res.StatusCode, body)
	}
	if res, body := e.do(t, "POST", "/api/auth/send-verification-email", `{"email":"bob@example.com","callbackURL":"`+apitest.Origin+`/v"}`, "Cookie", bob); res.StatusCode != 200 || body != `{"status":true}` {
		t.Fatalf("send: %d %s", res.StatusCode, body)
	}
	all := e.outbox(t)
	late := verifyPath(t, all[len(all)-1].links[0])
	e.Clock.Advance(time.Hour + time.Second)
	if res, _ := e.do(t, "GET", late, ""); res.Header.Get("Location") != apitest.Origin+"/v?error=TOKEN_EXPIRED" {
		t.Errorf("expired: %q", res.Header.Get("Location"))
	}
	if res, body := e.do(t, "GET", "/api/auth/verify-email?token=a&callbackURL=https%3A%2F%2Fevil.example", ""); res.StatusCode != 403 || !strings.Contains(body, "INVALID_CALLBACK_URL") {
		t.Errorf("untrusted callback: %d %s", res.StatusCode, body)
	}

	// Signed out, the answer never says whether the address has an
	// unverified account, and takes at least half a second.
	before := len(*e.slept)
	if res, body := e.do(t, "POST", "/api/auth/send-verification-email", `{"email":"nobody@example.com"}`); res.StatusCode != 200 || body != `{"status":true}` {
		t.Errorf("signed out, unknown address: %d %s", res.StatusCode, body)
	}
	if len(*e.slept) != before+1 || (*e.slept)[before] < 400*time.Millisecond {
		t.Errorf("no half-second floor: %v", (*e.slept)[before:])
	}
	if n := len(e.outbox(t)); n != len(all) {
		t.Errorf("a mail went to an unknown address")
	}
}

// cookiesOf turns a response's Set-Cookie lines into a Cookie header's parts.
func cookiesOf(res *http.Response) []string {
	var out []string
	for _, c := range res.Cookies() {
		out = append(out, c.Name+"="+c.Value)
	}
	return out
}

// TestVerifyEmailRequired: no session until the address is verified; the
// sign-up answer is the same for a taken address; sign-in before verifying
// is 403 EMAIL_NOT_VERIFIED and sends a fresh link.
func TestVerifyEmailRequired(t *testing.T) {
	t.Parallel()
	e := newMailEnv(t, map[string]string{"EMAIL_VERIFICATION": "required"})
	up := `{"name":"Ann","email":"ann@example.com","password":"password123"}`
	res, body := e.do(t, "POST", "/api/auth/sign-up/email", up)
	if res.StatusCode != 200 || !strings.HasPrefix(body, `{"token":null,"user":{`) || len(res.Cookies()) != 0 {
		t.Fatalf("sign-up: %d %s %v", res.StatusCode, body, res.Cookies())
	}
	res2, body2 := e.do(t, "POST", "/api/auth/sign-up/email", up)
	var a, b map[string]any
	json.Unmarshal([]byte(body), &a)
	json.Unmarshal([]byte(body2), &b)
	if res2.StatusCode != 200 || b["token"] != nil || userField(b, "email") != "ann@example.com" || userField(a, "id") == userField(b, "id") {
		t.Errorf("sign-up of a taken address: %d %s", res2.StatusCode, body2)
	}
	if n := len(e.outbox(t)); n != 1 {
		t.Fatalf("%d mails after two sign-ups of one address, want 1", n)
	}
	if n := e.Count(t, "users"); n != 1 {
		t.Fatalf("%d users", n)
	}
	in := `{"email":"ann@example.com","password":"password123"}`
	if res, body := e.do(t, "POST", "/api/auth/sign-in/email", in); res.StatusCode != 403 || body != `{"message":"Email not verified","code":"EMAIL_NOT_VERIFIED"}` {
		t.Fatalf("sign-in unverified: %d %s", res.StatusCode, body)
	}
	if res, _ := e.do(t, "POST", "/api/auth/sign-in/email", `{"email":"ann@example.com","password":"wrong-password"}`); res.StatusCode != 401 {
		t.Errorf("a wrong password must not learn that the address is unverified: %d", res.StatusCode)
	}
	msgs := e.outbox(t)
	if len(msgs) != 2 {
		t.Fatalf("sign-in did not send a fresh link: %d mails", len(msgs))
	}
	if res, _ := e.do(t, "GET", withoutCallback(t, verifyPath(t, msgs[1].links[0])), ""); res.StatusCode != 200 {
		t.Fatalf("verify: %d", res.StatusCode)
	}
	if res, body := e.do(t, "POST", "/api/auth/sign-in/email", in); res.StatusCode != 200 || !strings.Contains(body, `"emailVerified":true`) {
		t.Errorf("sign-in after verifying: %d %s", res.StatusCode, body)
	}
}

// TestChangeEmailVerified: a verified user's address moves only when the
// link mailed to the new address is opened, and only once.
func TestChangeEmailVerified(t *testing.T) {
	t.Parallel()
	e := newMailEnv(t, nil)
	cookie := e.SignUp(t, "ann@example.com")
	e.SignUp(t, "taken@example.com")
	e.Exec(t, `UPDATE "users" SET "email_verified" = 1 WHERE "email" = 'ann@example.com'`)
	cookie = e.SignIn(t, "ann@example.com") // a fresh session that knows it is verified

	if res, body := e.do(t, "POST", "/api/auth/change-email", `{"newEmail":"taken@example.com"}`, "Cookie", cookie); res.StatusCode != 200 || body != `{"status":true}` {
		t.Fatalf("change to a taken address: %d %s", res.StatusCode, body)
	}
	if n := len(e.outbox(t)); n != 0 {
		t.Fatalf("a mail went to an address that has an account")
	}
	if res, body := e.do(t, "POST", "/api/auth/change-email", `{"newEmail":"Ann.New@example.com","callbackURL":"`+apitest.Origin+`/settings"}`, "Cookie", cookie); res.StatusCode != 200 || body != `{"status":true}` {
		t.Fatalf("change: %d %s", res.StatusCode, body)
	}
	if userField(e.session(t, cookie), "email") != "ann@example.com" {
		t.Fatal("the address moved before the new one was confirmed")
	}
	msgs := e.outbox(t)
	if len(msgs) != 1 || !strings.Contains(msgs[0].to, "ann.new@example.com") || msgs[0].subject != "Confirm your new email for AdDreams" {
		t.Fatalf("outbox %+v", msgs)
	}
	link := verifyPath(t, msgs[0].links[0])
	// Someone else's session cannot follow it.
	other := e.SignUp(t, "eve@example.com")
	if res, _ := e.do(t, "GET", link, "", "Cookie", other); res.Header.Get("Location") != apitest.Origin+"/settings?error=INVALID_USER" {
		t.Errorf("followed in another user's session: %q", res.Header.Get("Location"))
	}
	res, _ := e.do(t, "GET", link, "", "Cookie", cookie)
	if res.StatusCode != 302 || res.Header.Get("Location") != apitest.Origin+"/settings" {
		t.Fatalf("follow: %d %q", res.StatusCode, res.Header.Get("Location"))
	}
	s := e.session(t, cookie)
	if userField(s, "email") != "ann.new@example.com" || userField(s, "emailVerified") != true {
		t.Fatalf("after the change: %v", s)
	}
	if res, _ := e.do(t, "GET", link, ""); res.Header.Get("Location") != apitest.Origin+"/settings?error=INVALID_TOKEN" {
		t.Errorf("second click: %q", res.Header.Get("Location"))
	}
	// One row, for the move that happened, once; the refused follows
	// write nothing.
	if got, want := e.Audit(t, "email_change"), []string{"email_change " + e.UserID(t, "ann.new@example.com") + ` success {"confirmed":true,"to":"a***@example.com","revoked":1}`}; !slices.Equal(got, want) {
		t.Errorf("audit rows %q, want %q", got, want)
	}
	if res, _ := e.do(t, "POST", "/api/auth/sign-in/email", `{"email":"ann.new@example.com","password":"password123"}`); res.StatusCode != 200 {
		t.Errorf("sign-in at the new address: %d", res.StatusCode)
	}
}

// me reads /api/me's two balances.
func (e mailEnv) credits(t *testing.T, cookie string) (float64, float64) {
	t.Helper()
	_, body := e.do(t, "GET", "/api/me", "", "Cookie", cookie)
	var m struct {
		Profile struct{ CreditsProductShoots, CreditsAdGraphics float64 }
	}
	if err := json.Unmarshal([]byte(body), &m); err != nil {
		t.Fatalf("/api/me %s: %v", body, err)
	}
	return m.Profile.CreditsProductShoots, m.Profile.CreditsAdGraphics
}

// TestFreeCreditsWaitForVerification: with
// FREE_CREDITS_REQUIRE_VERIFIED_EMAIL an unverified sign-up has no credits;
// verifying the address gives the free tier, once; and the ledger records
// both moves, so balance = opening grant + ledger holds throughout.
func TestFreeCreditsWaitForVerification(t *testing.T) {
	t.Parallel()
	e := newMailEnv(t, map[string]string{"EMAIL_VERIFICATION": "send", "FREE_CREDITS_REQUIRE_VERIFIED_EMAIL": "true"})
	res, _ := e.do(t, "POST", "/api/auth/sign-up/email", `{"name":"Ann","email":"ann@example.com","password":"password123"}`)
	cookie := strings.Join(cookiesOf(res), "; ")
	if ps, ag := e.credits(t, cookie); ps != 0 || ag != 0 {
		t.Fatalf("unverified sign-up: %v/%v credits, want none", ps, ag)
	}
	ledger := func() (n int, sum int) {
		t.Helper()
		if err := e.Core.DB.QueryRow(t.Context(), `SELECT count(*), coalesce(sum("delta"), 0) FROM "credit_ledger"`).Scan(&n, &sum); err != nil {
			t.Fatal(err)
		}
		return n, sum
	}
	if n, sum := ledger(); n != 2 || sum != -2 {
		t.Fatalf("ledger after sign-up: %d rows, sum %d; want the two withheld rows", n, sum)
	}
	link := withoutCallback(t, verifyPath(t, e.outbox(t)[0].links[0]))
	for range 2 {
		if res, _ := e.do(t, "GET", link, ""); res.StatusCode != 200 {
			t.Fatalf("verify: %d", res.StatusCode)
		}
	}
	if ps, ag := e.credits(t, cookie); ps != 1 || ag != 1 {
		t.Fatalf("after verifying: %v/%v credits, want the free tier 1/1", ps, ag)
	}
	if n, sum := ledger(); n != 4 || sum != 0 {
		t.Fatalf("ledger after verifying twice: %d rows, sum %d; want withheld and released once", n, sum)
	}
	// A user from before the setting keeps what they had: nothing withheld, nothing released.
	old := e.SignUp(t, "old@example.com")
	e.Exec(t, `DELETE FROM "credit_ledger" WHERE "user_id" = (SELECT "id" FROM "users" WHERE "email" = 'old@example.com')`)
	e.Exec(t, `UPDATE "user_profile" SET "credits_product_shoots" = 1, "credits_ad_graphics" = 1 WHERE "user_id" = (SELECT "id" FROM "users" WHERE "email" = 'old@example.com')`)
	e.do(t, "POST", "/api/auth/send-verification-email", `{"email":"old@example.com"}`, "Cookie", old)
	all := e.outbox(t)
	e.do(t, "GET", withoutCallback(t, verifyPath(t, all[len(all)-1].links[0])), "")
	if ps, ag := e.credits(t, old); ps != 1 || ag != 1 {
		t.Errorf("a user whose credits were never withheld: %v/%v after verifying, want 1/1", ps, ag)
	}
}
