// Package jsjson writes JSON the way JavaScript's JSON.stringify does, for
// bytes that must match what the JavaScript services wrote or expect: only
// '"', '\' and C0 controls are escaped, while '<', '>', '&', U+2028 and
// U+2029 stay literal (encoding/json escapes all five).
package jscompat

import "unicode/utf8"

// AppendString appends s quoted as JSON.stringify quotes a string. Invalid
// UTF-8, which a JavaScript string cannot hold, becomes U+FFFD.
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
