package authdb

import (
	"context"
	"fmt"
	"time"

	"adstudio/internal/audit"
	"adstudio/internal/database"
)

// VerificationValue returns the value stored under identifier while it is
// unexpired, without consuming it (the reset link's GET only looks).
func (s *Store) VerificationValue(ctx context.Context, identifier string, now time.Time) (string, error) {
	var v string
	err := s.db.QueryRow(ctx, `SELECT "value" FROM "verification" WHERE "identifier" = ? AND "expires_at" > ? ORDER BY "rowid" DESC LIMIT 1`,
		identifier, s.dates.Encode(now)).Scan(&v)
	if database.IsNoRows(err) {
		return "", ErrNotFound
	}
	if err != nil {
		return "", fmt.Errorf("verification value: %w", err)
	}
	return v, nil
}

// ResetPassword spends the reset token stored under identifier and, in the
// same transaction, ends every session of the user and sets the password:
// the credential account's hash, or a new credential account for a user
// who had only social ones (as better-auth does). The link came to the
// user's mailbox, which proves the address is theirs: it becomes verified
// (ours), so whoever registered it before its owner keeps nothing, and
// the owner's Google or GitHub sign-in can link. It reports false, and
// changes nothing, when the token was not there to spend (expired, or
// spent by a concurrent reset). An email change deletes the user's
// pending reset tokens (resetTokensOf), so a token always names the
// address it was mailed to.
//
// A batch returns no rows, so the token is spent by renaming it to a
// marker only this call knows; every other statement runs only if the
// marker exists, and a last read finds (and removes) it. The trail's rows
// are written under the same condition.
func (s *Store) ResetPassword(ctx context.Context, userID, identifier, hash string, now time.Time, trail ...audit.Event) (bool, error) {
	marker := "reset-password-spent:" + NewID()
	spent := `EXISTS (SELECT 1 FROM "verification" WHERE "identifier" = ?)`
	at := s.dates.Encode(now)
	stmts := []database.Stmt{
		database.Stmt{
			SQL:  `UPDATE "verification" SET "identifier" = ?, "updated_at" = ? WHERE "id" = (SELECT "id" FROM "verification" WHERE "identifier" = ? AND "expires_at" > ? ORDER BY "rowid" DESC LIMIT 1)`,
			Args: []any{marker, at, identifier, at},
		},
		database.Stmt{SQL: `DELETE FROM "session" WHERE "user_id" = ? AND ` + spent, Args: []any{userID, marker}},
		database.Stmt{
			SQL:  `UPDATE ` + s.user + ` SET "email_verified" = 1, "updated_at" = ? WHERE "id" = ? AND NOT "email_verified" AND ` + spent,
			Args: []any{at, userID, marker},
		},
		database.Stmt{
			SQL:  `UPDATE "account" SET "password" = ?, "updated_at" = ? WHERE "user_id" = ? AND "provider_id" = 'credential' AND ` + spent,
			Args: []any{hash, at, userID, marker},
		},
		database.Stmt{
			SQL: `INSERT INTO "account" ("id", "account_id", "provider_id", "user_id", "password", "created_at", "updated_at")
SELECT ?, ?, 'credential', ?, ?, ?, ? WHERE ` + spent + ` AND NOT EXISTS (SELECT 1 FROM "account" WHERE "user_id" = ? AND "provider_id" = 'credential')`,
			Args: []any{NewID(), userID, userID, hash, at, at, marker, userID},
		},
	}
	for _, e := range trail {
		stmts = append(stmts, e.StmtIf(spent, marker))
	}
	if err := s.db.Batch(ctx, stmts...); err != nil {
		return false, fmt.Errorf("reset password: %w", err)
	}
	var one int
	err := s.db.QueryRow(ctx, `DELETE FROM "verification" WHERE "identifier" = ? RETURNING 1`, marker).Scan(&one)
	if database.IsNoRows(err) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("reset password: %w", err)
	}
	return true, nil
}

// resetTokensOf deletes a user's pending password reset tokens: they were
// mailed to an address the user no longer has.
func resetTokensOf(userID string) database.Stmt {
	return database.Stmt{SQL: `DELETE FROM "verification" WHERE "identifier" LIKE 'reset-password:%' AND "value" = ?`, Args: []any{userID}}
}
