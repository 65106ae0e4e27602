package database

import (
	"fmt"
	"strings"
	"testing"
)

// TestPreparedStatementsBehaveAsBefore: statements run through the cache
// give the rows and errors they gave unprepared. A text that fails to
// prepare (its table does not exist yet) is not cached and fails exactly
// as the unprepared call does; once the table exists it is prepared once
// and reused.
func TestPreparedStatementsBehaveAsBefore(t *testing.T) {
	db := openTemp(t)
	ctx := t.Context()

	// Before the table exists: the error is the driver's own, every time,
	// and nothing is cached.
	const read = `SELECT "v", "n" FROM "kv" WHERE "k" = ?`
	var v string
	var n int64
	err := db.QueryRow(ctx, read, "a").Scan(&v, &n)
	direct := db.sql.QueryRowContext(ctx, read, "a").Scan(&v, &n)
	if err == nil || direct == nil || err.Error() != direct.Error() {
		t.Fatalf("missing table: cached path %v, direct %v", err, direct)
	}
	if _, ok := db.stmts.Load(read); ok {
		t.Fatal("a statement that failed to prepare was cached")
	}

	if err := db.Exec(ctx, `CREATE TABLE "kv" ("k" text PRIMARY KEY, "v" text, "n" integer)`); err != nil {
		t.Fatal(err)
	}
	for i, val := range []string{"plain", "Zoë \"Z\" <&>", "", "\u2028"} {
		if err := db.Exec(ctx, `INSERT INTO "kv" ("k", "v", "n") VALUES (?, ?, ?)`, fmt.Sprint(i), val, int64(i)<<40); err != nil {
			t.Fatal(err)
		}
	}
	for range 3 { // the first call prepares, the next ones reuse
		for i, val := range []string{"plain", "Zoë \"Z\" <&>", "", "\u2028"} {
			if err := db.QueryRow(ctx, read, fmt.Sprint(i)).Scan(&v, &n); err != nil || v != val || n != int64(i)<<40 {
				t.Fatalf("row %d: %q %d %v", i, v, n, err)
			}
		}
		if err := db.QueryRow(ctx, read, "missing").Scan(&v, &n); !IsNoRows(err) {
			t.Fatalf("missing row: %v", err)
		}
		rows, err := db.Query(ctx, `SELECT "k" FROM "kv" ORDER BY "k"`)
		if err != nil {
			t.Fatal(err)
		}
		var keys []string
		for rows.Next() {
			var k string
			rows.Scan(&k)
			keys = append(keys, k)
		}
		rows.Close()
		if strings.Join(keys, ",") != "0,1,2,3" {
			t.Fatalf("keys %v", keys)
		}
		// A constraint failure reads as it always did.
		err = db.Exec(ctx, `INSERT INTO "kv" ("k", "v", "n") VALUES (?, ?, ?)`, "0", "dup", 0)
		if !IsUniqueViolation(err) {
			t.Fatalf("duplicate insert: %v", err)
		}
	}
	if _, ok := db.stmts.Load(read); !ok {
		t.Fatal("the read was not cached")
	}
	if got := db.RoundTrips(); got == 0 {
		t.Fatal("round trips not counted")
	}
}

// TestStatementCacheIsBounded: texts built from data cannot grow the cache
// past maxStmts; past it they still run, unprepared.
func TestStatementCacheIsBounded(t *testing.T) {
	db := openTemp(t)
	ctx := t.Context()
	for i := range maxStmts + 20 {
		var got int
		if err := db.QueryRow(ctx, fmt.Sprintf(`SELECT %d`, i)).Scan(&got); err != nil || got != i {
			t.Fatalf("SELECT %d: %d %v", i, got, err)
		}
	}
	count := 0
	db.stmts.Range(func(_, _ any) bool { count++; return true })
	if count != maxStmts || int(db.nstmts.Load()) != maxStmts {
		t.Fatalf("%d statements cached (counter %d), want %d", count, db.nstmts.Load(), maxStmts)
	}
}
