package workflow

import (
	"encoding/json"
	"errors"
	"testing"

	"adstudio/internal/jscompat"
)

// fuzzSeeds are bodies from the tables of docs/app-api.md §8.4 and the SPA's payloads.
var fuzzSeeds = []string{
	``, `[1]`, `null`, `{"prompt":5}`, `{"n":"x","prompt":5}`, `{"prompt":"a","n":1.5}`,
	`{"prompt":"a","seed":-1}`, `{"prompt":"a","seed":2147483648}`, `{"prompt":"a","seed":-1.5}`,
	`{"prompt":"a","parameters":{"seed":"5"}}`, `{"prompt":"a","parameters":null}`,
	`{"prompt":"a","input":{"messages":"x"}}`, `{"input":{"messages":[{"content":[{"text":5}]}]}}`,
	`{"prompt":"a","input":{"messages":["x"]}}`, `{"promptExtend":"x","prompt_extend":"y"}`,
	`{"prompt":"a","size":"1328*1328","parameters":{"size":""}}`,
	`{"prompt":"a","negative_prompt":"x","parameters":{"negative_prompt":"  "}}`,
	`{"prompt":"a","n":2,"parameters":{"n":1}}`, `{"prompt":"a","n":1,"parameters":{"n":2}}`,
	`{"prompt":"a","n":1e400,"seed":9007199254740993}`, "\xEF\xBB\xBF{\"prompt\":\"\\u00a0a\"}",
	`{"prompt":"a","referenceImageUrl":"https:example.com","parameters":{"n":6,"size":"01024*2048"}}`,
	`{"prompt":"a","referenceImageUrl":"http://[::1.2.3.4]:80","size":"1472*1140"}`,
	`{"prompt":"a","referenceImageUrl":"http://xn--zca.bücher.de","input":{"messages":[{"content":[{"image":"x"}]}]}}`,
	`{"prompt":"Minimal product photo of a ceramic mug","model":"image-generation-latest","input":{"messages":[{"role":"user","content":[{"type":"text","text":"Minimal product photo of a ceramic mug"}]}]},"parameters":{"size":"1328*1328","n":1,"prompt_extend":true,"watermark":false,"response_format":"url","output_format":"png","negative_prompt":"blurry"}}`,
	`{"prompt":"Place the bottle on a marble counter","referenceImageUrl":"` + pngData + `","model":"image-edit-latest","input":{"messages":[{"role":"user","content":[{"type":"image","image":"` + pngData + `"},{"type":"text","text":"Place the bottle on a marble counter"}]}]},"parameters":{"n":1,"negative_prompt":"…","size":"1472*1140","prompt_extend":true,"watermark":false}}`,
}

func FuzzParse(f *testing.F) {
	for _, s := range fuzzSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		for _, p := range parsers {
			params, err := p.parse(body)
			if err != nil {
				var ve *ValidationError
				if !errors.As(err, &ve) || ve.Message == "" {
					t.Fatalf("%s: error %v is not a ValidationError", p.name, err)
				}
				if params != (Params{}) {
					t.Fatalf("%s: error with non-zero params %+v", p.name, params)
				}
				continue
			}
			checkParams(t, p.name, params)
		}
		if prompt, ref, err := ParseVideoStub(body); err != nil {
			var pe *PlainError
			if !errors.As(err, &pe) {
				t.Fatalf("video: error %v is not a PlainError", err)
			}
		} else if jscompat.Trim(prompt) == "" || jscompat.Trim(ref) == "" {
			t.Fatalf("video: accepted blank values %q %q", prompt, ref)
		}
	})
}

// checkParams asserts the invariants of a successful parse.
func checkParams(t *testing.T, workflow string, p Params) {
	t.Helper()
	if p.Prompt == "" || jscompat.Trim(p.Prompt) != p.Prompt {
		t.Fatalf("%s: prompt %q not trimmed and non-blank", workflow, p.Prompt)
	}
	if jscompat.Trim(p.Size) != p.Size || jscompat.Trim(p.NegativePrompt) != p.NegativePrompt {
		t.Fatalf("%s: untrimmed size/negative prompt %+v", workflow, p)
	}
	if p.Seed != nil && (*p.Seed < 0 || *p.Seed > 2147483647) {
		t.Fatalf("%s: seed %d out of range", workflow, *p.Seed)
	}
	switch workflow {
	case TextToImage:
		if p.N != 1 || p.ReferenceImage != "" || p.Size != "" && !textSize(p.Size) {
			t.Fatalf("text: bad params %+v", p)
		}
	case ImageFromReference:
		if p.N < 1 || p.N > 6 || !validReference(p.ReferenceImage) || p.Size != "" && !validEditSize(p.Size) {
			t.Fatalf("reference: bad params %+v", p)
		}
	}
	doc, err := p.InputJSON(workflow, "r")
	if err != nil || !json.Valid(doc) {
		t.Fatalf("%s: input_json %s, %v", workflow, doc, err)
	}
}
