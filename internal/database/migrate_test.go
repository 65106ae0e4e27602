package database

import (
	"fmt"
	"regexp"
	"slices"
	"testing"
	"time"
)

var layouts = []string{"users", "user"}

// records returns the record table as "NNNN_name" in version order.
func records(t *testing.T, db *DB) []string {
	t.Helper()
	rows, err := db.Query(t.Context(), `SELECT "version", "name" FROM "_adstudio_migrations" ORDER BY "version"`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var v int
		var name string
		if err := rows.Scan(&v, &name); err != nil {
			t.Fatal(err)
		}
		out = append(out, fmt.Sprintf("%04d_%s", v, name))
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

func names(ms []Migration) []string {
	var out []string
	for _, m := range ms {
		out = append(out, fmt.Sprintf("%04d_%s", m.Version, m.Name))
	}
	return out
}

var createdRE = regexp.MustCompile(`(?is)^CREATE\s+(?:UNIQUE\s+)?(TABLE|INDEX|TRIGGER)\s+IF\s+NOT\s+EXISTS\s+"([^"]+)"`)

// TestEmbeddedMigrationsApply applies every embedded migration, split as
// Migrate splits it, to a fresh file for each layout: SQLite accepts every
// statement, the record table lists every version, each object a migration
// creates exists, and a second run applies nothing.
func TestEmbeddedMigrationsApply(t *testing.T) {
	t.Parallel()
	for _, layout := range layouts {
		t.Run(layout, func(t *testing.T) {
			t.Parallel()
			ms, err := Migrations(layout)
			if err != nil {
				t.Fatal(err)
			}
			db := openTemp(t)
			applied, err := db.Migrate(t.Context(), layout)
			if err != nil {
				t.Fatal(err)
			}
			if want := names(ms); !slices.Equal(applied, want) || !slices.Equal(records(t, db), want) {
				t.Fatalf("applied %v, recorded %v, want %v", applied, records(t, db), want)
			}
			for _, m := range ms {
				stmts := splitStatements(m.SQL)
				if len(stmts) == 0 {
					t.Errorf("%04d_%s has no statement", m.Version, m.Name)
				}
				for _, s := range stmts {
					c := createdRE.FindStringSubmatch(s.SQL)
					if c == nil {
						continue
					}
					var n int
					if err := db.QueryRow(t.Context(), `SELECT count(*) FROM "sqlite_master" WHERE "type" = lower(?) AND "name" = ?`, c[1], c[2]).Scan(&n); err != nil || n != 1 {
						t.Errorf("%04d_%s: %s %q not in the schema (%v)", m.Version, m.Name, c[1], c[2], err)
					}
				}
			}
			// The user table is the layout's, and only it.
			other := map[string]string{"users": "user", "user": "users"}[layout]
			var n int
			db.QueryRow(t.Context(), `SELECT count(*) FROM "sqlite_master" WHERE "type" = 'table' AND "name" = ?`, other).Scan(&n)
			if n != 0 {
				t.Errorf("layout %s also created table %q", layout, other)
			}
			if again, err := db.Migrate(t.Context(), layout); err != nil || len(again) != 0 {
				t.Fatalf("second run applied %v (%v)", again, err)
			}
		})
	}
}

// TestMigrateToStops builds a database as the release with migrations up to
// 0004 left it, then migrates it to head.
func TestMigrateToStops(t *testing.T) {
	t.Parallel()
	ms, err := Migrations("users")
	if err != nil {
		t.Fatal(err)
	}
	db := openTemp(t)
	applied, err := db.MigrateTo(t.Context(), "users", 4)
	if err != nil {
		t.Fatal(err)
	}
	var upTo4 []Migration
	for _, m := range ms {
		if m.Version <= 4 {
			upTo4 = append(upTo4, m)
		}
	}
	if want := names(upTo4); !slices.Equal(applied, want) || !slices.Equal(records(t, db), want) {
		t.Fatalf("applied %v, recorded %v, want %v", applied, records(t, db), want)
	}
	// 0005's column is not there yet.
	var n int
	if err := db.QueryRow(t.Context(), `SELECT count(*) FROM pragma_table_info('generation') WHERE "name" = 'idempotency_key'`).Scan(&n); err != nil || n != 0 {
		t.Fatalf("a migration after 0004 ran (%d, %v)", n, err)
	}
	rest, err := db.Migrate(t.Context(), "users")
	if err != nil {
		t.Fatal(err)
	}
	if want := names(ms); !slices.Equal(append(applied, rest...), want) || !slices.Equal(records(t, db), want) {
		t.Fatalf("then applied %v, recorded %v, want %v", rest, records(t, db), want)
	}
	if err := db.QueryRow(t.Context(), `SELECT count(*) FROM pragma_table_info('generation') WHERE "name" = 'idempotency_key'`).Scan(&n); err != nil || n != 1 {
		t.Fatalf("0005's column missing at head (%d, %v)", n, err)
	}
}

// TestLegacyPendingDebitsTied writes what the old backend left behind, at
// migration 0004, and migrates to head. The old backend debited (ledger row
// with a NULL generation_id) before inserting each generation, so a row
// still pending was paid for and never refunded: after the migration each
// pending image generation has one of its user's untied debits of its
// workflow tied to it, so that failing it refunds it once, through the
// trigger. Nothing else in the ledger changes.
func TestLegacyPendingDebitsTied(t *testing.T) {
	t.Parallel()
	for _, layout := range layouts {
		t.Run(layout, func(t *testing.T) {
			t.Parallel()
			ctx := t.Context()
			db := openTemp(t)
			if _, err := db.MigrateTo(ctx, layout, 4); err != nil {
				t.Fatal(err)
			}
			const text, ref, video = "image-from-text", "image-from-reference", "video-from-reference"
			var stmts []Stmt
			joined := Dates{Seconds: layout == "user"}.Encode(time.Unix(1_795_000_000, 0))
			for _, u := range []string{"u1", "u2"} {
				stmts = append(stmts, Stmt{
					SQL:  `INSERT INTO "` + layout + `" ("id", "name", "email", "created_at", "updated_at") VALUES (?, ?, ?, ?, ?)`,
					Args: []any{u, u, u + "@example.com", joined, joined},
				})
			}
			// u1: a grant, then text: succeeded s1, pending p1 and p2;
			// reference: failed f1 (refunded by the old backend); a
			// video-from-reference row v1 (the old backend's video route)
			// left pending after its refund. Profiles hold what those rows
			// add up to from the free 1/1.
			for _, l := range []struct {
				id, user, wf string
				delta        int
				reason       string
				at           int64
			}{
				{"grant", "u1", text, 4, "admin_grant", 50},
				{"d1", "u1", text, -1, "generation_debit", 100},
				{"d4", "u1", ref, -1, "generation_debit", 150},
				{"r4", "u1", ref, 1, "generation_refund", 150},
				{"d2", "u1", text, -1, "generation_debit", 200},
				{"d3", "u1", text, -1, "generation_debit", 300},
				{"dv", "u1", video, -1, "generation_debit", 310},
				{"rv", "u1", video, 1, "generation_refund", 310},
			} {
				stmts = append(stmts, Stmt{SQL: `INSERT INTO "credit_ledger" ("id", "user_id", "workflow", "delta", "reason", "generation_id", "created_at") VALUES (?, ?, ?, ?, ?, NULL, ?)`,
					Args: []any{l.id, l.user, l.wf, l.delta, l.reason, l.at}})
			}
			// u2's pending q1 has no debit at all: nothing shows it was paid.
			for _, g := range []struct {
				id, user, wf, status string
				at                   int64
			}{
				{"s1", "u1", text, "succeeded", 100},
				{"f1", "u1", ref, "failed", 150},
				{"p1", "u1", text, "pending", 200},
				{"p2", "u1", text, "pending", 300},
				{"v1", "u1", video, "pending", 310},
				{"q1", "u2", text, "pending", 320},
			} {
				stmts = append(stmts, Stmt{SQL: `INSERT INTO "generation" ("id", "user_id", "workflow", "status", "input_json", "created_at", "updated_at") VALUES (?, ?, ?, ?, '{}', ?, ?)`,
					Args: []any{g.id, g.user, g.wf, g.status, g.at, g.at}})
			}
			stmts = append(stmts,
				Stmt{SQL: `INSERT INTO "user_profile" ("user_id", "credits_product_shoots", "credits_ad_graphics") VALUES ('u1', 2, 1), ('u2', 1, 1)`})
			if err := db.Batch(ctx, stmts...); err != nil {
				t.Fatal(err)
			}
			ledger := func() map[string]string {
				t.Helper()
				rows, err := db.Query(ctx, `SELECT "id", coalesce("generation_id", '') || ' ' || "delta" FROM "credit_ledger"`)
				if err != nil {
					t.Fatal(err)
				}
				defer rows.Close()
				out := map[string]string{}
				for rows.Next() {
					var id, v string
					if err := rows.Scan(&id, &v); err != nil {
						t.Fatal(err)
					}
					out[id] = v
				}
				return out
			}
			before := ledger()

			if _, err := db.Migrate(ctx, layout); err != nil {
				t.Fatal(err)
			}
			after := ledger()
			// The newest pending text generation takes the newest text debit.
			want := map[string]string{}
			for id, v := range before {
				want[id] = v
			}
			want["d3"], want["d2"] = "p2 -1", "p1 -1"
			if fmt.Sprint(after) != fmt.Sprint(want) {
				t.Fatalf("ledger after migrating\n%v\nwant\n%v", after, want)
			}

			// Failing every pending row refunds p1 and p2 only.
			if err := db.Exec(ctx, `UPDATE "generation" SET "status" = 'failed' WHERE "status" = 'pending'`); err != nil {
				t.Fatal(err)
			}
			want["p1:refund"], want["p2:refund"] = "p1 1", "p2 1"
			if got := ledger(); fmt.Sprint(got) != fmt.Sprint(want) {
				t.Fatalf("ledger after failing\n%v\nwant\n%v", got, want)
			}
			var ps1, ag1, ps2 int
			db.QueryRow(ctx, `SELECT "credits_product_shoots", "credits_ad_graphics" FROM "user_profile" WHERE "user_id" = 'u1'`).Scan(&ps1, &ag1)
			db.QueryRow(ctx, `SELECT "credits_product_shoots" FROM "user_profile" WHERE "user_id" = 'u2'`).Scan(&ps2)
			if ps1 != 4 || ag1 != 1 || ps2 != 1 {
				t.Fatalf("balances u1 %d/%d, u2 %d; want 4/1 and 1", ps1, ag1, ps2)
			}
			// Not even by hand can p1 be refunded again.
			err := db.Batch(ctx,
				Stmt{SQL: `UPDATE "generation" SET "status" = 'pending' WHERE "id" = 'p1'`},
				Stmt{SQL: `UPDATE "generation" SET "status" = 'failed' WHERE "id" = 'p1'`})
			if !IsUniqueViolation(err) {
				t.Fatalf("second refund of p1: %v", err)
			}
		})
	}
}
