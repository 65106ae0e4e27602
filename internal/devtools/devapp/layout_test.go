package devapp_test

import (
	"strings"
	"testing"
)

// TestLayouts runs the core flow on both physical layouts and checks what
// lands in the date columns: ISO-8601 text on seed 003's "users", unix
// seconds on the addreams "user".
func TestLayouts(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		schema, table, wantType string
	}{
		{"users", "users", "text"},
		{"user", "user", "integer"},
	} {
		t.Run(tc.schema, func(t *testing.T) {
			ts := newServer(t, map[string]string{"AUTH_SCHEMA": tc.schema})
			b := ts.browser()
			r := b.signUp(t, "layout@example.com", "password123")
			created := r.json(t)["user"].(map[string]any)["createdAt"].(string)
			if tc.schema == "user" && !strings.HasSuffix(created, ".000Z") {
				t.Errorf("seconds layout answered createdAt %s with milliseconds it cannot store", created)
			}
			if r := ts.browser().signIn(t, "layout@example.com", "password123"); r.StatusCode != 200 {
				t.Fatalf("sign-in: %d %s", r.StatusCode, r.body)
			}
			if got := b.sessionUser(t, "?disableCookieCache=1"); got != "layout@example.com" {
				t.Fatalf("get-session: %q", got)
			}
			for _, q := range []string{
				`SELECT typeof("created_at") FROM "` + tc.table + `"`,
				`SELECT typeof("expires_at") FROM "session" LIMIT 1`,
				`SELECT typeof("created_at") FROM "account"`,
			} {
				var typ string
				if err := ts.app.DB.QueryRow(t.Context(), q).Scan(&typ); err != nil || typ != tc.wantType {
					t.Errorf("%s = %q (%v), want %s", q, typ, err, tc.wantType)
				}
			}
		})
	}
}

// TestLegacyDateEncodings points the server at rows whose dates were written
// in every form an existing better-auth database may hold, and signs in and
// reads sessions from each.
func TestLegacyDateEncodings(t *testing.T) {
	t.Parallel()
	ts := newServer(t, nil)
	b := ts.browser()
	b.signUp(t, "legacy@example.com", "password123")
	for _, enc := range []string{
		`'2026-11-25 10:00:00'`,         // SQL datetime('now') default
		`'1795600000000'`,               // epoch ms as text (libsql client writing a Date)
		`'1795600000000.0'`,             // the same through the remote protocol
		`1795600000`,                    // unix seconds
		`'2026-11-25T10:00:00.123Z'`,    // ISO
		`'2026-11-25T12:00:00.5+02:00'`, // ISO with offset
	} {
		if err := ts.app.DB.Exec(t.Context(), `UPDATE "users" SET "created_at" = `+enc); err != nil {
			t.Fatal(err)
		}
		r := ts.browser().signIn(t, "legacy@example.com", "password123")
		ca, _ := r.json(t)["user"].(map[string]any)["createdAt"].(string)
		if r.StatusCode != 200 || !strings.HasPrefix(ca, "2026-11-2") {
			t.Errorf("created_at %s: %d createdAt=%q", enc, r.StatusCode, ca)
		}
	}
	// A session whose expiry is a far-future SQL default still works; one in
	// the past is treated as expired.
	ts.app.DB.Exec(t.Context(), `UPDATE "session" SET "expires_at" = '2099-01-01 00:00:00'`)
	if got := b.sessionUser(t, "?disableCookieCache=1"); got != "legacy@example.com" {
		t.Fatalf("far-future text expiry: %q", got)
	}
	ts.app.DB.Exec(t.Context(), `UPDATE "session" SET "expires_at" = '1700000000000'`)
	if got := b.sessionUser(t, "?disableCookieCache=1"); got != "" {
		t.Fatalf("past ms expiry accepted: %q", got)
	}
}
