package jscompat

import (
	"strings"
	"testing"
	"unicode/utf8"

	"golang.org/x/net/idna"
)

// FuzzIsHTTPURL checks, for any string, that IsHTTPURL does not panic; that
// when the string read as a domain has an ASCII form, that form is ASCII,
// non-empty and its own ASCII form (UTS #46 ToASCII is idempotent; but
// x/net/idna decodes no xn-- label longer than 1024 code points, though it
// encodes them, so longer labels are not checked); and, for ASCII input,
// that IsHTTPURL answers as the legacy code did unless the difference is
// one of those listed in legacyDifferences (asciiDifferenceExplained).
// Non-ASCII input is not compared: there the legacy mapping was an
// approximation, which the differential corpus covers label by label.
func FuzzIsHTTPURL(f *testing.F) {
	for _, c := range httpURLCases {
		f.Add(c.in)
	}
	for _, l := range diffLabels {
		f.Add("http://" + l + ".com/")
	}
	f.Fuzz(func(t *testing.T, s string) {
		got := IsHTTPURL(s)
		if isASCII(s) {
			if want := legacyIsHTTPURL(s); got != want && !asciiDifferenceExplained(roughHost(s)) {
				t.Fatalf("IsHTTPURL(%+q) = %v, legacy %v", s, got, want)
			}
		}
		ascii, ok := domainToASCII(s)
		if !ok {
			return
		}
		if ascii == "" || !isASCII(ascii) {
			t.Fatalf("domainToASCII(%+q) = %+q", s, ascii)
		}
		if u, _ := uts46.ToUnicode(s); longestLabel(u) > 1024 {
			return
		}
		if again, ok := domainToASCII(ascii); !ok || again != ascii {
			t.Fatalf("domainToASCII(%+q) = %q, but domainToASCII(%q) = %q, %v", s, ascii, ascii, again, ok)
		}
	})
}

// asciiDifferenceExplained reports whether an ASCII host may be judged
// differently from the legacy code for one of the reasons listed in
// legacyDifferences: it has a listed label; more xn-- text than legacy's
// limits; or an xn-- label that decodes to ASCII only, whose only '-'
// leads, or whose code points include one the legacy mapping or validity
// test got wrong (legacyMisjudges).
func asciiDifferenceExplained(host string) bool {
	if listedLabel(host) != "" {
		return true
	}
	total := 0
	for _, l := range strings.Split(strings.ToLower(host), ".") {
		rest, ok := strings.CutPrefix(l, "xn--")
		if !ok {
			continue
		}
		if total += len(l); len(l) > legacyMaxPunycodeLabel || total > legacyMaxPunycodeTotal {
			return true
		}
		if strings.LastIndexByte(rest, '-') == 0 {
			return true
		}
		u, ok := legacyPunycodeDecode(rest)
		if ok && (isASCII(u) || strings.IndexFunc(u, legacyMisjudges) >= 0) {
			return true
		}
	}
	return false
}

// legacyMisjudges reports whether the legacy code treated r differently
// from the UTS #46 table, alone in a label or after a letter: it mapped r
// to another string, or judged it valid where the table does not or the
// other way round. (Legacy refused combining marks only at the start of a
// label.) ZWJ and ZWNJ count too: legacy refused them whatever their
// context.
func legacyMisjudges(r rune) bool {
	if r == '\u200c' || r == '\u200d' {
		return true
	}
	for _, s := range []string{string(r), "a" + string(r)} {
		legacy := legacyUts46Map(s)
		legacyOK := legacy != "" && legacyValidLabel(legacy)
		u, err := uts46NoBidi.ToUnicode(s)
		ok := err == nil && u != ""
		if legacyOK != ok || ok && legacy != u {
			return true
		}
	}
	return false
}

// uts46NoBidi is uts46 without the Bidi rule, so that legacyMisjudges can
// put a right-to-left code point after a Latin letter.
var uts46NoBidi = idna.New(idna.MapForLookup(), idna.CheckHyphens(false), idna.StrictDomainName(false),
	idna.CheckJoiners(true), idna.Transitional(false), idna.VerifyDNSLength(false))

// longestLabel is the length in code points of the longest label of s.
func longestLabel(s string) int {
	n := 0
	for l := range strings.SplitSeq(s, ".") {
		n = max(n, utf8.RuneCountInString(l))
	}
	return n
}
