package authdb

import (
	"context"
	"fmt"
	"time"

	"adstudio/internal/database"
)

// The free tier's credits wait for a verified address when
// WithholdFreeCredits is set (FREE_CREDITS_REQUIRE_VERIFIED_EMAIL), so
// throwaway sign-ups cost no provider calls. Both moves are ledger rows,
// so balance = opening grant + ledger holds throughout: at sign-up the
// profile gets the free tier and a "free_withheld" row per workflow takes
// it back; the address's verification adds a "free_released" row per
// workflow that gives it back, once (its id is derived from the user's).

// freeWorkflows are the ledger's workflow names of the two balances, with
// their columns.
func freeWorkflows() [2]struct{ workflow, column string } {
	return [2]struct{ workflow, column string }{
		{"image-from-text", `"credits_product_shoots"`},
		{"image-from-reference", `"credits_ad_graphics"`},
	}
}

// withheldCredits takes a new profile's free credits back into the ledger.
func withheldCredits(userID string, now time.Time) []database.Stmt {
	var stmts []database.Stmt
	for _, w := range freeWorkflows() {
		stmts = append(stmts,
			database.Stmt{
				SQL: `INSERT INTO "credit_ledger" ("id", "user_id", "workflow", "delta", "reason", "created_at")
SELECT ?, "user_id", ?, -` + w.column + `, 'free_withheld', ? FROM "user_profile" WHERE "user_id" = ? AND ` + w.column + ` > 0`,
				Args: []any{"free-withheld:" + userID + ":" + w.workflow, w.workflow, now.Unix(), userID},
			},
			database.Stmt{
				SQL:  `UPDATE "user_profile" SET ` + w.column + ` = 0 WHERE "user_id" = ?`,
				Args: []any{userID},
			})
	}
	return stmts
}

// ReleaseFreeCredits gives back what withheldCredits took, when the user's
// address has been verified. Nothing happens for a user whose credits were
// never withheld, and a second call changes nothing: the release rows'
// ids are fixed, so a repeat fails on them and its batch rolls back.
func (s *Store) ReleaseFreeCredits(ctx context.Context, userID string, now time.Time) error {
	var stmts []database.Stmt
	for _, w := range freeWorkflows() {
		withheld := "free-withheld:" + userID + ":" + w.workflow
		released := "free-released:" + userID + ":" + w.workflow
		stmts = append(stmts,
			database.Stmt{
				SQL: `INSERT INTO "credit_ledger" ("id", "user_id", "workflow", "delta", "reason", "created_at")
SELECT ?, "user_id", "workflow", -"delta", 'free_released', ? FROM "credit_ledger" WHERE "id" = ?`,
				Args: []any{released, now.Unix(), withheld},
			},
			database.Stmt{
				SQL: `UPDATE "user_profile" SET ` + w.column + ` = ` + w.column + ` + (SELECT "delta" FROM "credit_ledger" WHERE "id" = ?), "updated_at" = ?
WHERE "user_id" = ? AND EXISTS (SELECT 1 FROM "credit_ledger" WHERE "id" = ?)`,
				Args: []any{released, now.Unix(), userID, released},
			})
	}
	err := s.db.Batch(ctx, stmts...)
	if database.IsUniqueViolation(err) {
		return nil // released before
	}
	if err != nil {
		return fmt.Errorf("release free credits: %w", err)
	}
	return nil
}
