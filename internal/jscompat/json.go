package jscompat

import (
	"bytes"
	"encoding/json"
	"strconv"
	"unicode/utf8"
)

// AppendString appends s quoted as JSON.stringify quotes a string: only '"',
// '\' and C0 controls are escaped, while '<', '>', '&', U+2028 and U+2029
// stay literal (encoding/json escapes all five). Invalid UTF-8, which a
// JavaScript string cannot hold, becomes U+FFFD.
func AppendString(b []byte, s string) []byte {
	const hex = "0123456789abcdef"
	b = append(b, '"')
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == '"' || r == '\\':
			b = append(b, '\\', byte(r))
		case r == '\b':
			b = append(b, '\\', 'b')
		case r == '\f':
			b = append(b, '\\', 'f')
		case r == '\n':
			b = append(b, '\\', 'n')
		case r == '\r':
			b = append(b, '\\', 'r')
		case r == '\t':
			b = append(b, '\\', 't')
		case r < 0x20:
			b = append(b, '\\', 'u', '0', '0', hex[r>>4], hex[r&0xF])
		case r == utf8.RuneError && size == 1:
			b = utf8.AppendRune(b, utf8.RuneError)
		default:
			b = append(b, s[i:i+size]...)
		}
		i += size
	}
	return append(b, '"')
}

// Marshal encodes v as JSON.stringify would, as far as encoding/json can:
// no HTML escaping of '<', '>' and '&', no trailing newline, and numbers in
// JavaScript's shortest round-trip form (encoding/json already follows
// ECMAScript there). One byte-level difference remains: U+2028 and U+2029
// are written as \u2028 and \u2029, which JSON.parse reads back as the same
// string. Where the exact bytes matter, build the document with
// AppendString.
func Marshal(v any) ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimRight(b.Bytes(), "\n"), nil
}

// JSONNumber is the value JSON.parse gives the number literal n: the nearest
// float64 (ParseFloat rounds correctly, as JavaScript does), with a literal
// too large for a double becoming ±Infinity rather than an error. ok is
// false only if n is not a number literal at all.
func JSONNumber(n json.Number) (f float64, ok bool) {
	f, err := strconv.ParseFloat(string(n), 64)
	if err != nil {
		if ne, isNum := err.(*strconv.NumError); !isNum || ne.Err != strconv.ErrRange {
			return 0, false
		}
	}
	return f, true
}
