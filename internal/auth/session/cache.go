package session

import (
	"bytes"
	"encoding/base64"
	"strconv"
	"strings"
	"time"

	"adstudio/internal/auth/authdb"
	"adstudio/internal/auth/cookie"
	"adstudio/internal/jscompat"
)

// The session_data cookie cache in better-auth's "compact" encoding, so that
// a better-auth server and this one can share traffic during a cutover:
//
//	payload   = {"session":S,"user":U,"updatedAt":ms,"version":"1"}
//	signature = base64url(HMAC(secret, payload minus its "}" + `,"expiresAt":N}`))
//	cookie    = base64url({"session":payload,"expiresAt":N,"signature":sig})

type cachePayload struct {
	Session   authdb.Session `json:"session"`
	User      authdb.User    `json:"user"`
	UpdatedAt int64          `json:"updatedAt"`
	Version   string         `json:"version"`
}

const cacheVersion = "1"

// encodeCache returns the cookie value for a session, valid until expires.
func encodeCache(signer cookie.Signer, s authdb.Session, u authdb.User, now, expires time.Time) (string, error) {
	payload, err := jscompat.Marshal(cachePayload{s, u, now.UnixMilli(), cacheVersion})
	if err != nil {
		return "", err
	}
	exp := strconv.FormatInt(expires.UnixMilli(), 10)
	sig := base64.RawURLEncoding.EncodeToString(signer.MAC(signedBytes(payload, exp)))
	var b bytes.Buffer
	b.WriteString(`{"session":`)
	b.Write(payload)
	b.WriteString(`,"expiresAt":` + exp + `,"signature":"` + sig + `"}`)
	return base64.RawURLEncoding.EncodeToString(b.Bytes()), nil
}

// signedBytes reproduces what better-auth signs: the payload object with
// expiresAt appended as its last key.
func signedBytes[P string | []byte](payload P, exp string) []byte {
	n := len(payload)
	for n > 0 && (payload[n-1] == ' ' || payload[n-1] == '\n') {
		n--
	}
	out := make([]byte, 0, n+len(exp)+14)
	out = append(out, payload[:n-1]...)
	out = append(out, `,"expiresAt":`...)
	out = append(out, exp...)
	return append(out, '}')
}

// decodeCache verifies a session_data value and returns its session and user
// if it is authentic, current, of our version and not expired at now.
func decodeCache(signer cookie.Signer, raw string, now time.Time) (authdb.Session, authdb.User, bool) {
	var none authdb.Session
	raw = strings.TrimRight(raw, "=")
	data, err := base64.RawURLEncoding.DecodeString(raw)
	if err != nil {
		if data, err = base64.RawStdEncoding.DecodeString(raw); err != nil {
			return none, authdb.User{}, false
		}
	}
	c, ok := readCookie(data)
	if !ok || len(c.payload) < 2 || c.expiresAt == "" {
		return none, authdb.User{}, false
	}
	sig, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(c.signature, "="))
	if err != nil || !signer.ValidMAC(signedBytes(c.payload, c.expiresAt), sig) {
		return none, authdb.User{}, false
	}
	// json.Number's Int64, which this was.
	exp, err := strconv.ParseInt(c.expiresAt, 10, 64)
	if err != nil || exp <= now.UnixMilli() {
		return none, authdb.User{}, false
	}
	p, ok := readPayload(&c)
	if !ok || p.Version != cacheVersion || !p.Session.ExpiresAt.After(now) {
		return none, authdb.User{}, false
	}
	return p.Session, p.User, true
}
