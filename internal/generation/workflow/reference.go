package workflow

import (
	"strconv"
	"strings"

	"adstudio/internal/jscompat"
)

// validReference is docs/app-api.md §9.1 step 3: a base64 image data URL, or a string the
// WHATWG URL parser accepts as an absolute http(s) URL.
func validReference(s string) bool {
	return isImageDataURL(s) || jscompat.IsHTTPURL(s)
}

// isImageDataURL matches the old backend's
// /^data:image\/[a-z0-9.+-]+;base64,[a-z0-9+/=\s]+$/i by hand: JavaScript's
// /i folds only ASCII letters here (Go's (?i) would also fold 'ſ' and the
// Kelvin sign) and its \s is the JavaScript whitespace set.
func isImageDataURL(s string) bool {
	rest, ok := cutPrefixFold(s, "data:image/")
	if !ok {
		return false
	}
	i := 0
	for i < len(rest) && isSubtypeByte(rest[i]) {
		i++
	}
	if i == 0 {
		return false
	}
	payload, ok := cutPrefixFold(rest[i:], ";base64,")
	if !ok || payload == "" {
		return false
	}
	for _, r := range payload {
		if !(r < 0x80 && isBase64Byte(byte(r))) && !jscompat.IsSpace(r) {
			return false
		}
	}
	return true
}

// cutPrefixFold is strings.CutPrefix with ASCII-only case folding; prefix
// must be lower-case ASCII.
func cutPrefixFold(s, prefix string) (string, bool) {
	if len(s) < len(prefix) {
		return s, false
	}
	for i := 0; i < len(prefix); i++ {
		if lowerASCII(s[i]) != prefix[i] {
			return s, false
		}
	}
	return s[len(prefix):], true
}

func lowerASCII(c byte) byte {
	if 'A' <= c && c <= 'Z' {
		return c + 'a' - 'A'
	}
	return c
}

func isAlnumASCII(c byte) bool {
	c = lowerASCII(c)
	return 'a' <= c && c <= 'z' || '0' <= c && c <= '9'
}

func isSubtypeByte(c byte) bool { return isAlnumASCII(c) || c == '.' || c == '+' || c == '-' }

func isBase64Byte(c byte) bool { return isAlnumASCII(c) || c == '+' || c == '/' || c == '=' }

// validEditSize is docs/app-api.md §9.2: /^(\d+)\*(\d+)$/ with both values 512..2048
// (leading zeros allowed).
func validEditSize(s string) bool {
	w, h, ok := strings.Cut(s, "*")
	return ok && editDimension(w) && editDimension(h)
}

func editDimension(d string) bool {
	if d == "" {
		return false
	}
	for i := 0; i < len(d); i++ {
		if d[i] < '0' || d[i] > '9' {
			return false
		}
	}
	d = strings.TrimLeft(d, "0")
	if len(d) > 4 { // beyond 9999, and keeps Atoi from overflowing
		return false
	}
	v, _ := strconv.Atoi(d) // "" (all zeros) is 0
	return v >= 512 && v <= 2048
}
