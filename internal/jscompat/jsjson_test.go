package jscompat

import "testing"

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
