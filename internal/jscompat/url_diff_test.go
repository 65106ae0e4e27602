package jscompat

import (
	"strings"
	"testing"

	"golang.org/x/net/idna"
)

// diffLabels are the building blocks of the differential corpus: one label
// each, before mapping.
var diffLabels = []string{
	// ASCII, including what UseSTD3ASCIIRules=false lets through.
	"example", "EXAMPLE", "ExAmPlE", "a", "z9", "1", "09", "255", "256", "0x7f", "0X1G", "0x",
	"-", "--", "-a", "a-", "-a-", "a--b", "ab--c", "r3---sn-apo3qvuoxuxbt-j5pe",
	"_a", "a_b", "a b", "a%b", "a*b", "a{b", "a~b", "a\x7fb", "a\x01b",
	// Latin-1, case and deviation characters.
	"bücher", "BÜCHER", "café", "CAFÉ", "naïve", "ß", "ẞ", "straße", "İ", "ı", "ſ", "K", "Ω", "ǅ",
	"e\u0301", "\u0301a", "a\u0301",
	// Greek, Cyrillic, final sigma; Cherokee, whose lower case UTS #46 maps
	// to upper case; Georgian and Cyrillic capitals it disallows.
	"βόλοσ", "ΒΌΛΟΣ", "βόλος", "ς", "пример", "ПРИМЕР", "Ꮌ", "ꮌ", "Ⴀ", "ⴀ", "Ӏ", "ӏ", "᠆",
	// CJK, Hangul, Thai, Devanagari.
	"例え", "テスト", "中国", "한국", "ไทย", "हिन्दी", "\u3164", "a\u3164b", "ធ\u17b4",
	// Emoji, old and new (Unicode 15.0, 15.1 and 16.0 code points).
	"😀", "☃", "💩", "👨\u200d👩\u200d👧", "🫨", "\U0001FAE9", "\U0002EBF0", "\U00031350",
	// Arabic and Hebrew (CheckBidi), Arabic-Indic digits.
	"مثال", "إختبار", "א", "ישראל", "١", "aب", "אa", "א-", "א1", "1א", "אב١",
	"ℶ", "0ℶ", "ℶ1", "aℶ", "xn--0-2hc",
	// ZWJ and ZWNJ (CheckJoiners): invalid in Latin, valid after a virama
	// or between joining letters.
	"a\u200db", "a\u200cb", "\u200d", "क्\u200dष", "क्\u200cष", "می\u200cخواهم", "ب\u200cب",
	// Ignored and mapped code points, fullwidth forms.
	"a\u00adb", "\u00ad", "a\u200bb", "a\ufeffb", "a\u2060b", "ｅｘａｍｐｌｅ", "ＥＸＡＭＰＬＥ", "ﬁ", "Ⅻ", "①", "¹",
	"𝐀", "ⓐ", "℡", "ﷺ", "a／b", "a％b", "a＠b", "a\u3000b", "a\u00a0b",
	// Disallowed, unassigned, private use, noncharacters, specials.
	"a\ue000b", "a\ufffdb", "a\xffb", "a\U000e0001b", "\u0378", "a\ufdd0b", "⒈", "a⒈b", "㏂", "\u2024",
	// xn-- labels, valid and not.
	"xn--", "XN--", "xn--zca", "XN--ZCA", "xn--nxasmq6b", "xn--bcher-kva", "xn--abc-", "xn---abc", "xn--a",
	"xn--ab", "xn--xn--a", "xn--zcaİ", "xn--a\u00fc", "xn--99999999", "xn--ls8h", "xn--n3h", "xn--1ug",
	"xn--bcher-KVA", "xn--80ak6aa92e", "ｘｎ－－", "x\u00adn--", "xn---00c", "xn---ls8h", "xn----bcher-kva",
}

var diffSeparators = []string{".", "。", "．", "｡"}

// diffCorpus returns the hosts the differential test runs: every label
// alone, with a TLD, around empty labels and leading or trailing
// separators; every pair of labels joined by each separator; each label's
// raw Punycode as an xn-- label (valid for valid U-labels, invalid for the
// rest); and long labels.
func diffCorpus() []string {
	seen := map[string]bool{}
	var hosts []string
	add := func(h string) {
		if !seen[h] {
			seen[h] = true
			hosts = append(hosts, h)
		}
	}
	labels := append([]string(nil), diffLabels...)
	for _, l := range diffLabels {
		if enc, err := idna.Punycode.ToASCII(l); err == nil && enc != l {
			labels = append(labels, enc)
		}
	}
	for _, l := range labels {
		add(l)
		for _, sep := range diffSeparators {
			add(l + sep + "com")
			add("a" + sep + l)
			add(sep + l)
			add(l + sep)
			add(l + sep + sep)
			add("a" + sep + sep + l)
		}
	}
	for _, l := range labels {
		for _, m := range labels {
			for _, sep := range diffSeparators {
				add(l + sep + m)
			}
		}
	}
	for _, n := range []int{63, 64, 300, 1000, 1024, 1025, 2048, 2049, 5000} {
		add(strings.Repeat("a", n))
		add(strings.Repeat("ü", n))
		add(strings.Repeat("例", n) + ".com")
		add("xn--" + strings.Repeat("a", n))
		add(distinctRunes(0x4E00, n))
		if enc, err := idna.Punycode.ToASCII(distinctRunes(0x4E00, n)); err == nil {
			add(enc)
		}
	}
	return hosts
}

func punycodeOf(label string) string {
	enc, err := idna.Punycode.ToASCII(label)
	if err != nil {
		panic(err)
	}
	return enc
}

// distinctRunes is a label of n different ideographs starting at first.
func distinctRunes(first rune, n int) string {
	var b strings.Builder
	for i := range n {
		b.WriteRune(first + rune(i))
	}
	return b.String()
}

// legacyDifferences are the labels on which domainToASCII and the legacy
// code disagree, each with the reason; a host of the corpus gives different
// answers exactly when one of its labels is listed. Each reason says which
// side Node 20 (ada 2.9.2) takes.
var legacyDifferences = []struct{ label, reason string }{
	// Legacy refused every ZWJ and ZWNJ; CheckJoiners (RFC 5892 ContextJ)
	// allows them after a virama or between joining letters. Node agrees
	// with idna.
	{"क्\u200dष", "ZWJ after a virama is allowed by ContextJ"},
	{"क्\u200cष", "ZWNJ after a virama is allowed by ContextJ"},
	{"می\u200cخواهم", "ZWNJ between joining letters is allowed by ContextJ"},
	{"ب\u200cب", "ZWNJ between joining letters is allowed by ContextJ"},
	{"xn--11b2ezcw70k", "Punycode of क्\u200dष, allowed by ContextJ"},
	{"xn--11b2ezcs70k", "Punycode of क्\u200cष, allowed by ContextJ"},
	{"xn--mgbn2ecje63gr19l", "Punycode of می\u200cخواهم, allowed by ContextJ"},
	{"xn--ngba799q", "Punycode of ب\u200cب, allowed by ContextJ"},
	// Legacy approximated the mapping with NFKC; UTS #46 disallows code
	// points whose NFKC contains a full stop. Node agrees with idna.
	{"⒈", "U+2488 is disallowed, not mapped to \"1.\""},
	{"a⒈b", "U+2488 is disallowed, not mapped to \"1.\""},
	{"㏂", "U+33C2 is disallowed, not mapped to \"a.m.\""},
	{"\u2024", "U+2024 is disallowed, not mapped to \".\""},
	// Legacy approximated the mapping table with NFKC and x/text's case
	// folding, and validity with general categories. They differ from the
	// table on about 200 code points, these among them. Node agrees with
	// idna.
	{"Ⴀ", "U+10A0 is disallowed; legacy folded it to U+2D00"},
	{"Ӏ", "U+04C0 is disallowed; legacy folded it to U+04CF"},
	{"᠆", "U+1806 is disallowed; legacy's category test let it through"},
	{"xn--c6e", "Punycode of U+1806, which is disallowed"},
	{"ធ\u17b4", "U+17B4 is disallowed; legacy refused combining marks only at the start"},
	{"xn--02e2e", "Punycode of ធ\u17b4, which is disallowed"},
	{"xn--y9d", "Punycode of Ꮌ, valid: UTS #46 maps Cherokee to upper case, legacy folded it to lower"},
	// UTS #46 revision 31 (Unicode 15.1) added: an xn-- label that decodes
	// to ASCII only is an error. Node 20 and legacy accept it.
	{"xn--abc-", "decodes to ASCII only"},
	// RFC 3492 §6.2: a '-' with no basic code points before it is not the
	// delimiter, so "-00c" is not Punycode. Node 20 and legacy skip it
	// and decode "00c".
	{"xn---00c", "leading '-' is not a Punycode delimiter"},
	{"xn---ls8h", "leading '-' is not a Punycode delimiter"},
	// Node and legacy accept these; encoding them costs more than
	// maxPunycodeWork (2,049² and 5,000² steps).
	{distinctRunes(0x4E00, 2049), "Punycode work above maxPunycodeWork"},
	{distinctRunes(0x4E00, 5000), "Punycode work above maxPunycodeWork"},
	// Legacy refused xn-- labels longer than 1024 bytes; x/net/idna limits
	// the decoded label to 1024 code points instead. Node accepts both
	// (and the 1025-code-point label, which both refuse).
	{punycodeOf(distinctRunes(0x4E00, 1000)), "a 2,122-byte xn-- label of 1000 code points"},
	{punycodeOf(distinctRunes(0x4E00, 1024)), "a 2,194-byte xn-- label of 1024 code points"},
}

// legacyHostDifferences are whole hosts that differ for reasons no label
// explains.
var legacyHostDifferences = map[string]string{
	"": "an empty result is a failure in the URL Standard; unreachable from IsHTTPURL, which refuses an empty host first",
}

func TestDomainToASCIIMatchesLegacy(t *testing.T) {
	hosts := diffCorpus()
	for _, h := range hosts {
		got, ok := domainToASCII(h)
		want, wantOK := legacyDomainToASCII(h)
		same := ok == wantOK && (!ok || sameASCII(want, got))
		_, listed := legacyHostDifferences[h]
		if explained := listed || listedLabel(h) != ""; !same && !explained {
			t.Errorf("domainToASCII(%+q) = %q, %v; legacy %q, %v", h, got, ok, want, wantOK)
		} else if same && listed {
			t.Errorf("%+q is listed as a difference but both give %q, %v", h, got, ok)
		}
	}
	// Every listed label must differ on its own, so the list stays short.
	for _, d := range legacyDifferences {
		got, ok := domainToASCII(d.label)
		want, wantOK := legacyDomainToASCII(d.label)
		if ok == wantOK && (!ok || sameASCII(want, got)) {
			t.Errorf("%+q (%s) is listed but both give %q, %v", d.label, d.reason, got, ok)
		}
	}
	t.Logf("%d hosts", len(hosts))
}

// TestIsHTTPURLMatchesLegacy runs the whole URL check over the corpus hosts
// and the URL test vectors.
func TestIsHTTPURLMatchesLegacy(t *testing.T) {
	var urls []string
	for _, c := range httpURLCases {
		urls = append(urls, c.in)
	}
	for _, h := range diffCorpus() {
		urls = append(urls, "http://"+h+"/")
	}
	for _, u := range urls {
		if got, want := IsHTTPURL(u), legacyIsHTTPURL(u); got != want && listedLabel(roughHost(u)) == "" {
			t.Errorf("IsHTTPURL(%+q) = %v, legacy %v", u, got, want)
		}
	}
	t.Logf("%d URLs", len(urls))
}

// listedLabel returns the reason for the first label of host listed in
// legacyDifferences (ignoring case, as the mapping does), or "".
func listedLabel(host string) string {
	for _, l := range strings.FieldsFunc(host, isLabelSeparator) {
		lower := strings.ToLower(l)
		for _, d := range legacyDifferences {
			if l == d.label || lower == d.label {
				return d.reason
			}
		}
	}
	return ""
}

// roughHost is the percent-decoded host of an absolute URL, found as
// IsHTTPURL finds it but without its checks: enough to look for a listed
// label.
func roughHost(u string) string {
	u = strings.TrimFunc(u, func(r rune) bool { return r <= ' ' })
	u = strings.NewReplacer("\t", "", "\n", "", "\r", "").Replace(u)
	_, rest, _ := strings.Cut(u, ":")
	rest = strings.TrimLeft(rest, `/\`)
	if i := strings.IndexAny(rest, `/\?#`); i >= 0 {
		rest = rest[:i]
	}
	rest = rest[strings.LastIndexByte(rest, '@')+1:]
	host, _, _ := splitHostPort(rest)
	return percentDecode(host)
}

// TestOnlyFullStopsSeparateLabels backs emptyACELabel's split: apart from
// U+002E and the three full stops, no code point maps to a string holding
// a '.' without being disallowed. It needs rerunning when x/net/idna's
// Unicode tables change (Go 1.27 moves them to Unicode 17).
func TestOnlyFullStopsSeparateLabels(t *testing.T) {
	for r := rune(0); r <= 0x10FFFF; r++ {
		if 0xD800 <= r && r <= 0xDFFF || isLabelSeparator(r) {
			continue
		}
		if u, err := uts46.ToUnicode("a" + string(r) + "a"); err == nil && strings.ContainsRune(u, '.') {
			t.Errorf("%U maps to %q", r, u)
		}
	}
}

// sameASCII compares a legacy result with a new one. The legacy code did
// not encode Unicode labels; it wrote "xn--" + the label's ASCII code points
// + "-" in their place, which is the start of the real encoding.
func sameASCII(legacy, got string) bool {
	l, g := strings.Split(legacy, "."), strings.Split(got, ".")
	if len(l) != len(g) {
		return false
	}
	for i := range l {
		if l[i] == g[i] {
			continue
		}
		basic := strings.TrimPrefix(g[i], "xn--")
		basic = basic[:max(strings.LastIndexByte(basic, '-'), 0)]
		if !strings.HasPrefix(g[i], "xn--") || l[i] != "xn--"+basic+"-" {
			return false
		}
	}
	return true
}

// TestMappingKeepsRTL backs bidiRuleHolds: no code point of a right-to-left
// or Arabic-number class maps to a string without one, so x/net/idna's own
// Bidi check, which looks before mapping, never refuses a domain that is
// not a Bidi domain name once mapped.
func TestMappingKeepsRTL(t *testing.T) {
	for r := rune(0x80); r <= 0x10FFFF; r++ {
		if 0xD800 <= r && r <= 0xDFFF || !isRTL(r) {
			continue
		}
		if u, err := uts46.ToUnicode(string(r)); err == nil && !isBidiDomain(u) {
			t.Errorf("%U (right-to-left) maps to %+q", r, u)
		}
	}
}
