package session

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
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
func signedBytes(payload []byte, exp string) []byte {
	p := bytes.TrimRight(payload, " \n")
	out := make([]byte, 0, len(p)+len(exp)+14)
	out = append(out, p[:len(p)-1]...)
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
	var outer struct {
		Session   json.RawMessage `json:"session"`
		ExpiresAt json.Number     `json:"expiresAt"`
		Signature string          `json:"signature"`
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	if dec.Decode(&outer) != nil || len(outer.Session) < 2 || outer.ExpiresAt == "" {
		return none, authdb.User{}, false
	}
	sig, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(outer.Signature, "="))
	if err != nil || !signer.ValidMAC(signedBytes(outer.Session, outer.ExpiresAt.String()), sig) {
		return none, authdb.User{}, false
	}
	exp, err := outer.ExpiresAt.Int64()
	if err != nil || exp <= now.UnixMilli() {
		return none, authdb.User{}, false
	}
	var p cachePayload
	if json.Unmarshal(outer.Session, &p) != nil || p.Version != cacheVersion || !p.Session.ExpiresAt.After(now) {
		return none, authdb.User{}, false
	}
	return p.Session, p.User, true
}
