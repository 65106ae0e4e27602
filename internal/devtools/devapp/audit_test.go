package devapp_test

import (
	"testing"
	"time"

	"adstudio/internal/audit"
)

// auditRow is a stored audit_log row as the tests compare it.
type auditRow struct {
	Event, UserID, IP, UserAgent, Outcome, Detail string
	CreatedAt                                     int64
}

// auditRows reads the trail in insertion order, of one event or (with "")
// all of them.
func auditRows(t testing.TB, ts *testServer, event string) []auditRow {
	t.Helper()
	rows, err := ts.app.DB.Query(t.Context(), `SELECT "event", coalesce("user_id", ''), "ip", "user_agent", "outcome", "detail", "created_at" FROM "audit_log" WHERE ? = '' OR "event" = ? ORDER BY "rowid"`, event, event)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []auditRow
	for rows.Next() {
		var r auditRow
		if err := rows.Scan(&r.Event, &r.UserID, &r.IP, &r.UserAgent, &r.Outcome, &r.Detail, &r.CreatedAt); err != nil {
			t.Fatal(err)
		}
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// TestAuditTrail walks one account through the security events of the
// email flows and asserts each row: event, user, outcome and detail. The
// round trips of the same requests are pinned by TestRoundTrips, which is
// what shows the rows ride in the batches that make the changes.
func TestAuditTrail(t *testing.T) {
	t.Parallel()
	ts := newServer(t, nil)
	b := ts.browser()
	id := b.signUp(t, "trail@example.com", "password123").json(t)["user"].(map[string]any)["id"].(string)
	if r := ts.browser().signIn(t, "trail@example.com", "wrong-password"); r.StatusCode != 401 {
		t.Fatalf("wrong password: %d", r.StatusCode)
	}
	if r := ts.browser().signIn(t, "nobody@example.com", "password123"); r.StatusCode != 401 {
		t.Fatalf("unknown email: %d", r.StatusCode)
	}
	b2 := ts.browser()
	if r := b2.signIn(t, "trail@example.com", "password123"); r.StatusCode != 200 {
		t.Fatalf("sign-in: %d %s", r.StatusCode, r.body)
	}
	steps := []struct {
		b    *browser
		path string
		body map[string]any
	}{
		{b2, "/api/auth/revoke-other-sessions", map[string]any{}},
		{b2, "/api/auth/change-password", map[string]any{"currentPassword": "password123", "newPassword": "password1234"}},
		{b2, "/api/auth/change-email", map[string]any{"newEmail": "moved@example.com"}},
		{b2, "/api/auth/sign-out", map[string]any{}},
	}
	for _, s := range steps {
		if r := s.b.do(t, "POST", s.path, s.body, nil); r.StatusCode != 200 {
			t.Fatalf("%s: %d %s", s.path, r.StatusCode, r.body)
		}
	}
	b3 := ts.browser()
	if r := b3.signIn(t, "moved@example.com", "password1234"); r.StatusCode != 200 {
		t.Fatalf("sign-in after the changes: %d %s", r.StatusCode, r.body)
	}
	if r := b3.do(t, "POST", "/api/auth/delete-user", map[string]any{"password": "password1234"}, nil); r.StatusCode != 200 {
		t.Fatalf("delete-user: %d %s", r.StatusCode, r.body)
	}

	want := []auditRow{
		{Event: audit.SignUp, UserID: id, Outcome: audit.Success, Detail: `{"method":"email"}`},
		{Event: audit.SignIn, UserID: id, Outcome: audit.Failure, Detail: `{"method":"email","reason":"INVALID_EMAIL_OR_PASSWORD"}`},
		// No user to file it under; the address appears masked only.
		{Event: audit.SignIn, UserID: "", Outcome: audit.Failure, Detail: `{"email":"n***@example.com","method":"email","reason":"INVALID_EMAIL_OR_PASSWORD"}`},
		{Event: audit.SignIn, UserID: id, Outcome: audit.Success, Detail: `{"method":"email"}`},
		{Event: audit.SessionRevoke, UserID: id, Outcome: audit.Success, Detail: `{"scope":"others","revoked":1}`},
		{Event: audit.PasswordChange, UserID: id, Outcome: audit.Success, Detail: `{"revokeOtherSessions":false}`},
		{Event: audit.EmailChange, UserID: id, Outcome: audit.Success, Detail: `{"to":"m***@example.com","revoked":0}`},
		{Event: audit.SignOut, UserID: id, Outcome: audit.Success, Detail: `{}`},
		{Event: audit.SignIn, UserID: id, Outcome: audit.Success, Detail: `{"method":"email"}`},
		// The trail outlives the user it is about, until the sweep prunes it.
		{Event: audit.UserDelete, UserID: id, Outcome: audit.Success, Detail: `{}`},
	}
	got := auditRows(t, ts, "")
	if len(got) != len(want) {
		t.Fatalf("%d audit rows, want %d: %+v", len(got), len(want), got)
	}
	now := ts.clock.Now().Unix()
	for i, w := range want {
		g := got[i]
		if g.Event != w.Event || g.UserID != w.UserID || g.Outcome != w.Outcome || g.Detail != w.Detail {
			t.Errorf("row %d: %+v, want %+v", i, g, w)
		}
		// The harness's client is Go's, from the loopback address.
		if g.IP != "127.0.0.1" || g.UserAgent == "" || g.CreatedAt != now {
			t.Errorf("row %d: ip %q agent %q at %d, want 127.0.0.1, Go's agent, %d", i, g.IP, g.UserAgent, g.CreatedAt, now)
		}
	}
}

// TestAuditRetention: the sweep deletes rows older than
// AUDIT_RETENTION_DAYS and keeps younger ones.
func TestAuditRetention(t *testing.T) {
	t.Parallel()
	ts := newServer(t, map[string]string{"AUDIT_RETENTION_DAYS": "30"})
	ts.browser().signUp(t, "old@example.com", "password123")
	ts.clock.Advance(20 * 24 * time.Hour)
	ts.browser().signUp(t, "young@example.com", "password123")
	ts.clock.Advance(10*24*time.Hour + time.Second)
	if _, err := ts.app.Sweep(t.Context()); err != nil {
		t.Fatal(err)
	}
	rows := auditRows(t, ts, "")
	if len(rows) != 1 || rows[0].CreatedAt != ts.clock.Now().Add(-10*24*time.Hour-time.Second).Unix() {
		t.Fatalf("after the sweep: %+v, want only the row from 10 days ago", rows)
	}
}
