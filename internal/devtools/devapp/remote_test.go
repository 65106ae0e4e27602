package devapp_test

import (
	"path/filepath"
	"testing"

	"adstudio/internal/devtools/proctest"
	"adstudio/internal/devtools/testenv"
)

// TestRemoteLibSQL runs the core flows through the remote code path: the
// libsql-client-go HTTP (Hrana) transport, and Batch as a single
// "BEGIN; …; COMMIT" request. The server is tursodb's --sync-server from
// npm's turso package (make test-go installs it and sets TURSODB_BIN);
// without it the test skips, or fails under CI.
func TestRemoteLibSQL(t *testing.T) {
	t.Parallel()
	bin := testenv.Tool(t, "TURSODB_BIN", "the remote libSQL tests need tursodb (TURSODB_BIN=$(tests/remote/tursodb.sh), as make test-go does)")
	for _, schema := range []string{"users", "user"} {
		t.Run(schema, func(t *testing.T) {
			url := startTursodb(t, bin)
			ts := newServer(t, map[string]string{"TURSO_DATABASE_URL": url, "AUTH_SCHEMA": schema, "RATE_LIMIT_ENABLED": "true"})
			b := ts.browser()
			b.signUp(t, "remote@example.com", "password123")
			wantError(t, ts.browser().do(t, "POST", "/api/auth/sign-up/email", map[string]any{"name": "x", "email": "remote@example.com", "password": "password123"}, nil),
				422, "USER_ALREADY_EXISTS_USE_ANOTHER_EMAIL", "")
			if got := b.sessionUser(t, "?disableCookieCache=1"); got != "remote@example.com" {
				t.Fatalf("get-session: %q", got)
			}
			other := ts.browser()
			if r := other.signIn(t, "remote@example.com", "password123"); r.StatusCode != 200 {
				t.Fatalf("sign-in: %d %s", r.StatusCode, r.body)
			}
			if r := b.do(t, "GET", "/api/me", nil, nil); r.StatusCode != 200 {
				t.Fatalf("/api/me: %d %s", r.StatusCode, r.body)
			}
			if r := b.do(t, "POST", "/api/auth/update-user", map[string]any{"name": "Remote"}, nil); r.StatusCode != 200 {
				t.Fatalf("update-user: %d %s", r.StatusCode, r.body)
			}
			r := b.do(t, "POST", "/api/auth/change-password", map[string]any{"currentPassword": "password123", "newPassword": "password456", "revokeOtherSessions": true}, nil)
			if r.StatusCode != 200 {
				t.Fatalf("change-password: %d %s", r.StatusCode, r.body)
			}
			if got := other.sessionUser(t, "?disableCookieCache=1"); got != "" {
				t.Fatal("batch did not revoke the other session")
			}
			if r := b.do(t, "POST", "/api/auth/delete-user", map[string]any{"password": "password456"}, nil); r.StatusCode != 200 {
				t.Fatalf("delete-user: %d %s", r.StatusCode, r.body)
			}
			if r := ts.browser().signIn(t, "remote@example.com", "password456"); r.StatusCode != 401 {
				t.Fatalf("deleted user signs in: %d", r.StatusCode)
			}
		})
	}
}

func startTursodb(t *testing.T, bin string) string {
	t.Helper()
	addr := proctest.FreeAddr(t)
	p := proctest.Start(t, "tursodb", bin, "--sync-server", addr, filepath.Join(t.TempDir(), "remote.db"))
	// Ready once it listens. No bound: no start-up time is too slow, and
	// one that fails exits.
	p.WaitReady(t, 0, func() bool { return proctest.Accepts(addr) })
	return "http://" + addr
}
