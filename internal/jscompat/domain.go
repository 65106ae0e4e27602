package jscompat

import (
	"strings"
	"unicode/utf8"

	"golang.org/x/net/idna"
	"golang.org/x/text/secure/bidirule"
	"golang.org/x/text/unicode/bidi"
)

// uts46 is UTS #46 processing set up as the URL Standard's "domain to ASCII"
// asks for it with beStrict false. MapForLookup brings the mapping, the
// normalisation and the label validity criteria, but it also turns on
// CheckHyphens and UseSTD3ASCIIRules, so the options after it must stay
// after it. A Profile is not changed once built, so one serves every
// request.
var uts46 = idna.New(
	idna.MapForLookup(),
	idna.CheckHyphens(false),     // "r3---sn-x" and "-a-" are hosts browsers accept
	idna.StrictDomainName(false), // UseSTD3ASCIIRules=false: the URL parser has its own forbidden code points
	idna.CheckJoiners(true),      // CheckJoiners=true (ContextJ: ZWJ/ZWNJ only after a virama or between joining letters)
	idna.BidiRule(),              // CheckBidi=true (RFC 5893 on every label of a domain with RTL labels)
	idna.Transitional(false),     // ß, ς, ZWJ and ZWNJ are kept, not mapped away
	idna.VerifyDNSLength(false),  // beStrict=false: no 63/253-byte limits and empty labels are allowed
)

// maxPunycodeWork bounds the Punycode encoding of one domain, measured as
// punycodeWork counts it. Hosts are limited only by the request body size,
// and the encoder rescans a label once per distinct code point it holds
// (about 10 ns a step): a label of 90,000 different ideographs would keep a
// Lambda busy for a minute. A real label (63 bytes) costs at most about
// 4,000 steps and a label of 128 Ki copies of one letter about 131,000; the
// limit, about 40 ms of work, refuses only contrived hosts, such as a label
// of more than 2,048 different ideographs, which Node would accept.
const maxPunycodeWork = 1 << 22

// domainToASCII is the URL Standard's "domain to ASCII" with beStrict false:
// UTS #46 ToASCII with CheckHyphens=false, CheckBidi=true,
// CheckJoiners=true, UseSTD3ASCIIRules=false, Transitional_Processing=false
// and VerifyDnsLength=false, failing on an empty result. The caller then
// checks the result for forbidden domain code points.
//
// The UTS #46 data is x/net/idna's, which follows the Unicode version of the
// Go toolchain (15.0.0 up to Go 1.26), not Node's.
func domainToASCII(domain string) (string, bool) {
	if isASCII(domain) && !hasACELabel(domain) {
		// The Standard's own shortcut: without "xn--" labels, ToASCII of an
		// ASCII domain is its lower case and cannot fail.
		ascii := strings.ToLower(domain)
		return ascii, ascii != ""
	}
	// x/net/idna turns invalid UTF-8 into U+FFFD without reporting an
	// error, yet U+FFFD itself is disallowed, which is what a JavaScript
	// string decoded from those bytes would hold.
	if !utf8.ValidString(domain) {
		return "", false
	}
	// ToUnicode maps and validates exactly as ToASCII does but does not
	// encode, so the encoding's cost can be checked before paying it.
	// (ToASCII encodes every label even once it has found an error.)
	unicodeForm, err := uts46.ToUnicode(domain)
	if err != nil || !bidiRuleHolds(unicodeForm) || punycodeWork(unicodeForm) > maxPunycodeWork {
		return "", false
	}
	ascii, err := uts46.ToASCII(domain)
	if err != nil || ascii == "" || hasEmptyLabel(ascii) && emptyACELabel(domain) {
		return "", false
	}
	return ascii, true
}

// bidiRuleHolds applies RFC 5893's Bidi rule to every label of domain (in
// Unicode form) if it is a Bidi domain name, one with a right-to-left or
// Arabic-number code point, as CheckBidi asks. x/net/idna checks this too,
// but it tells a Bidi domain name by the code points before mapping, and
// ℵ ℶ ℷ ℸ (U+2135..U+2138, class L) map to Hebrew letters: "0ℶ" would
// pass although its own ASCII form, "xn--0-2hc", does not. (Node 20 accepts
// both; its ada skips some Bidi checks.) No code point maps the other way,
// from right-to-left to left-to-right, so idna's check refuses nothing this
// one would accept (TestMappingKeepsRTL).
func bidiRuleHolds(domain string) bool {
	if !isBidiDomain(domain) {
		return true
	}
	for label := range strings.SplitSeq(domain, ".") {
		if label != "" && !bidirule.ValidString(label) {
			return false
		}
	}
	return true
}

func isBidiDomain(s string) bool {
	for _, r := range s {
		if isRTL(r) {
			return true
		}
	}
	return false
}

func isRTL(r rune) bool {
	if r < utf8.RuneSelf {
		return false
	}
	switch p, _ := bidi.LookupRune(r); p.Class() {
	case bidi.R, bidi.AL, bidi.AN:
		return true
	}
	return false
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

// hasACELabel reports whether some '.'-separated label of the ASCII string s
// starts with "xn--", ignoring case.
func hasACELabel(s string) bool {
	for label := range strings.SplitSeq(s, ".") {
		if len(label) >= 4 && strings.EqualFold(label[:4], "xn--") {
			return true
		}
	}
	return false
}

func hasEmptyLabel(s string) bool {
	return s == "" || s[0] == '.' || s[len(s)-1] == '.' || strings.Contains(s, "..")
}

// emptyACELabel reports whether some label of domain maps to exactly
// "xn--". UTS #46 (since revision 31, Unicode 15.1) makes that an error and
// Node refuses such hosts, but x/net/idna decodes the empty Punycode to an
// empty label and reports nothing; the label then shows up as an empty one
// in the result, which is when the caller asks.
//
// domain is split where mapping makes label separators: at U+002E and the
// three full stops that map to it (TestOnlyFullStopsSeparateLabels checks
// that no other code point maps to a string with a '.' without being
// disallowed). Each part is then mapped behind an "a", so that the mapping
// cannot start with "xn--" and be decoded.
func emptyACELabel(domain string) bool {
	for _, part := range strings.FieldsFunc(domain, isLabelSeparator) {
		if u, err := uts46.ToUnicode("a" + part); err == nil && u == "axn--" {
			return true
		}
	}
	return false
}

func isLabelSeparator(r rune) bool {
	return r == '.' || r == '\u3002' || r == '\uFF0E' || r == '\uFF61'
}

// punycodeWork is the sum, over the non-ASCII labels of the Unicode domain
// s, of the label's length in code points times its number of distinct
// non-ASCII code points: the number of code points the Punycode encoder
// visits.
func punycodeWork(s string) int {
	work := 0
	for label := range strings.SplitSeq(s, ".") {
		if isASCII(label) {
			continue
		}
		distinct := make(map[rune]struct{})
		n := 0
		for _, r := range label {
			n++
			if r >= utf8.RuneSelf {
				distinct[r] = struct{}{}
			}
		}
		work += n * len(distinct)
	}
	return work
}
