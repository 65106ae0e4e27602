package origin

import "testing"

func TestTrusted(t *testing.T) {
	l := New("https://api.example.com", []string{"https://app.example.com", "*.preview.example.net", "http://localhost:*", "https://exact.example.org/"})
	for _, tc := range []struct {
		url  string
		want bool
	}{
		// Attacks first.
		{"https://app.example.com.evil.com", false},
		{"https://evil.com/https://app.example.com", false},
		{"https://app.example.com@evil.com", false},
		{"https://user@app.example.com", false},
		{"http://app.example.com", false},      // scheme differs
		{"https://app.example.com:444", false}, // port differs
		{"https://APP.example.com", false},     // better-auth compares exactly
		{"https://exact.example.org", false},   // an entry with a trailing slash never matches
		{"https://evil.com/x.preview.example.net", false},
		{"javascript:alert(1)", false},
		{"null", false},
		{"", false},
		// Allowed.
		{"https://api.example.com", true}, // the API's own origin
		{"https://app.example.com", true},
		{"https://app.example.com/some/path?q=1", true},
		{"https://a.b.preview.example.net", true},
		{"http://localhost:5173", true},
	} {
		if got := l.Trusted(tc.url); got != tc.want {
			t.Errorf("Trusted(%q) = %v, want %v", tc.url, got, tc.want)
		}
	}
}

func TestTrustedTarget(t *testing.T) {
	l := New("https://api.example.com", []string{"https://app.example.com"})
	for _, tc := range []struct {
		url  string
		want bool
	}{
		{"//evil.com", false},
		{`/\evil.com`, false},
		{"/%2fevil.com", false},
		{"/%5Cevil.com", false},
		{"https:/evil.com", false},
		{"https://evil.com/dashboard", false},
		{"/a#b", false},
		{"/a b", false},
		{"evil.com", false},
		{"/dashboard?tab=1", true},
		{"/", true},
		{"https://app.example.com/welcome", true},
	} {
		if got := l.TrustedTarget(tc.url); got != tc.want {
			t.Errorf("TrustedTarget(%q) = %v, want %v", tc.url, got, tc.want)
		}
	}
}
