package authdb

import (
	"context"
	"fmt"
	"time"

	"adstudio/internal/database"
)

// MarkEmailVerified sets the user's email_verified, if the user still has
// that email. It reports whether a row changed (false: no such user with
// that email, or already verified).
func (s *Store) MarkEmailVerified(ctx context.Context, userID, email string, now time.Time) (bool, error) {
	var id string
	err := s.db.QueryRow(ctx, `UPDATE `+s.user+` SET "email_verified" = 1, "updated_at" = ? WHERE "id" = ? AND "email" = ? AND NOT "email_verified" RETURNING "id"`,
		s.dates.Encode(now), userID, email).Scan(&id)
	if database.IsNoRows(err) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("mark email verified: %w", err)
	}
	return true, nil
}

// MoveEmail changes a user's email from one address to another, only while
// the user still has the old one (so a confirmation link works once), and
// ends every session of the user but keepToken ("" keeps none), as
// ChangeEmail does. It reports whether the email moved; ErrEmailTaken if
// another user has the new address (nothing changes then).
func (s *Store) MoveEmail(ctx context.Context, userID, from, to, keepToken string, now time.Time) (bool, error) {
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
	err = s.db.Batch(ctx,
		database.Stmt{SQL: `DELETE FROM "session" WHERE "user_id" = ? AND "token" <> ?`, Args: []any{userID, keepToken}},
		resetTokensOf(userID),
	)
	if err != nil {
		return true, fmt.Errorf("move email: end other sessions: %w", err)
	}
	return true, nil
}
