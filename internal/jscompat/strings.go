package jscompat

import (
	"strconv"
	"strings"
	"unicode/utf16"
)

// IsSpace reports whether r is JavaScript white space: WhiteSpace (tab, VT,
// FF, space, NBSP, ZWNBSP and category Zs) plus LineTerminator (LF, CR, LS,
// PS), the set that String.prototype.trim removes, parseInt skips and the
// regexp class \s matches. It differs from unicode.IsSpace: U+FEFF is in,
// U+0085 is out. U+180E is out too, as in V8 (Unicode 6.3 moved it from Zs
// to Cf).
func IsSpace(r rune) bool {
	switch r {
	case '\t', '\n', '\v', '\f', '\r', ' ',
		0x00A0, 0x1680, 0x2028, 0x2029, 0x202F, 0x205F, 0x3000, 0xFEFF:
		return true
	}
	return r >= 0x2000 && r <= 0x200A
}

// Trim is String.prototype.trim.
func Trim(s string) string { return strings.TrimFunc(s, IsSpace) }

// ParseInt is JavaScript's parseInt(s, 10): leading white space (IsSpace)
// and one sign are skipped, then the longest run of ASCII digits is read and
// the rest ignored, so "12px" is 12 and "1e3" is 1. ok is false where
// JavaScript returns NaN (no digits). The value is a float64, as a
// JavaScript number is: beyond 2^53 it rounds, past the float64 range it is
// ±Inf, and "-0" is negative zero.
func ParseInt(s string) (v float64, ok bool) {
	s = strings.TrimLeftFunc(s, IsSpace)
	neg := false
	if s != "" && (s[0] == '+' || s[0] == '-') {
		neg, s = s[0] == '-', s[1:]
	}
	n := 0
	for n < len(s) && '0' <= s[n] && s[n] <= '9' {
		n++
	}
	if n == 0 {
		return 0, false
	}
	// Only ErrRange is possible for a run of digits, and then v is +Inf.
	v, _ = strconv.ParseFloat(s[:n], 64)
	if neg {
		v = -v
	}
	return v, true
}

// Length is s.length in JavaScript: the number of UTF-16 code units, so a
// character outside the BMP counts twice.
func Length(s string) int { return len(utf16.Encode([]rune(s))) }

// EncodeURIComponent escapes s as JavaScript's encodeURIComponent does:
// every byte of its UTF-8 form except A-Z a-z 0-9 - _ . ! ~ * ' ( ) becomes
// %XX with upper-case hex.
func EncodeURIComponent(s string) string {
	const hexdig = "0123456789ABCDEF"
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || strings.IndexByte("-_.!~*'()", c) >= 0 {
			b.WriteByte(c)
			continue
		}
		b.WriteByte('%')
		b.WriteByte(hexdig[c>>4])
		b.WriteByte(hexdig[c&15])
	}
	return b.String()
}
