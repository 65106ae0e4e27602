package workflow

import (
	"strings"
	"testing"
)

// TestValidReference: expectations agree with the old backend's data-URL
// regexp and with `new URL()` in Node 20, except where noted.
func TestValidReference(t *testing.T) {
	cases := []struct {
		in   string
		want bool
	}{
		// URLs: jscompat.IsHTTPURL has the full table.
		{"javascript:alert(1)", false},
		{"ftp://example.com/a.png", false},
		{"data:text/html;base64,PHNjcmlwdD4=", false},
		{"example.com/a.png", false},
		{"", false},
		{"https:example.com", true},
		{"https://bücher.de/a.png", true},
		// Data URLs.
		{pngData, true},
		{"data:image/png;base64,A", true},
		{"DATA:IMAGE/PNG;BASE64,AAAA", true},
		{"data:image/svg+xml;base64,PHN2Zz4=", true},
		{"data:image/x.y-z+w;base64,AA==", true},
		{"data:image/png;base64,AA AA\n\u00a0\u2003\ufeffAA", true},
		{"data:image/png;base64,", false},
		{"data:image/png,AAAA", false},
		{"data:image/;base64,AAAA", false},
		{"data:image/png;base64,AA-A", false},
		{"data:image/png;base64,AA_A", false},
		{"data:image/png;base64,AA\u0085A", false},
		{"data:image/png;charset=utf-8;base64,AAAA", false},
		{"data:image/png;base64,AAAA\x00", false},
		{"data:image/ſvg;base64,AAAA", false}, // JavaScript's /i folds only ASCII here
		{"data:image/png;baſe64,AAAA", false}, // (Go's (?i) would match these)
		{"data:image/\u212apng;base64,AAAA", false},
		{"data: image/png;base64,AAAA", false},
		{"data:image/png;base64;base64,AAAA", false},
	}
	for _, c := range cases {
		if got := validReference(c.in); got != c.want {
			t.Errorf("validReference(%q) = %v, want %v", c.in, got, c.want)
		}
	}
}

func TestValidReferenceMessages(t *testing.T) {
	for _, ref := range []string{"not a url", "ftp://x", "https://", "data:image/png,AAAA"} {
		mustReject(t, ParseImageFromReference, `{"prompt":"a","referenceImageUrl":"`+ref+`"}`,
			"referenceImageUrl must be an http(s) URL or Base64 data URL.")
	}
}

// Data URLs are bounded only by the body size; the check must stay linear.
func TestValidReferenceLargeInput(t *testing.T) {
	if !validReference("data:image/png;base64," + strings.Repeat("A", 1<<20)) {
		t.Error("1 MiB data URL refused")
	}
}
