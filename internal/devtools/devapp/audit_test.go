package devapp_test

import (
	"reflect"
	"testing"
	"time"

	"adstudio/internal/audit"
	"adstudio/internal/metrics"
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

// TestAuditTrailSocial walks the social flows through the trail and the
// metrics: a new GitHub user, their return, a refused callback, an
// explicit link into a password account, its unlink, and an implicit link
// by Google's verified word. Each row rides in the flow's own batch (the
// callback's round trips are pinned by TestRoundTrips); a refused callback
// has no write of its own and adds one statement.
func TestAuditTrailSocial(t *testing.T) {
	t.Parallel()
	ts, _ := socialServer(t, "http://localhost:1", nil)
	lines := &metricLines{}
	ts.app.SetMetrics(&metrics.Emitter{W: lines, Function: "dev", Now: ts.clock.Now})

	// A new GitHub user, then the same identity again: a sign-up, then a
	// sign-in. Both count as sign-ins: the user asked to sign in and got a
	// session (an email sign-up is no sign-in).
	for range 2 {
		b := ts.browser()
		b.land(t, b.startSocial(t, "/api/auth/sign-in/social", "github", "octo@example.com", nil).callback)
	}
	octo := userID(t, ts, "octo@example.com")
	// The provider refuses: no user to file it under.
	b := ts.browser()
	wantRedirect(t, b.land(t, b.startSocial(t, "/api/auth/sign-in/social", "github", "deny@example.com", nil).callback),
		spaOrigin+"/login?error=access_denied&error_description=The+user+has+denied+your+application+access.")

	// An explicit link into a password account, then its unlink.
	pw := ts.browser()
	pw.signUp(t, "linker@example.com", "password123")
	linker := userID(t, ts, "linker@example.com")
	wantRedirect(t, pw.land(t, pw.startSocial(t, "/api/auth/link-social", "github", "linker@example.com", nil).callback), spaOrigin+"/dash")
	var accts []map[string]any
	if err := jsonUnmarshal(pw.do(t, "GET", "/api/auth/list-accounts", nil, nil).body, &accts); err != nil || len(accts) != 2 {
		t.Fatalf("accounts after link: %v %v", accts, err)
	}
	githubAcct := accts[1]["id"].(string)
	if r := pw.do(t, "POST", "/api/auth/unlink-account", map[string]any{"accountId": githubAcct}, nil); r.StatusCode != 200 {
		t.Fatalf("unlink: %d %s", r.StatusCode, r.body)
	}
	lines.take(t)

	// Google vouches for an address whose password account nobody
	// verified: refused (account_not_linked) unless Google is trusted,
	// which this server is not; once the address is verified, it links.
	g := ts.browser()
	wantRedirect(t, g.land(t, g.startSocial(t, "/api/auth/sign-in/social", "google", "linker@example.com", nil).callback), spaOrigin+"/login?error=account_not_linked")
	if err := ts.app.DB.Exec(t.Context(), `UPDATE "`+string(ts.app.Config.AuthSchema)+`" SET "email_verified" = 1 WHERE "id" = ?`, linker); err != nil {
		t.Fatal(err)
	}
	g = ts.browser()
	wantRedirect(t, g.land(t, g.startSocial(t, "/api/auth/sign-in/social", "google", "linker@example.com", nil).callback), spaOrigin+"/dash")
	if got, want := lines.take(t), []metric{
		{metrics.SignInFailures, 1, "Method=google,Reason=account_not_linked", true},
		{metrics.SignIns, 1, "Method=google", true},
	}; !reflect.DeepEqual(got, want) {
		t.Errorf("google metrics: %+v, want %+v", got, want)
	}

	want := []auditRow{
		{Event: audit.SignUp, UserID: octo, Outcome: audit.Success, Detail: `{"provider":"github"}`},
		{Event: audit.SignIn, UserID: octo, Outcome: audit.Success, Detail: `{"provider":"github"}`},
		{Event: audit.SignIn, Outcome: audit.Failure, Detail: `{"provider":"github","reason":"access_denied"}`},
		{Event: audit.SignUp, UserID: linker, Outcome: audit.Success, Detail: `{"method":"email"}`},
		{Event: audit.AccountLink, UserID: linker, Outcome: audit.Success, Detail: `{"provider":"github"}`},
		{Event: audit.AccountUnlink, UserID: linker, Outcome: audit.Success, Detail: `{"accountId":"` + githubAcct + `"}`},
		{Event: audit.SignIn, Outcome: audit.Failure, Detail: `{"provider":"google","reason":"account_not_linked"}`},
		{Event: audit.AccountLink, UserID: linker, Outcome: audit.Success, Detail: `{"implicit":true,"provider":"google"}`},
		{Event: audit.SignIn, UserID: linker, Outcome: audit.Success, Detail: `{"provider":"google"}`},
	}
	got := auditRows(t, ts, "")
	if len(got) != len(want) {
		t.Fatalf("%d audit rows, want %d: %+v", len(got), len(want), got)
	}
	for i, w := range want {
		if g := got[i]; g.Event != w.Event || g.UserID != w.UserID || g.Outcome != w.Outcome || g.Detail != w.Detail {
			t.Errorf("row %d: %+v, want %+v", i, g, w)
		}
	}
}

// TestSocialSignInMetrics: each social outcome counts once, by provider
// and reason; a callback for a provider that is not configured counts
// under "unknown", since the id comes from the path.
func TestSocialSignInMetrics(t *testing.T) {
	t.Parallel()
	ts, _ := socialServer(t, "http://localhost:1", nil)
	lines := &metricLines{}
	ts.app.SetMetrics(&metrics.Emitter{W: lines, Function: "dev", Now: ts.clock.Now})
	for _, c := range []struct {
		provider, hint string
		want           metric
	}{
		{"github", "new@example.com", metric{metrics.SignIns, 1, "Method=github", true}},
		{"google", "new2@example.com", metric{metrics.SignIns, 1, "Method=google", true}},
		{"github", "deny@example.com", metric{metrics.SignInFailures, 1, "Method=github,Reason=provider_error", true}},
		{"google", "badtoken@example.com", metric{metrics.SignInFailures, 1, "Method=google,Reason=invalid_code", true}},
		{"github", "noemail@example.com", metric{metrics.SignInFailures, 1, "Method=github,Reason=email_not_found", true}},
	} {
		b := ts.browser()
		b.land(t, b.startSocial(t, "/api/auth/sign-in/social", c.provider, c.hint, nil).callback)
		if got := lines.take(t); !reflect.DeepEqual(got, []metric{c.want}) {
			t.Errorf("%s %s: %+v, want %+v", c.provider, c.hint, got, c.want)
		}
	}
	b := ts.browser()
	b.land(t, ts.srv.URL+"/api/auth/callback/gitlab?code=x&state=unknown")
	if got, want := lines.take(t), []metric{{metrics.SignInFailures, 1, "Method=unknown,Reason=state_mismatch", true}}; !reflect.DeepEqual(got, want) {
		t.Errorf("unknown provider: %+v, want %+v", got, want)
	}
}
