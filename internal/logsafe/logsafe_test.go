package logsafe

import (
	"errors"
	"testing"
)

func TestEmail(t *testing.T) {
	for in, want := range map[string]string{
		"ann@example.com":        "a***@example.com",
		"Ann <Ann@Example.com>":  "A***@Example.com",
		"élise+tag@example.org":  "é***@example.org",
		"a@b.example":            "a***@b.example",
		"not an address":         "***",
		"@example.com":           "***",
		"":                       "***",
		"odd@local@host.example": "o***@host.example",
	} {
		if got := Email(in); got != want {
			t.Errorf("Email(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestError(t *testing.T) {
	err := errors.New(`send failed: 550 rejected, affected recipient(s): <ANN@example.com>; ann@example.com again; annie@example.com stays`)
	want := `send failed: 550 rejected, affected recipient(s): <a***@example.com>; a***@example.com again; annie@example.com stays`
	if got := Error(err, "Ann <ann@example.com>"); got != want {
		t.Errorf("Error = %q,\nwant %q", got, want)
	}
	if got := Error(errors.New("a.b@x.example"), "a.b@x.example"); got != "a***@x.example" {
		t.Errorf("metacharacters: %q", got)
	}
	if Error(nil, "ann@example.com") != "" {
		t.Error("nil error")
	}
}
