package app_test

import (
	"net/http/cookiejar"
	"net/url"
	"testing"
	"time"
)

// steal copies b's cookies into a new browser: what a thief holding the
// victim's cookie jar can send.
func steal(t *testing.T, ts *testServer, b *browser) *browser {
	t.Helper()
	jar, _ := cookiejar.New(nil)
	u, _ := url.Parse(ts.srv.URL)
	jar.SetCookies(u, b.jar.Cookies(u))
	return &browser{ts: ts, jar: jar, origin: spaOrigin}
}

// TestStolenSessionCannotBecomePermanent: a thief with a day-old cookie can
// neither move the account's email nor link their own provider identity, so
// the victim's password change and revocation still lock them out. Both
// need a session younger than better-auth's freshAge (1 day), answered as
// its fresh-session middleware does.
func TestStolenSessionCannotBecomePermanent(t *testing.T) {
	t.Parallel()
	ts, _ := socialServer(t, "http://localhost:1", nil)
	victim := ts.browser()
	victim.signUp(t, "victim@example.com", "password123")
	thief := steal(t, ts, victim)

	ts.clock.Advance(30 * time.Hour) // still valid (7 days, refreshed on use), no longer fresh
	if got := thief.sessionUser(t, "?disableCookieCache=true"); got != "victim@example.com" {
		t.Fatalf("stolen cookie: %q", got)
	}
	wantError(t, thief.do(t, "POST", "/api/auth/change-email", map[string]any{"newEmail": "thief@example.com"}, nil),
		403, "SESSION_NOT_FRESH", "Session is not fresh")
	wantError(t, thief.do(t, "POST", "/api/auth/link-social", map[string]any{"provider": "github", "callbackURL": spaOrigin + "/dash"}, nil),
		403, "SESSION_NOT_FRESH", "Session is not fresh")
	var states int
	ts.app.DB.QueryRow(t.Context(), `SELECT count(*) FROM "verification"`).Scan(&states)
	if states != 0 {
		t.Fatalf("a stale link-social started a flow (%d verification rows)", states)
	}

	// The victim changes the password and revokes every other session: the
	// thief has no way back in.
	r := victim.do(t, "POST", "/api/auth/change-password", map[string]any{"currentPassword": "password123", "newPassword": "password456", "revokeOtherSessions": true}, nil)
	if r.StatusCode != 200 {
		t.Fatalf("change-password: %d %s", r.StatusCode, r.body)
	}
	if thief.sessionUser(t, "?disableCookieCache=true") != "" {
		t.Fatal("thief still signed in")
	}
	if r := ts.browser().signIn(t, "victim@example.com", "password456"); r.StatusCode != 200 {
		t.Fatalf("victim's own sign-in: %d", r.StatusCode)
	}
}

// TestChangeEmailEndsOtherSessions: a fresh session moves the email, and
// every other session of the account ends with the old address.
func TestChangeEmailEndsOtherSessions(t *testing.T) {
	t.Parallel()
	ts := newServer(t, nil)
	laptop := ts.browser()
	laptop.signUp(t, "old@example.com", "password123")
	phone := ts.browser()
	if r := phone.signIn(t, "old@example.com", "password123"); r.StatusCode != 200 {
		t.Fatal(r.StatusCode)
	}
	if r := laptop.do(t, "POST", "/api/auth/change-email", map[string]any{"newEmail": "new@example.com"}, nil); r.StatusCode != 200 || string(r.body) != `{"status":true}` {
		t.Fatalf("change-email: %d %s", r.StatusCode, r.body)
	}
	if got := laptop.sessionUser(t, "?disableCookieCache=true"); got != "new@example.com" {
		t.Fatalf("the changing session: %q", got)
	}
	if got := laptop.sessionUser(t, ""); got != "new@example.com" {
		t.Fatalf("the changing session's cookie cache: %q", got)
	}
	if got := phone.sessionUser(t, "?disableCookieCache=true"); got != "" {
		t.Fatalf("the other session survived the email change: %q", got)
	}
	// A taken address answers the same success and changes nothing, the
	// other sessions included.
	tablet := ts.browser()
	tablet.signIn(t, "new@example.com", "password123")
	ts.browser().signUp(t, "taken@example.com", "password123")
	if r := laptop.do(t, "POST", "/api/auth/change-email", map[string]any{"newEmail": "taken@example.com"}, nil); r.StatusCode != 200 || string(r.body) != `{"status":true}` {
		t.Fatalf("change-email to a taken address: %d %s", r.StatusCode, r.body)
	}
	if got := tablet.sessionUser(t, "?disableCookieCache=true"); got != "new@example.com" {
		t.Fatalf("a refused change ended a session: %q", got)
	}
}
