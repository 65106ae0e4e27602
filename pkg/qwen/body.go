package qwen

import (
	"strconv"
	"unicode/utf8"
)

// requestBody is the JSON of spec §6 (text) or §7 (edit), written by hand
// because the contract fixes the key order and which keys are omitted, and
// because it should be byte-for-byte what the reference's JSON.stringify
// produces (encoding/json escapes <, >, &, U+2028 and U+2029; JavaScript
// does not).
func requestBody(model string, r Request) []byte {
	b := make([]byte, 0, 256+len(r.Prompt)+len(r.ReferenceImage)+len(r.NegativePrompt))
	b = append(b, `{"model":`...)
	b = appendJSString(b, model)
	b = append(b, `,"input":{"messages":[{"role":"user","content":[`...)
	if r.Edit {
		b = append(b, `{"image":`...)
		b = appendJSString(b, r.ReferenceImage)
		b = append(b, `},`...)
	}
	b = append(b, `{"text":`...)
	b = appendJSString(b, r.Prompt)
	b = append(b, `}]}]},"parameters":{"n":`...)
	n := 1
	if r.Edit && r.N > 0 {
		n = r.N
	}
	b = strconv.AppendInt(b, int64(n), 10)
	if r.Size != "" {
		b = append(b, `,"size":`...)
		b = appendJSString(b, r.Size)
	}
	if r.NegativePrompt != "" {
		b = append(b, `,"negative_prompt":`...)
		b = appendJSString(b, r.NegativePrompt)
	}
	if r.Seed != nil {
		b = append(b, `,"seed":`...)
		b = strconv.AppendInt(b, *r.Seed, 10)
	}
	b = append(b, `,"prompt_extend":`...)
	b = strconv.AppendBool(b, r.PromptExtend)
	b = append(b, `,"watermark":`...)
	b = strconv.AppendBool(b, r.Watermark)
	b = append(b, `}}`...)
	return b
}

// appendJSString appends s as JSON.stringify would quote it: only the quote,
// the backslash and control characters are escaped. Invalid UTF-8 (which a
// JavaScript string cannot hold) becomes U+FFFD.
func appendJSString(b []byte, s string) []byte {
	const hex = "0123456789abcdef"
	b = append(b, '"')
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			switch {
			case c == '"' || c == '\\':
				b = append(b, '\\', c)
			case c == '\b':
				b = append(b, '\\', 'b')
			case c == '\f':
				b = append(b, '\\', 'f')
			case c == '\n':
				b = append(b, '\\', 'n')
			case c == '\r':
				b = append(b, '\\', 'r')
			case c == '\t':
				b = append(b, '\\', 't')
			case c < 0x20:
				b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
			default:
				b = append(b, c)
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, "\ufffd"...)
		} else {
			b = append(b, s[i:i+size]...)
		}
		i += size
	}
	return append(b, '"')
}
