package authdb

import (
	"context"
	"fmt"
	"time"

	"adstudio/internal/audit"
	"adstudio/internal/database"
)

// MarkEmailVerified sets the user's email_verified, if the user still has
// that email and it is not verified yet. The trail's rows are written in
// the same batch only when it changed (SQLite's changes()), so a link
// followed twice records one verification and costs no read to tell.
func (s *Store) MarkEmailVerified(ctx context.Context, userID, email string, now time.Time, trail ...audit.Event) error {
	stmts := []database.Stmt{{
		SQL:  `UPDATE ` + s.user + ` SET "email_verified" = 1, "updated_at" = ? WHERE "id" = ? AND "email" = ? AND NOT "email_verified"`,
		Args: []any{s.dates.Encode(now), userID, email},
	}}
	for _, e := range trail {
		// After the UPDATE changes() is 0 or 1; after a row of the trail
		// it is again 1 exactly when that row was written.
		stmts = append(stmts, e.StmtIf(`changes() > 0`))
	}
	if err := s.write(ctx, stmts...); err != nil {
		return fmt.Errorf("mark email verified: %w", err)
	}
	return nil
}

// MoveEmail changes a user's email from one address to another, only while
// the user still has the old one (so a confirmation link works once), and
// ends every session of the user but keepToken ("" keeps none), as
// ChangeEmail does. It reports whether the email moved; ErrEmailTaken if
// another user has the new address (nothing changes then).
func (s *Store) MoveEmail(ctx context.Context, userID, from, to, keepToken string, now time.Time, trail ...audit.Event) (bool, error) {
	var id string
	err := s.db.QueryRow(ctx, `UPDATE `+s.user+` SET "email" = ?, "updated_at" = ? WHERE "id" = ? AND "email" = ? RETURNING "id"`,
		to, s.dates.Encode(now), userID, from).Scan(&id)
	if database.IsUniqueViolation(err) {
		return false, ErrEmailTaken
	}
	if database.IsNoRows(err) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("move email: %w", err)
	}
	stmts := append([]database.Stmt{{SQL: `DELETE FROM "session" WHERE "user_id" = ? AND "token" <> ?`, Args: []any{userID, keepToken}}}, revocations(trail)...)
	err = s.db.Batch(ctx, append(stmts, resetTokensOf(userID))...)
	if err != nil {
		return true, fmt.Errorf("move email: end other sessions: %w", err)
	}
	return true, nil
}
