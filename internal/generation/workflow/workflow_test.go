package workflow

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"adstudio/internal/jscompat"
)

type parseFunc func([]byte) (Params, error)

var parsers = []struct {
	name  string
	parse parseFunc
}{
	{TextToImage, ParseTextToImage},
	{ImageFromReference, ParseImageFromReference},
}

// mustReject asserts that parse rejects body with exactly msg.
func mustReject(t *testing.T, parse parseFunc, body, msg string) {
	t.Helper()
	p, err := parse([]byte(body))
	var ve *ValidationError
	if !errors.As(err, &ve) {
		t.Fatalf("%s: got (%+v, %v), want ValidationError %q", body, p, err, msg)
	}
	if ve.Message != msg {
		t.Fatalf("%s:\n got %q\nwant %q", body, ve.Message, msg)
	}
	if p != (Params{}) {
		t.Fatalf("%s: rejected but returned %+v", body, p)
	}
}

func mustParse(t *testing.T, parse parseFunc, body string) Params {
	t.Helper()
	p, err := parse([]byte(body))
	if err != nil {
		t.Fatalf("%s: unexpected error %v", body, err)
	}
	return p
}

func seed(v int64) *int64 { return &v }

func TestInvalidJSON(t *testing.T) {
	bodies := []string{
		"", " ", "\n", "{", "}", "nul", "{} x", "{}{}", "{} {}", "[1,]", `{"prompt":"a",}`,
		`{'prompt':'a'}`, "\xff{}", `{"prompt":"a"}` + "\x00", "NaN", "Infinity", "01", `"\x"`,
		"\xEF\xBB\xBF\xEF\xBB\xBF{}", // only one BOM is dropped
	}
	for _, p := range parsers {
		for _, b := range bodies {
			mustReject(t, p.parse, b, "Invalid JSON payload.")
		}
	}
}

func TestBOMAndWhitespaceAroundJSONAreAccepted(t *testing.T) {
	for _, p := range parsers {
		for _, b := range []string{"\xEF\xBB\xBF{\"prompt\":\"a\"}", " \t\r\n{\"prompt\":\"a\"}\n "} {
			// The reference route then needs a reference, which proves the body parsed.
			_, err := p.parse([]byte(b))
			if err != nil && err.Error() != "referenceImageUrl is required." {
				t.Errorf("%s %q: %v", p.name, b, err)
			}
		}
	}
}

// TestSchemaMessagesSpecExamples is the table of docs/app-api.md §8.4, verbatim.
func TestSchemaMessagesSpecExamples(t *testing.T) {
	cases := []struct{ body, msg string }{
		{`[1]`, `body: Invalid input: expected object, received array`},
		{`null`, `body: Invalid input: expected object, received null`},
		{`{"prompt":5}`, `prompt: Invalid input: expected string, received number`},
		{`{"n":"x","prompt":5}`, `prompt: Invalid input: expected string, received number`},
		{`{"prompt":"a","n":1.5}`, `n: Invalid input: expected int, received number`},
		{`{"prompt":"a","seed":-1}`, `seed: Too small: expected number to be >=0`},
		{`{"prompt":"a","seed":2147483648}`, `seed: Too big: expected number to be <=2147483647`},
		{`{"prompt":"a","seed":-1.5}`, `seed: Invalid input: expected int, received number`},
		{`{"prompt":"a","parameters":{"seed":"5"}}`, `parameters.seed: Invalid input: expected number, received string`},
		{`{"prompt":"a","parameters":null}`, `parameters: Invalid input: expected object, received null`},
		{`{"prompt":"a","input":{"messages":"x"}}`, `input.messages: Invalid input: expected array, received string`},
		{`{"input":{"messages":[{"content":[{"text":5}]}]}}`, `input.messages.0.content.0.text: Invalid input: expected string, received number`},
		{`{"prompt":"a","input":{"messages":["x"]}}`, `input.messages.0: Invalid input: expected object, received string`},
		{`{"promptExtend":"x","prompt_extend":"y"}`, `prompt_extend: Invalid input: expected boolean, received string`},
	}
	for _, p := range parsers {
		for _, c := range cases {
			mustReject(t, p.parse, c.body, c.msg)
		}
	}
}

// TestSchemaMessages covers the rest of docs/app-api.md §8.4 (all checked against zod 4.3.6
// running the old backend's schema).
func TestSchemaMessages(t *testing.T) {
	cases := []struct{ body, msg string }{
		// Root types.
		{`"x"`, `body: Invalid input: expected object, received string`},
		{`5`, `body: Invalid input: expected object, received number`},
		{`true`, `body: Invalid input: expected object, received boolean`},
		// null is a type error for every typed field.
		{`{"prompt":null}`, `prompt: Invalid input: expected string, received null`},
		{`{"n":null}`, `n: Invalid input: expected number, received null`},
		{`{"watermark":null}`, `watermark: Invalid input: expected boolean, received null`},
		{`{"input":null}`, `input: Invalid input: expected object, received null`},
		{`{"input":{"messages":null}}`, `input.messages: Invalid input: expected array, received null`},
		{`{"input":{"messages":[null]}}`, `input.messages.0: Invalid input: expected object, received null`},
		{`{"input":{"messages":[{"content":null}]}}`, `input.messages.0.content: Invalid input: expected array, received null`},
		{`{"input":{"messages":[{"content":[null]}]}}`, `input.messages.0.content.0: Invalid input: expected object, received null`},
		// Received type names.
		{`{"prompt":[]}`, `prompt: Invalid input: expected string, received array`},
		{`{"prompt":{}}`, `prompt: Invalid input: expected string, received object`},
		{`{"prompt":true}`, `prompt: Invalid input: expected string, received boolean`},
		{`{"size":1}`, `size: Invalid input: expected string, received number`},
		{`{"n":true}`, `n: Invalid input: expected number, received boolean`},
		{`{"n":"1"}`, `n: Invalid input: expected number, received string`},
		{`{"input":[]}`, `input: Invalid input: expected object, received array`},
		{`{"parameters":"x"}`, `parameters: Invalid input: expected object, received string`},
		{`{"input":{"messages":{}}}`, `input.messages: Invalid input: expected array, received object`},
		// Integers: JavaScript's float64 view of the number decides.
		{`{"n":1e400}`, `n: Invalid input: expected number, received number`}, // Infinity
		{`{"n":-1e400}`, `n: Invalid input: expected number, received number`},
		{`{"n":0.5}`, `n: Invalid input: expected int, received number`},
		{`{"n":1e-7}`, `n: Invalid input: expected int, received number`},
		{`{"n":9007199254740992}`, `n: Too big: expected int to be <=9007199254740991`},
		{`{"n":-9007199254740992}`, `n: Too small: expected int to be >=-9007199254740991`},
		{`{"n":1e300}`, `n: Too big: expected int to be <=9007199254740991`},
		{`{"seed":1e20}`, `seed: Too big: expected int to be <=9007199254740991`},
		{`{"seed":-1e20}`, `seed: Too small: expected int to be >=-9007199254740991`},
		{`{"seed":2147483647.5}`, `seed: Invalid input: expected int, received number`},
		{`{"seed":"1"}`, `seed: Invalid input: expected number, received string`},
		{`{"parameters":{"seed":-1}}`, `parameters.seed: Too small: expected number to be >=0`},
		{`{"parameters":{"seed":4294967296}}`, `parameters.seed: Too big: expected number to be <=2147483647`},
		{`{"parameters":{"n":1.5}}`, `parameters.n: Invalid input: expected int, received number`},
		// Every field is checked even when an alias shadows it.
		{`{"prompt":"a","parameters":{"n":1},"n":"x"}`, `n: Invalid input: expected number, received string`},
		{`{"prompt":"a","negative_prompt":"x","negativePrompt":1}`, `negativePrompt: Invalid input: expected string, received number`},
		{`{"prompt":"a","parameters":{"watermark":true},"watermark":"no"}`, `watermark: Invalid input: expected boolean, received string`},
		{`{"prompt":"a","input":{"messages":[{"content":[]},{"role":1}]}}`, `input.messages.1.role: Invalid input: expected string, received number`},
		{`{"prompt":"a","input":{"messages":[{},{"content":[{},{"image":false}]}]}}`, `input.messages.1.content.1.image: Invalid input: expected string, received boolean`},
		// Schema order, not key order.
		{`{"parameters":{"n":"x"},"watermark":1}`, `watermark: Invalid input: expected boolean, received number`},
		{`{"input":{"messages":[{"content":[{"text":1,"type":2}],"role":3}]}}`, `input.messages.0.role: Invalid input: expected string, received number`},
		{`{"input":{"messages":[{"content":[{"image":1,"text":2,"type":3}]}]}}`, `input.messages.0.content.0.type: Invalid input: expected string, received number`},
		{`{"input":{"messages":[{"content":[{"image":1,"text":2}]}]}}`, `input.messages.0.content.0.text: Invalid input: expected string, received number`},
		{`{"parameters":{"watermark":1,"prompt_extend":1,"seed":"x","negative_prompt":1,"size":1,"n":"x"}}`, `parameters.n: Invalid input: expected number, received string`},
		{`{"parameters":{"watermark":1,"prompt_extend":1,"seed":"x","negative_prompt":1,"size":1}}`, `parameters.size: Invalid input: expected string, received number`},
		{`{"parameters":{"watermark":1,"prompt_extend":1,"seed":"x"}}`, `parameters.seed: Invalid input: expected number, received string`},
		{`{"parameters":{"watermark":1,"prompt_extend":1}}`, `parameters.prompt_extend: Invalid input: expected boolean, received number`},
		{`{"parameters":{"watermark":1}}`, `parameters.watermark: Invalid input: expected boolean, received number`},
		{`{"parameters":1,"input":1}`, `input: Invalid input: expected object, received number`},
		// Duplicate keys: the last one wins, as in JSON.parse.
		{`{"prompt":"a","prompt":5}`, `prompt: Invalid input: expected string, received number`},
	}
	for _, p := range parsers {
		for _, c := range cases {
			mustReject(t, p.parse, c.body, c.msg)
		}
	}
}

func TestUnknownAndUntypedKeysAreIgnored(t *testing.T) {
	body := `{"prompt":"a","model":{"x":[1,null]},"extra":null,"referenceImage":5,
		"input":{"messages":[{"role":"user","name":null,"content":[{"type":"text","text":"b","extra":1}]}],"other":[]},
		"parameters":{"output_format":null,"response_format":7,"quality":"hd"}}`
	p := mustParse(t, ParseTextToImage, body)
	want := Params{Prompt: "a", N: 1, PromptExtend: true}
	if p != want {
		t.Fatalf("got %+v, want %+v", p, want)
	}
}

func TestReferenceImageURLIsCheckedLastOnlyOnTheReferenceRoute(t *testing.T) {
	body := `{"referenceImageUrl":5,"parameters":{"watermark":"x"}}`
	mustReject(t, ParseImageFromReference, body, `parameters.watermark: Invalid input: expected boolean, received string`)
	mustReject(t, ParseImageFromReference, `{"referenceImageUrl":null,"prompt":"a"}`,
		`referenceImageUrl: Invalid input: expected string, received null`)
	// The text route does not know the key.
	p := mustParse(t, ParseTextToImage, `{"referenceImageUrl":5,"prompt":"a"}`)
	if p.Prompt != "a" || p.ReferenceImage != "" {
		t.Fatalf("got %+v", p)
	}
}

func TestIntegerForms(t *testing.T) {
	for _, n := range []string{"1", "1.0", "1e0", "10e-1", "0.1e1", "1.0000000000000001"} {
		p := mustParse(t, ParseTextToImage, `{"prompt":"a","n":`+n+`}`)
		if p.N != 1 {
			t.Errorf("n=%s: got %d", n, p.N)
		}
	}
	for _, s := range []struct {
		raw  string
		want int64
	}{{"0", 0}, {"-0", 0}, {"5.0", 5}, {"2147483647", 2147483647}, {"2.147483647e9", 2147483647}, {"1e3", 1000}} {
		p := mustParse(t, ParseTextToImage, `{"prompt":"a","seed":`+s.raw+`}`)
		if p.Seed == nil || *p.Seed != s.want {
			t.Errorf("seed=%s: got %v", s.raw, p.Seed)
		}
	}
	mustReject(t, ParseTextToImage, `{"prompt":"a","n":0}`, "parameters.n must be 1 for image-from-text.")
	mustReject(t, ParseTextToImage, `{"prompt":"a","n":-0}`, "parameters.n must be 1 for image-from-text.")
	mustReject(t, ParseTextToImage, `{"prompt":"a","n":9007199254740991}`, "parameters.n must be 1 for image-from-text.")
}

func TestPromptSources(t *testing.T) {
	cases := []struct{ body, want string }{
		{`{"prompt":"  a b  "}`, "a b"},
		{`{"prompt":"\u00a0\u2003\ufeff\u2028x\u3000\n"}`, "x"},
		{`{"prompt":"p","input":{"messages":[{"content":[{"text":"t"}]}]}}`, "p"},
		// A blank prompt falls back to the first non-blank text part of message 0.
		{`{"prompt":" \t","input":{"messages":[{"content":[{"text":" "},{"type":"image"},{"text":" t2 "},{"text":"t3"}]}]}}`, "t2"},
		{`{"input":{"messages":[{"content":[{"text":"first"}]},{"content":[{"text":"second"}]}]}}`, "first"},
		// U+0085 and U+180E are not JavaScript whitespace.
		{`{"prompt":"\u0085"}`, "\u0085"},
		{`{"prompt":"\u180e"}`, "\u180e"},
		{`{"prompt":"\u200b"}`, "\u200b"},
	}
	for _, c := range cases {
		if p := mustParse(t, ParseTextToImage, c.body); p.Prompt != c.want {
			t.Errorf("%s: got %q, want %q", c.body, p.Prompt, c.want)
		}
	}
	missing := []string{
		`{}`,
		`{"prompt":""}`,
		`{"prompt":" \u00a0\u1680\u2000\u200a\u202f\u205f\u3000\ufeff\u2028\u2029\u000b\f\r\n\t"}`,
		`{"input":{}}`,
		`{"input":{"messages":[]}}`,
		`{"input":{"messages":[{}]}}`,
		`{"input":{"messages":[{"content":[{"type":"text"},{"text":"  "}]}]}}`,
		// Only message 0 is consulted.
		`{"input":{"messages":[{"content":[]},{"content":[{"text":"x"}]}]}}`,
		// "text" parts only: an image part's text-like keys are not prompts.
		`{"input":{"messages":[{"content":[{"type":"text","image":"hello"}]}]}}`,
	}
	for _, p := range parsers {
		for _, b := range missing {
			mustReject(t, p.parse, b, "prompt is required.")
		}
	}
}

// TestPrecedence covers docs/app-api.md §8.2, including its examples verbatim.
func TestPrecedence(t *testing.T) {
	// docs/app-api.md §8.2 examples.
	p := mustParse(t, ParseTextToImage, `{"prompt":"a","size":"1328*1328","parameters":{"size":""}}`)
	if p.Size != "" {
		t.Errorf("blank parameters.size must cancel size, got %q", p.Size)
	}
	p = mustParse(t, ParseTextToImage, `{"prompt":"a","negative_prompt":"x","parameters":{"negative_prompt":"  "}}`)
	if p.NegativePrompt != "" {
		t.Errorf("blank parameters.negative_prompt must cancel negative_prompt, got %q", p.NegativePrompt)
	}
	p = mustParse(t, ParseTextToImage, `{"prompt":"a","n":2,"parameters":{"n":1}}`)
	if p.N != 1 {
		t.Errorf("n: got %d", p.N)
	}
	mustReject(t, ParseTextToImage, `{"prompt":"a","n":1,"parameters":{"n":2}}`, "parameters.n must be 1 for image-from-text.")

	cases := []struct {
		body string
		want Params
	}{
		{`{"prompt":"a"}`, Params{Prompt: "a", N: 1, PromptExtend: true}},
		{`{"prompt":"a","size":" 1328*1328 "}`, Params{Prompt: "a", N: 1, Size: "1328*1328", PromptExtend: true}},
		{`{"prompt":"a","size":"x","parameters":{"size":"928*1664"}}`, Params{Prompt: "a", N: 1, Size: "928*1664", PromptExtend: true}},
		{`{"prompt":"a","negativePrompt":" c "}`, Params{Prompt: "a", N: 1, NegativePrompt: "c", PromptExtend: true}},
		{`{"prompt":"a","negative_prompt":"b","negativePrompt":"c"}`, Params{Prompt: "a", N: 1, NegativePrompt: "b", PromptExtend: true}},
		{`{"prompt":"a","negative_prompt":"","negativePrompt":"c"}`, Params{Prompt: "a", N: 1, PromptExtend: true}},
		{`{"prompt":"a","negative_prompt":"b","parameters":{"negative_prompt":"p"}}`, Params{Prompt: "a", N: 1, NegativePrompt: "p", PromptExtend: true}},
		{`{"prompt":"a","seed":7}`, Params{Prompt: "a", N: 1, Seed: seed(7), PromptExtend: true}},
		{`{"prompt":"a","seed":7,"parameters":{"seed":0}}`, Params{Prompt: "a", N: 1, Seed: seed(0), PromptExtend: true}},
		{`{"prompt":"a","promptExtend":false}`, Params{Prompt: "a", N: 1}},
		{`{"prompt":"a","prompt_extend":true,"promptExtend":false}`, Params{Prompt: "a", N: 1, PromptExtend: true}},
		{`{"prompt":"a","prompt_extend":true,"parameters":{"prompt_extend":false}}`, Params{Prompt: "a", N: 1}},
		{`{"prompt":"a","watermark":true}`, Params{Prompt: "a", N: 1, PromptExtend: true, Watermark: true}},
		{`{"prompt":"a","watermark":true,"parameters":{"watermark":false}}`, Params{Prompt: "a", N: 1, PromptExtend: true}},
	}
	for _, c := range cases {
		got := mustParse(t, ParseTextToImage, c.body)
		if !paramsEqual(got, c.want) {
			t.Errorf("%s:\n got %s\nwant %s", c.body, show(got), show(c.want))
		}
	}
}

func paramsEqual(a, b Params) bool {
	if (a.Seed == nil) != (b.Seed == nil) || a.Seed != nil && *a.Seed != *b.Seed {
		return false
	}
	a.Seed, b.Seed = nil, nil
	return a == b
}

func show(p Params) string {
	s := "<nil>"
	if p.Seed != nil {
		s = fmt.Sprint(*p.Seed)
	}
	p.Seed = nil
	return fmt.Sprintf("%+v seed=%s", p, s)
}

func TestTextSizes(t *testing.T) {
	ok := map[string]string{
		"1664*928": "1664*928", "1472*1104": "1472*1104", "1328*1328": "1328*1328",
		"1104*1472": "1104*1472", "928*1664": "928*1664",
		// Legacy presets the SPA still sends are remapped before the check.
		"1472*1140": "1472*1104", "1140*1472": "1104*1472", " 1472*1140\n": "1472*1104",
		"": "", "   ": "",
	}
	for in, want := range ok {
		p := mustParse(t, ParseTextToImage, `{"prompt":"a","parameters":{"size":"`+jsonEscape(in)+`"}}`)
		if p.Size != want {
			t.Errorf("size %q: got %q, want %q", in, p.Size, want)
		}
	}
	const msg = "parameters.size must be one of: 1664*928, 1472*1104, 1328*1328, 1104*1472, 928*1664."
	for _, in := range []string{"1024*1024", "1328x1328", "1328 * 1328", "01328*1328", "1328*1328*1", "1472*1140 x", "x"} {
		mustReject(t, ParseTextToImage, `{"prompt":"a","size":"`+in+`"}`, msg)
	}
	// n is checked before size.
	mustReject(t, ParseTextToImage, `{"prompt":"a","n":2,"size":"x"}`, "parameters.n must be 1 for image-from-text.")
	// prompt before n.
	mustReject(t, ParseTextToImage, `{"n":2}`, "prompt is required.")
}

func jsonEscape(s string) string {
	b := jscompat.AppendString(nil, s)
	return string(b[1 : len(b)-1])
}

const pngData = "data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=="

func TestReferenceCandidates(t *testing.T) {
	const url = "https://cdn.example.com/a.png"
	ok := []struct{ body, want string }{
		{`{"prompt":"a","referenceImageUrl":" ` + url + ` "}`, url},
		{`{"prompt":"a","input":{"messages":[{"content":[{"image":"` + url + `"}]}]}}`, url},
		// Identical copies (after trimming) collapse to one.
		{`{"prompt":"a","referenceImageUrl":"` + url + `","input":{"messages":[{"content":[{"image":" ` + url + `"},{"image":"` + url + `\n"}]}]}}`, url},
		// Blank candidates are not candidates.
		{`{"prompt":"a","referenceImageUrl":"  ","input":{"messages":[{"content":[{"image":""},{"image":"` + url + `"}]}]}}`, url},
		// Images in later messages are ignored.
		{`{"prompt":"a","referenceImageUrl":"` + url + `","input":{"messages":[{},{"content":[{"image":"https://other.example/b.png"}]}]}}`, url},
	}
	for _, c := range ok {
		if p := mustParse(t, ParseImageFromReference, c.body); p.ReferenceImage != c.want {
			t.Errorf("%s: got %q", c.body, p.ReferenceImage)
		}
	}
	required := []string{
		`{"prompt":"a"}`,
		`{"prompt":"a","referenceImageUrl":" \u00a0"}`,
		`{"prompt":"a","input":{"messages":[{"content":[{"text":"x","image":"  "}]}]}}`,
		`{"prompt":"a","input":{"messages":[{"content":[]},{"content":[{"image":"` + url + `"}]}]}}`,
	}
	for _, b := range required {
		mustReject(t, ParseImageFromReference, b, "referenceImageUrl is required.")
	}
	two := []string{
		`{"prompt":"a","referenceImageUrl":"` + url + `","input":{"messages":[{"content":[{"image":"https://other.example/b.png"}]}]}}`,
		`{"prompt":"a","input":{"messages":[{"content":[{"image":"x"},{"image":"y"}]}]}}`,
		// Exact string equality: case differences are distinct references.
		`{"prompt":"a","referenceImageUrl":"https://A.example/","input":{"messages":[{"content":[{"image":"https://a.example/"}]}]}}`,
		// The count is checked before validity.
		`{"prompt":"a","referenceImageUrl":"not a url","input":{"messages":[{"content":[{"image":"also not"}]}]}}`,
	}
	for _, b := range two {
		mustReject(t, ParseImageFromReference, b, "Exactly one reference image is supported.")
	}
	// Order: prompt, reference, n, size.
	mustReject(t, ParseImageFromReference, `{"n":9,"size":"x"}`, "prompt is required.")
	mustReject(t, ParseImageFromReference, `{"prompt":"a","n":9,"size":"x"}`, "referenceImageUrl is required.")
	mustReject(t, ParseImageFromReference, `{"prompt":"a","referenceImageUrl":"x","n":9,"size":"x"}`, "referenceImageUrl must be an http(s) URL or Base64 data URL.")
	mustReject(t, ParseImageFromReference, `{"prompt":"a","referenceImageUrl":"`+url+`","n":9,"size":"x"}`, "parameters.n must be between 1 and 6.")
	mustReject(t, ParseImageFromReference, `{"prompt":"a","referenceImageUrl":"`+url+`","size":"x"}`, "parameters.size must match width*height with both values between 512 and 2048.")
}

func TestReferenceNAndSize(t *testing.T) {
	base := `{"prompt":"a","referenceImageUrl":"https://x.example/i.png",`
	for _, c := range []struct {
		n    string
		want int
	}{{"1", 1}, {"6", 6}, {"3.0", 3}, {"2e0", 2}} {
		if p := mustParse(t, ParseImageFromReference, base+`"parameters":{"n":`+c.n+`}}`); p.N != c.want {
			t.Errorf("n=%s: got %d", c.n, p.N)
		}
	}
	if p := mustParse(t, ParseImageFromReference, base+`"n":4}`); p.N != 4 {
		t.Errorf("flat n: got %d", p.N)
	}
	if p := mustParse(t, ParseImageFromReference, base+`"prompt_extend":false}`); p.N != 1 {
		t.Errorf("default n: got %d", p.N)
	}
	for _, n := range []string{"0", "-0", "7", "-1", "100", "9007199254740991"} {
		mustReject(t, ParseImageFromReference, base+`"parameters":{"n":`+n+`}}`, "parameters.n must be between 1 and 6.")
	}
	mustReject(t, ParseImageFromReference, base+`"n":2,"parameters":{"n":7}}`, "parameters.n must be between 1 and 6.")

	sizes := map[string]string{
		"512*512": "512*512", "2048*2048": "2048*2048", "1024*1536": "1024*1536",
		"01024*1024": "01024*1024", "0000512*2048": "0000512*2048", " 1000*1000 ": "1000*1000",
		// No legacy remap and no multiple-of-16 check here.
		"1472*1140": "1472*1140", "1000*513": "1000*513",
		"": "", " ": "",
	}
	for in, want := range sizes {
		if p := mustParse(t, ParseImageFromReference, base+`"size":"`+in+`"}`); p.Size != want {
			t.Errorf("size %q: got %q, want %q", in, p.Size, want)
		}
	}
	const msg = "parameters.size must match width*height with both values between 512 and 2048."
	for _, in := range []string{"511*512", "512*511", "2049*1024", "1024*2049", "1024x1024", "1024 *1024", "+1024*1024",
		"-1024*1024", "1024*", "*1024", "1024", "1024*1024*1024", "1e3*1024", "1024.0*1024", "１０２４*1024",
		"99999999999999999999*1024", "0*0", "00000*1024"} {
		mustReject(t, ParseImageFromReference, base+`"parameters":{"size":"`+in+`"}}`, msg)
	}
}

// TestSPAPayloads: what the SPA sends (docs/app-api.md §8.7, §9.5) must validate. The doc
// elides the data URL ("iVBORw0…"); a real one stands in for it.
func TestSPAPayloads(t *testing.T) {
	text := `{
  "prompt": "Minimal product photo of a ceramic mug",
  "model": "image-generation-latest",
  "input": { "messages": [ { "role": "user", "content": [ { "type": "text", "text": "Minimal product photo of a ceramic mug" } ] } ] },
  "parameters": {
    "size": "1328*1328", "n": 1, "prompt_extend": true, "watermark": false,
    "response_format": "url", "output_format": "png", "negative_prompt": "blurry"
  }
}`
	got := mustParse(t, ParseTextToImage, text)
	want := Params{Prompt: "Minimal product photo of a ceramic mug", N: 1, Size: "1328*1328", NegativePrompt: "blurry", PromptExtend: true}
	if !paramsEqual(got, want) {
		t.Errorf("text: got %s", show(got))
	}
	for _, size := range []string{"1664*928", "1472*1140", "1328*1328", "1140*1472", "928*1664"} {
		body := strings.Replace(text, `"size": "1328*1328"`, `"size": "`+size+`"`, 1)
		body = strings.Replace(body, `"output_format": "png", "negative_prompt": "blurry"`, `"output_format": "jpg"`, 1)
		if p := mustParse(t, ParseTextToImage, body); p.Size == "" || p.NegativePrompt != "" {
			t.Errorf("text size %s: got %+v", size, p)
		}
	}

	ref := `{
  "prompt": "Place the bottle on a marble counter",
  "referenceImageUrl": "` + pngData + `",
  "model": "image-edit-latest",
  "input": { "messages": [ { "role": "user", "content": [
    { "type": "image", "image": "` + pngData + `" },
    { "type": "text", "text": "Place the bottle on a marble counter" } ] } ] },
  "parameters": { "n": 1, "negative_prompt": "…", "size": "1472*1140", "prompt_extend": true, "watermark": false }
}`
	got = mustParse(t, ParseImageFromReference, ref)
	want = Params{Prompt: "Place the bottle on a marble counter", ReferenceImage: pngData, N: 1, Size: "1472*1140", NegativePrompt: "…", PromptExtend: true}
	if !paramsEqual(got, want) {
		t.Errorf("reference: got %s", show(got))
	}
	// A typed URL instead of an upload, and custom sizes.
	typed := strings.ReplaceAll(ref, pngData, "https://images.example.com/bottle.jpg?w=1024")
	for _, size := range []string{"1664*928", "1328*1328", "512*2048", "2048*2048", "1024*1536"} {
		body := strings.Replace(typed, `"size": "1472*1140"`, `"size": "`+size+`"`, 1)
		if p := mustParse(t, ParseImageFromReference, body); p.Size != size || p.ReferenceImage != "https://images.example.com/bottle.jpg?w=1024" {
			t.Errorf("reference size %s: got %+v", size, p)
		}
	}
	// The same payload is also a valid text body (input.messages image parts are ignored there).
	if p := mustParse(t, ParseTextToImage, strings.Replace(ref, "1472*1140", "1328*1328", 1)); p.ReferenceImage != "" {
		t.Errorf("text route kept a reference: %+v", p)
	}
}

func TestParseVideoStub(t *testing.T) {
	p, r, err := ParseVideoStub([]byte(`{"prompt":"  a  ","referenceImageUrl":" x ","n":"ignored"}`))
	if err != nil || p != "  a  " || r != " x " {
		t.Fatalf("got %q %q %v; the raw values must be returned", p, r, err)
	}
	for _, b := range []string{"", "{", "{} x", "nul"} {
		_, _, err := ParseVideoStub([]byte(b))
		var pe *PlainError
		if !errors.As(err, &pe) || pe.Message != "Invalid JSON payload" {
			t.Errorf("%q: got %v", b, err)
		}
	}
	for _, b := range []string{`null`, `[]`, `"x"`, `{}`, `{"prompt":"a"}`, `{"referenceImageUrl":"a"}`,
		`{"prompt":" ","referenceImageUrl":"a"}`, `{"prompt":"a","referenceImageUrl":"\u00a0"}`,
		`{"prompt":5,"referenceImageUrl":"a"}`, `{"prompt":"a","referenceImageUrl":null}`} {
		_, _, err := ParseVideoStub([]byte(b))
		var pe *PlainError
		if !errors.As(err, &pe) || pe.Message != "prompt and referenceImageUrl are required" {
			t.Errorf("%s: got %v", b, err)
		}
		var ve *ValidationError
		if errors.As(err, &ve) {
			t.Errorf("%s: the stub's errors are plain, not ValidationError", b)
		}
	}
}
