// Package profile keeps each user's application profile (account type and
// per-workflow credit balances), created lazily on first use.
package profile

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"adstudio/internal/auth/authdb"
	"adstudio/internal/database"
	"adstudio/internal/httpapi"
)

// Profile is one user_profile row.
type Profile struct {
	UserID               string      `json:"userId"`
	AccountType          string      `json:"accountType"`
	CreditsProductShoots int64       `json:"creditsProductShoots"`
	CreditsAdGraphics    int64       `json:"creditsAdGraphics"`
	CreatedAt            authdb.Time `json:"createdAt"`
	UpdatedAt            authdb.Time `json:"updatedAt"`
}

// Store reads and creates profiles.
type Store struct {
	DB *database.DB
	// UserTable is the quoted auth user table ("users" or "user"): a
	// profile is only ever created for a user that exists.
	UserTable string
}

// ErrNoUser: the user has no profile and no longer exists (deleted while
// a signed cookie cache still named them).
var ErrNoUser = errors.New("profile: no such user")

const profileCols = `"user_id", "account_type", "credits_product_shoots", "credits_ad_graphics", "created_at", "updated_at"`

// Ensure returns the user's profile, creating the free one if it does not
// exist. The common case is one read; a missing profile costs one more
// statement, a no-op upsert that returns the row whoever created it, so a
// concurrent first request cannot make it fail. The insert happens only
// while the user exists: a read answered from the cookie cache of a user
// deleted since must not bring a row of theirs back (ErrNoUser).
func (s *Store) Ensure(ctx context.Context, userID string) (Profile, error) {
	p, err := scanProfile(s.DB.QueryRow(ctx, `SELECT `+profileCols+` FROM "user_profile" WHERE "user_id" = ?`, userID))
	if err == nil || !database.IsNoRows(err) {
		return p, err
	}
	p, err = scanProfile(s.DB.QueryRow(ctx, `INSERT INTO "user_profile" ("user_id")
SELECT ? WHERE EXISTS (SELECT 1 FROM `+s.UserTable+` WHERE "id" = ?)
ON CONFLICT ("user_id") DO UPDATE SET "user_id" = "excluded"."user_id"
RETURNING `+profileCols, userID, userID))
	if database.IsNoRows(err) {
		return p, ErrNoUser
	}
	return p, err
}

func scanProfile(row *sql.Row) (Profile, error) {
	var p Profile
	var created, updated int64
	if err := row.Scan(&p.UserID, &p.AccountType, &p.CreditsProductShoots, &p.CreditsAdGraphics, &created, &updated); err != nil {
		if database.IsNoRows(err) {
			return p, err
		}
		return p, fmt.Errorf("profile: %w", err)
	}
	p.CreatedAt, p.UpdatedAt = authdb.Time(time.Unix(created, 0)), authdb.Time(time.Unix(updated, 0))
	return p, nil
}

// API serves the profile routes.
type API struct {
	Guard    *httpapi.Guard
	Profiles *Store
}

// Me is GET /api/me: the session user and their (lazily created) profile.
func (a *API) Me(w http.ResponseWriter, r *http.Request) error {
	cur, err := a.Guard.User(w, r, true)
	if err != nil {
		return err
	}
	p, err := a.Profiles.Ensure(r.Context(), cur.User.ID)
	if errors.Is(err, ErrNoUser) {
		// Only a cookie cache can name a deleted user: end it.
		a.Guard.Sessions.Clear(w.Header(), r)
		return &httpapi.AppError{Status: http.StatusUnauthorized, Code: httpapi.CodeUnauthorized, Message: "Authentication required."}
	}
	if err != nil {
		return err
	}
	httpapi.WriteJSON(w, http.StatusOK, meBody{cur.User, p})
	return nil
}

// meBody is /api/me's {user, profile}. It writes itself in one pass
// (httpapi.WriteJSON), the same bytes as encoding/json writes for
//
//	struct {
//		User    authdb.User `json:"user"`
//		Profile Profile     `json:"profile"`
//	}
//
// under WriteJSON's settings: the user through its MarshalJSON (which
// escapes HTML characters), the profile's own strings without HTML
// escaping.
type meBody struct {
	user    authdb.User
	profile Profile
}

// AppendJSON appends the body.
func (m meBody) AppendJSON(b []byte) []byte {
	p := m.profile
	b = append(b, `{"user":`...)
	b = m.user.AppendJSON(b)
	b = append(b, `,"profile":{"userId":`...)
	b = authdb.AppendJSONString(b, p.UserID, false)
	b = append(b, `,"accountType":`...)
	b = authdb.AppendJSONString(b, p.AccountType, false)
	b = append(b, `,"creditsProductShoots":`...)
	b = strconv.AppendInt(b, p.CreditsProductShoots, 10)
	b = append(b, `,"creditsAdGraphics":`...)
	b = strconv.AppendInt(b, p.CreditsAdGraphics, 10)
	b = append(b, `,"createdAt":`...)
	b = p.CreatedAt.AppendJSON(b)
	b = append(b, `,"updatedAt":`...)
	b = p.UpdatedAt.AppendJSON(b)
	return append(b, "}}"...)
}
