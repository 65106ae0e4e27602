package jscompat

import "strings"

// IsHTTPURL reports whether `new URL(s)` succeeds with protocol "http:" or
// "https:", following the WHATWG URL Standard's basic URL parser without a
// base URL. Only the steps that can fail for a special scheme matter: the
// scheme, the authority's host and port. Paths, queries, fragments and
// userinfo never fail there, so they are skipped rather than parsed.
//
// Non-ASCII hosts go through UTS #46 as x/net/idna implements it (see
// domainToASCII), so code points whose Unicode data changed after the Go
// toolchain's Unicode version may be judged differently from Node.
func IsHTTPURL(s string) bool {
	// Strip leading/trailing C0 controls and spaces, then drop every tab and
	// newline.
	s = strings.TrimFunc(s, func(r rune) bool { return r <= ' ' })
	s = strings.Map(func(r rune) rune {
		if r == '\t' || r == '\n' || r == '\r' {
			return -1
		}
		return r
	}, s)

	colon := strings.IndexByte(s, ':')
	if colon < 1 || !isAlphaASCII(s[0]) {
		return false
	}
	for i := 1; i < colon; i++ {
		if c := s[i]; !isAlnumASCII(c) && c != '+' && c != '-' && c != '.' {
			return false
		}
	}
	if scheme := strings.ToLower(s[:colon]); scheme != "http" && scheme != "https" {
		return false
	}

	// Special schemes skip any run of slashes and backslashes (so
	// "https:example.com" and "http:/x" parse), and the authority ends at
	// the first '/', '\', '?' or '#'.
	rest := strings.TrimLeft(s[colon+1:], `/\`)
	if end := strings.IndexAny(rest, `/\?#`); end >= 0 {
		rest = rest[:end]
	}
	hostPort := rest
	if at := strings.LastIndexByte(rest, '@'); at >= 0 {
		hostPort = rest[at+1:] // credentials followed by nothing is a failure
	}
	host, port, hasPort := splitHostPort(hostPort)
	if host == "" {
		return false
	}
	if hasPort && !validPort(port) {
		return false
	}
	return validHost(host)
}

func isAlphaASCII(c byte) bool { c = lowerASCII(c); return 'a' <= c && c <= 'z' }

func isDigitASCII(c byte) bool { return '0' <= c && c <= '9' }

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

// splitHostPort splits at the first ':' outside brackets, as the host state
// does.
func splitHostPort(s string) (host, port string, hasPort bool) {
	inBrackets := false
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '[':
			inBrackets = true
		case ']':
			inBrackets = false
		case ':':
			if !inBrackets {
				return s[:i], s[i+1:], true
			}
		}
	}
	return s, "", false
}

// validPort: ASCII digits only, value at most 65535; empty means no port.
func validPort(p string) bool {
	for i := 0; i < len(p); i++ {
		if !isDigitASCII(p[i]) {
			return false
		}
	}
	p = strings.TrimLeft(p, "0")
	if len(p) > 5 {
		return false
	}
	v := 0
	for i := 0; i < len(p); i++ {
		v = v*10 + int(p[i]-'0')
	}
	return v <= 65535
}

// validHost is the host parser for a special, non-opaque host.
func validHost(host string) bool {
	if host[0] == '[' {
		return len(host) >= 2 && host[len(host)-1] == ']' && validIPv6(host[1:len(host)-1])
	}
	ascii, ok := domainToASCII(percentDecode(host))
	if !ok {
		return false
	}
	if strings.IndexFunc(ascii, isForbiddenDomainCodePoint) >= 0 {
		return false
	}
	if EndsInNumber(ascii) {
		return validIPv4(ascii)
	}
	return true
}

// percentDecode decodes %XX sequences (others stay literal) and decodes the
// bytes as UTF-8, invalid sequences becoming U+FFFD (which the domain step
// then rejects).
func percentDecode(s string) string {
	if strings.IndexByte(s, '%') < 0 {
		return s
	}
	b := make([]byte, 0, len(s))
	for i := 0; i < len(s); i++ {
		if s[i] == '%' && i+2 < len(s) && isHexASCII(s[i+1]) && isHexASCII(s[i+2]) {
			b = append(b, hexValue(s[i+1])<<4|hexValue(s[i+2]))
			i += 2
			continue
		}
		b = append(b, s[i])
	}
	return strings.ToValidUTF8(string(b), "\uFFFD")
}

func isHexASCII(c byte) bool {
	c = lowerASCII(c)
	return isDigitASCII(c) || 'a' <= c && c <= 'f'
}

func hexValue(c byte) byte {
	c = lowerASCII(c)
	if isDigitASCII(c) {
		return c - '0'
	}
	return c - 'a' + 10
}

func isForbiddenDomainCodePoint(r rune) bool {
	if r <= 0x1F || r == 0x7F {
		return true
	}
	return strings.ContainsRune(" #%/:<>?@[\\]^|", r)
}
