package jscompat

import (
	"encoding/json"
	"math"
	"testing"
)

func TestAppendStringMatchesJSONStringify(t *testing.T) {
	for in, want := range map[string]string{
		`plain`:              `"plain"`,
		`q"b\`:               `"q\"b\\"`,
		"\b\f\n\r\t\x01\x1f": `"\b\f\n\r\t\u0001\u001f"`,
		"<a&b>\u2028\u2029":  "\"<a&b>\u2028\u2029\"", // literal, unlike encoding/json
		"zoë 😀":              `"zoë 😀"`,
		"bad\xffutf8":        "\"bad\uFFFDutf8\"",
	} {
		if got := string(AppendString(nil, in)); got != want {
			t.Errorf("AppendString(%q) = %s, want %s", in, got, want)
		}
	}
}

func TestMarshal(t *testing.T) {
	got, err := Marshal(map[string]any{"a": "<&>", "n": 1e21, "m": 0.000001, "s": 1e-7, "u": "\u2028"})
	// Key order is encoding/json's; the numbers are as Number#toString
	// writes them; U+2028 is the one character escaped where
	// JSON.stringify would not.
	want := `{"a":"<&>","m":0.000001,"n":1e+21,"s":1e-7,"u":"\u2028"}`
	if err != nil || string(got) != want {
		t.Errorf("Marshal = %s, %v; want %s", got, err, want)
	}
	if _, err := Marshal(math.NaN()); err == nil {
		t.Error("Marshal(NaN) succeeded; JSON has no NaN")
	}
}

func TestJSONNumber(t *testing.T) {
	for in, want := range map[json.Number]float64{
		"0": 0, "-0": math.Copysign(0, -1), "1.5": 1.5, "1e400": math.Inf(1), "-1e400": math.Inf(-1),
		"9007199254740993": 9007199254740992, "1e-400": 0,
	} {
		got, ok := JSONNumber(in)
		if !ok || got != want || math.Signbit(got) != math.Signbit(want) {
			t.Errorf("JSONNumber(%s) = %v, %v; want %v", in, got, ok, want)
		}
	}
	if _, ok := JSONNumber("x"); ok {
		t.Error("JSONNumber(x) succeeded")
	}
}
