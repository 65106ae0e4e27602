// Package authdb reads and writes better-auth's core tables (user,
// session, account) in either physical layout, one round trip per call.
package authdb

import (
	"encoding/json"
	"errors"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
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
	return t.AppendJSON(make([]byte, 0, len(`"2006-01-02T15:04:05.000Z"`))), nil
}

// AppendJSON appends t quoted as MarshalJSON writes it.
func (t Time) AppendJSON(b []byte) []byte {
	b = append(b, '"')
	b = time.Time(t).UTC().Truncate(time.Millisecond).AppendFormat(b, jsDateLayout)
	return append(b, '"')
}

// jsDateLayout is Date.toJSON's format, for UTC times cut to milliseconds.
const jsDateLayout = "2006-01-02T15:04:05.000Z"

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
	return t.UTC().Truncate(time.Millisecond).Format(jsDateLayout)
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
	return u.AppendJSON(make([]byte, 0, 256)), nil
}

// AppendJSON appends the user as MarshalJSON writes it, in userJSON's key
// order. It is one pass over the fields: going through json.Marshal would
// encode, and then the caller's encoder would validate and copy the result
// again (encoding/json compacts every Marshaler's output).
//
// Strings are escaped as json.Marshal escapes them, '<', '>' and '&'
// included: MarshalJSON has always been json.Marshal, so those are the bytes
// the cookie cache and every response carried.
func (u User) AppendJSON(b []byte) []byte {
	b = append(b, `{"id":`...)
	b = AppendJSONString(b, u.ID, true)
	b = append(b, `,"name":`...)
	b = AppendJSONString(b, u.Name, true)
	b = append(b, `,"email":`...)
	b = AppendJSONString(b, u.Email, true)
	b = append(b, `,"emailVerified":`...)
	b = strconv.AppendBool(b, u.EmailVerified)
	b = append(b, `,"image":`...)
	if u.Image == nil {
		b = append(b, "null"...)
	} else {
		b = AppendJSONString(b, *u.Image, true)
	}
	b = append(b, `,"createdAt":`...)
	b = Time(u.CreatedAt).AppendJSON(b)
	b = append(b, `,"updatedAt":`...)
	b = Time(u.UpdatedAt).AppendJSON(b)
	return append(b, '}')
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
	return s.AppendJSON(make([]byte, 0, 320)), nil
}

// AppendJSON appends the session as MarshalJSON writes it, in sessionJSON's
// key order and with json.Marshal's escaping (see User.AppendJSON).
func (s Session) AppendJSON(b []byte) []byte {
	b = append(b, `{"id":`...)
	b = AppendJSONString(b, s.ID, true)
	b = append(b, `,"token":`...)
	b = AppendJSONString(b, s.Token, true)
	b = append(b, `,"userId":`...)
	b = AppendJSONString(b, s.UserID, true)
	b = append(b, `,"expiresAt":`...)
	b = Time(s.ExpiresAt).AppendJSON(b)
	b = append(b, `,"createdAt":`...)
	b = Time(s.CreatedAt).AppendJSON(b)
	b = append(b, `,"updatedAt":`...)
	b = Time(s.UpdatedAt).AppendJSON(b)
	b = append(b, `,"ipAddress":`...)
	b = AppendJSONString(b, s.IPAddress, true)
	b = append(b, `,"userAgent":`...)
	b = AppendJSONString(b, s.UserAgent, true)
	return append(b, '}')
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

// AppendJSONString appends s quoted exactly as encoding/json quotes a
// string: '"', '\' and C0 controls escaped (\b \f \n \r \t by name, the
// rest as \u00XX), invalid UTF-8 as \ufffd, U+2028 and U+2029 as \u2028
// and \u2029, and with escapeHTML (json.Marshal's setting; an Encoder's
// SetEscapeHTML(false) turns it off) '<', '>' and '&' as \u003c, \u003e
// and \u0026. The one-pass encoders use it to write what json.Marshal or
// WriteJSON wrote before them, byte for byte; jscompat.AppendString, which
// follows JSON.stringify instead, would not.
func AppendJSONString(b []byte, s string, escapeHTML bool) []byte {
	const hex = "0123456789abcdef"
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		if c := s[i]; c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' && (!escapeHTML || c != '<' && c != '>' && c != '&') {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\b':
				b = append(b, '\\', 'b')
			case '\f':
				b = append(b, '\\', 'f')
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xF])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
		case r == '\u2028' || r == '\u2029':
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hex[r&0xF])
		default:
			i += size
			continue
		}
		i += size
		start = i
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}
