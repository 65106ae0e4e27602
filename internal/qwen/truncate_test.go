package qwen

import (
	"strings"
	"testing"
	"unicode/utf8"
)

// TestProviderMessageIsBounded: a provider error message passed on to the
// client and stored with the generation is cut to maxProviderMessage runes.
func TestProviderMessageIsBounded(t *testing.T) {
	e := mapProviderError(400, providerInvalidParameter, strings.Repeat("ü", 1<<20), "req")
	if n := utf8.RuneCountInString(e.Message); n != maxProviderMessage || !strings.HasSuffix(e.Message, "…") {
		t.Fatalf("message of %d runes (%q…)", n, e.Message[:20])
	}
	if e := mapProviderError(400, providerInvalidParameter, "size is invalid", "req"); e.Message != "size is invalid" {
		t.Fatalf("short message changed: %q", e.Message)
	}
}
