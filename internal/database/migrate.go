package database

import (
	"context"
	"embed"
	"fmt"
	"io/fs"
	"math"
	"sort"
	"strconv"
	"strings"
)

//go:embed migrations/*.sql
var migrationFiles embed.FS

// Migration is one numbered step. A file named NNNN_name.<layout>.sql applies
// only to that layout of the auth tables; NNNN_name.sql applies to every one.
type Migration struct {
	Version int
	Name    string
	SQL     string
}

// Migrations lists the steps for a layout whose user table is userTable.
func Migrations(userTable string) ([]Migration, error) {
	entries, err := fs.ReadDir(migrationFiles, "migrations")
	if err != nil {
		return nil, err
	}
	var out []Migration
	for _, e := range entries {
		name := strings.TrimSuffix(e.Name(), ".sql")
		num, rest, ok := strings.Cut(name, "_")
		v, err := strconv.Atoi(num)
		if !ok || err != nil {
			return nil, fmt.Errorf("migration %s: name must start with a number", e.Name())
		}
		if base, layout, scoped := strings.Cut(rest, "."); scoped {
			if layout != userTable {
				continue
			}
			rest = base
		}
		b, err := migrationFiles.ReadFile("migrations/" + e.Name())
		if err != nil {
			return nil, err
		}
		sql := strings.ReplaceAll(string(b), "{{user}}", `"`+userTable+`"`)
		out = append(out, Migration{Version: v, Name: rest, SQL: sql})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Version < out[j].Version })
	for i := 1; i < len(out); i++ {
		if out[i].Version == out[i-1].Version {
			return nil, fmt.Errorf("two migrations numbered %d", out[i].Version)
		}
	}
	return out, nil
}

// Migrate applies the pending migrations in order, each atomically together
// with its row in the record table, and returns the names it applied.
func (db *DB) Migrate(ctx context.Context, userTable string) ([]string, error) {
	return db.MigrateTo(ctx, userTable, math.MaxInt)
}

// MigrateTo is Migrate stopped after version last, so a test can build a
// database as an older release left it and then migrate it to head.
func (db *DB) MigrateTo(ctx context.Context, userTable string, last int) ([]string, error) {
	ms, err := Migrations(userTable)
	if err != nil {
		return nil, err
	}
	if err := db.Exec(ctx, `CREATE TABLE IF NOT EXISTS "_adstudio_migrations" ("version" integer PRIMARY KEY NOT NULL, "name" text NOT NULL, "applied_at" integer NOT NULL DEFAULT (unixepoch()))`); err != nil {
		return nil, fmt.Errorf("migrate: %w", err)
	}
	rows, err := db.Query(ctx, `SELECT "version" FROM "_adstudio_migrations"`)
	if err != nil {
		return nil, fmt.Errorf("migrate: %w", err)
	}
	done := map[int]bool{}
	for rows.Next() {
		var v int
		if err := rows.Scan(&v); err != nil {
			rows.Close()
			return nil, err
		}
		done[v] = true
	}
	rows.Close()
	var applied []string
	for _, m := range ms {
		if done[m.Version] || m.Version > last {
			continue
		}
		stmts := splitStatements(m.SQL)
		stmts = append(stmts, Stmt{SQL: `INSERT INTO "_adstudio_migrations" ("version", "name") VALUES (?, ?)`, Args: []any{m.Version, m.Name}})
		if err := db.Batch(ctx, stmts...); err != nil {
			return applied, fmt.Errorf("migration %04d_%s: %w", m.Version, m.Name, err)
		}
		applied = append(applied, fmt.Sprintf("%04d_%s", m.Version, m.Name))
	}
	return applied, nil
}

// splitStatements cuts a migration file into statements where SQLite itself
// calls one complete (the state machine of sqlite3_complete): at a semicolon
// outside string literals, quoted identifiers and comments, except within a
// CREATE TRIGGER, which ends only at "END" + ";" after a body statement's
// ";" (so a CASE … END inside the body does not end it). Each statement runs
// from its first token to its semicolon, without the comments around it: a
// remote Batch joins statements with ";\n", and a trailing "-- …" would
// swallow that separator. A final statement needs no semicolon.
func splitStatements(sql string) []Stmt {
	// Tokens and transitions as in sqlite3_complete; comments count as
	// whitespace. States: 0 nothing yet, 1 after a complete statement,
	// 2 normal, 3 after EXPLAIN, 4 after CREATE, 5 in a trigger, 6 after a
	// ";" in a trigger, 7 after ";" END in a trigger.
	const (
		tkSemi = iota
		tkWS
		tkOther
		tkExplain
		tkCreate
		tkTemp
		tkTrigger
		tkEnd
	)
	trans := [8][8]int{
		{1, 0, 2, 3, 4, 2, 2, 2},
		{1, 1, 2, 3, 4, 2, 2, 2},
		{1, 2, 2, 2, 2, 2, 2, 2},
		{1, 3, 3, 2, 4, 2, 2, 2},
		{1, 4, 2, 2, 2, 4, 5, 2},
		{6, 5, 5, 5, 5, 5, 5, 5},
		{6, 6, 5, 5, 5, 5, 5, 7},
		{1, 7, 5, 5, 5, 5, 5, 5},
	}
	var out []Stmt
	state, start, end := 0, -1, 0
	for i := 0; i < len(sql); {
		tok, n := tkOther, 1
		switch c := sql[i]; {
		case c == ';':
			tok = tkSemi
		case c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f':
			tok = tkWS
		case c == '-' && strings.HasPrefix(sql[i:], "--"):
			tok, n = tkWS, lenUntil(sql[i:], 2, "\n")
		case c == '/' && strings.HasPrefix(sql[i:], "/*"):
			tok, n = tkWS, lenUntil(sql[i:], 2, "*/")
		case c == '\'' || c == '"' || c == '`':
			n = lenUntil(sql[i:], 1, string(c))
		case c == '[':
			n = lenUntil(sql[i:], 1, "]")
		case idChar(c):
			for n < len(sql)-i && idChar(sql[i+n]) {
				n++
			}
			switch w := strings.ToUpper(sql[i : i+n]); w {
			case "CREATE":
				tok = tkCreate
			case "TEMP", "TEMPORARY":
				tok = tkTemp
			case "TRIGGER":
				tok = tkTrigger
			case "END":
				tok = tkEnd
			case "EXPLAIN":
				tok = tkExplain
			}
		}
		if tok != tkWS && tok != tkSemi && start < 0 {
			start = i
		}
		state = trans[state][tok]
		if tok != tkWS {
			end = i + n
		}
		if tok == tkSemi && state == 1 && start >= 0 {
			out = append(out, Stmt{SQL: sql[start:end]})
			start = -1
		}
		i += n
	}
	if start >= 0 {
		out = append(out, Stmt{SQL: sql[start:end]})
	}
	return out
}

// lenUntil is the length of s up to and including the first close at or
// after from, or all of s when it is never closed (SQLite then reports the
// unterminated string or comment).
func lenUntil(s string, from int, close string) int {
	if j := strings.Index(s[from:], close); j >= 0 {
		return from + j + len(close)
	}
	return len(s)
}

// idChar reports whether c may appear in an unquoted identifier or keyword.
func idChar(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '$' || c >= 0x80
}
