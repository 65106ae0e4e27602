// Package assetlink signs the image links the API hands out, so that an
// <img>, a new tab or a download opens a user's image without a cookie.
//
// In the two-site shape the session cookie lives in the SPA site's cookie
// partition: a top-level visit to the API's asset URL carries none. A link
// therefore carries its own proof instead: an expiry and an HMAC-SHA256,
// under the auth secret, of the owner's id, the generation's id, the
// variant and that expiry. Whoever holds the link may open that one image
// until it expires (a copied link works for its lifetime); nothing else
// is granted. The secret list rotates as the cookies' does: the first
// secret signs, every secret verifies, so dropping an old secret ends the
// links it signed.
package assetlink

import (
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"net/url"
	"strconv"
	"time"

	"adstudio/internal/auth/cookie"
)

// The query parameters a signed link adds.
const (
	ParamExpires   = "exp"
	ParamSignature = "sig"
)

// Errors Verify returns. Callers answer both as they answer a stranger.
var (
	ErrInvalid = errors.New("asset link: signature invalid")
	ErrExpired = errors.New("asset link: expired")
)

// domain separates these MACs from every other use of the auth secret
// (the cookie signatures are HMACs of bare tokens).
const domain = "adstudio asset link v1"

// Signer signs and verifies links. Keys are the auth secrets, through the
// cookies' signer (the first signs, every one verifies, in constant time);
// TTL is a link's lifetime; Now is the clock.
type Signer struct {
	Keys cookie.Signer
	TTL  time.Duration
	Now  func() time.Time
}

// New builds a Signer from the auth secrets (first signs, all verify).
func New(secrets []string, ttl time.Duration, now func() time.Time) *Signer {
	if now == nil {
		now = time.Now
	}
	return &Signer{Keys: cookie.NewSigner(secrets), TTL: ttl, Now: now}
}

// Expiry is the expiry a link made now gets: at least TTL away, rounded up
// to a quarter of TTL, so the same image keeps the same URL for a while
// and the browser's cache can serve it, instead of every list answer
// minting new URLs. A link thus lives between TTL and 1.25 TTL.
func (s *Signer) Expiry() time.Time {
	step := max(s.TTL/4, time.Second)
	deadline := s.Now().Add(s.TTL)
	rounded := deadline.Truncate(step)
	if rounded.Before(deadline) {
		rounded = rounded.Add(step)
	}
	return rounded
}

// Query returns the signed query for one image: variant ("" or
// "thumbnail") first when set, then the expiry and the signature.
func (s *Signer) Query(userID, generationID, variant string) string {
	exp := strconv.FormatInt(s.Expiry().Unix(), 10)
	q := ""
	if variant != "" {
		q = "variant=" + url.QueryEscape(variant) + "&"
	}
	sig := base64.RawURLEncoding.EncodeToString(s.Keys.MAC(message(userID, generationID, variant, exp)))
	return q + ParamExpires + "=" + exp + "&" + ParamSignature + "=" + sig
}

// Verify checks a link's expiry and signature for the image it claims.
// The signature is checked first, against every key.
func (s *Signer) Verify(userID, generationID, variant, exp, sig string) error {
	got, err := base64.RawURLEncoding.DecodeString(sig)
	if err != nil || len(got) != sha256.Size || !s.Keys.ValidMAC(message(userID, generationID, variant, exp), got) {
		return ErrInvalid
	}
	t, err := strconv.ParseInt(exp, 10, 64)
	if err != nil {
		return ErrInvalid
	}
	if !s.Now().Before(time.Unix(t, 0)) {
		return ErrExpired
	}
	return nil
}

// message is what a link's MAC covers: a domain that no other use of the
// auth secret shares (the cookie signatures are HMACs of bare tokens),
// then every field length-prefixed, so no two field lists give the same
// message.
func message(fields ...string) []byte {
	b := []byte(domain)
	for _, f := range fields {
		b = append(b, 0)
		b = strconv.AppendInt(b, int64(len(f)), 10)
		b = append(b, ':')
		b = append(b, f...)
	}
	return b
}
