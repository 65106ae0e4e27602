package objectstore

import (
	"errors"
	"testing"
)

func TestParseRange(t *testing.T) {
	t.Parallel()
	for _, h := range []string{
		"bytes=9223372036854775808-", // overflows int64
		"bytes=-9223372036854775808",
		"bytes=1-2,", "bytes=--1", "bytes=1--2", "bytes=0x1-2", "bytes=-1-2", "bytes 0-1", "=0-1",
	} {
		if _, err := parseRange(h); !errors.Is(err, ErrInvalidRange) {
			t.Errorf("parseRange(%q) = %v, want ErrInvalidRange", h, err)
		}
	}
	for h, want := range map[string]string{
		"bytes=0-3":     "bytes=0-3",
		" Bytes = 7- ":  "bytes=7-",
		"bytes=-00012":  "bytes=-12",
		"BYTES=010-020": "bytes=10-20",
	} {
		r, err := parseRange(h)
		if err != nil || r.String() != want {
			t.Errorf("parseRange(%q) = %v, %v; want %s", h, r, err, want)
		}
	}
}

func TestParseContentRange(t *testing.T) {
	t.Parallel()
	if a, b, n, ok := parseContentRange("bytes 16-19/20"); !ok || a != 16 || b != 19 || n != 20 {
		t.Errorf("parseContentRange = %d, %d, %d, %v", a, b, n, ok)
	}
	for _, v := range []string{"", "bytes */20", "bytes 0-19/*", "bytes 5-4/20", "bytes 0-20/20", "items 0-1/2"} {
		if _, _, _, ok := parseContentRange(v); ok {
			t.Errorf("parseContentRange(%q) accepted", v)
		}
	}
}
