package authdb

import (
	"context"
	"fmt"
	"time"

	"adstudio/internal/audit"
	"adstudio/internal/database"
)

// SocialAccount is an account row of an OAuth provider, tokens included.
// Tokens are stored as given: the caller encrypts them.
type SocialAccount struct {
	ID                    string
	ProviderID            string
	AccountID             string // the provider's user id
	UserID                string
	AccessToken           string
	RefreshToken          string
	IDToken               string
	AccessTokenExpiresAt  *time.Time
	RefreshTokenExpiresAt *time.Time
	Scope                 string // comma-separated, as better-auth stores it
	CreatedAt             time.Time
	UpdatedAt             time.Time
}

func nullable(s string) any {
	if s == "" {
		return nil
	}
	return s
}

func (s *Store) nullableTime(t *time.Time) any {
	if t == nil {
		return nil
	}
	return s.dates.Encode(*t)
}

func (s *Store) insertAccount(a SocialAccount) database.Stmt {
	return database.Stmt{
		SQL: `INSERT INTO "account" ("id", "account_id", "provider_id", "user_id", "access_token", "refresh_token", "id_token", "access_token_expires_at", "refresh_token_expires_at", "scope", "created_at", "updated_at") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		Args: []any{a.ID, a.AccountID, a.ProviderID, a.UserID, nullable(a.AccessToken), nullable(a.RefreshToken), nullable(a.IDToken),
			s.nullableTime(a.AccessTokenExpiresAt), s.nullableTime(a.RefreshTokenExpiresAt), nullable(a.Scope),
			s.dates.Encode(a.CreatedAt), s.dates.Encode(a.UpdatedAt)},
	}
}

// AccountByProvider finds the account of a provider's user with its owner.
// better-auth 1.7.24 keys accounts by (providerId, accountId).
func (s *Store) AccountByProvider(ctx context.Context, providerID, accountID string) (SocialAccount, User, error) {
	row := make([]any, 9)
	err := s.db.QueryRow(ctx, `SELECT a."id", a."scope", `+userCols+` FROM "account" a JOIN `+s.user+` u ON u."id" = a."user_id" WHERE a."provider_id" = ? AND a."account_id" = ? ORDER BY a."rowid" LIMIT 1`, providerID, accountID).Scan(ptrs(row)...)
	if database.IsNoRows(err) {
		return SocialAccount{}, User{}, ErrNotFound
	}
	if err != nil {
		return SocialAccount{}, User{}, fmt.Errorf("account by provider: %w", err)
	}
	u := s.scanUser(row[2:])
	return SocialAccount{ID: database.String(row[0]), ProviderID: providerID, AccountID: accountID, UserID: u.ID, Scope: database.String(row[1])}, u, nil
}

// UserByEmail finds a user by (lower-cased) email.
func (s *Store) UserByEmail(ctx context.Context, email string) (User, error) {
	v := make([]any, 7)
	err := s.db.QueryRow(ctx, `SELECT `+userCols+` FROM `+s.user+` u WHERE u."email" = ?`, email).Scan(ptrs(v)...)
	if database.IsNoRows(err) {
		return User{}, ErrNotFound
	}
	if err != nil {
		return User{}, fmt.Errorf("user by email: %w", err)
	}
	return s.scanUser(v), nil
}

// UserByID finds a user by id.
func (s *Store) UserByID(ctx context.Context, id string) (User, error) {
	v := make([]any, 7)
	err := s.db.QueryRow(ctx, `SELECT `+userCols+` FROM `+s.user+` u WHERE u."id" = ?`, id).Scan(ptrs(v)...)
	if database.IsNoRows(err) {
		return User{}, ErrNotFound
	}
	if err != nil {
		return User{}, fmt.Errorf("user by id: %w", err)
	}
	return s.scanUser(v), nil
}

// SignUpSocial creates a user from a provider's profile with its account,
// first session and free profile, in one atomic batch. A taken email (a
// concurrent sign-up) is ErrEmailTaken.
func (s *Store) SignUpSocial(ctx context.Context, u User, a SocialAccount, ss Session, trail ...audit.Event) error {
	stmts := append([]database.Stmt{
		s.insertUser(u),
		s.insertAccount(a),
		s.insertSession(ss),
	}, s.insertProfile(u)...)
	err := s.db.Batch(ctx, append(stmts, audit.Stmts(trail)...)...)
	if database.IsUniqueViolation(err) {
		return ErrEmailTaken
	}
	if err != nil {
		return fmt.Errorf("social sign up: %w", err)
	}
	return nil
}

// SignInSocial refreshes a linked account's tokens (better-auth 1.7 keeps
// the stored scope), marks the email verified when the provider vouches for
// it, and creates the session: one atomic batch.
func (s *Store) SignInSocial(ctx context.Context, a SocialAccount, verifyEmail bool, ss Session, trail ...audit.Event) error {
	stmts := []database.Stmt{s.updateTokens(a, false)}
	if verifyEmail {
		stmts = append(stmts, database.Stmt{
			SQL:  `UPDATE ` + s.user + ` SET "email_verified" = 1, "updated_at" = ? WHERE "id" = ?`,
			Args: []any{s.dates.Encode(a.UpdatedAt), a.UserID},
		})
	}
	stmts = append(stmts, s.insertSession(ss))
	if err := s.db.Batch(ctx, append(stmts, audit.Stmts(trail)...)...); err != nil {
		return fmt.Errorf("social sign in: %w", err)
	}
	return nil
}

func (s *Store) updateTokens(a SocialAccount, withScope bool) database.Stmt {
	sql := `UPDATE "account" SET "access_token" = ?, "refresh_token" = COALESCE(?, "refresh_token"), "id_token" = COALESCE(?, "id_token"), "access_token_expires_at" = ?, "refresh_token_expires_at" = COALESCE(?, "refresh_token_expires_at"), "updated_at" = ?`
	args := []any{nullable(a.AccessToken), nullable(a.RefreshToken), nullable(a.IDToken), s.nullableTime(a.AccessTokenExpiresAt), s.nullableTime(a.RefreshTokenExpiresAt), s.dates.Encode(a.UpdatedAt)}
	if withScope {
		sql += `, "scope" = ?`
		args = append(args, nullable(a.Scope))
	}
	return database.Stmt{SQL: sql + ` WHERE "id" = ?`, Args: append(args, a.ID)}
}

// LinkAccount adds a provider account to an existing user, optionally with a
// session (implicit linking at sign-in) in the same batch. verifyEmail also
// marks the user's email verified and ends every other session of theirs.
func (s *Store) LinkAccount(ctx context.Context, a SocialAccount, ss *Session, verifyEmail bool, trail ...audit.Event) error {
	stmts := []database.Stmt{s.insertAccount(a)}
	if verifyEmail {
		keep := ""
		if ss != nil {
			keep = ss.Token
		}
		stmts = append(stmts,
			database.Stmt{SQL: `UPDATE ` + s.user + ` SET "email_verified" = 1, "updated_at" = ? WHERE "id" = ?`, Args: []any{s.dates.Encode(a.UpdatedAt), a.UserID}},
			database.Stmt{SQL: `DELETE FROM "session" WHERE "user_id" = ? AND "token" <> ?`, Args: []any{a.UserID, keep}})
	}
	if ss != nil {
		stmts = append(stmts, s.insertSession(*ss))
	}
	if err := s.db.Batch(ctx, append(stmts, audit.Stmts(trail)...)...); err != nil {
		return fmt.Errorf("link account: %w", err)
	}
	return nil
}

// RelinkAccount refreshes the tokens of an account its owner links again,
// with the merged scope.
func (s *Store) RelinkAccount(ctx context.Context, a SocialAccount) error {
	st := s.updateTokens(a, true)
	if err := s.db.Exec(ctx, st.SQL, st.Args...); err != nil {
		return fmt.Errorf("relink account: %w", err)
	}
	return nil
}

// UnlinkAccount deletes the user's account with row id accountID unless it
// is their last one, in one statement so two concurrent unlinks cannot
// remove both of the last two. Like better-auth it reports ErrLastAccount
// for a user with one account whatever the id, then ErrNotFound for an
// account the user does not have.
//
// The trail's rows cost one statement more: the DELETE must return its row
// to tell a lost race from success, and a batch returns none.
func (s *Store) UnlinkAccount(ctx context.Context, userID, accountID string, trail ...audit.Event) error {
	var total, owned int
	err := s.db.QueryRow(ctx, `SELECT COUNT(*), COUNT(CASE WHEN "id" = ? THEN 1 END) FROM "account" WHERE "user_id" = ?`, accountID, userID).Scan(&total, &owned)
	switch {
	case err != nil:
		return fmt.Errorf("unlink account: %w", err)
	case total == 1:
		return ErrLastAccount
	case owned == 0:
		return ErrNotFound
	}
	var gone string
	err = s.db.QueryRow(ctx, `DELETE FROM "account" WHERE "id" = ? AND "user_id" = ? AND (SELECT COUNT(*) FROM "account" WHERE "user_id" = ?) > 1 RETURNING "id"`, accountID, userID, userID).Scan(&gone)
	if database.IsNoRows(err) {
		return ErrLastAccount
	}
	if err != nil {
		return fmt.Errorf("unlink account: %w", err)
	}
	for _, e := range trail {
		if err := audit.Write(ctx, s.db, e); err != nil {
			return err
		}
	}
	return nil
}

// ErrLastAccount refuses to remove a user's only way in.
var ErrLastAccount = fmt.Errorf("last account")

// CreateVerification stores a verification value (OAuth state, one-time
// token) under identifier until expiresAt.
func (s *Store) CreateVerification(ctx context.Context, identifier, value string, expiresAt, now time.Time) error {
	err := s.db.Exec(ctx, `INSERT INTO "verification" ("id", "identifier", "value", "expires_at", "created_at", "updated_at") VALUES (?, ?, ?, ?, ?, ?)`,
		NewID(), identifier, value, s.dates.Encode(expiresAt), s.dates.Encode(now), s.dates.Encode(now))
	if err != nil {
		return fmt.Errorf("create verification: %w", err)
	}
	return nil
}

// ConsumeVerification deletes and returns the value stored under
// identifier, in one statement: of two concurrent callers only one gets it,
// which makes states and one-time tokens single-use. An expired value is
// deleted too and reported as ErrNotFound.
func (s *Store) ConsumeVerification(ctx context.Context, identifier string, now time.Time) (string, error) {
	v := make([]any, 2)
	err := s.db.QueryRow(ctx, `DELETE FROM "verification" WHERE "id" = (SELECT "id" FROM "verification" WHERE "identifier" = ? ORDER BY "rowid" DESC LIMIT 1) RETURNING "value", "expires_at"`, identifier).Scan(ptrs(v)...)
	if database.IsNoRows(err) {
		return "", ErrNotFound
	}
	if err != nil {
		return "", fmt.Errorf("consume verification: %w", err)
	}
	exp, ok := s.dates.Decode(v[1])
	if !ok || !exp.After(now) {
		return "", ErrNotFound
	}
	return database.String(v[0]), nil
}

// PurgeVerifications deletes expired verification rows (abandoned OAuth
// flows), for the scheduled sweep.
func (s *Store) PurgeVerifications(ctx context.Context, now time.Time) error {
	if err := s.db.Exec(ctx, `DELETE FROM "verification" WHERE "expires_at" < ?`, s.dates.Encode(now)); err != nil {
		return fmt.Errorf("purge verifications: %w", err)
	}
	return nil
}
