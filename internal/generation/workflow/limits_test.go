package workflow

import (
	"errors"
	"strings"
	"testing"
)

// TestTextLimits: prompts and negative prompts past the provider's
// documented cut-offs, and reference URLs past any real link, are refused
// with a 400 message before anything is reserved; the limits count code
// points after trimming, so exactly the limit passes.
func TestTextLimits(t *testing.T) {
	long := func(n int) string { return strings.Repeat("é", n) } // 2 bytes, 1 code point
	url := func(n int) string {
		return "https://img.example.com/" + strings.Repeat("a", n-len("https://img.example.com/"))
	}
	for _, tc := range []struct {
		name string
		body string
		ref  bool
		want string
	}{
		{"prompt 801", `{"prompt":"` + long(801) + `"}`, false, msgPromptTooLong},
		{"prompt 4 MiB", `{"prompt":"` + strings.Repeat("x", 4<<20) + `"}`, false, msgPromptTooLong},
		{"reference prompt 801", `{"prompt":"` + long(801) + `","referenceImageUrl":"https://img.example.com/a.png"}`, true, msgPromptTooLong},
		{"negative 501", `{"prompt":"p","negative_prompt":"` + long(501) + `"}`, false, msgNegativeTooLong},
		{"negative alias 501", `{"prompt":"p","negativePrompt":"` + long(501) + `"}`, false, msgNegativeTooLong},
		{"negative in parameters 501", `{"prompt":"p","parameters":{"negative_prompt":"` + long(501) + `"}}`, false, msgNegativeTooLong},
		{"reference URL 8193", `{"prompt":"p","referenceImageUrl":"` + url(8193) + `"}`, true, msgReferenceTooLong},
		{"prompt 800 after trimming", `{"prompt":"  ` + long(800) + `  "}`, false, ""},
		{"negative 500", `{"prompt":"p","negative_prompt":"` + long(500) + `"}`, false, ""},
		{"reference URL 8192", `{"prompt":"p","referenceImageUrl":"` + url(8192) + `"}`, true, ""},
		{"data URL is not a URL for the limit", `{"prompt":"p","referenceImageUrl":"data:image/png;base64,` + strings.Repeat("A", 20000) + `"}`, true, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			parse := ParseTextToImage
			if tc.ref {
				parse = ParseImageFromReference
			}
			_, err := parse([]byte(tc.body))
			var ve *ValidationError
			switch {
			case tc.want == "" && err != nil:
				t.Fatalf("refused: %v", err)
			case tc.want != "" && (!errors.As(err, &ve) || ve.Message != tc.want):
				t.Fatalf("error %v, want %q", err, tc.want)
			}
		})
	}
}
