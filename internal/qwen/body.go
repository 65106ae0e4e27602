package qwen

import (
	"strconv"

	"adstudio/internal/jscompat"
)

// requestBody is the JSON of docs/dashscope.md §6 (text) or §7 (edit), written
// by hand because those sections fix the key order and which keys are omitted, and
// because it should be byte-for-byte what the reference's JSON.stringify
// produces (encoding/json escapes <, >, &, U+2028 and U+2029; JavaScript
// does not).
func requestBody(model string, r Request) []byte {
	b := make([]byte, 0, 256+len(r.Prompt)+len(r.ReferenceImage)+len(r.NegativePrompt))
	b = append(b, `{"model":`...)
	b = jscompat.AppendString(b, model)
	b = append(b, `,"input":{"messages":[{"role":"user","content":[`...)
	if r.Edit {
		b = append(b, `{"image":`...)
		b = jscompat.AppendString(b, r.ReferenceImage)
		b = append(b, `},`...)
	}
	b = append(b, `{"text":`...)
	b = jscompat.AppendString(b, r.Prompt)
	b = append(b, `}]}]},"parameters":{"n":`...)
	n := 1
	if r.Edit && r.N > 0 {
		n = r.N
	}
	b = strconv.AppendInt(b, int64(n), 10)
	if r.Size != "" {
		b = append(b, `,"size":`...)
		b = jscompat.AppendString(b, r.Size)
	}
	if r.NegativePrompt != "" {
		b = append(b, `,"negative_prompt":`...)
		b = jscompat.AppendString(b, r.NegativePrompt)
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
