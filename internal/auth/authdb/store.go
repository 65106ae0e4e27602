package authdb

import (
	"context"
	"fmt"
	"strings"
	"time"

	"adstudio/internal/audit"
	"adstudio/internal/config"
	"adstudio/internal/database"
)

// Store is the repository over the auth tables of one layout.
type Store struct {
	db    *database.DB
	user  string // quoted user table name
	dates database.Dates
	// WithholdFreeCredits keeps the free tier's credits from a new user
	// whose address is not verified, until it is
	// (FREE_CREDITS_REQUIRE_VERIFIED_EMAIL; see credits.go).
	WithholdFreeCredits bool
}

// New binds the repository to a layout.
func New(db *database.DB, schema config.Schema) *Store {
	return &Store{db: db, user: `"` + string(schema) + `"`, dates: database.Dates{Seconds: schema == config.SchemaUser}}
}

// Stamp is now at the precision of the layout's date columns.
func (s *Store) Stamp(now time.Time) time.Time { return s.dates.Truncate(now) }

// UserTable is the unquoted name of the user table.
func (s *Store) UserTable() string { return strings.Trim(s.user, `"`) }

// DB is the underlying handle, for packages that join app tables.
func (s *Store) DB() *database.DB { return s.db }

// Dates is the layout's date codec.
func (s *Store) Dates() database.Dates { return s.dates }

const userCols = `u."id", u."name", u."email", u."email_verified", u."image", u."created_at", u."updated_at"`
const sessionCols = `s."id", s."token", s."user_id", s."expires_at", s."created_at", s."updated_at", s."ip_address", s."user_agent"`

func (s *Store) scanUser(v []any) User {
	u := User{ID: database.String(v[0]), Name: database.String(v[1]), Email: database.String(v[2]), EmailVerified: database.Bool(v[3])}
	if v[4] != nil {
		img := database.String(v[4])
		u.Image = &img
	}
	u.CreatedAt, _ = s.dates.Decode(v[5])
	u.UpdatedAt, _ = s.dates.Decode(v[6])
	return u
}

func (s *Store) scanSession(v []any) Session {
	ss := Session{ID: database.String(v[0]), Token: database.String(v[1]), UserID: database.String(v[2]), IPAddress: database.String(v[6]), UserAgent: database.String(v[7])}
	ss.ExpiresAt, _ = s.dates.Decode(v[3])
	ss.CreatedAt, _ = s.dates.Decode(v[4])
	ss.UpdatedAt, _ = s.dates.Decode(v[5])
	return ss
}

func ptrs(v []any) []any {
	p := make([]any, len(v))
	for i := range v {
		p[i] = &v[i]
	}
	return p
}

// SessionWithUser finds a session by its token, joined with its user.
func (s *Store) SessionWithUser(ctx context.Context, token string) (Session, User, error) {
	v := make([]any, 15)
	err := s.db.QueryRow(ctx, `SELECT `+sessionCols+`, `+userCols+` FROM "session" s JOIN `+s.user+` u ON u."id" = s."user_id" WHERE s."token" = ?`, token).Scan(ptrs(v)...)
	if database.IsNoRows(err) {
		return Session{}, User{}, ErrNotFound
	}
	if err != nil {
		return Session{}, User{}, fmt.Errorf("session by token: %w", err)
	}
	return s.scanSession(v[:8]), s.scanUser(v[8:]), nil
}

// UserWithPassword finds a user by (lower-cased) email with the hash of its
// credential account; hash is "" when there is none.
func (s *Store) UserWithPassword(ctx context.Context, email string) (User, string, error) {
	v := make([]any, 8)
	err := s.db.QueryRow(ctx, `SELECT `+userCols+`, (SELECT a."password" FROM "account" a WHERE a."user_id" = u."id" AND a."provider_id" = 'credential' ORDER BY a."password" IS NULL LIMIT 1) FROM `+s.user+` u WHERE u."email" = ?`, email).Scan(ptrs(v)...)
	if database.IsNoRows(err) {
		return User{}, "", ErrNotFound
	}
	if err != nil {
		return User{}, "", fmt.Errorf("user by email: %w", err)
	}
	return s.scanUser(v[:7]), database.String(v[7]), nil
}

// CredentialPassword returns the user's password hash ("" if none) and
// whether a credential account exists at all.
func (s *Store) CredentialPassword(ctx context.Context, userID string) (string, bool, error) {
	var hash any
	err := s.db.QueryRow(ctx, `SELECT "password" FROM "account" WHERE "user_id" = ? AND "provider_id" = 'credential' ORDER BY "password" IS NULL LIMIT 1`, userID).Scan(&hash)
	if database.IsNoRows(err) {
		return "", false, nil
	}
	if err != nil {
		return "", false, fmt.Errorf("credential account: %w", err)
	}
	return database.String(hash), true, nil
}

func (s *Store) insertSession(ss Session) database.Stmt {
	return database.Stmt{
		SQL:  `INSERT INTO "session" ("id", "token", "user_id", "expires_at", "created_at", "updated_at", "ip_address", "user_agent") VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
		Args: []any{ss.ID, ss.Token, ss.UserID, s.dates.Encode(ss.ExpiresAt), s.dates.Encode(ss.CreatedAt), s.dates.Encode(ss.UpdatedAt), ss.IPAddress, ss.UserAgent},
	}
}

func (s *Store) insertUser(u User) database.Stmt {
	var image any
	if u.Image != nil {
		image = *u.Image
	}
	return database.Stmt{
		SQL:  `INSERT INTO ` + s.user + ` ("id", "name", "email", "email_verified", "image", "created_at", "updated_at") VALUES (?, ?, ?, ?, ?, ?, ?)`,
		Args: []any{u.ID, u.Name, u.Email, u.EmailVerified, image, s.dates.Encode(u.CreatedAt), s.dates.Encode(u.UpdatedAt)},
	}
}

// insertProfile gives a new user the free profile with the free tier's
// credits (the columns' defaults); withheldCredits then takes them back
// into the ledger for an unverified address when WithholdFreeCredits is
// set.
func (s *Store) insertProfile(u User) []database.Stmt {
	stmts := []database.Stmt{{
		SQL:  `INSERT INTO "user_profile" ("user_id", "created_at", "updated_at") VALUES (?, ?, ?) ON CONFLICT ("user_id") DO NOTHING`,
		Args: []any{u.ID, u.CreatedAt.Unix(), u.CreatedAt.Unix()},
	}}
	if s.WithholdFreeCredits && !u.EmailVerified {
		stmts = append(stmts, withheldCredits(u.ID, u.CreatedAt)...)
	}
	return stmts
}

// SignUp creates the user, its credential account, its first session (none
// when ss is nil: a sign-up that must verify its address first) and its
// free profile in one atomic batch, with the trail's rows. A taken email
// is ErrEmailTaken.
func (s *Store) SignUp(ctx context.Context, u User, accountID, hash string, ss *Session, trail ...audit.Event) error {
	stmts := append([]database.Stmt{
		s.insertUser(u),
		{
			SQL:  `INSERT INTO "account" ("id", "account_id", "provider_id", "user_id", "password", "created_at", "updated_at") VALUES (?, ?, 'credential', ?, ?, ?, ?)`,
			Args: []any{accountID, u.ID, u.ID, hash, s.dates.Encode(u.CreatedAt), s.dates.Encode(u.UpdatedAt)},
		},
	}, s.insertProfile(u)...)
	if ss != nil {
		stmts = append(stmts, s.insertSession(*ss))
	}
	err := s.db.Batch(ctx, append(stmts, audit.Stmts(trail)...)...)
	if database.IsUniqueViolation(err) {
		return ErrEmailTaken
	}
	if err != nil {
		return fmt.Errorf("sign up: %w", err)
	}
	return nil
}

// CreateSession inserts a session, with the trail's rows in the same
// round trip.
func (s *Store) CreateSession(ctx context.Context, ss Session, trail ...audit.Event) error {
	if err := s.write(ctx, append([]database.Stmt{s.insertSession(ss)}, audit.Stmts(trail)...)...); err != nil {
		return fmt.Errorf("create session: %w", err)
	}
	return nil
}

// ExtendSession moves a session's expiry; ErrNotFound if it is gone.
func (s *Store) ExtendSession(ctx context.Context, token string, expiresAt, now time.Time) error {
	var id string
	err := s.db.QueryRow(ctx, `UPDATE "session" SET "expires_at" = ?, "updated_at" = ? WHERE "token" = ? RETURNING "id"`, s.dates.Encode(expiresAt), s.dates.Encode(now), token).Scan(&id)
	if database.IsNoRows(err) {
		return ErrNotFound
	}
	if err != nil {
		return fmt.Errorf("extend session: %w", err)
	}
	return nil
}

// write runs one statement alone, or several as one atomic batch: either
// way one round trip, so a trail row costs none.
func (s *Store) write(ctx context.Context, stmts ...database.Stmt) error {
	if len(stmts) == 1 {
		return s.db.Exec(ctx, stmts[0].SQL, stmts[0].Args...)
	}
	return s.db.Batch(ctx, stmts...)
}

// revocations are the trail's rows placed right after a statement that
// deleted sessions, each counting them under "revoked".
func revocations(trail []audit.Event) []database.Stmt {
	out := make([]database.Stmt, len(trail))
	for i, e := range trail {
		out[i] = e.StmtCounting("revoked")
	}
	return out
}

// DeleteSession deletes the session with token, if any. The trail's rows
// go first and take their user from the session (none when there was no
// such session): sign-out knows only the token.
func (s *Store) DeleteSession(ctx context.Context, token string, trail ...audit.Event) error {
	var stmts []database.Stmt
	for _, e := range trail {
		stmts = append(stmts, e.StmtFrom(`"user_id"`, `"session" WHERE "token" = ?`, token))
	}
	stmts = append(stmts, database.Stmt{SQL: `DELETE FROM "session" WHERE "token" = ?`, Args: []any{token}})
	if err := s.write(ctx, stmts...); err != nil {
		return fmt.Errorf("delete session: %w", err)
	}
	return nil
}

// DeleteUserSession deletes token only if it belongs to userID; each trail
// row records how many sessions that ended (0 or 1) as "revoked".
func (s *Store) DeleteUserSession(ctx context.Context, userID, token string, trail ...audit.Event) error {
	del := database.Stmt{SQL: `DELETE FROM "session" WHERE "token" = ? AND "user_id" = ?`, Args: []any{token, userID}}
	if err := s.write(ctx, append([]database.Stmt{del}, revocations(trail)...)...); err != nil {
		return fmt.Errorf("revoke session: %w", err)
	}
	return nil
}

// DeleteUserSessions deletes every session of userID except keepToken;
// each trail row records how many ended as "revoked".
func (s *Store) DeleteUserSessions(ctx context.Context, userID, keepToken string, trail ...audit.Event) error {
	del := database.Stmt{SQL: `DELETE FROM "session" WHERE "user_id" = ? AND "token" != ?`, Args: []any{userID, keepToken}}
	if err := s.write(ctx, append([]database.Stmt{del}, revocations(trail)...)...); err != nil {
		return fmt.Errorf("revoke sessions: %w", err)
	}
	return nil
}

// ListSessions returns the user's sessions that have not expired at now,
// oldest first. Expiry is compared in Go: layouts and legacy rows encode
// dates differently, so SQL comparison would be wrong on some rows.
func (s *Store) ListSessions(ctx context.Context, userID string, now time.Time) ([]Session, error) {
	rows, err := s.db.Query(ctx, `SELECT `+sessionCols+` FROM "session" s WHERE s."user_id" = ? ORDER BY s."rowid"`, userID)
	if err != nil {
		return nil, fmt.Errorf("list sessions: %w", err)
	}
	defer rows.Close()
	out := []Session{}
	for rows.Next() {
		v := make([]any, 8)
		if err := rows.Scan(ptrs(v)...); err != nil {
			return nil, fmt.Errorf("list sessions: %w", err)
		}
		if ss := s.scanSession(v); ss.ExpiresAt.After(now) {
			out = append(out, ss)
		}
	}
	return out, rows.Err()
}

// UserUpdate holds the fields update-user may change; nil means unchanged.
type UserUpdate struct {
	Name     *string
	Image    *string
	SetImage bool // Image was given, possibly as null
}

// UpdateUser applies the update and returns the new row.
func (s *Store) UpdateUser(ctx context.Context, userID string, up UserUpdate, now time.Time) (User, error) {
	set := []string{`"updated_at" = ?`}
	args := []any{s.dates.Encode(now)}
	if up.Name != nil {
		set = append(set, `"name" = ?`)
		args = append(args, *up.Name)
	}
	if up.SetImage {
		set = append(set, `"image" = ?`)
		if up.Image != nil {
			args = append(args, *up.Image)
		} else {
			args = append(args, nil)
		}
	}
	args = append(args, userID)
	v := make([]any, 7)
	err := s.db.QueryRow(ctx, `UPDATE `+s.user+` AS u SET `+strings.Join(set, ", ")+` WHERE u."id" = ? RETURNING `+strings.ReplaceAll(userCols, `u.`, ``), args...).Scan(ptrs(v)...)
	if database.IsNoRows(err) {
		return User{}, ErrNotFound
	}
	if err != nil {
		return User{}, fmt.Errorf("update user: %w", err)
	}
	return s.scanUser(v), nil
}

// ChangeEmail sets a new email and ends every session of the user but
// keepToken, atomically: whoever else held a session was signed in to the
// old address. ErrEmailTaken if another user has the email (nothing
// changes then).
func (s *Store) ChangeEmail(ctx context.Context, userID, email, keepToken string, now time.Time, trail ...audit.Event) error {
	stmts := append([]database.Stmt{
		{SQL: `UPDATE ` + s.user + ` SET "email" = ?, "updated_at" = ? WHERE "id" = ?`, Args: []any{email, s.dates.Encode(now), userID}},
		{SQL: `DELETE FROM "session" WHERE "user_id" = ? AND "token" <> ?`, Args: []any{userID, keepToken}},
	}, revocations(trail)...)
	err := s.db.Batch(ctx, append(stmts, resetTokensOf(userID))...)
	if database.IsUniqueViolation(err) {
		return ErrEmailTaken
	}
	if err != nil {
		return fmt.Errorf("change email: %w", err)
	}
	return nil
}

// SetPassword stores a new hash on the credential account. With replace set,
// every session of the user is deleted and replace is created, atomically.
func (s *Store) SetPassword(ctx context.Context, userID, hash string, now time.Time, replace *Session, trail ...audit.Event) error {
	stmts := []database.Stmt{{
		SQL:  `UPDATE "account" SET "password" = ?, "updated_at" = ? WHERE "user_id" = ? AND "provider_id" = 'credential'`,
		Args: []any{hash, s.dates.Encode(now), userID},
	}}
	if replace != nil {
		stmts = append(stmts, database.Stmt{SQL: `DELETE FROM "session" WHERE "user_id" = ?`, Args: []any{userID}}, s.insertSession(*replace))
	}
	if err := s.db.Batch(ctx, append(stmts, audit.Stmts(trail)...)...); err != nil {
		return fmt.Errorf("set password: %w", err)
	}
	return nil
}

// DeleteUser removes the user and everything that belongs to them, app rows
// included, in one atomic batch. It returns nothing about stored objects:
// the caller deletes those first (issue: images go with their owner).
// The trail's rows are written in the same batch and outlive the user:
// audit_log has no foreign key, and the sweep prunes them with age.
func (s *Store) DeleteUser(ctx context.Context, userID string, trail ...audit.Event) error {
	stmts := []database.Stmt{}
	// billing_customer goes (the Stripe customer stays at Stripe, unused);
	// billing_checkout stays, like the audit trail: it is the record of a
	// payment, keyed by Stripe's ids, with no personal data of its own.
	for _, t := range []string{"session", "account", "user_profile", "credit_ledger", "generation", "billing_customer"} {
		stmts = append(stmts, database.Stmt{SQL: `DELETE FROM "` + t + `" WHERE "user_id" = ?`, Args: []any{userID}})
	}
	stmts = append(stmts, database.Stmt{SQL: `DELETE FROM ` + s.user + ` WHERE "id" = ?`, Args: []any{userID}})
	if err := s.db.Batch(ctx, append(stmts, audit.Stmts(trail)...)...); err != nil {
		return fmt.Errorf("delete user: %w", err)
	}
	return nil
}

// ListAccounts returns the user's accounts, oldest first.
func (s *Store) ListAccounts(ctx context.Context, userID string) ([]Account, error) {
	rows, err := s.db.Query(ctx, `SELECT "id", "provider_id", "account_id", "user_id", "scope", "created_at", "updated_at" FROM "account" WHERE "user_id" = ? ORDER BY "rowid"`, userID)
	if err != nil {
		return nil, fmt.Errorf("list accounts: %w", err)
	}
	defer rows.Close()
	out := []Account{}
	for rows.Next() {
		v := make([]any, 7)
		if err := rows.Scan(ptrs(v)...); err != nil {
			return nil, fmt.Errorf("list accounts: %w", err)
		}
		a := Account{ID: database.String(v[0]), ProviderID: database.String(v[1]), AccountID: database.String(v[2]), UserID: database.String(v[3]), Scope: database.String(v[4])}
		a.CreatedAt, _ = s.dates.Decode(v[5])
		a.UpdatedAt, _ = s.dates.Decode(v[6])
		out = append(out, a)
	}
	return out, rows.Err()
}
