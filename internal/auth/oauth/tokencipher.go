package oauth

import (
	"crypto/cipher"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"

	"golang.org/x/crypto/chacha20poly1305"
)

// TokenCipher encrypts the access and refresh tokens of account rows the way better-auth does
// with account.encryptOAuthTokens, so either server reads what the other wrote.
//
// better-auth 1.7 (src/crypto/index.ts, symmetricEncrypt/symmetricDecrypt):
//
//   - key = SHA-256 of the UTF-8 secret, used as is (no HKDF: the purpose-derived keys of
//     src/crypto/purpose.ts are for the OAuth state cookie and link tokens, not account tokens);
//   - XChaCha20-Poly1305 with a random 24-byte nonce (@noble/ciphers managedNonce), no
//     additional data; the stored value is lower-case hex of nonce ‖ ciphertext ‖ 16-byte tag;
//   - with a single `secret` (BETTER_AUTH_SECRET) that bare hex is the whole format. With
//     versioned `secrets` (BETTER_AUTH_SECRETS="2:new,1:old") it is wrapped as
//     `$ba$<version>$<hex>`, encrypted with the first entry; decryption picks the secret by the
//     version, and falls back to BETTER_AUTH_SECRET ("legacySecret") for bare hex.
//
// Our secrets carry no version numbers (BETTER_AUTH_SECRET is a plain list, the first one
// current), so Encrypt writes bare hex with the first secret — what a better-auth server with
// the same BETTER_AUTH_SECRET reads — and Decrypt tries every secret on either form. Trying keys
// in turn is safe because the Poly1305 tag authenticates: a wrong key fails, it never yields
// garbage. A better-auth server that moves to versioned secrets must keep the old secret as
// BETTER_AUTH_SECRET to read our rows, exactly as it must for its own older rows.
type TokenCipher struct {
	aeads []cipher.AEAD // aeads[0] encrypts; all decrypt
}

// minCiphertextHex is the hex length of the shortest ciphertext: nonce and tag of an empty text.
const minCiphertextHex = 2 * (chacha20poly1305.NonceSizeX + chacha20poly1305.Overhead)

// envelopePrefix marks better-auth's versioned format.
const envelopePrefix = "$ba$"

// NewTokenCipher keys a cipher from the auth secrets; the first encrypts, every one decrypts.
// Empty secrets are skipped.
func NewTokenCipher(secrets []string) *TokenCipher {
	c := &TokenCipher{}
	for _, s := range secrets {
		if s == "" {
			continue
		}
		key := sha256.Sum256([]byte(s))
		aead, err := chacha20poly1305.NewX(key[:])
		if err != nil {
			panic(err) // unreachable: a SHA-256 sum is always a valid 32-byte key
		}
		c.aeads = append(c.aeads, aead)
	}
	return c
}

// Encrypt returns the stored form of a token. An empty token stays empty, as in better-auth.
func (c *TokenCipher) Encrypt(plain string) (string, error) {
	if plain == "" {
		return "", nil
	}
	if len(c.aeads) == 0 {
		return "", errors.New("encrypt token: no secret configured")
	}
	aead := c.aeads[0]
	buf := make([]byte, aead.NonceSize(), aead.NonceSize()+len(plain)+aead.Overhead())
	rand.Read(buf) // never fails: crypto/rand crashes the program rather than return an error
	return hex.EncodeToString(aead.Seal(buf, buf, []byte(plain), nil)), nil
}

// Decrypt returns the token behind a stored value. A value that is not in an encrypted format
// is returned unchanged, so rows written in plain text (better-auth without the option, or
// before it was turned on) keep working.
//
// What counts as encrypted: `$ba$<digits>$…`, or even-length hex of at least 80 digits (the
// nonce and tag alone are 40 bytes). better-auth's own test (oauth2/utils.ts isLikelyEncrypted)
// accepts any even-length hex, so it fails on a 40-hex-digit classic GitHub token stored in
// plain text; the length floor passes those through. The ambiguity that remains: a plain-text
// token of 80 or more hex digits is taken for ciphertext and fails to decrypt. Google
// (`ya29.…`) and GitHub (`gho_…`, 40 hex digits before 2021) tokens never look like that.
// A value that looks encrypted but opens with no secret — tampered, truncated or from another
// secret — is an error.
func (c *TokenCipher) Decrypt(stored string) (string, error) {
	data := stored
	if strings.HasPrefix(stored, envelopePrefix) {
		rest := stored[len(envelopePrefix):]
		version, hexPart, ok := strings.Cut(rest, "$")
		if !ok || version == "" || strings.Trim(version, "0123456789") != "" {
			return "", errors.New("decrypt token: malformed $ba$ envelope")
		}
		data = hexPart
	} else if !looksEncrypted(stored) {
		return stored, nil
	}
	raw, err := hex.DecodeString(data)
	if err != nil {
		return "", fmt.Errorf("decrypt token: %w", err)
	}
	if len(c.aeads) == 0 {
		return "", errors.New("decrypt token: no secret configured")
	}
	if len(raw) < chacha20poly1305.NonceSizeX+chacha20poly1305.Overhead {
		return "", errors.New("decrypt token: ciphertext too short")
	}
	nonce, sealed := raw[:chacha20poly1305.NonceSizeX], raw[chacha20poly1305.NonceSizeX:]
	for _, aead := range c.aeads {
		if plain, err := aead.Open(nil, nonce, sealed, nil); err == nil {
			return string(plain), nil
		}
	}
	return "", errors.New("decrypt token: no configured secret opens it (tampered, or encrypted with a retired secret)")
}

func looksEncrypted(s string) bool {
	if len(s) < minCiphertextHex || len(s)%2 != 0 {
		return false
	}
	for i := 0; i < len(s); i++ {
		switch b := s[i]; {
		case b >= '0' && b <= '9', b >= 'a' && b <= 'f', b >= 'A' && b <= 'F':
		default:
			return false
		}
	}
	return true
}
