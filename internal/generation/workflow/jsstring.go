package workflow

import "strings"

// isJSSpace reports whether r is removed by JavaScript's String.prototype.trim
// and matched by the regexp class \s: WhiteSpace (tab, VT, FF, space, NBSP,
// ZWNBSP and category Zs) plus LineTerminator (LF, CR, LS, PS). U+0085 and
// U+180E are deliberately not in the set, as in V8.
func isJSSpace(r rune) bool {
	switch r {
	case '\t', '\n', '\v', '\f', '\r', ' ',
		0x00A0, 0x1680, 0x2028, 0x2029, 0x202F, 0x205F, 0x3000, 0xFEFF:
		return true
	}
	return r >= 0x2000 && r <= 0x200A
}

// jsTrim is String.prototype.trim.
func jsTrim(s string) string { return strings.TrimFunc(s, isJSSpace) }
