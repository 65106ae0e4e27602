package devapp_test

import (
	"net/http/cookiejar"
	"net/url"
	"strings"
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

// TestSessionsEndAtTheirAbsoluteLifetime: a session used every six days
// slides (each use extends it by seven), but not past 30 days from its
// creation (SESSION_ABSOLUTE_MAX_AGE), after which it ends as an expired
// one does: from the database, from a still-fresh cookie cache, and in
// list-sessions.
func TestSessionsEndAtTheirAbsoluteLifetime(t *testing.T) {
	t.Parallel()
	ts := newServer(t, nil)
	b := ts.browser()
	b.signUp(t, "slider@example.com", "password123")
	created := ts.clock.Now()
	for ts.clock.Now().Sub(created) < 24*24*time.Hour {
		ts.clock.Advance(6 * 24 * time.Hour)
		if got := b.sessionUser(t, "?disableCookieCache=true"); got != "slider@example.com" {
			t.Fatalf("day %v: session gone early", ts.clock.Now().Sub(created).Hours()/24)
		}
	}
	// Day 24: the refresh may not reach past day 30.
	var expires string
	ts.app.DB.QueryRow(t.Context(), `SELECT "expires_at" FROM "session"`).Scan(&expires)
	if want := created.Add(30 * 24 * time.Hour).UTC().Format("2006-01-02T15:04:05.000Z"); expires != want {
		t.Fatalf("refreshed expiry %s, want the absolute limit %s", expires, want)
	}
	// A minute before the limit a read fills the cookie cache (5 minutes)...
	ts.clock.Advance(6*24*time.Hour - time.Minute)
	if got := b.sessionUser(t, "?disableCookieCache=true"); got != "slider@example.com" {
		t.Fatalf("a minute before the limit: %q", got)
	}
	if r := b.do(t, "GET", "/api/auth/list-sessions", nil, nil); r.StatusCode != 403 {
		t.Fatalf("list-sessions of a 30-day-old session: %d (not fresh)", r.StatusCode)
	}
	// ...which does not carry the session past it.
	ts.clock.Advance(2 * time.Minute)
	if got := b.sessionUser(t, ""); got != "" {
		t.Fatalf("cookie cache kept a session past its absolute lifetime: %q", got)
	}
	var rows int
	ts.app.DB.QueryRow(t.Context(), `SELECT count(*) FROM "session"`).Scan(&rows)
	if rows != 0 {
		t.Fatalf("%d session rows left after the absolute lifetime", rows)
	}
}

// TestListSessionsHidesOutlivedSessions: a session row written before the
// absolute lifetime existed (its expiry slid past 30 days) is not listed.
func TestListSessionsHidesOutlivedSessions(t *testing.T) {
	t.Parallel()
	ts := newServer(t, map[string]string{"SESSION_ABSOLUTE_MAX_AGE": "86400"})
	old := ts.browser()
	old.signUp(t, "lister@example.com", "password123")
	// Two days later: the old session would still slide (used daily), but
	// it is past one day from its creation.
	if err := ts.app.DB.Exec(t.Context(), `UPDATE "session" SET "expires_at" = '2026-12-30T00:00:00.000Z'`); err != nil {
		t.Fatal(err)
	}
	ts.clock.Advance(2 * 24 * time.Hour)
	fresh := ts.browser()
	fresh.signIn(t, "lister@example.com", "password123")
	r := fresh.do(t, "GET", "/api/auth/list-sessions", nil, nil)
	if r.StatusCode != 200 || strings.Count(string(r.body), `"token"`) != 1 {
		t.Fatalf("list-sessions: %d %s", r.StatusCode, r.body)
	}
	if old.sessionUser(t, "?disableCookieCache=true") != "" {
		t.Fatal("an outlived session still resolves")
	}
}

// TestCachedMeNeverRecreatesADeletedUser: after delete-user, a copy of the
// still-fresh cookie cache made /api/me create a profile row for a user
// who no longer exists. Nothing reached through the cache may write for a
// missing user: the answer is 401 and the cookies are cleared.
func TestCachedMeNeverRecreatesADeletedUser(t *testing.T) {
	t.Parallel()
	ts := newServer(t, nil)
	b := ts.browser()
	b.signUp(t, "gone@example.com", "password123")
	copyOfJar := steal(t, ts, b)
	if r := b.do(t, "POST", "/api/auth/delete-user", map[string]any{}, nil); r.StatusCode != 200 {
		t.Fatalf("delete-user: %d %s", r.StatusCode, r.body)
	}
	r := copyOfJar.do(t, "GET", "/api/me", nil, nil)
	if r.StatusCode != 401 || len(r.setCookies("session_data")) == 0 {
		t.Fatalf("/api/me from a deleted user's cookie cache: %d %s, Set-Cookie %v", r.StatusCode, r.body, r.Header.Values("Set-Cookie"))
	}
	var profiles int
	ts.app.DB.QueryRow(t.Context(), `SELECT count(*) FROM "user_profile"`).Scan(&profiles)
	if profiles != 0 {
		t.Fatalf("%d profile rows after delete-user", profiles)
	}
}
