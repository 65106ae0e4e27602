package oauth_test

import (
	"strings"
	"testing"

	"adstudio/internal/auth/oauth"
)

// Vectors produced once by better-auth 1.7.24's own symmetricEncrypt (better-auth/crypto) in
// Node: bare hex with a plain `secret`, and the `$ba$` envelope with versioned `secrets`
// (keys 2 → rotatedSecret, 1 → legacySecret; current version 2).
const (
	legacySecret  = "test-secret-0123456789-abcdefghijklmnopqrstuvwxyz"
	rotatedSecret = "rotated-secret-2-abcdefghijklmnopqrstuvwxyz0123"

	vectorBare    = "53bd5efcb5f27ff4b00f343a635393c10006c4f241c5252191baa9bdd4b3fc56b1926e87ab74b8ee75ca7b5b237e8c05d26f6c2d31ff455e59b1a4f2e18c9820ce98c09e61b6"
	vectorBarePT  = "ya29.a0AfB_vector-access-token"
	vectorEnv     = "$ba$2$7d11b9e579db944a3eccbb26ba5cc1305b9cb4d7fab07ae58a186f0713604d12c890de1cfb77dafff8f94f6e0c9d7f455fa7e956718ee76d40af7cc51ebf03a8f57428736c0e789235f8caabf097"
	vectorEnvPT   = "gho_vectorRefreshToken0123456789abcdef"
	vectorUnicode = "b90c12b0a345c93f9e4a533b1b8e5a1d8292eff42afddbb74432727ad9fb7f3706a45ca23938c62a5259ddc532a44f070f55d409489b891009ce4ca90d"
	vectorUniPT   = "ünïcödé ✓ token"
)

func mustDecrypt(t *testing.T, c *oauth.TokenCipher, stored string) string {
	t.Helper()
	plain, err := c.Decrypt(stored)
	if err != nil {
		t.Fatalf("Decrypt(%.20q…): %v", stored, err)
	}
	return plain
}

func TestTokenCipherBetterAuthVectors(t *testing.T) {
	c := oauth.NewTokenCipher([]string{legacySecret})
	if got := mustDecrypt(t, c, vectorBare); got != vectorBarePT {
		t.Errorf("bare vector = %q, want %q", got, vectorBarePT)
	}
	if got := mustDecrypt(t, c, vectorUnicode); got != vectorUniPT {
		t.Errorf("unicode vector = %q, want %q", got, vectorUniPT)
	}
	// better-auth decodes hex in either case.
	if got := mustDecrypt(t, c, strings.ToUpper(vectorBare)); got != vectorBarePT {
		t.Errorf("upper-case vector = %q", got)
	}

	// The envelope opens with whichever configured secret was its version's, in any order.
	for _, secrets := range [][]string{{rotatedSecret, legacySecret}, {legacySecret, rotatedSecret}, {rotatedSecret}} {
		if got := mustDecrypt(t, oauth.NewTokenCipher(secrets), vectorEnv); got != vectorEnvPT {
			t.Errorf("envelope with %d secrets = %q, want %q", len(secrets), got, vectorEnvPT)
		}
	}
	if got, err := c.Decrypt(vectorEnv); err == nil {
		t.Errorf("envelope without its secret = %q, want an error", got)
	}
}

func TestTokenCipherRoundTrip(t *testing.T) {
	c := oauth.NewTokenCipher([]string{legacySecret})
	for _, plain := range []string{"ya29.a0AfB_x", "gho_16C7e42F292c6912E7710c838347Ae178B4a", vectorUniPT, strings.Repeat("z", 4096)} {
		enc, err := c.Encrypt(plain)
		if err != nil {
			t.Fatal(err)
		}
		if enc == plain || strings.Contains(enc, plain) {
			t.Fatalf("Encrypt(%q) = %q, not encrypted", plain, enc)
		}
		// Hex of a 24-byte nonce, the text and a 16-byte tag, lower case as better-auth writes.
		if len(enc) != 2*(24+len(plain)+16) || strings.ToLower(enc) != enc {
			t.Errorf("Encrypt(%q) has length %d, want %d lower-case hex digits", plain, len(enc), 2*(24+len(plain)+16))
		}
		if got := mustDecrypt(t, c, enc); got != plain {
			t.Errorf("round trip %q → %q", plain, got)
		}
		again, _ := c.Encrypt(plain)
		if again == enc {
			t.Error("two encryptions are equal: the nonce is not random")
		}
	}
	if enc, err := c.Encrypt(""); err != nil || enc != "" {
		t.Errorf(`Encrypt("") = %q, %v; want "", nil`, enc, err)
	}
	if dec, err := c.Decrypt(""); err != nil || dec != "" {
		t.Errorf(`Decrypt("") = %q, %v; want "", nil`, dec, err)
	}
}

func TestTokenCipherRotation(t *testing.T) {
	old := oauth.NewTokenCipher([]string{legacySecret})
	enc, err := old.Encrypt("ya29.before-rotation")
	if err != nil {
		t.Fatal(err)
	}
	rotated := oauth.NewTokenCipher([]string{rotatedSecret, legacySecret})
	if got := mustDecrypt(t, rotated, enc); got != "ya29.before-rotation" {
		t.Errorf("after rotation = %q", got)
	}
	// New rows use the new first secret: the old cipher alone cannot read them.
	fresh, _ := rotated.Encrypt("ya29.after-rotation")
	if _, err := old.Decrypt(fresh); err == nil {
		t.Error("a value written after rotation opened with the old secret alone")
	}
	if got := mustDecrypt(t, oauth.NewTokenCipher([]string{rotatedSecret}), fresh); got != "ya29.after-rotation" {
		t.Errorf("fresh value = %q", got)
	}
	// Once the old secret is retired, its rows are an error, not garbage.
	if _, err := oauth.NewTokenCipher([]string{rotatedSecret}).Decrypt(enc); err == nil {
		t.Error("decrypting with a retired secret succeeded")
	}
}

func TestTokenCipherPlainPassthrough(t *testing.T) {
	c := oauth.NewTokenCipher([]string{legacySecret})
	for _, plain := range []string{
		"ya29.a0AfB_plain",
		"gho_16C7e42F292c6912E7710c838347Ae178B4a",
		"6e1c4b8a9f0d2e3c5b7a91827364554637281900", // a classic 40-hex GitHub token
		"abc",                     // odd length
		strings.Repeat("ab", 39),  // 78 hex digits: shorter than nonce + tag
		strings.Repeat("g1", 100), // not hex
		"ba$1$abcd",
	} {
		if got, err := c.Decrypt(plain); err != nil || got != plain {
			t.Errorf("Decrypt(%q) = %q, %v; want it unchanged", plain, got, err)
		}
	}
}

func TestTokenCipherTampered(t *testing.T) {
	c := oauth.NewTokenCipher([]string{legacySecret})
	enc, _ := c.Encrypt("ya29.secret")
	flip := func(s string, i int) string {
		b := []byte(s)
		if b[i] == '0' {
			b[i] = '1'
		} else {
			b[i] = '0'
		}
		return string(b)
	}
	for name, bad := range map[string]string{
		"nonce":          flip(enc, 3),
		"ciphertext":     flip(enc, 50),
		"tag":            flip(enc, len(enc)-1),
		"truncated":      enc[:len(enc)-2],
		"envelope":       "$ba$2$" + flip(vectorEnv[len("$ba$2$"):], 60),
		"envelope short": "$ba$1$abcd",
		"envelope hex":   "$ba$1$zz",
		"no version":     "$ba$$" + enc,
		"no separator":   "$ba$" + enc,
		"bad version":    "$ba$x$" + enc,
	} {
		if got, err := oauth.NewTokenCipher([]string{rotatedSecret, legacySecret}).Decrypt(bad); err == nil {
			t.Errorf("%s: Decrypt = %q, want an error", name, got)
		}
	}
	if _, err := oauth.NewTokenCipher(nil).Encrypt("x"); err == nil {
		t.Error("Encrypt without a secret succeeded")
	}
}
