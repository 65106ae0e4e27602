package workflow

import (
	"encoding/json"
	"testing"
)

func TestInputJSON(t *testing.T) {
	const rid = "4f2c1a8e-0000-4000-8000-000000000001"
	cases := []struct {
		name     string
		workflow string
		p        Params
		want     string
	}{
		{
			"text, minimal", TextToImage,
			Params{Prompt: "a mug", N: 1, PromptExtend: true},
			`{"requestId":"` + rid + `","prompt":"a mug","parameters":{"prompt":"a mug","n":1,"promptExtend":true,"watermark":false}}`,
		},
		{
			"text, full", TextToImage,
			Params{Prompt: "a mug", N: 1, Size: "1472*1104", NegativePrompt: "blurry", Seed: seed(0), Watermark: true},
			`{"requestId":"` + rid + `","prompt":"a mug","parameters":{"prompt":"a mug","n":1,"size":"1472*1104","negativePrompt":"blurry","seed":0,"promptExtend":false,"watermark":true}}`,
		},
		{
			"reference", ImageFromReference,
			Params{Prompt: "p", ReferenceImage: "data:image/png;base64,AA==", N: 4, Size: "01024*1024", Seed: seed(2147483647), PromptExtend: true},
			`{"requestId":"` + rid + `","prompt":"p","referenceImage":"data:image/png;base64,AA==","parameters":{"prompt":"p","referenceImage":"data:image/png;base64,AA==","n":4,"size":"01024*1024","seed":2147483647,"promptExtend":true,"watermark":false}}`,
		},
		{
			"video stub: raw values", VideoFromReference,
			Params{Prompt: "  p ", ReferenceImage: " x\n"},
			`{"requestId":"` + rid + `","prompt":"  p ","referenceImageUrl":" x\n"}`,
		},
		{
			// JSON.stringify escapes only quote, backslash and C0 controls.
			"escaping", TextToImage,
			Params{Prompt: "\"\\/<>&\u2028\u2029\x00\x1f\x7f\b\f\n\r\té😀", N: 1},
			`{"requestId":"` + rid + `","prompt":"\"\\/<>&` + "\u2028\u2029" + `\u0000\u001f` + "\x7f" + `\b\f\n\r\t` + "é😀" + `","parameters":{"prompt":"\"\\/<>&` + "\u2028\u2029" + `\u0000\u001f` + "\x7f" + `\b\f\n\r\t` + "é😀" + `","n":1,"promptExtend":false,"watermark":false}}`,
		},
		{
			"invalid UTF-8 becomes U+FFFD", VideoFromReference,
			Params{Prompt: "a\xffb", ReferenceImage: "\xc3"},
			`{"requestId":"` + rid + `","prompt":"a` + "\uFFFD" + `b","referenceImageUrl":"` + "\uFFFD" + `"}`,
		},
	}
	for _, c := range cases {
		got, err := c.p.InputJSON(c.workflow, rid)
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		if string(got) != c.want {
			t.Errorf("%s:\n got %s\nwant %s", c.name, got, c.want)
		}
		if !json.Valid(got) {
			t.Errorf("%s: not valid JSON", c.name)
		}
	}
	if _, err := (Params{}).InputJSON("image-to-video", rid); err == nil {
		t.Error("unknown workflow: want an error")
	}
}

// The stored document round-trips what the parsers produce.
func TestInputJSONFromParsedBody(t *testing.T) {
	p := mustParse(t, ParseImageFromReference, `{"prompt":" hi ","referenceImageUrl":" https://x.example/a.png ",
		"parameters":{"n":2,"size":" 512*512 ","negative_prompt":"","seed":5,"output_format":"png"},"negativePrompt":"ignored"}`)
	got, err := p.InputJSON(ImageFromReference, "r")
	if err != nil {
		t.Fatal(err)
	}
	const want = `{"requestId":"r","prompt":"hi","referenceImage":"https://x.example/a.png","parameters":{"prompt":"hi","referenceImage":"https://x.example/a.png","n":2,"size":"512*512","seed":5,"promptExtend":true,"watermark":false}}`
	if string(got) != want {
		t.Errorf("\n got %s\nwant %s", got, want)
	}
}
