package devapp_test

import (
	"strings"
	"testing"
	"time"
)

// TestRevokedSessionCannotWrite: a revoked session may still read from its
// signed cache for up to five minutes, but every state-changing route and
// every database read refuses it at once.
func TestRevokedSessionCannotWrite(t *testing.T) {
	t.Parallel()
	ts := newServer(t, nil)
	victim := ts.browser()
	victim.signUp(t, "rev@example.com", "password123")
	other := ts.browser()
	other.signIn(t, "rev@example.com", "password123")
	if r := other.do(t, "POST", "/api/auth/revoke-other-sessions", map[string]any{}, nil); r.StatusCode != 200 || string(r.body) != `{"status":true}` {
		t.Fatalf("revoke-other-sessions: %d %s", r.StatusCode, r.body)
	}
	// The cache still answers a plain read: that is better-auth's
	// documented staleness (≤ 5 minutes), kept so reads cost no query.
	if got := victim.sessionUser(t, ""); got != "rev@example.com" {
		t.Fatalf("cached read: %q", got)
	}
	r := victim.do(t, "POST", "/api/auth/update-user", map[string]any{"name": "hijacked"}, nil)
	wantError(t, r, 401, "UNAUTHORIZED", "Unauthorized")
	if got := victim.sessionUser(t, "?disableCookieCache=true"); got != "" {
		t.Fatalf("database read of a revoked session: %q", got)
	}
	if got := other.sessionUser(t, ""); got != "rev@example.com" {
		t.Fatalf("revoker lost its own session")
	}
	// Past the cache lifetime the cached read ends too.
	victim2 := ts.browser()
	victim2.signIn(t, "rev@example.com", "password123")
	other.do(t, "POST", "/api/auth/revoke-other-sessions", map[string]any{}, nil)
	ts.clock.Advance(301 * time.Second)
	if got := victim2.sessionUser(t, ""); got != "" {
		t.Fatalf("revoked session alive after the cache expired: %q", got)
	}
}

func TestRevokeSessionOnlyOwn(t *testing.T) {
	t.Parallel()
	ts := newServer(t, nil)
	alice, mallory := ts.browser(), ts.browser()
	aliceToken := alice.signUp(t, "alice@example.com", "password123").json(t)["token"].(string)
	mallory.signUp(t, "mallory@example.com", "password123")
	if r := mallory.do(t, "POST", "/api/auth/revoke-session", map[string]any{"token": aliceToken}, nil); r.StatusCode != 200 {
		t.Fatalf("revoke-session: %d %s", r.StatusCode, r.body)
	}
	if got := alice.sessionUser(t, "?disableCookieCache=1"); got != "alice@example.com" {
		t.Fatal("mallory revoked alice's session")
	}
	if r := alice.do(t, "POST", "/api/auth/revoke-session", map[string]any{"token": aliceToken}, nil); r.StatusCode != 200 {
		t.Fatalf("revoke own: %d", r.StatusCode)
	}
	if got := alice.sessionUser(t, "?disableCookieCache=1"); got != "" {
		t.Fatal("own session survived revoke-session")
	}
	b := ts.browser()
	b.signIn(t, "mallory@example.com", "password123")
	b.do(t, "POST", "/api/auth/revoke-sessions", map[string]any{}, nil)
	if mallory.sessionUser(t, "?disableCookieCache=1") != "" || b.sessionUser(t, "?disableCookieCache=1") != "" {
		t.Fatal("revoke-sessions left a session")
	}
}

func TestSessionRefreshAndExpiry(t *testing.T) {
	t.Parallel()
	ts := newServer(t, nil)
	b := ts.browser()
	b.signUp(t, "life@example.com", "password123")

	// Within updateAge: no refresh, only the cache is re-set.
	ts.clock.Advance(6 * time.Minute)
	r := b.do(t, "GET", "/api/auth/get-session", nil, nil)
	if len(r.setCookies("session_token")) != 0 || len(r.setCookies("session_data")) != 1 {
		t.Fatalf("early read: %v", r.Header.Values("Set-Cookie"))
	}
	if r.Header.Get("Cache-Control") != "no-store" || r.Header.Get("Pragma") != "no-cache" {
		t.Fatalf("get-session cache headers: %v", r.Header)
	}
	before := r.json(t)["session"].(map[string]any)["expiresAt"].(string)

	// After a day: the session is extended to a full week from now.
	ts.clock.Advance(24 * time.Hour)
	r = b.do(t, "GET", "/api/auth/get-session", nil, nil)
	tok := r.setCookies("session_token")
	if len(tok) != 1 || !strings.Contains(tok[0], "Max-Age=604800") {
		t.Fatalf("refresh did not re-set the session cookie: %v", r.Header.Values("Set-Cookie"))
	}
	after := r.json(t)["session"].(map[string]any)["expiresAt"].(string)
	if after <= before {
		t.Fatalf("expiresAt %s not moved past %s", after, before)
	}
	// disableRefresh=false still disables (JavaScript Boolean("false")).
	ts.clock.Advance(25 * time.Hour)
	r = b.do(t, "GET", "/api/auth/get-session?disableRefresh=false&disableCookieCache=1", nil, nil)
	if len(r.setCookies("session_token")) != 0 {
		t.Fatal("disableRefresh=false refreshed the session")
	}

	// Eight idle days later the session is gone and its cookies cleared.
	ts.clock.Advance(8 * 24 * time.Hour)
	r = b.do(t, "GET", "/api/auth/get-session", nil, nil)
	if string(r.body) != "null" || len(r.setCookies("session_token")) != 1 || !strings.Contains(r.setCookies("session_token")[0], "Max-Age=0") {
		t.Fatalf("expired session: %s %v", r.body, r.Header.Values("Set-Cookie"))
	}
	var n int
	ts.app.DB.QueryRow(t.Context(), `SELECT count(*) FROM "session"`).Scan(&n)
	if n != 0 {
		t.Fatalf("expired session row kept (%d rows)", n)
	}
}

func TestForgedAndForeignCookies(t *testing.T) {
	t.Parallel()
	ts := newServer(t, nil)
	b := ts.browser()
	tok := b.signUp(t, "forge@example.com", "password123").json(t)["token"].(string)
	for _, cookie := range []string{
		"better-auth.session_token=" + tok,                                       // unsigned
		"better-auth.session_token=" + tok + ".AAAA",                             // bad signature
		"better-auth.session_token=" + tok + "." + strings.Repeat("A", 43) + "=", // wrong MAC
		"better-auth.session_data=eyJ9; better-auth.session_token=garbage",
	} {
		r := ts.browser().do(t, "GET", "/api/auth/get-session", nil, header{"Cookie": cookie})
		if string(r.body) != "null" {
			t.Errorf("cookie %q accepted: %s", cookie, r.body)
		}
	}
}

func TestSecretRotation(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	db := "file:" + dir + "/rot.db"
	old := newServer(t, map[string]string{"TURSO_DATABASE_URL": db})
	b := old.browser()
	b.signUp(t, "rot@example.com", "password123")
	rotated := newServer(t, map[string]string{"TURSO_DATABASE_URL": db, "BETTER_AUTH_SECRET": "a-new-secret-that-is-at-least-32-chars-long," + testSecret})
	b.ts = rotated
	if got := b.sessionUser(t, ""); got != "rot@example.com" {
		t.Fatalf("session signed with the previous secret rejected after rotation")
	}
	dropped := newServer(t, map[string]string{"TURSO_DATABASE_URL": db, "BETTER_AUTH_SECRET": "a-new-secret-that-is-at-least-32-chars-long"})
	b.ts = dropped
	if got := b.sessionUser(t, ""); got != "" {
		t.Fatalf("session accepted after its secret was removed")
	}
}
