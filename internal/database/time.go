package database

import (
	"math"
	"strconv"
	"strings"
	"time"
)

// Dates encodes timestamps the way one physical layout stores them, and reads
// every encoding that better-auth and its adapters are known to have written
// there: unix seconds, unix milliseconds (as numbers or as text, possibly
// with a trailing ".0"), SQL "YYYY-MM-DD HH:MM:SS" defaults, and ISO-8601.
type Dates struct {
	// Seconds is true when the layout stores unix seconds (addreams);
	// otherwise dates are written as ISO-8601 text with milliseconds.
	Seconds bool
}

// Encode returns the value to bind for t.
func (d Dates) Encode(t time.Time) any {
	if d.Seconds {
		return t.Unix()
	}
	return t.UTC().Format("2006-01-02T15:04:05.000Z")
}

// Truncate cuts t to the precision the layout stores, so that what a
// response or cookie says equals what a later read of the row will say.
func (d Dates) Truncate(t time.Time) time.Time {
	if d.Seconds {
		return t.UTC().Truncate(time.Second)
	}
	return t.UTC().Truncate(time.Millisecond)
}

// Decode parses a scanned value. ok is false for NULL or garbage.
func (d Dates) Decode(v any) (time.Time, bool) {
	switch x := v.(type) {
	case nil:
		return time.Time{}, false
	case int64:
		return fromNumber(float64(x)), true
	case float64:
		return fromNumber(x), true
	case []byte:
		return d.Decode(string(x))
	case time.Time:
		return x.UTC(), true
	case string:
		s := strings.TrimSpace(x)
		if s == "" {
			return time.Time{}, false
		}
		if f, err := strconv.ParseFloat(s, 64); err == nil {
			return fromNumber(f), true
		}
		for _, layout := range []string{
			time.RFC3339Nano,
			"2006-01-02 15:04:05",
			"2006-01-02 15:04:05.000",
			"2006-01-02T15:04:05",
			"2006-01-02T15:04:05.000",
			"2006-01-02 15:04:05Z07:00",
			"2006-01-02 15:04:05 -0700 MST",
		} {
			if t, err := time.Parse(layout, s); err == nil {
				return t.UTC(), true
			}
		}
	}
	return time.Time{}, false
}

// fromNumber tells seconds from milliseconds by size: 1e11 seconds is the
// year 5138, 1e11 milliseconds is March 1973.
func fromNumber(f float64) time.Time {
	if math.Abs(f) >= 1e11 {
		return time.UnixMilli(int64(f)).UTC()
	}
	return time.Unix(int64(f), 0).UTC()
}

// Bool reads SQLite's 0/1 (or a driver's bool or text) as a bool.
func Bool(v any) bool {
	switch x := v.(type) {
	case int64:
		return x != 0
	case float64:
		return x != 0
	case bool:
		return x
	case string:
		return x == "1" || strings.EqualFold(x, "true")
	case []byte:
		return Bool(string(x))
	}
	return false
}

// String reads a nullable text column.
func String(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case []byte:
		return string(x)
	case int64:
		return strconv.FormatInt(x, 10)
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64)
	}
	return ""
}
