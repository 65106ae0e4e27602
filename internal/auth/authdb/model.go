// Package authstore reads and writes better-auth's core tables (user,
// session, account) in either physical layout, one round trip per call.
package authdb

import (
	"encoding/json"
	"errors"
	"strings"
	"time"
)

// ErrNotFound means the row does not exist.
var ErrNotFound = errors.New("not found")

// ErrEmailTaken means another user already has the email.
var ErrEmailTaken = errors.New("email taken")

// User is better-auth's user object.
type User struct {
	ID            string
	Name          string
	Email         string
	EmailVerified bool
	Image         *string
	CreatedAt     time.Time
	UpdatedAt     time.Time
}

// Session is better-auth's session object; Token is the raw session token.
type Session struct {
	ID        string
	Token     string
	UserID    string
	ExpiresAt time.Time
	CreatedAt time.Time
	UpdatedAt time.Time
	IPAddress string
	UserAgent string
}

// Account is one way into a user (the password, or a social provider).
type Account struct {
	ID         string
	ProviderID string
	AccountID  string
	UserID     string
	Scope      string
	CreatedAt  time.Time
	UpdatedAt  time.Time
}

// Time marshals as JavaScript's Date.toJSON: UTC, exactly three fractional
// digits, which the better-auth client needs to revive it as a Date.
type Time time.Time

// MarshalJSON implements json.Marshaler.
func (t Time) MarshalJSON() ([]byte, error) {
	return []byte(`"` + FormatTime(time.Time(t)) + `"`), nil
}

// UnmarshalJSON implements json.Unmarshaler.
func (t *Time) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return err
	}
	v, err := time.Parse(time.RFC3339Nano, s)
	*t = Time(v.UTC())
	return err
}

// FormatTime formats t as Date.toJSON does.
func FormatTime(t time.Time) string {
	return t.UTC().Truncate(time.Millisecond).Format("2006-01-02T15:04:05.000Z")
}

// userJSON fixes the wire shape and key order of a user.
type userJSON struct {
	ID            string  `json:"id"`
	Name          string  `json:"name"`
	Email         string  `json:"email"`
	EmailVerified bool    `json:"emailVerified"`
	Image         *string `json:"image"`
	CreatedAt     Time    `json:"createdAt"`
	UpdatedAt     Time    `json:"updatedAt"`
}

// MarshalJSON writes the user as better-auth does.
func (u User) MarshalJSON() ([]byte, error) {
	return json.Marshal(userJSON{u.ID, u.Name, u.Email, u.EmailVerified, u.Image, Time(u.CreatedAt), Time(u.UpdatedAt)})
}

// UnmarshalJSON reads a user written by either server.
func (u *User) UnmarshalJSON(b []byte) error {
	var j userJSON
	if err := json.Unmarshal(b, &j); err != nil {
		return err
	}
	*u = User{j.ID, j.Name, j.Email, j.EmailVerified, j.Image, time.Time(j.CreatedAt), time.Time(j.UpdatedAt)}
	return nil
}

type sessionJSON struct {
	ID        string `json:"id"`
	Token     string `json:"token"`
	UserID    string `json:"userId"`
	ExpiresAt Time   `json:"expiresAt"`
	CreatedAt Time   `json:"createdAt"`
	UpdatedAt Time   `json:"updatedAt"`
	IPAddress string `json:"ipAddress"`
	UserAgent string `json:"userAgent"`
}

// MarshalJSON writes the session as better-auth does.
func (s Session) MarshalJSON() ([]byte, error) {
	return json.Marshal(sessionJSON{s.ID, s.Token, s.UserID, Time(s.ExpiresAt), Time(s.CreatedAt), Time(s.UpdatedAt), s.IPAddress, s.UserAgent})
}

// UnmarshalJSON reads a session written by either server.
func (s *Session) UnmarshalJSON(b []byte) error {
	var j sessionJSON
	if err := json.Unmarshal(b, &j); err != nil {
		return err
	}
	*s = Session{j.ID, j.Token, j.UserID, time.Time(j.ExpiresAt), time.Time(j.CreatedAt), time.Time(j.UpdatedAt), j.IPAddress, j.UserAgent}
	return nil
}

// MarshalJSON writes the account as list-accounts returns it: no secrets,
// and the comma-separated scope as a "scopes" array.
func (a Account) MarshalJSON() ([]byte, error) {
	scopes := []string{}
	for _, s := range strings.Split(a.Scope, ",") {
		if s = strings.TrimSpace(s); s != "" {
			scopes = append(scopes, s)
		}
	}
	return json.Marshal(struct {
		ID         string   `json:"id"`
		ProviderID string   `json:"providerId"`
		AccountID  string   `json:"accountId"`
		UserID     string   `json:"userId"`
		CreatedAt  Time     `json:"createdAt"`
		UpdatedAt  Time     `json:"updatedAt"`
		Scopes     []string `json:"scopes"`
	}{a.ID, a.ProviderID, a.AccountID, a.UserID, Time(a.CreatedAt), Time(a.UpdatedAt), scopes})
}
