package devapp_test

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"adstudio/internal/auth/cookie"
	"adstudio/internal/database"
)

// The old backend's rows below are dated relative to oldNow, and the test
// moves the app's clock there before it touches them.
var oldNow = time.Date(2026, 11, 24, 12, 0, 0, 0, time.UTC)

// oldHash is a row better-auth 1.7.1 wrote for "password123".
const oldHash = "086d410740a84391624963723822e50d:85c4e35bf5dfdda03a8b377c103ad390f6a9767922495a69d486eadc8b101675daeca33bdb74dad71c73447da18c00f48f965039b2cd3dbcaee084f0ae24da4c"

// The old user's generations, with ids as the old backend made them.
const (
	oldUser      = "Zr1mV2qk8DcT0yWb4nLhA9sXeP3uJ6fG"
	oldSession   = "k3Jd8sQ2mZ0xV7bN1cR5tY9wL4pA6hE2"
	genSucceeded = "7b0f3c2e-5d1a-4e8b-9c6f-2a4d8e1b3c5f"
	genFailed    = "1c9e7a5b-3f2d-4b6a-8e0c-9d7f5b3a1e2c"
	genStuck     = "e4a2c6b8-0d9f-4e1a-b3c5-7f9e1d3b5a7c" // pending image-from-text
	genStuckRef  = "5f3d1b9e-7c5a-4d2f-a1e3-b5d7f9c1e3a5" // pending image-from-reference
)

// writeOldDatabase builds, at path, a database at migration 0004 holding
// what the old backend wrote for one free user who was granted 4 credits by
// an operator and generated four images: one succeeded, one failed (and was
// refunded), two still pending (their requests died: debited, never
// refunded). Ledger rows never carry a generation_id. With recorded false
// the record table is dropped, as in the old backend's own database, whose
// tables came from its migrations, not ours (the same statements).
func writeOldDatabase(t *testing.T, path, layout string, recorded bool) {
	t.Helper()
	ctx := t.Context()
	db, err := database.Open("file:"+path, "")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.MigrateTo(ctx, layout, 4); err != nil {
		t.Fatal(err)
	}
	dates := database.Dates{Seconds: layout == "user"}
	day := 24 * time.Hour
	at := func(d time.Duration) any { return dates.Encode(oldNow.Add(d)) }
	unix := func(d time.Duration) int64 { return oldNow.Add(d).Unix() }
	stmts := []database.Stmt{
		{SQL: `INSERT INTO "` + layout + `" ("id", "name", "email", "email_verified", "image", "created_at", "updated_at") VALUES (?, 'Old User', 'old@example.com', 0, NULL, ?, ?)`,
			Args: []any{oldUser, at(-30 * day), at(-30 * day)}},
		{SQL: `INSERT INTO "account" ("id", "account_id", "provider_id", "user_id", "password", "created_at", "updated_at") VALUES ('Acc0unt1dFromBetterAuth000000000', ?, 'credential', ?, ?, ?, ?)`,
			Args: []any{oldUser, oldUser, oldHash, at(-30 * day), at(-30 * day)}},
		{SQL: `INSERT INTO "session" ("id", "token", "user_id", "expires_at", "created_at", "updated_at", "ip_address", "user_agent") VALUES ('Sess10n1dFromBetterAuth000000000', ?, ?, ?, ?, ?, '203.0.113.7', 'Mozilla/5.0')`,
			Args: []any{oldSession, oldUser, at(5 * day), at(-2 * day), at(-2 * day)}},
		// Free defaults 1/1, +4 granted, -1 per generation, +1 refunded.
		{SQL: `INSERT INTO "user_profile" ("user_id", "account_type", "credits_product_shoots", "credits_ad_graphics", "created_at", "updated_at") VALUES (?, 'free', 3, 0, ?, ?)`,
			Args: []any{oldUser, unix(-30 * day), unix(-30 * time.Second)}},
	}
	for _, l := range []struct {
		id, workflow string
		delta        int
		reason       string
		at           time.Duration
	}{
		{"old-grant", "image-from-text", 4, "admin_grant", -10 * day},
		{"old-debit-1", "image-from-text", -1, "generation_debit", -3 * day},
		{"old-debit-2", "image-from-reference", -1, "generation_debit", -2 * day},
		{"old-refund-2", "image-from-reference", 1, "generation_refund", -2 * day},
		{"old-debit-3", "image-from-text", -1, "generation_debit", -time.Minute},
		{"old-debit-4", "image-from-reference", -1, "generation_debit", -30 * time.Second},
	} {
		stmts = append(stmts, database.Stmt{SQL: `INSERT INTO "credit_ledger" ("id", "user_id", "workflow", "delta", "reason", "generation_id", "created_at") VALUES (?, ?, ?, ?, ?, NULL, ?)`,
			Args: []any{l.id, oldUser, l.workflow, l.delta, l.reason, unix(l.at)}})
	}
	textInput := `{"requestId":"r","prompt":"a ceramic mug","parameters":{"prompt":"a ceramic mug","n":1,"size":"1472*1104","promptExtend":true,"watermark":false}}`
	refInput := `{"requestId":"r","prompt":"on a beach","referenceImage":"https://cdn.example.com/mug.png","parameters":{"prompt":"on a beach","referenceImage":"https://cdn.example.com/mug.png","n":1,"promptExtend":true,"watermark":false}}`
	for _, g := range []struct {
		id, workflow, status, input string
		output, requestID, model    any
		r2Key, code, message        any
		at                          time.Duration
	}{
		{genSucceeded, "image-from-text", "succeeded", textInput,
			`{"requestId":"r","images":["https://dashscope-result.example.com/1.png"],"usage":{"imageCount":1,"width":1472,"height":1104},"assetUrl":"/api/history/` + genSucceeded + `/asset"}`,
			"prov-req-1", "qwen-image-max", "users/" + oldUser + "/generations/" + genSucceeded + "/output.png", nil, nil, -3 * day},
		{genFailed, "image-from-reference", "failed", refInput, nil, nil, nil, nil,
			"UPSTREAM_POLICY_VIOLATION", "Request was rejected by provider safety checks.", -2 * day},
		{genStuck, "image-from-text", "pending", textInput, nil, nil, nil, nil, nil, nil, -time.Minute},
		{genStuckRef, "image-from-reference", "pending", refInput, nil, nil, nil, nil, nil, nil, -30 * time.Second},
	} {
		stmts = append(stmts, database.Stmt{SQL: `INSERT INTO "generation" ("id", "user_id", "workflow", "status", "input_json", "output_json", "provider_request_id", "provider_model", "r2_key", "error_code", "error_message", "created_at", "updated_at") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			Args: []any{g.id, oldUser, g.workflow, g.status, g.input, g.output, g.requestID, g.model, g.r2Key, g.code, g.message, unix(g.at), unix(g.at)}})
	}
	if !recorded {
		stmts = append(stmts, database.Stmt{SQL: `DROP TABLE "_adstudio_migrations"`})
	}
	if err := db.Batch(ctx, stmts...); err != nil {
		t.Fatal(err)
	}
}

// ledgerOf returns the user's ledger rows as id → "reason generation delta"
// and checks balance = free opening grant (1/1) + ledger sum.
func ledgerOf(t *testing.T, ts *testServer, uid string) map[string]string {
	t.Helper()
	checkLedger(t, ts, uid)
	rows, err := ts.app.DB.Query(t.Context(), `SELECT "id", "reason" || ' ' || coalesce("generation_id", '-') || ' ' || "delta" FROM "credit_ledger" WHERE "user_id" = ?`, uid)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	out := map[string]string{}
	for rows.Next() {
		var id, row string
		if err := rows.Scan(&id, &row); err != nil {
			t.Fatal(err)
		}
		out[id] = row
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

func wantLedger(t *testing.T, got, want map[string]string) {
	t.Helper()
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("ledger\n%v\nwant\n%v", got, want)
	}
}

// historyStatuses lists the browser's history as id → status.
func historyStatuses(t *testing.T, b *browser) map[string]string {
	t.Helper()
	r := b.do(t, "GET", "/api/history", nil, nil)
	if r.StatusCode != 200 {
		t.Fatalf("history: %d %s", r.StatusCode, r.body)
	}
	out := map[string]string{}
	for _, it := range r.json(t)["items"].([]any) {
		item := it.(map[string]any)
		out[item["id"].(string)] = item["status"].(string)
	}
	return out
}

// TestOldBackendData opens a database the old backend wrote, at migration
// 0004, in both layouts, with and without our record table, and migrates it
// to head. Its user keeps the password and the live session, sees the old
// generations, and gets back exactly once the credits of the two that the
// old backend left pending: the debits it took for them are tied to them by
// the migration (no generation_id was ever written), so failing one, by the
// sweep or by deleting it, refunds it through the trigger like any other.
// The other old rows stay as they were, and new generations debit and
// refund as usual.
func TestOldBackendData(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		layout, prefix, dateType string
		recorded                 bool
	}{
		{"users", "kriptik_auth", "text", true},
		{"users", "kriptik_auth", "text", false},
		{"user", "better-auth", "integer", true},
		{"user", "better-auth", "integer", false},
	} {
		t.Run(fmt.Sprintf("%s/recorded=%v", tc.layout, tc.recorded), func(t *testing.T) {
			t.Parallel()
			ctx := t.Context()
			path := filepath.Join(t.TempDir(), "old.db")
			writeOldDatabase(t, path, tc.layout, tc.recorded)
			ts, _ := newGenServer(t, map[string]string{"TURSO_DATABASE_URL": "file:" + path, "AUTH_SCHEMA": tc.layout, "COOKIE_PREFIX": tc.prefix})
			ts.clock.Advance(oldNow.Sub(ts.clock.Now()))

			// newServer migrated it to head, whatever head is.
			ms, err := database.Migrations(tc.layout)
			if err != nil {
				t.Fatal(err)
			}
			rows, err := ts.app.DB.Query(ctx, `SELECT "version" FROM "_adstudio_migrations" ORDER BY "version"`)
			if err != nil {
				t.Fatal(err)
			}
			var versions, head []int
			for rows.Next() {
				var v int
				if err := rows.Scan(&v); err != nil {
					t.Fatal(err)
				}
				versions = append(versions, v)
			}
			if err := errors.Join(rows.Err(), rows.Close()); err != nil {
				t.Fatal(err)
			}
			for _, m := range ms {
				head = append(head, m.Version)
			}
			if !slices.Equal(versions, head) {
				t.Fatalf("recorded versions %v, want %v", versions, head)
			}

			// Migrating moved no credit: the stuck generations' debits are
			// now tied to them, everything else is as the old backend left it.
			old := map[string]string{
				"old-grant":    "admin_grant - 4",
				"old-debit-1":  "generation_debit - -1",
				"old-debit-2":  "generation_debit - -1",
				"old-refund-2": "generation_refund - 1",
				"old-debit-3":  "generation_debit " + genStuck + " -1",
				"old-debit-4":  "generation_debit " + genStuckRef + " -1",
			}
			wantLedger(t, ledgerOf(t, ts, oldUser), old)

			// The live session the old backend issued still resolves, and a
			// write to its row keeps the layout's date encoding.
			b := ts.browser()
			u, _ := url.Parse(ts.srv.URL)
			b.jar.SetCookies(u, []*http.Cookie{{Name: tc.prefix + ".session_token", Value: cookie.NewSigner([]string{testSecret}).Sign(oldSession)}})
			r := b.do(t, "GET", "/api/auth/get-session", nil, nil)
			if r.StatusCode != 200 || string(r.body) == "null" {
				t.Fatalf("old session: %d %s", r.StatusCode, r.body)
			}
			if m := r.json(t); m["user"].(map[string]any)["id"] != oldUser || m["session"].(map[string]any)["token"] != oldSession {
				t.Fatalf("old session resolved to %s", r.body)
			}
			var typ string
			if err := ts.app.DB.QueryRow(ctx, `SELECT typeof("expires_at") FROM "session" WHERE "token" = ?`, oldSession).Scan(&typ); err != nil || typ != tc.dateType {
				t.Fatalf("session expires_at is %q (%v), want %s", typ, err, tc.dateType)
			}
			if ps, ag := b.balance(t); ps != 3 || ag != 0 {
				t.Fatalf("balance %d/%d, want the old 3/0", ps, ag)
			}

			// The old password signs in.
			if r := ts.browser().signIn(t, "old@example.com", "password123"); r.StatusCode != 200 || r.json(t)["user"].(map[string]any)["id"] != oldUser {
				t.Fatalf("sign-in with the old password: %d %s", r.StatusCode, r.body)
			}

			// History lists the old generations as they were; the pending
			// ones are too young to sweep.
			want := map[string]string{genSucceeded: "succeeded", genFailed: "failed", genStuck: "pending", genStuckRef: "pending"}
			if got := historyStatuses(t, b); fmt.Sprint(got) != fmt.Sprint(want) {
				t.Fatalf("history %v, want %v", got, want)
			}
			if ids, err := ts.app.Sweep(ctx); err != nil || len(ids) != 0 {
				t.Fatalf("swept young generations %v (%v)", ids, err)
			}
			// The old succeeded image is still served from its old key.
			png := []byte("\x89PNG\r\n\x1a\nold image")
			if err := ts.app.Storage.Put(ctx, "users/"+oldUser+"/generations/"+genSucceeded+"/output.png", "image/png", png); err != nil {
				t.Fatal(err)
			}
			if r := b.do(t, "GET", "/api/history/"+genSucceeded+"/asset", nil, nil); r.StatusCode != 200 || string(r.body) != string(png) {
				t.Fatalf("old asset: %d %q", r.StatusCode, r.body)
			}

			// Deleting the young stuck reference generation refunds it.
			if r := b.do(t, "DELETE", "/api/history/"+genStuckRef, nil, nil); r.StatusCode != 200 {
				t.Fatalf("delete pending: %d %s", r.StatusCode, r.body)
			}
			old[genStuckRef+":refund"] = "generation_refund " + genStuckRef + " 1"
			wantLedger(t, ledgerOf(t, ts, oldUser), old)

			// Past the job time limit the sweep fails the other one, and
			// refunds it. Nothing refunds it again: not another sweep, the
			// owner's history read (which sweeps too), or deleting it below.
			ts.clock.Advance(time.Hour)
			if ids, err := ts.app.Sweep(ctx); err != nil || !slices.Equal(ids, []string{genStuck}) {
				t.Fatalf("sweep an hour later: %v (%v)", ids, err)
			}
			if ids, err := ts.app.Sweep(ctx); err != nil || len(ids) != 0 {
				t.Fatalf("second sweep %v (%v)", ids, err)
			}
			delete(want, genStuckRef)
			want[genStuck] = "failed"
			if got := historyStatuses(t, b); fmt.Sprint(got) != fmt.Sprint(want) {
				t.Fatalf("history an hour later %v, want %v", got, want)
			}
			item := b.do(t, "GET", "/api/history/"+genStuck, nil, nil).json(t)["item"].(map[string]any)
			if item["errorCode"] != "UPSTREAM_TIMEOUT" {
				t.Fatalf("swept item %v", item)
			}
			old[genStuck+":refund"] = "generation_refund " + genStuck + " 1"
			wantLedger(t, ledgerOf(t, ts, oldUser), old)
			if ps, ag := b.balance(t); ps != 4 || ag != 1 {
				t.Fatalf("balance %d/%d after the refunds, want 4/1", ps, ag)
			}

			// New generations debit, and a failed one refunds, tied to them.
			r = b.do(t, "POST", "/api/workflows/image-from-text", spaTextPayload("a new mug"), nil)
			if r.StatusCode != 200 || r.json(t)["credits"].(map[string]any)["productShoots"] != 3.0 {
				t.Fatalf("new generation: %d %s", r.StatusCode, r.body)
			}
			ok := r.json(t)["generationId"].(string)
			r = b.do(t, "POST", "/api/workflows/image-from-text", spaTextPayload("mug [fake:internal]"), nil)
			if r.StatusCode != 502 {
				t.Fatalf("failing generation: %d %s", r.StatusCode, r.body)
			}
			var failed string
			if err := ts.app.DB.QueryRow(ctx, `SELECT "id" FROM "generation" WHERE "user_id" = ? AND "status" = 'failed' AND "error_code" = 'UPSTREAM_UNAVAILABLE'`, oldUser).Scan(&failed); err != nil {
				t.Fatal(err)
			}
			old[ok+":debit"] = "generation_debit " + ok + " -1"
			old[failed+":debit"] = "generation_debit " + failed + " -1"
			old[failed+":refund"] = "generation_refund " + failed + " 1"
			wantLedger(t, ledgerOf(t, ts, oldUser), old)

			// Deleting old finished generations changes no credit.
			for _, id := range []string{genFailed, genSucceeded, genStuck} {
				if r := b.do(t, "DELETE", "/api/history/"+id, nil, nil); r.StatusCode != 200 || string(r.body) != `{"deleted":true,"id":"`+id+`"}` {
					t.Fatalf("delete %s: %d %s", id, r.StatusCode, r.body)
				}
				if r := b.do(t, "GET", "/api/history/"+id, nil, nil); r.StatusCode != 404 {
					t.Fatalf("deleted %s still answers %d", id, r.StatusCode)
				}
			}
			if _, err := ts.app.Storage.Head(ctx, "users/"+oldUser+"/generations/"+genSucceeded+"/output.png"); err == nil {
				t.Fatal("the old image outlived its generation")
			}
			wantLedger(t, ledgerOf(t, ts, oldUser), old)
			if ps, ag := b.balance(t); ps != 3 || ag != 1 {
				t.Fatalf("final balance %d/%d, want 3/1", ps, ag)
			}
		})
	}
}
