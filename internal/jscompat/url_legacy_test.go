// This file keeps, as a test-only reference, the hand-written WHATWG URL
// host check that internal/generation/workflow/url.go carried before
// jscompat took it over (git 152b3dd). Its UTS #46 step was an
// approximation (NFKC + case folding) and its Punycode decoder was written
// by hand; url_diff_test.go compares the idna-based code with it so that
// every change in behaviour is listed there with a reason. Identifiers are
// the originals with a "legacy" prefix; the code is otherwise unchanged.
// Delete this file once nobody needs the comparison any more.

package jscompat

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/cases"
	"golang.org/x/text/secure/bidirule"
	"golang.org/x/text/unicode/bidi"
	"golang.org/x/text/unicode/norm"
)

// legacyIsHTTPURL reports whether `new URL(s)` succeeds with protocol "http:" or
// "https:", following the WHATWG URL Standard's basic URL parser without a
// base URL. Only the steps that can fail for a special scheme matter: the
// scheme, the authority's host and port. Paths, queries, fragments and
// userinfo never fail there, so they are skipped rather than parsed.
//
// ASCII hosts are handled exactly. Non-ASCII hosts need UTS #46, whose
// mapping table is not available here; legacyDomainToASCII approximates it.
func legacyIsHTTPURL(s string) bool {
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
	if colon < 1 || !legacyIsAlphaASCII(s[0]) {
		return false
	}
	for i := 1; i < colon; i++ {
		if c := s[i]; !legacyIsAlnumASCII(c) && c != '+' && c != '-' && c != '.' {
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
	host, port, hasPort := legacySplitHostPort(hostPort)
	if host == "" {
		return false
	}
	if hasPort && !legacyValidPort(port) {
		return false
	}
	return legacyValidHost(host)
}

func legacyIsAlphaASCII(c byte) bool { c = legacyLowerASCII(c); return 'a' <= c && c <= 'z' }

func legacyIsDigitASCII(c byte) bool { return '0' <= c && c <= '9' }

// legacySplitHostPort splits at the first ':' outside brackets, as the host state
// does.
func legacySplitHostPort(s string) (host, port string, hasPort bool) {
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

// legacyValidPort: ASCII digits only, value at most 65535; empty means no port.
func legacyValidPort(p string) bool {
	for i := 0; i < len(p); i++ {
		if !legacyIsDigitASCII(p[i]) {
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

// legacyValidHost is the host parser for a special, non-opaque host.
func legacyValidHost(host string) bool {
	if host[0] == '[' {
		return len(host) >= 2 && host[len(host)-1] == ']' && legacyValidIPv6(host[1:len(host)-1])
	}
	ascii, ok := legacyDomainToASCII(legacyPercentDecode(host))
	if !ok {
		return false
	}
	if strings.IndexFunc(ascii, legacyIsForbiddenDomainCodePoint) >= 0 {
		return false
	}
	if legacyEndsInNumber(ascii) {
		return legacyValidIPv4(ascii)
	}
	return true
}

// legacyPercentDecode decodes %XX sequences (others stay literal) and decodes the
// bytes as UTF-8, invalid sequences becoming U+FFFD (which the domain step
// then rejects).
func legacyPercentDecode(s string) string {
	if strings.IndexByte(s, '%') < 0 {
		return s
	}
	b := make([]byte, 0, len(s))
	for i := 0; i < len(s); i++ {
		if s[i] == '%' && i+2 < len(s) && legacyIsHexASCII(s[i+1]) && legacyIsHexASCII(s[i+2]) {
			b = append(b, legacyHexValue(s[i+1])<<4|legacyHexValue(s[i+2]))
			i += 2
			continue
		}
		b = append(b, s[i])
	}
	return strings.ToValidUTF8(string(b), "\uFFFD")
}

func legacyIsHexASCII(c byte) bool {
	c = legacyLowerASCII(c)
	return legacyIsDigitASCII(c) || 'a' <= c && c <= 'f'
}

func legacyHexValue(c byte) byte {
	c = legacyLowerASCII(c)
	if legacyIsDigitASCII(c) {
		return c - '0'
	}
	return c - 'a' + 10
}

func legacyIsForbiddenDomainCodePoint(r rune) bool {
	if r <= 0x1F || r == 0x7F {
		return true
	}
	return strings.ContainsRune(" #%/:<>?@[\\]^|", r)
}

// Limits on punycode work. Decoding is quadratic in a label's length and a
// request body can hold megabytes; real labels are at most 63 bytes.
const (
	legacyMaxPunycodeLabel = 1024
	legacyMaxPunycodeTotal = 64 << 10
)

// legacyDomainToASCII is the URL Standard's "domain to ASCII" with beStrict false
// (UTS #46 ToASCII: CheckHyphens=false, CheckBidi=true, CheckJoiners=true,
// UseSTD3ASCIIRules=false, Transitional_Processing=false). It returns a
// string good enough for the forbidden-code-point and IPv4 checks that
// follow: ASCII labels as mapped, Unicode labels as a placeholder "xn--".
//
// All-ASCII input is exact (mapping is lower-casing; "xn--" labels are
// punycode-decoded and checked). Non-ASCII input approximates the UTS #46
// table with NFKC plus full case folding, the table's ignored code points
// and label separators, and a validity rule that rejects controls, format
// characters (so ZWJ/ZWNJ always), private use, unassigned, noncharacters,
// Hangul fillers and labels starting with a combining mark. The Bidi rule
// is RFC 5893's, applied to every label of a Bidi domain name.
func legacyDomainToASCII(domain string) (string, bool) {
	var mapped string
	if legacyIsASCII(domain) {
		mapped = strings.ToLower(domain)
		if !strings.HasPrefix(mapped, "xn--") && !strings.Contains(mapped, ".xn--") {
			return mapped, true // the Standard's ASCII fast path
		}
	} else {
		mapped = legacyUts46Map(domain)
	}
	if mapped == "" {
		return "", false
	}
	labels := strings.Split(mapped, ".")
	unicodeLabels := make([]string, len(labels))
	punycodeBudget := legacyMaxPunycodeTotal
	for i, label := range labels {
		u := label
		if strings.HasPrefix(label, "xn--") {
			if !legacyIsASCII(label) || len(label) > legacyMaxPunycodeLabel || len(label) > punycodeBudget {
				return "", false
			}
			punycodeBudget -= len(label)
			dec, ok := legacyPunycodeDecode(label[4:])
			// The decoded label must already be in mapped, NFC form.
			if !ok || dec == "" || legacyUts46Map(dec) != dec {
				return "", false
			}
			u = dec
		} else if !legacyIsASCII(label) {
			// Stands in for the punycode form, which keeps the label's ASCII
			// code points (so forbidden ones are still caught).
			labels[i] = "xn--" + legacyAsciiOnly(label) + "-"
		}
		if !legacyValidLabel(u) {
			return "", false
		}
		unicodeLabels[i] = u
	}
	if legacyIsBidiDomain(unicodeLabels) {
		for _, u := range unicodeLabels {
			if u != "" && !bidirule.ValidString(u) {
				return "", false
			}
		}
	}
	return strings.Join(labels, "."), true
}

func legacyIsASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

// legacyUts46Map approximates the UTS #46 mapping step followed by NFC.
func legacyUts46Map(s string) string {
	s = strings.Map(func(r rune) rune {
		if legacyIsUTS46Ignored(r) {
			return -1
		}
		return r
	}, s)
	s = norm.NFC.String(norm.NFKC.String(legacyCaseFold(norm.NFKC.String(s))))
	return strings.Map(func(r rune) rune {
		if r == 0x3002 || r == 0xFF61 { // ideographic full stops separate labels
			return '.'
		}
		return r
	}, s)
}

// legacyCaseFold applies full Unicode case folding (so U+0130 becomes "i̇" and
// U+1FC2 "ὴι", as in UTS #46), except that ß and final sigma are kept: they
// are "deviation" characters, valid under nontransitional processing.
func legacyCaseFold(s string) string {
	fold := cases.Fold()
	var b strings.Builder
	for {
		i := strings.IndexFunc(s, func(r rune) bool { return r == 'ß' || r == 'ς' })
		if i < 0 {
			b.WriteString(fold.String(s))
			return b.String()
		}
		_, n := utf8.DecodeRuneInString(s[i:])
		b.WriteString(fold.String(s[:i]))
		b.WriteString(s[i : i+n])
		s = s[i+n:]
	}
}

// legacyIsUTS46Ignored lists the code points UTS #46 maps to nothing (checked
// against Node's WHATWG URL parser).
func legacyIsUTS46Ignored(r rune) bool {
	switch {
	case r == 0x00AD, r == 0x034F, r == 0x180F, r == 0x200B, r == 0x2060, r == 0x2064, r == 0xFEFF:
		return true
	case 0x180B <= r && r <= 0x180D, 0xFE00 <= r && r <= 0xFE0F,
		0x1BCA0 <= r && r <= 0x1BCA3, 0xE0100 <= r && r <= 0xE01EF:
		return true
	}
	return false
}

func legacyValidLabel(label string) bool {
	for i, r := range label {
		if i == 0 && unicode.Is(unicode.M, r) {
			return false
		}
		if r >= utf8.RuneSelf && !legacyValidNonASCII(r) {
			return false
		}
	}
	return true
}

func legacyValidNonASCII(r rune) bool {
	switch {
	case r == utf8.RuneError,
		unicode.Is(unicode.C, r), // Cc, Cf, Co, Cs
		unicode.In(r, unicode.Zs, unicode.Zl, unicode.Zp),
		!unicode.IsGraphic(r), // unassigned
		0xFDD0 <= r && r <= 0xFDEF, r&0xFFFE == 0xFFFE,
		r == 0x115F, r == 0x1160, r == 0x3164, r == 0xFFA0: // Hangul fillers
		return false
	}
	return true
}

// legacyIsBidiDomain: some label holds a right-to-left (R, AL) or Arabic-number
// (AN) code point, which makes RFC 5893's Bidi rule apply to every label.
func legacyIsBidiDomain(labels []string) bool {
	for _, l := range labels {
		for _, r := range l {
			if r < utf8.RuneSelf {
				continue
			}
			switch p, _ := bidi.LookupRune(r); p.Class() {
			case bidi.R, bidi.AL, bidi.AN:
				return true
			}
		}
	}
	return false
}

func legacyAsciiOnly(s string) string {
	return strings.Map(func(r rune) rune {
		if r < utf8.RuneSelf {
			return r
		}
		return -1
	}, s)
}

// legacyEndsInNumber is the URL Standard's "ends in a number" checker.
func legacyEndsInNumber(s string) bool {
	parts := strings.Split(s, ".")
	if parts[len(parts)-1] == "" {
		if len(parts) == 1 {
			return false
		}
		parts = parts[:len(parts)-1]
	}
	last := parts[len(parts)-1]
	if last != "" && strings.Trim(last, "0123456789") == "" {
		return true
	}
	_, ok := legacyIpv4Number(last)
	return ok
}

// legacyValidIPv4 is the URL Standard's IPv4 parser, reduced to success/failure.
func legacyValidIPv4(s string) bool {
	parts := strings.Split(s, ".")
	if parts[len(parts)-1] == "" && len(parts) > 1 {
		parts = parts[:len(parts)-1]
	}
	if len(parts) > 4 {
		return false
	}
	nums := make([]uint64, len(parts))
	for i, p := range parts {
		n, ok := legacyIpv4Number(p)
		if !ok {
			return false
		}
		nums[i] = n
	}
	for _, n := range nums[:len(nums)-1] {
		if n > 255 {
			return false
		}
	}
	return nums[len(nums)-1] < 1<<(8*(5-len(nums)))
}

// legacyIpv4Number parses a decimal, 0x-hex or 0-octal IPv4 part. Values saturate
// above 2^40, which every caller treats as too large.
func legacyIpv4Number(s string) (uint64, bool) {
	if s == "" {
		return 0, false
	}
	radix := uint64(10)
	switch {
	case len(s) >= 2 && (s[:2] == "0x" || s[:2] == "0X"):
		radix, s = 16, s[2:]
	case len(s) >= 2 && s[0] == '0':
		radix, s = 8, s[1:]
	}
	var v uint64
	for i := 0; i < len(s); i++ {
		c := s[i]
		var d uint64
		switch {
		case legacyIsDigitASCII(c):
			d = uint64(c - '0')
		case radix == 16 && legacyIsHexASCII(c):
			d = uint64(legacyHexValue(c))
		default:
			return 0, false
		}
		if d >= radix {
			return 0, false
		}
		if v = v*radix + d; v > 1<<40 {
			v = 1 << 40
		}
	}
	return v, true
}

// legacyValidIPv6 is the URL Standard's IPv6 parser, reduced to success/failure.
func legacyValidIPv6(s string) bool {
	at := func(i int) int { // code point at i, or -1 for EOF
		if i < len(s) {
			return int(s[i])
		}
		return -1
	}
	piece, compress, p := 0, -1, 0
	if at(p) == ':' {
		if at(p+1) != ':' {
			return false
		}
		p += 2
		piece++
		compress = piece
	}
	for at(p) != -1 {
		if piece == 8 {
			return false
		}
		if at(p) == ':' {
			if compress != -1 {
				return false
			}
			p++
			piece++
			compress = piece
			continue
		}
		length := 0
		for length < 4 && at(p) != -1 && legacyIsHexASCII(byte(at(p))) {
			p++
			length++
		}
		if at(p) == '.' {
			if length == 0 {
				return false
			}
			p -= length
			if piece > 6 {
				return false
			}
			numbersSeen := 0
			for at(p) != -1 {
				if numbersSeen > 0 {
					if at(p) == '.' && numbersSeen < 4 {
						p++
					} else {
						return false
					}
				}
				if at(p) == -1 || !legacyIsDigitASCII(byte(at(p))) {
					return false
				}
				value := -1
				for at(p) != -1 && legacyIsDigitASCII(byte(at(p))) {
					n := at(p) - '0'
					switch value {
					case -1:
						value = n
					case 0:
						return false
					default:
						value = value*10 + n
					}
					if value > 255 {
						return false
					}
					p++
				}
				numbersSeen++
				if numbersSeen == 2 || numbersSeen == 4 {
					piece++
				}
			}
			if numbersSeen != 4 {
				return false
			}
			break
		} else if at(p) == ':' {
			p++
			if at(p) == -1 {
				return false
			}
		} else if at(p) != -1 {
			return false
		}
		piece++
	}
	return compress != -1 || piece == 8
}

// legacyPunycodeDecode is RFC 3492 decoding (the part of a label after "xn--").
func legacyPunycodeDecode(s string) (string, bool) {
	const (
		base        = 36
		tmin        = 1
		tmax        = 26
		initialBias = 72
		initialN    = 128
		maxInt      = 1<<31 - 1
	)
	var out []rune
	pos := 0
	if b := strings.LastIndexByte(s, '-'); b >= 0 {
		for i := 0; i < b; i++ {
			out = append(out, rune(s[i])) // the caller checked s is ASCII
		}
		pos = b + 1
	}
	n, bias, i := initialN, initialBias, 0
	for pos < len(s) {
		oldi, w := i, 1
		for k := base; ; k += base {
			if pos == len(s) {
				return "", false
			}
			d, ok := legacyPunycodeDigit(s[pos])
			pos++
			if !ok || d > (maxInt-i)/w {
				return "", false
			}
			i += d * w
			t := min(max(k-bias, tmin), tmax)
			if d < t {
				break
			}
			if w > maxInt/(base-t) {
				return "", false
			}
			w *= base - t
		}
		points := len(out) + 1
		bias = legacyPunycodeAdapt(i-oldi, points, oldi == 0)
		if i/points > maxInt-n {
			return "", false
		}
		n += i / points
		i %= points
		if n > unicode.MaxRune || 0xD800 <= n && n <= 0xDFFF {
			return "", false
		}
		out = append(out, 0)
		copy(out[i+1:], out[i:])
		out[i] = rune(n)
		i++
	}
	return string(out), true
}

func legacyPunycodeDigit(c byte) (int, bool) {
	switch {
	case legacyIsDigitASCII(c):
		return int(c-'0') + 26, true
	case 'a' <= legacyLowerASCII(c) && legacyLowerASCII(c) <= 'z':
		return int(legacyLowerASCII(c) - 'a'), true
	}
	return 0, false
}

func legacyPunycodeAdapt(delta, points int, first bool) int {
	const base, tmin, tmax, skew, damp = 36, 1, 26, 38, 700
	if first {
		delta /= damp
	} else {
		delta /= 2
	}
	delta += delta / points
	k := 0
	for delta > (base-tmin)*tmax/2 {
		delta /= base - tmin
		k += base
	}
	return k + (base-tmin+1)*delta/(delta+skew)
}

func legacyLowerASCII(c byte) byte {
	if 'A' <= c && c <= 'Z' {
		return c + 'a' - 'A'
	}
	return c
}
func legacyIsAlnumASCII(c byte) bool {
	c = legacyLowerASCII(c)
	return 'a' <= c && c <= 'z' || '0' <= c && c <= '9'
}
