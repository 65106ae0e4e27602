package oauthfake

import (
	"crypto/sha256"
	"encoding/binary"
	"strconv"
	"strings"
	"unicode"
)

// DefaultEmail is who signs in when the authorize request has no email login_hint.
const DefaultEmail = "octo@example.com"

// identity is the provider account a login_hint stands for (the package doc lists the keywords).
type identity struct {
	email string // as hinted, case kept; "" for noemail users
	key   string // the lower-cased hinted address the ids derive from
	login string
	name  string

	deny, private, unverified, noEmail, badToken, badUser bool
}

// identityFor maps a login_hint to an identity. A hint that is not an email address is
// ignored, as Google would ignore an unknown account.
func identityFor(hint string) identity {
	hint = strings.TrimSpace(hint)
	at := strings.LastIndexByte(hint, '@')
	if at <= 0 || at == len(hint)-1 {
		hint, at = DefaultEmail, strings.LastIndexByte(DefaultEmail, '@')
	}
	local := strings.ToLower(hint[:at])
	id := identity{
		email: hint,
		key:   strings.ToLower(hint),
		login: githubLogin(local),
		name:  displayName(local),
	}
	id.deny = keyword(local, "deny")
	id.private = keyword(local, "private")
	id.unverified = keyword(local, "unverified")
	id.noEmail = keyword(local, "noemail")
	id.badToken = keyword(local, "badtoken")
	id.badUser = keyword(local, "baduser")
	if id.noEmail {
		id.email = ""
	}
	if keyword(local, "noname") {
		id.name = ""
	}
	return id
}

// keyword reports whether local is kw, or kw followed by a separator or digit. A bare prefix is
// not enough: "denys@example.com" is a person, not a refusal.
func keyword(local, kw string) bool {
	if !strings.HasPrefix(local, kw) {
		return false
	}
	rest := local[len(kw):]
	return rest == "" || strings.ContainsRune("+-_.0123456789", rune(rest[0]))
}

// number is the first 8 bytes of SHA-256 of the address, so one email is one provider account
// in every run.
func (id identity) number() uint64 {
	sum := sha256.Sum256([]byte(id.key))
	return binary.BigEndian.Uint64(sum[:8])
}

// googleSub is the Google subject: a decimal string, as Google's (which are 21 digits).
func (id identity) googleSub() string { return strconv.FormatUint(id.number(), 10) }

// githubID is the numeric GitHub user id. It keeps 53 bits so that JavaScript reads it exactly:
// better-auth stores String(id) of a JSON number, and a larger id would round.
func (id identity) githubID() uint64 { return id.number() >> 11 }

// githubLogin makes a GitHub-shaped login (letters, digits, single hyphens) from a local part.
func githubLogin(local string) string {
	var b strings.Builder
	dash := false
	for _, r := range local {
		if r < unicode.MaxASCII && (unicode.IsLetter(r) || unicode.IsDigit(r)) {
			b.WriteRune(r)
			dash = false
		} else if !dash && b.Len() > 0 {
			b.WriteByte('-')
			dash = true
		}
	}
	login := strings.TrimRight(b.String(), "-")
	if login == "" {
		login = "user"
	}
	return login
}

// displayName is "Octo Cat" for the default user and the capitalised words of the local part
// otherwise ("ann.smith" → "Ann Smith").
func displayName(local string) string {
	if local == "octo" {
		return "Octo Cat"
	}
	words := strings.FieldsFunc(local, func(r rune) bool { return strings.ContainsRune(".-_+", r) })
	for i, w := range words {
		rs := []rune(w)
		rs[0] = unicode.ToUpper(rs[0])
		words[i] = string(rs)
	}
	return strings.Join(words, " ")
}
