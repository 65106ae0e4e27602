package store

import (
	"context"
	"embed"
	"fmt"
	"io/fs"
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
		if done[m.Version] {
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

// splitStatements cuts a migration file at semicolons that end a line; the
// files are written so that no statement has one inside, except trigger
// bodies, which run from CREATE TRIGGER to a line "END;".
func splitStatements(sql string) []Stmt {
	var out []Stmt
	var cur strings.Builder
	inTrigger := false
	for _, line := range strings.Split(sql, "\n") {
		t := strings.TrimSpace(line)
		if t == "" || strings.HasPrefix(t, "--") {
			continue
		}
		if cur.Len() == 0 && strings.HasPrefix(strings.ToUpper(t), "CREATE TRIGGER") {
			inTrigger = true
		}
		cur.WriteString(line)
		cur.WriteString("\n")
		if inTrigger && !strings.EqualFold(t, "END;") {
			continue
		}
		if strings.HasSuffix(t, ";") {
			out = append(out, Stmt{SQL: strings.TrimSpace(cur.String())})
			cur.Reset()
			inTrigger = false
		}
	}
	if s := strings.TrimSpace(cur.String()); s != "" {
		out = append(out, Stmt{SQL: s})
	}
	return out
}
