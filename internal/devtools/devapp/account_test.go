package devapp_test

import (
	"strings"
	"testing"
	"time"
)

func TestNoUserEnumerationOnSignIn(t *testing.T) {
	t.Parallel()
	ts := newServer(t, nil)
	ts.browser().signUp(t, "known@example.com", "password123")
	// A user whose credential account has no password (as a social-only
	// user will) must look exactly like an unknown email.
	ts.browser().signUp(t, "nopw@example.com", "password123")
	if err := ts.app.DB.Exec(t.Context(), `UPDATE "account" SET "password" = NULL WHERE "user_id" = (SELECT "id" FROM "users" WHERE "email" = 'nopw@example.com')`); err != nil {
		t.Fatal(err)
	}
	var bodies []string
	for _, email := range []string{"known@example.com", "unknown@example.com", "nopw@example.com"} {
		before := ts.app.Hasher.Derivations()
		r := ts.browser().signIn(t, email, "wrong-password")
		if d := ts.app.Hasher.Derivations() - before; d != 1 {
			t.Errorf("%s: %d scrypt computations, want exactly 1 on every path", email, d)
		}
		if r.StatusCode != 401 {
			t.Errorf("%s: status %d", email, r.StatusCode)
		}
		bodies = append(bodies, string(r.body))
	}
	if bodies[0] != bodies[1] || bodies[1] != bodies[2] {
		t.Fatalf("responses differ: %q", bodies)
	}
}

func TestUpdateUser(t *testing.T) {
	t.Parallel()
	ts := newServer(t, nil)
	b := ts.browser()
	b.signUp(t, "upd@example.com", "password123")
	wantError(t, b.do(t, "POST", "/api/auth/update-user", map[string]any{"email": "x@example.com"}, nil), 400, "EMAIL_CAN_NOT_BE_UPDATED", "Email can not be updated")
	if r := b.do(t, "POST", "/api/auth/update-user", map[string]any{}, nil); r.StatusCode != 400 || string(r.body) != `{"message":"No fields to update"}` {
		t.Fatalf("empty update: %d %s", r.StatusCode, r.body)
	}
	r := b.do(t, "POST", "/api/auth/update-user", map[string]any{"name": "Zoë <b>", "image": "https://img.example/a.png"}, nil)
	if r.StatusCode != 200 || string(r.body) != `{"status":true}` || len(r.setCookies("session_data")) == 0 {
		t.Fatalf("update: %d %s %v", r.StatusCode, r.body, r.Header.Values("Set-Cookie"))
	}
	// The new cache cookie already carries the new name.
	got := b.do(t, "GET", "/api/auth/get-session", nil, nil).json(t)["user"].(map[string]any)
	if got["name"] != "Zoë <b>" || got["image"] != "https://img.example/a.png" {
		t.Fatalf("after update: %v", got)
	}
	b.do(t, "POST", "/api/auth/update-user", map[string]any{"image": nil}, nil)
	got = b.do(t, "GET", "/api/auth/get-session?disableCookieCache=1", nil, nil).json(t)["user"].(map[string]any)
	if got["image"] != nil || got["name"] != "Zoë <b>" {
		t.Fatalf("image:null update: %v", got)
	}
}

func TestChangePassword(t *testing.T) {
	t.Parallel()
	ts := newServer(t, nil)
	b, other := ts.browser(), ts.browser()
	b.signUp(t, "pw@example.com", "password123")
	other.signIn(t, "pw@example.com", "password123")
	wantError(t, b.do(t, "POST", "/api/auth/change-password", map[string]any{"currentPassword": "wrong-one", "newPassword": "new-password-1"}, nil), 400, "INVALID_PASSWORD", "Invalid password")
	wantError(t, b.do(t, "POST", "/api/auth/change-password", map[string]any{"currentPassword": "password123", "newPassword": "short"}, nil), 400, "PASSWORD_TOO_SHORT", "")
	r := b.do(t, "POST", "/api/auth/change-password", map[string]any{"currentPassword": "password123", "newPassword": "new-password-1"}, nil)
	if m := r.json(t); r.StatusCode != 200 || m["token"] != nil || m["user"].(map[string]any)["email"] != "pw@example.com" {
		t.Fatalf("change-password: %d %s", r.StatusCode, r.body)
	}
	if r := ts.browser().signIn(t, "pw@example.com", "password123"); r.StatusCode != 401 {
		t.Fatal("old password still works")
	}
	if r := ts.browser().signIn(t, "pw@example.com", "new-password-1"); r.StatusCode != 200 {
		t.Fatal("new password refused")
	}
	// With revokeOtherSessions every other session ends and the caller gets
	// a new one.
	r = b.do(t, "POST", "/api/auth/change-password", map[string]any{"currentPassword": "new-password-1", "newPassword": "new-password-2", "revokeOtherSessions": true}, nil)
	tok, _ := r.json(t)["token"].(string)
	if r.StatusCode != 200 || tok == "" || len(r.setCookies("session_token")) != 1 {
		t.Fatalf("change-password with revoke: %d %s", r.StatusCode, r.body)
	}
	if got := other.sessionUser(t, "?disableCookieCache=1"); got != "" {
		t.Fatal("other session survived revokeOtherSessions")
	}
	if got := b.sessionUser(t, "?disableCookieCache=1"); got != "pw@example.com" {
		t.Fatal("caller lost its session")
	}
}

func TestChangeEmail(t *testing.T) {
	t.Parallel()
	ts := newServer(t, nil)
	b := ts.browser()
	b.signUp(t, "old@example.com", "password123")
	ts.browser().signUp(t, "taken2@example.com", "password123")
	wantError(t, b.do(t, "POST", "/api/auth/change-email", map[string]any{"newEmail": "nope"}, nil), 400, "VALIDATION_ERROR", "[body.newEmail] Invalid email address")
	if r := b.do(t, "POST", "/api/auth/change-email", map[string]any{"newEmail": "OLD@example.com"}, nil); r.StatusCode != 400 || !strings.Contains(string(r.body), "Email is the same") {
		t.Fatalf("same email: %d %s", r.StatusCode, r.body)
	}
	// A taken address answers like success and changes nothing.
	if r := b.do(t, "POST", "/api/auth/change-email", map[string]any{"newEmail": "taken2@example.com"}, nil); r.StatusCode != 200 || string(r.body) != `{"status":true}` {
		t.Fatalf("taken email: %d %s", r.StatusCode, r.body)
	}
	if got := b.sessionUser(t, "?disableCookieCache=1"); got != "old@example.com" {
		t.Fatalf("email changed to a taken one: %q", got)
	}
	if r := b.do(t, "POST", "/api/auth/change-email", map[string]any{"newEmail": "New@Example.com"}, nil); r.StatusCode != 200 {
		t.Fatalf("change-email: %d %s", r.StatusCode, r.body)
	}
	if got := b.sessionUser(t, ""); got != "new@example.com" {
		t.Fatalf("after change-email: %q", got)
	}
	if r := ts.browser().signIn(t, "new@example.com", "password123"); r.StatusCode != 200 {
		t.Fatal("cannot sign in with the new email")
	}
}

func TestDeleteUser(t *testing.T) {
	t.Parallel()
	ts := newServer(t, nil)
	b := ts.browser()
	b.signUp(t, "del@example.com", "password123")
	b.do(t, "GET", "/api/me", nil, nil)
	wantError(t, b.do(t, "POST", "/api/auth/delete-user", map[string]any{"password": "wrong-password"}, nil), 400, "INVALID_PASSWORD", "")
	// Without a password the session must be fresh (under a day old).
	ts.clock.Advance(25 * time.Hour)
	wantError(t, b.do(t, "POST", "/api/auth/delete-user", map[string]any{}, nil), 400, "SESSION_EXPIRED", "Session expired. Re-authenticate to perform this action.")
	r := b.do(t, "POST", "/api/auth/delete-user", map[string]any{"password": "password123"}, nil)
	if r.StatusCode != 200 || string(r.body) != `{"success":true,"message":"User deleted"}` {
		t.Fatalf("delete-user: %d %s", r.StatusCode, r.body)
	}
	for _, table := range []string{"users", "session", "account", "user_profile"} {
		var n int
		ts.app.DB.QueryRow(t.Context(), `SELECT count(*) FROM "`+table+`"`).Scan(&n)
		if n != 0 {
			t.Errorf("%s still has %d rows", table, n)
		}
	}
	if r := ts.browser().signIn(t, "del@example.com", "password123"); r.StatusCode != 401 {
		t.Fatal("deleted user can sign in")
	}
}

func TestListAccountsAndMe(t *testing.T) {
	t.Parallel()
	ts := newServer(t, nil)
	b := ts.browser()
	uid := b.signUp(t, "acc@example.com", "password123").json(t)["user"].(map[string]any)["id"].(string)
	r := b.do(t, "GET", "/api/auth/list-accounts", nil, nil)
	if r.StatusCode != 200 || !strings.Contains(string(r.body), `"providerId":"credential","accountId":"`+uid+`"`) || !strings.Contains(string(r.body), `"scopes":[]`) || strings.Contains(string(r.body), "password") {
		t.Fatalf("list-accounts: %d %s", r.StatusCode, r.body)
	}
	r = b.do(t, "GET", "/api/me", nil, nil)
	m := r.json(t)
	p := m["profile"].(map[string]any)
	if r.StatusCode != 200 || p["userId"] != uid || p["accountType"] != "free" || p["creditsProductShoots"] != 1.0 || p["creditsAdGraphics"] != 1.0 || !strings.HasSuffix(p["createdAt"].(string), ".000Z") {
		t.Fatalf("/api/me: %d %s", r.StatusCode, r.body)
	}
	r = ts.browser().do(t, "GET", "/api/me", nil, nil)
	e := r.json(t)
	if r.StatusCode != 401 || e["error"].(map[string]any)["code"] != "UNAUTHORIZED" || e["error"].(map[string]any)["message"] != "Authentication required." || e["requestId"] == "" {
		t.Fatalf("/api/me signed out: %d %s", r.StatusCode, r.body)
	}
	h := ts.browser().do(t, "GET", "/api/health", nil, nil).json(t)
	if h["status"] != "ok" || h["service"] != "addreams-api" {
		t.Fatalf("/api/health: %v", h)
	}
	if r := ts.browser().do(t, "GET", "/api/auth/ok", nil, nil); string(r.body) != `{"ok":true}` {
		t.Fatalf("/ok: %s", r.body)
	}
	if r := ts.browser().do(t, "GET", "/api/auth/error?error=<script>", nil, nil); r.StatusCode != 200 || strings.Contains(string(r.body), "<script>") || !strings.Contains(string(r.body), "UNKNOWN") {
		t.Fatalf("/error: %d %s", r.StatusCode, r.body)
	}
}

// TestProfileCreatedLazily covers users who came from an existing
// better-auth database without a profile row, including two first requests
// racing each other.
func TestProfileCreatedLazily(t *testing.T) {
	t.Parallel()
	ts := newServer(t, nil)
	b := ts.browser()
	b.signUp(t, "lazy@example.com", "password123")
	if err := ts.app.DB.Exec(t.Context(), `DELETE FROM "user_profile"`); err != nil {
		t.Fatal(err)
	}
	type result struct {
		r   resp
		err error
	}
	done := make(chan result, 4)
	for range 4 {
		go func() {
			r, err := b.try("GET", "/api/me", nil, nil)
			done <- result{r, err}
		}()
	}
	for range 4 {
		res := <-done
		if res.err != nil {
			t.Fatal(res.err)
		}
		if r := res.r; r.StatusCode != 200 || r.json(t)["profile"].(map[string]any)["creditsAdGraphics"] != 1.0 {
			t.Fatalf("/api/me: %d %s", r.StatusCode, r.body)
		}
	}
	var n int
	ts.app.DB.QueryRow(t.Context(), `SELECT count(*) FROM "user_profile"`).Scan(&n)
	if n != 1 {
		t.Fatalf("%d profile rows", n)
	}
}
