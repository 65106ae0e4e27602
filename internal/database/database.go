// Package database opens the libSQL database (Turso over HTTP, or a local file
// through modernc.org/sqlite) and gives the rest of the code three calls:
// Query, QueryRow-style scanning, and an atomic Batch. Every call is one
// round trip to a remote database, and RoundTrips counts them.
package database

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/tursodatabase/libsql-client-go/libsql"
	_ "modernc.org/sqlite" // the driver libsql-client-go delegates file: URLs to

	"adstudio/internal/accesslog"
)

// DB is the database handle shared by every package.
type DB struct {
	sql    *sql.DB
	remote bool
	trips  atomic.Int64

	// stmts holds a prepared *sql.Stmt per query text, for a file database
	// only. modernc.org/sqlite parses and plans every unprepared call anew
	// (a third of the CPU of a one-row read such as /api/me's profile),
	// while a *sql.Stmt keeps the compiled statement on each pooled
	// connection and only rebinds it. A remote database gains nothing:
	// its driver's "prepare" only parses the text locally, and every call
	// is one HTTP request either way.
	stmts  sync.Map // query text → *sql.Stmt
	nstmts atomic.Int32
}

// maxStmts bounds the statement cache. The service runs a fixed set of a
// few dozen texts; should a caller ever build texts from data, those past
// the bound simply run unprepared.
const maxStmts = 256

// Stmt is one SQL statement with positional arguments.
type Stmt struct {
	SQL  string
	Args []any
}

// Open connects to url. For file: URLs it turns on WAL with synchronous=NORMAL
// (durable across crashes of the process; only a power cut can lose the last
// commits, acceptable for a local database), a busy timeout, and foreign
// keys, as D1 and Turso enforce them.
func Open(url, authToken string) (*DB, error) {
	remote := !strings.HasPrefix(url, "file:")
	var opts []libsql.Option
	if remote && authToken != "" {
		opts = append(opts, libsql.WithAuthToken(authToken))
	}
	if !remote {
		sep := "?"
		if strings.Contains(url, "?") {
			sep = "&"
		}
		url += sep + "_pragma=busy_timeout(10000)&_pragma=journal_mode(WAL)&_pragma=synchronous(NORMAL)&_pragma=foreign_keys(1)&_txlock=immediate"
	}
	conn, err := libsql.NewConnector(url, opts...)
	if err != nil {
		return nil, fmt.Errorf("open database: %w", err)
	}
	db := sql.OpenDB(conn)
	if !remote {
		// One writer at a time avoids SQLITE_BUSY storms between pooled
		// connections; readers still proceed under WAL.
		db.SetMaxOpenConns(4)
	}
	return &DB{sql: db, remote: remote}, nil
}

// Close closes the cached statements and the pool.
func (db *DB) Close() error {
	db.stmts.Range(func(_, s any) bool {
		s.(*sql.Stmt).Close()
		return true
	})
	return db.sql.Close()
}

// prepared returns the cached statement for query, preparing it on first
// use, or nil if query is to run unprepared. A text that fails to prepare
// is not cached: the unprepared call then reports its error exactly as it
// always has. Prepared or not, modernc runs the same statement code with
// the same arguments (it counts no placeholders and converts no values), so
// results and errors do not change.
func (db *DB) prepared(ctx context.Context, query string) *sql.Stmt {
	if db.remote {
		return nil
	}
	if s, ok := db.stmts.Load(query); ok {
		return s.(*sql.Stmt)
	}
	if db.nstmts.Load() >= maxStmts {
		return nil
	}
	s, err := db.sql.PrepareContext(ctx, query)
	if err != nil {
		return nil
	}
	if prev, loaded := db.stmts.LoadOrStore(query, s); loaded {
		s.Close() // another request prepared it first
		return prev.(*sql.Stmt)
	}
	db.nstmts.Add(1)
	return s
}

// RoundTrips reports how many database calls were made so far; tests and
// benchmarks read it before and after a request.
func (db *DB) RoundTrips() int64 { return db.trips.Load() }

// Query runs a statement that returns rows.
func (db *DB) Query(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	db.trips.Add(1)
	accesslog.From(ctx).AddTrip()
	if s := db.prepared(ctx, query); s != nil {
		return s.QueryContext(ctx, args...)
	}
	return db.sql.QueryContext(ctx, query, args...)
}

// QueryRow runs a statement expected to return at most one row.
func (db *DB) QueryRow(ctx context.Context, query string, args ...any) *sql.Row {
	db.trips.Add(1)
	accesslog.From(ctx).AddTrip()
	if s := db.prepared(ctx, query); s != nil {
		return s.QueryRowContext(ctx, args...)
	}
	return db.sql.QueryRowContext(ctx, query, args...)
}

// Exec runs one statement.
func (db *DB) Exec(ctx context.Context, query string, args ...any) error {
	db.trips.Add(1)
	accesslog.From(ctx).AddTrip()
	if s := db.prepared(ctx, query); s != nil {
		_, err := s.ExecContext(ctx, args...)
		return err
	}
	_, err := db.sql.ExecContext(ctx, query, args...)
	return err
}

// Batch runs the statements atomically in one round trip. Remote databases
// get a single "BEGIN; …; COMMIT" request (Hrana runs it as one pipeline and
// rolls back on failure). A file database cannot take that form: modernc
// re-binds the first statement's arguments for every statement and leaves a
// failed BEGIN open on the pooled connection, so it gets a real transaction.
func (db *DB) Batch(ctx context.Context, stmts ...Stmt) error {
	db.trips.Add(1)
	accesslog.From(ctx).AddTrip()
	if db.remote {
		var q strings.Builder
		var args []any
		q.WriteString("BEGIN;\n")
		for _, s := range stmts {
			q.WriteString(strings.TrimRight(strings.TrimSpace(s.SQL), ";"))
			q.WriteString(";\n")
			args = append(args, s.Args...)
		}
		q.WriteString("COMMIT;")
		_, err := db.sql.ExecContext(ctx, q.String(), args...)
		return err
	}
	tx, err := db.sql.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	for _, s := range stmts {
		if _, err := tx.ExecContext(ctx, s.SQL, s.Args...); err != nil {
			return err
		}
	}
	return tx.Commit()
}

// IsUniqueViolation reports whether err is SQLite's UNIQUE or PRIMARY KEY
// constraint failure, as both the local driver and Turso phrase it.
func IsUniqueViolation(err error) bool {
	return err != nil && strings.Contains(err.Error(), "UNIQUE constraint failed")
}

// ErrNoRows is returned by scans that found nothing.
var ErrNoRows = sql.ErrNoRows

// IsNoRows reports whether err means "no row".
func IsNoRows(err error) bool { return errors.Is(err, sql.ErrNoRows) }
