// Package audit writes the security trail: one audit_log row per sign-up,
// sign-in, sign-out, revocation, password or email change, account link,
// deletion, rate-limit refusal and operator action. A row is a
// database.Stmt that the caller appends to the batch that makes the change
// it records, so the trail and the change commit together and the row
// costs no round trip of its own; only events with no write of their own
// (a refused sign-in, a rate-limit refusal) run it alone (Write).
//
// It is a package of its own, not a file of authdb, because the rate
// limiter, the generation store's operator grants, the sweep and the admin
// command write or read the trail too, and none of them should depend on
// the auth tables.
package audit

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/google/uuid"

	"adstudio/internal/database"
)

// Event names, as stored in audit_log.event.
const (
	SignUp            = "sign_up"
	SignIn            = "sign_in"
	SignOut           = "sign_out"
	SessionRevoke     = "session_revoke"
	PasswordChange    = "password_change"
	PasswordReset     = "password_reset"
	EmailChange       = "email_change"
	EmailVerify       = "email_verify"
	AccountLink       = "account_link"
	AccountUnlink     = "account_unlink"
	UserDelete        = "user_delete"
	RateLimited       = "rate_limited"
	OperatorGrant     = "operator_grant"
	AccountTypeChange = "account_type_change"
	Purchase          = "purchase"        // credits granted by a Stripe payment
	PurchaseRefund    = "purchase_refund" // credits taken back by a Stripe refund
)

// Outcomes, as stored in audit_log.outcome (the table's CHECK lists them).
const (
	Success = "success"
	Failure = "failure"
	Refused = "refused"
)

// Event is one row of the trail. Detail must hold no secret (token,
// password, hash) and no full email address: mask one with logsafe.Email
// if it must appear.
type Event struct {
	Event     string
	UserID    string // "" when unknown (a failed sign-in for no such user)
	IP        string
	UserAgent string
	Outcome   string
	Detail    map[string]any
	At        time.Time // stored in whole seconds
}

// maxUserAgent bounds a client-chosen header in a row kept for months, and
// maxDetailValue each string of the detail.
const (
	maxUserAgent   = 512
	maxDetailValue = 128
)

func (e Event) args() []any {
	var user any
	if e.UserID != "" {
		user = e.UserID
	}
	ua := e.UserAgent
	if len(ua) > maxUserAgent {
		ua = ua[:maxUserAgent]
	}
	detail := "{}"
	if len(e.Detail) > 0 {
		// Some values come from the request (a provider id from the path):
		// a row kept for months holds at most maxDetailValue bytes of each.
		capped := make(map[string]any, len(e.Detail))
		for k, v := range e.Detail {
			if s, ok := v.(string); ok && len(s) > maxDetailValue {
				v = s[:maxDetailValue]
			}
			capped[k] = v
		}
		// A map of strings and numbers always marshals.
		b, _ := json.Marshal(capped)
		detail = string(b)
	}
	return []any{uuid.NewString(), e.At.Unix(), e.Event, user, e.IP, ua, e.Outcome, detail}
}

const insert = `INSERT INTO "audit_log" ("id", "created_at", "event", "user_id", "ip", "user_agent", "outcome", "detail") `

// Stmt is the row as a statement to append to the batch that makes the
// change.
func (e Event) Stmt() database.Stmt {
	return database.Stmt{SQL: insert + `VALUES (?, ?, ?, ?, ?, ?, ?, ?)`, Args: e.args()}
}

// StmtIf is Stmt written only when cond, an SQL expression evaluated in
// the batch, holds: for a change that may turn out not to happen (a reset
// token already spent) in a batch that returns no rows to tell.
func (e Event) StmtIf(cond string, condArgs ...any) database.Stmt {
	return database.Stmt{SQL: insert + `SELECT ?, ?, ?, ?, ?, ?, ?, ? WHERE ` + cond, Args: append(e.args(), condArgs...)}
}

// StmtCounting is Stmt placed right after a statement whose changed row
// count belongs in the detail under key (SQLite's changes(): the sessions
// a revocation ended), so the count costs no read.
func (e Event) StmtCounting(key string) database.Stmt {
	return e.StmtSetting(key, `changes()`)
}

// StmtSetting is Stmt with the detail's key set to the value of expr, an
// SQL expression evaluated in the batch (what an earlier statement of it
// wrote), since a batch returns nothing to read it from.
func (e Event) StmtSetting(key, expr string, exprArgs ...any) database.Stmt {
	a := append(e.args(), key)
	return database.Stmt{
		SQL:  insert + `VALUES (?, ?, ?, ?, ?, ?, ?, json_set(?, '$.' || ?, ` + expr + `))`,
		Args: append(a, exprArgs...),
	}
}

// StmtFrom is Stmt with the user id read by the statement itself, as
// column userCol of the rows of from (one row is written per row found):
// for a change keyed by something else, such as sign-out by its token,
// placed before the statement that removes the row. The event's UserID is
// ignored.
func (e Event) StmtFrom(userCol, from string, fromArgs ...any) database.Stmt {
	a := e.args()
	args := append(append(a[:3:3], a[4:]...), fromArgs...)
	return database.Stmt{SQL: insert + `SELECT ?, ?, ?, ` + userCol + `, ?, ?, ?, ? FROM ` + from, Args: args}
}

// Stmts turns events into statements, to append to a batch.
func Stmts(events []Event) []database.Stmt {
	out := make([]database.Stmt, len(events))
	for i, e := range events {
		out[i] = e.Stmt()
	}
	return out
}

// Write records an event that has no write of its own to ride in: one
// round trip.
func Write(ctx context.Context, db *database.DB, e Event) error {
	st := e.Stmt()
	if err := db.Exec(ctx, st.SQL, st.Args...); err != nil {
		return fmt.Errorf("audit %s: %w", e.Event, err)
	}
	return nil
}

// Prune deletes rows older than before, for the scheduled sweep.
func Prune(ctx context.Context, db *database.DB, before time.Time) error {
	if err := db.Exec(ctx, `DELETE FROM "audit_log" WHERE "created_at" < ?`, before.Unix()); err != nil {
		return fmt.Errorf("prune audit log: %w", err)
	}
	return nil
}

// Row is one stored row, as read back.
type Row struct {
	ID        string
	CreatedAt time.Time
	Event     string
	UserID    string
	IP        string
	UserAgent string
	Outcome   string
	Detail    string
}

// ForUser returns the user's newest rows first, at most limit.
func ForUser(ctx context.Context, db *database.DB, userID string, limit int) ([]Row, error) {
	rows, err := db.Query(ctx, `SELECT "id", "created_at", "event", coalesce("user_id", ''), "ip", "user_agent", "outcome", "detail" FROM "audit_log" WHERE "user_id" = ? ORDER BY "created_at" DESC, "rowid" DESC LIMIT ?`, userID, limit)
	if err != nil {
		return nil, fmt.Errorf("audit trail: %w", err)
	}
	defer rows.Close()
	var out []Row
	for rows.Next() {
		var r Row
		var at int64
		if err := rows.Scan(&r.ID, &at, &r.Event, &r.UserID, &r.IP, &r.UserAgent, &r.Outcome, &r.Detail); err != nil {
			return nil, fmt.Errorf("audit trail: %w", err)
		}
		r.CreatedAt = time.Unix(at, 0).UTC()
		out = append(out, r)
	}
	return out, rows.Err()
}
