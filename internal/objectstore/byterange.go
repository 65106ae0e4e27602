package objectstore

import (
	"fmt"
	"strconv"
	"strings"
)

// byteRange is one parsed HTTP byte range (RFC 9110 §14.1.2).
type byteRange struct {
	first, last int64 // last < 0: open-ended ("first-")
	suffix      int64 // > 0: the final suffix bytes ("-suffix"); first and last unused
}

// parseRange parses a single-range Range value. Anything else — another unit,
// several ranges, last < first, a zero-length suffix — is ErrInvalidRange.
// HTTP servers would ignore such a header and send the whole object; this
// package reports it instead, so a caller never gets bytes it didn't ask for.
func parseRange(h string) (byteRange, error) {
	bad := func() (byteRange, error) {
		return byteRange{}, fmt.Errorf("range %s: %w", quote(h), ErrInvalidRange)
	}
	unit, spec, ok := strings.Cut(strings.TrimSpace(h), "=")
	if !ok || !strings.EqualFold(strings.TrimSpace(unit), "bytes") || strings.Contains(spec, ",") {
		return bad()
	}
	a, b, ok := strings.Cut(strings.TrimSpace(spec), "-")
	if !ok {
		return bad()
	}
	if a == "" {
		n, ok := parseDigits(b)
		if !ok || n == 0 {
			return bad()
		}
		return byteRange{suffix: n}, nil
	}
	first, ok := parseDigits(a)
	if !ok {
		return bad()
	}
	if b == "" {
		return byteRange{first: first, last: -1}, nil
	}
	last, ok := parseDigits(b)
	if !ok || last < first {
		return bad()
	}
	return byteRange{first: first, last: last}, nil
}

// parseDigits accepts only ASCII digits (no sign, no spaces) that fit int64.
func parseDigits(s string) (int64, bool) {
	if s == "" || strings.TrimLeft(s, "0123456789") != "" {
		return 0, false
	}
	n, err := strconv.ParseInt(s, 10, 64)
	return n, err == nil
}

// String is the canonical header form, sent to S3.
func (r byteRange) String() string {
	switch {
	case r.suffix > 0:
		return "bytes=-" + strconv.FormatInt(r.suffix, 10)
	case r.last < 0:
		return "bytes=" + strconv.FormatInt(r.first, 10) + "-"
	default:
		return "bytes=" + strconv.FormatInt(r.first, 10) + "-" + strconv.FormatInt(r.last, 10)
	}
}

// resolve returns the inclusive offsets the range selects in an object of
// size bytes, clamped to the object as HTTP does; ok is false when it selects
// nothing (416 Range Not Satisfiable).
func (r byteRange) resolve(size int64) (first, last int64, ok bool) {
	if size <= 0 {
		return 0, 0, false
	}
	if r.suffix > 0 {
		return max(size-r.suffix, 0), size - 1, true
	}
	if r.first >= size {
		return 0, 0, false
	}
	if r.last < 0 || r.last >= size {
		return r.first, size - 1, true
	}
	return r.first, r.last, true
}

// contentRange formats a Content-Range value: "bytes first-last/size".
func contentRange(first, last, size int64) string {
	return fmt.Sprintf("bytes %d-%d/%d", first, last, size)
}

// parseContentRange reads the offsets and total size from a Content-Range
// value of the form "bytes first-last/size".
func parseContentRange(v string) (first, last, size int64, ok bool) {
	rest, found := strings.CutPrefix(strings.TrimSpace(v), "bytes ")
	if !found {
		return 0, 0, 0, false
	}
	span, total, found := strings.Cut(rest, "/")
	if !found {
		return 0, 0, 0, false
	}
	a, b, found := strings.Cut(span, "-")
	if !found {
		return 0, 0, 0, false
	}
	var okA, okB, okT bool
	first, okA = parseDigits(a)
	last, okB = parseDigits(b)
	size, okT = parseDigits(total)
	return first, last, size, okA && okB && okT && first <= last && last < size
}
