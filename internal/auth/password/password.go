// Package password hashes and verifies passwords exactly as better-auth
// stores them: scrypt N=16384 r=16 p=1, 64-byte key, NFKC-normalised input,
// and the salt's hex text (not its bytes) as the scrypt salt.
package password

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/hex"
	"strings"
	"sync/atomic"

	"golang.org/x/crypto/scrypt"
	"golang.org/x/text/unicode/norm"
)

// Length limits as better-auth counts them: UTF-16 code units.
const (
	MinLength = 8
	MaxLength = 128
)

// dummyHash is verified against when there is no stored hash, so an unknown
// email costs the same scrypt work as a wrong password.
const dummyHash = "00000000000000000000000000000000:" +
	"00000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000"

// Hasher bounds how many scrypt computations run at once: each needs 32 MiB,
// and a burst of sign-ins must not take a small Lambda out of memory.
type Hasher struct {
	slots chan struct{}
	work  atomic.Int64
}

// Derivations counts scrypt computations, so tests can check that every
// sign-in path costs the same work.
func (h *Hasher) Derivations() int64 { return h.work.Load() }

// NewHasher allows n concurrent hashes.
func NewHasher(n int) *Hasher {
	if n < 1 {
		n = 1
	}
	return &Hasher{slots: make(chan struct{}, n)}
}

func (h *Hasher) acquire(ctx context.Context) error {
	select {
	case h.slots <- struct{}{}:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (h *Hasher) release() { <-h.slots }

// Hash returns "<salt hex 32>:<key hex 128>".
func (h *Hasher) Hash(ctx context.Context, pw string) (string, error) {
	var raw [16]byte
	rand.Read(raw[:])
	salt := hex.EncodeToString(raw[:])
	key, err := h.derive(ctx, pw, salt)
	if err != nil {
		return "", err
	}
	return salt + ":" + hex.EncodeToString(key), nil
}

// Verify reports whether pw matches stored. A missing or malformed stored
// value is a mismatch, after the same amount of work as a real check.
func (h *Hasher) Verify(ctx context.Context, pw, stored string) (bool, error) {
	salt, keyHex, ok := strings.Cut(stored, ":")
	want, err := hex.DecodeString(keyHex)
	if !ok || salt == "" || err != nil || len(want) != 64 {
		salt, keyHex, _ = strings.Cut(dummyHash, ":")
		want, _ = hex.DecodeString(keyHex)
		ok = false
	}
	got, err := h.derive(ctx, pw, salt)
	if err != nil {
		return false, err
	}
	return subtle.ConstantTimeCompare(got, want) == 1 && ok, nil
}

// Burn does the work of one verification and discards it.
func (h *Hasher) Burn(ctx context.Context, pw string) error {
	_, err := h.Verify(ctx, pw, dummyHash)
	return err
}

func (h *Hasher) derive(ctx context.Context, pw, salt string) ([]byte, error) {
	if err := h.acquire(ctx); err != nil {
		return nil, err
	}
	defer h.release()
	h.work.Add(1)
	return scrypt.Key([]byte(norm.NFKC.String(pw)), []byte(salt), 16384, 16, 1, 64)
}
