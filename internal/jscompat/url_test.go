package jscompat

import (
	"strings"
	"testing"
)

// TestIsHTTPURL: expectations agree with `new URL()` in Node 20 (the WHATWG
// parser, ada), except where noted.
func TestIsHTTPURL(t *testing.T) {
	for _, c := range httpURLCases {
		if got := IsHTTPURL(c.in); got != c.want {
			t.Errorf("IsHTTPURL(%q) = %v, want %v", c.in, got, c.want)
		}
	}
}

// httpURLCases are also the seeds of FuzzIsHTTPURL and part of the
// differential corpus.
var httpURLCases = []struct {
	in   string
	want bool
}{
	// Not http(s), or not a URL at all.
	{"javascript:alert(1)", false},
	{"file:///etc/passwd", false},
	{"ftp://example.com/a.png", false},
	{"data:text/html;base64,PHNjcmlwdD4=", false},
	{"blob:https://example.com/uuid", false},
	{"//example.com/a.png", false},
	{"/api/history/1/asset", false},
	{"example.com/a.png", false},
	{"https//example.com", false},
	{"ht tp://example.com", false},
	{"1http://example.com", false},
	{":http://example.com", false},
	{"http", false},
	{"", false},
	// Documented WHATWG examples (docs/app-api.md §9.1).
	{"https:example.com", true},
	{"http:/x", true},
	{"https://a.b/ c", true},
	{"https://", false},
	{"http://x y", false},
	// Scheme and slashes.
	{"HTTPS://EXAMPLE.COM/A.PNG", true},
	{"hTtP://example.com", true},
	{`http:\\example.com\a.png`, true},
	{"http:////example.com", true},
	{"http:", false},
	{"http:/", false},
	{"http:?x", false},
	{"http://#x", false},
	{"http://?x", false},
	{"http://ex\tam\nple.com", true}, // tabs and newlines are removed first
	{"\x01http://example.com\x1f", true},
	// Userinfo and ports.
	{"https://user:pass@example.com/a.png", true},
	{"http://@x", true},
	{"http://a@b@c", true},
	{"http://x@", false},
	{"http://a:b@", false},
	{"http://a:b@/path", false},
	{"http://example.com:", true},
	{"http://example.com:0", true},
	{"http://example.com:0080", true},
	{"http://example.com:65535", true},
	{"http://example.com:65536", false},
	{"http://example.com:00000000000000000080", true},
	{"http://example.com:99999999999999999999", false},
	{"http://example.com:8o", false},
	{"http://example.com:80:80", false},
	{"http://:80", false},
	{"http://example.com:-1", false},
	// Forbidden host code points (some only after percent-decoding).
	{"http://a<b", false},
	{"http://a>b", false},
	{"http://a^b", false},
	{"http://a|b", false},
	{"http://a%b", false},
	{"http://a%25b", false},
	{"http://a%2fb", false},
	{"http://a%20b", false},
	{"http://a%00b", false},
	{"http://a\x7fb", false},
	{"http://a\x01b", false},
	{"http://a[b]", false},
	{"http://a{b", true},
	{`http://a"b`, true},
	{"http://a_b!c*d", true},
	{"http://%41", true},
	{"http://%zz", false},
	{"http://%FF", false}, // not UTF-8
	{"http://-a-.com", true},
	{"http://a..b", true},
	{"http://.", true},
	// IPv4 (hosts ending in a number must parse as IPv4).
	{"http://127.0.0.1", true},
	{"http://1.2.3", true},
	{"http://0x7f.1", true},
	{"http://0x", true},
	{"http://256", true},
	{"http://4294967295", true},
	{"http://0xffffffff", true},
	{"http://00000000000000000000000000000001", true},
	{"http://1.1.1.1.", true},
	{"http://1.1.1.1..", true},
	{"http://4294967296", false},
	{"http://0.0.0.256", false},
	{"http://999.1.1.1", false},
	{"http://1.2.3.4.5", false},
	{"http://foo.1", false},
	{"http://foo.09", false},
	{"http://a.1.", false},
	{"http://1..2", false},
	{"http://0x1g", true}, // does not end in a number: a domain
	{"http://08", false},
	// IPv6.
	{"http://[::1]", true},
	{"http://[::1]:8080/x", true},
	{"http://[1:2:3:4:5:6:7:8]", true},
	{"http://[1:2:3:4:5:6:1.2.3.4]", true},
	{"http://[::ffff:1.2.3.4]", true},
	{"http://[::1", false},
	{"http://[::1]x", false},
	{"http://[1:2:3:4:5:6:7:1.2.3.4]", false},
	{"http://[1:2:3:4:5:6:7:8:9]", false},
	{"http://[1::2::3]", false},
	{"http://[:1]", false},
	{"http://[1:]", false},
	{"http://[12345::]", false},
	{"http://[::1.2.3]", false},
	{"http://[::01.2.3.4]", false},
	{"http://[::1%25eth0]", false},
	{"http://[]", false},
	// IDNA.
	{"http://xn--nxasmq6b", true},
	{"http://xn--zca.de", true},
	{"http://XN--ZCA.de", true},
	{"http://xn--", false},
	{"http://xn--a", false},
	{"http://xn--ab.com", false},
	{"http://xn--xn--a", false},
	// Decodes to ASCII only. Node 20 (ada 2.9) accepts it; UTS #46
	// since revision 31 (Unicode 15.1) and x/net/idna refuse it.
	{"http://xn--abc-", false},
	{"http://xn---abc", false},
	// Not Punycode (RFC 3492 §6.2: a leading '-' is no delimiter).
	// Node 20 (ada 2.9) accepts it.
	{"http:Xn---00C", false},
	{"http://ｘｎ－－.com", false}, // maps to an empty xn-- label
	{"http://x\u00adn--.com", false},
	{"https://bücher.de/a.png", true},
	{"https://BÜCHER.de", true},
	{"https://%C3%BC.de", true},
	{"https://例え.テスト/画像.png", true},
	{"http://ｅｘａｍｐｌｅ.com", true},
	{"http://a。b", true},
	{"http://☃.net", true},
	{"http://ß.de", true},
	{"http://ẞ.de", true},
	{"http://İ.com", true},
	{"http://xn--zcaİ", false},
	{"http://a\u200bb", true}, // ignored code point
	{"http://a\u00adb", true},
	{"http://\u00ad", false}, // maps to nothing
	{"http://a\u3000b", false},
	{"http://a\u00a0b", false},
	{"http://a\u200db", false},
	{"http://a\u200cb", false},
	{"http://a\ue000b", false},
	{"http://a\ufffdb", false},
	{"http://a\xffb", false}, // invalid UTF-8 is U+FFFD to JavaScript
	{"http://\xed\xa0\x80", false},
	{"http://\u0301a", false},
	{"http://a\u3164b", false},
	{"http://a\U000e0001b", false},
	{"http://a／b", false}, // fullwidth solidus maps to '/'
	{"http://xn--a\u00fc", false},
	{"http://مثال.إختبار", true},
	{"http://a.א", true},
	// ContextJ (CheckJoiners): ZWJ and ZWNJ are valid after a virama or
	// between joining letters, and nowhere else.
	{"http://क्\u200dष", true},
	{"http://क्\u200cष", true},
	{"http://ب\u200cب", true},
	{"http://xn--11b2ezcw70k", true},
	{"http://👨\u200d👩\u200d👧", false},
	// Disallowed, although NFKC would map them to strings with a '.'.
	{"http://a⒈b", false},
	{"http://㏂", false},
	{"http://אa", false},
	{"http://א-", false},
	// Stricter than Node 20 (RFC 5893 applied to every label of a Bidi
	// domain name, as UTS #46 says; Node's bundled ada skips some checks).
	{"http://a.١", false},
	// ℶ maps to Hebrew bet, so "0ℶ" is "0ב": a Bidi domain name whose
	// label starts with a digit. (x/net/idna alone would accept it.)
	{"http://0ℶ", false},
	{"http://xn--0-2hc", false},
	{"http://ℶ", true},
	{"http://aب", false},
}

// Hosts are bounded only by the body size, so the checks must stay linear
// (a quadratic one would stall here for minutes) and give the answer
// Node's URL parser gives for the same megabyte-long inputs.
func TestIsHTTPURLLargeInputs(t *testing.T) {
	for _, c := range []struct {
		name, in string
		want     bool
	}{
		// No length limit on a label or a host: the URL standard's domain
		// to ASCII does not check DNS lengths.
		{"1 MiB label", "https://" + strings.Repeat("a", 1<<20) + ".com/", true},
		// One label of 128 Ki 'ü', turned into one long xn-- label.
		{"128 Ki non-ASCII label", "https://" + strings.Repeat("ü", 128<<10) + "/", true},
		// Each "xn--aaa…" label decodes to U+0080 controls, which IDNA
		// disallows.
		{"1000 long xn-- labels", "https://" + strings.Repeat("xn--"+strings.Repeat("a", 1000)+".", 1000), false},
		// Punycode encoding rescans a label once per distinct code point;
		// past maxPunycodeWork the host is refused, where Node would
		// accept it.
		{"label of 2,048 different ideographs", "https://" + distinctRunes(0x4E00, 2048) + "/", true},
		{"label of 2,049 different ideographs", "https://" + distinctRunes(0x4E00, 2049) + "/", false},
		{"label of 90,000 different ideographs", "https://" + distinctRunes(0x4E00, 90000) + "/", false},
		{"1 MiB of 1000-ideograph xn-- labels", "https://" + strings.Repeat(punycodeOf(distinctRunes(0x4E00, 1000))+".", 500), false},
		// Punycode whose deltas overflow.
		{"xn-- label overflowing", "https://xn--" + strings.Repeat("99999", 100000), false},
		{"1 MiB IPv6 literal", "https://[" + strings.Repeat("1", 1<<20) + "]", false},
		// Ends in a number, so it must be IPv4, and has far more than four
		// parts.
		{"256 Ki IPv4 parts", "https://" + strings.Repeat("1.", 256<<10), false},
	} {
		if got := IsHTTPURL(c.in); got != c.want {
			t.Errorf("%s: IsHTTPURL = %v, want %v", c.name, got, c.want)
		}
	}
}
