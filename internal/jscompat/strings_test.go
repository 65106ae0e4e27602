package jscompat

import (
	"math"
	"testing"
)

// jsSpace is every code point String.prototype.trim removes.
const jsSpace = "\t\n\v\f\r \u00a0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000\ufeff"

func TestTrim(t *testing.T) {
	if got := Trim(jsSpace + "a" + jsSpace + "b" + jsSpace); got != "a"+jsSpace+"b" {
		t.Errorf("got %q", got)
	}
	for _, keep := range []string{"\u0085", "\u180e", "\u200b", "\u200c", "\u2060", "\x00", "\x1f"} {
		if Trim(keep) != keep {
			t.Errorf("%U must not be trimmed", []rune(keep))
		}
	}
}

// TestParseInt: expectations are parseInt(s, 10) in Node 20.
func TestParseInt(t *testing.T) {
	for _, c := range []struct {
		in   string
		want float64
		ok   bool
	}{
		{"", 0, false},
		{"abc", 0, false},
		{"-", 0, false},
		{"+-1", 0, false},
		{".5", 0, false},
		{"\u0085" + "5", 0, false}, // NEL is not JavaScript white space
		{"0x10", 0, true},          // radix 10: no hex prefix
		{"12px", 12, true},
		{"1e3", 1, true},
		{"1.9", 1, true},
		{"-7", -7, true},
		{"+7", 7, true},
		{jsSpace + "42" + jsSpace, 42, true},
		{"0000000000005", 5, true},
		{"9007199254740993", 9007199254740992, true},
		{"100000000000000000000000", 1e23, true},
	} {
		got, ok := ParseInt(c.in)
		if ok != c.ok || got != c.want {
			t.Errorf("ParseInt(%q) = %v, %v; want %v, %v", c.in, got, ok, c.want, c.ok)
		}
	}
	if v, ok := ParseInt("-0"); !ok || v != 0 || !math.Signbit(v) {
		t.Errorf("ParseInt(-0) = %v, %v; want -0", v, ok)
	}
	big := "1"
	for range 400 {
		big += "0"
	}
	if v, ok := ParseInt(big); !ok || !math.IsInf(v, 1) {
		t.Errorf("ParseInt(1e400) = %v, %v; want +Inf", v, ok)
	}
}

func TestLengthCountsUTF16Units(t *testing.T) {
	for s, want := range map[string]int{"abcdefgh": 8, "😀😀😀😀": 8, "é": 1, "": 0} {
		if got := Length(s); got != want {
			t.Errorf("Length(%q) = %d, want %d", s, got, want)
		}
	}
}

// TestEncodeURIComponent: expectations are encodeURIComponent in Node 20.
func TestEncodeURIComponent(t *testing.T) {
	for in, want := range map[string]string{
		"AZaz09-_.!~*'()": "AZaz09-_.!~*'()",
		" +/?#&=%":        "%20%2B%2F%3F%23%26%3D%25",
		"é😀":              "%C3%A9%F0%9F%98%80",
		"a.b+c/d==":       "a.b%2Bc%2Fd%3D%3D",
	} {
		if got := EncodeURIComponent(in); got != want {
			t.Errorf("EncodeURIComponent(%q) = %q, want %q", in, got, want)
		}
	}
}
