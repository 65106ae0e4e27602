package oauth

import "crypto/rand"

// stateAlphabet is better-auth's alphabet for state and PKCE verifiers (docs/auth-wire.md §8.2). It has exactly
// 64 symbols, so the low six bits of a random byte pick one without bias.
const stateAlphabet = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_"

// RandomState returns a 32-character OAuth state.
func RandomState() string { return randomString(32) }

// RandomVerifier returns a 128-character PKCE code verifier, the maximum RFC 7636 allows.
func RandomVerifier() string { return randomString(128) }

func randomString(n int) string {
	b := make([]byte, n)
	rand.Read(b) // never fails: crypto/rand crashes the program rather than return an error
	for i := range b {
		b[i] = stateAlphabet[b[i]&63]
	}
	return string(b)
}
