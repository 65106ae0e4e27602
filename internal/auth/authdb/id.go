package authdb

import "crypto/rand"

const alnum = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"

// NewID returns better-auth's id and token format: 32 characters from
// A–Z a–z 0–9, drawn without modulo bias.
func NewID() string { return randomString(32, alnum) }

// NewToken returns a random token of n characters from the same alphabet
// (better-auth's generateId(n)): 24 for a password reset.
func NewToken(n int) string { return randomString(n, alnum) }

func randomString(n int, alphabet string) string {
	// Rejection sampling: bytes ≥ the largest multiple of len(alphabet)
	// below 256 are dropped so every character is equally likely.
	limit := byte(256 - 256%len(alphabet))
	out := make([]byte, 0, n)
	buf := make([]byte, n*2)
	for len(out) < n {
		rand.Read(buf)
		for _, b := range buf {
			if b < limit && len(out) < n {
				out = append(out, alphabet[int(b)%len(alphabet)])
			}
		}
	}
	return string(out)
}
