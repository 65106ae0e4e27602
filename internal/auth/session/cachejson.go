package session

import (
	"bytes"
	"encoding/json"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"adstudio/internal/auth/authdb"
)

// Reading session_data is most of what a get-session answered from the
// cache costs, so the two documents it holds (the cookie object and the
// signed payload inside it) are read here in one pass each, straight into
// the session and user, instead of through encoding/json: that validates
// the whole value, then validates and copies each nested value again for
// every custom UnmarshalJSON on the way down (Session, User, each Time).
//
// The fast readers know only the shapes the two servers write: the keys
// spelled exactly, each at most once, with values of the expected JSON
// type; other members are skipped after being checked to be valid JSON.
// Whenever they meet anything else (another spelling of a known key, which
// encoding/json would match case-insensitively; a duplicate; a null; an
// escaped key; a time that does not parse; deep nesting) they give up, and
// the input is read by encoding/json exactly as before. So the set of
// accepted cookies and what they decode to cannot change; only the common
// case is faster. Strings are slices of the decoded cookie; a string with
// escapes or invalid UTF-8 is decoded by encoding/json on its own.

// cacheCookie is the outer object of a session_data value.
type cacheCookie struct {
	payload   string // the raw "session" member, as signed
	expiresAt string // the number literal, as signed
	signature string
	// parsed is payload read already, when the fast reader could (ok):
	// it reads the payload on its way through the cookie instead of
	// scanning it twice. Nothing in it counts before the MAC is checked.
	parsed cachePayload
	ok     bool
}

// readCookie reads the outer object from the decoded cookie value.
func readCookie(data []byte) (cacheCookie, bool) {
	if c, ok := readCookieFast(string(data)); ok {
		return c, true
	}
	// The encoding/json reading it always had: like any Decoder it ignores
	// what follows the first value.
	var outer struct {
		Session   json.RawMessage `json:"session"`
		ExpiresAt json.Number     `json:"expiresAt"`
		Signature string          `json:"signature"`
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	if dec.Decode(&outer) != nil {
		return cacheCookie{}, false
	}
	return cacheCookie{payload: string(outer.Session), expiresAt: outer.ExpiresAt.String(), signature: outer.Signature}, true
}

// readPayload reads the signed payload of c.
func readPayload(c *cacheCookie) (cachePayload, bool) {
	if c.ok {
		return c.parsed, true
	}
	var out cachePayload
	err := json.Unmarshal([]byte(c.payload), &out)
	return out, err == nil
}

// readCookieFast reads the outer object, and the payload within it, in one
// pass; ok is false when encoding/json must read the cookie instead.
func readCookieFast(doc string) (cacheCookie, bool) {
	var c cacheCookie
	var seen uint8
	i := skipSpace(doc, 0)
	if i >= len(doc) || doc[i] != '{' {
		return c, false
	}
	// Like the Decoder, stop at the end of the first value.
	_, ok := readObject(doc, i, func(key string, v int) (int, bool) {
		switch key {
		case "session":
			if !once(&seen, 1) || doc[v] != '{' {
				return 0, false
			}
			end, ok := readPayloadObject(doc, v, &c.parsed)
			if c.ok = ok; !ok {
				// Left to encoding/json once the MAC holds.
				if end, ok = skipValue(doc, v, 0); !ok {
					return 0, false
				}
			}
			c.payload = doc[v:end]
			return end, true
		case "expiresAt":
			if !once(&seen, 2) {
				return 0, false
			}
			end, ok := scanNumber(doc, v)
			if ok {
				c.expiresAt = doc[v:end]
			}
			return end, ok
		case "signature":
			if !once(&seen, 4) {
				return 0, false
			}
			s, end, ok := readString(doc, v)
			c.signature = s
			return end, ok
		}
		return skipOther(doc, v, key, "session", "expiresAt", "signature")
	})
	return c, ok
}

// readPayloadObject reads the payload object at p[i] == '{' into out.
func readPayloadObject(p string, i int, out *cachePayload) (int, bool) {
	var seen uint8
	return readObject(p, i, func(key string, v int) (int, bool) {
		switch key {
		case "session":
			if !once(&seen, 1) {
				return 0, false
			}
			return readSession(p, v, &out.Session)
		case "user":
			if !once(&seen, 2) {
				return 0, false
			}
			return readUser(p, v, &out.User)
		case "updatedAt":
			if !once(&seen, 4) {
				return 0, false
			}
			end, ok := scanNumber(p, v)
			if !ok {
				return 0, false
			}
			// What encoding/json does for an int64 field.
			n, err := strconv.ParseInt(p[v:end], 10, 64)
			out.UpdatedAt = n
			return end, err == nil
		case "version":
			if !once(&seen, 8) {
				return 0, false
			}
			s, end, ok := readString(p, v)
			out.Version = s
			return end, ok
		}
		return skipOther(p, v, key, "session", "user", "updatedAt", "version")
	})
}

func readSession(p string, i int, s *authdb.Session) (int, bool) {
	if p[i] != '{' {
		return 0, false
	}
	var seen uint8
	return readObject(p, i, func(key string, v int) (end int, ok bool) {
		switch key {
		case "id":
			if !once(&seen, 1) {
				return 0, false
			}
			s.ID, end, ok = readString(p, v)
		case "token":
			if !once(&seen, 2) {
				return 0, false
			}
			s.Token, end, ok = readString(p, v)
		case "userId":
			if !once(&seen, 4) {
				return 0, false
			}
			s.UserID, end, ok = readString(p, v)
		case "expiresAt":
			if !once(&seen, 8) {
				return 0, false
			}
			s.ExpiresAt, end, ok = readTime(p, v)
		case "createdAt":
			if !once(&seen, 16) {
				return 0, false
			}
			s.CreatedAt, end, ok = readTime(p, v)
		case "updatedAt":
			if !once(&seen, 32) {
				return 0, false
			}
			s.UpdatedAt, end, ok = readTime(p, v)
		case "ipAddress":
			if !once(&seen, 64) {
				return 0, false
			}
			s.IPAddress, end, ok = readString(p, v)
		case "userAgent":
			if !once(&seen, 128) {
				return 0, false
			}
			s.UserAgent, end, ok = readString(p, v)
		default:
			return skipOther(p, v, key, "id", "token", "userId", "expiresAt", "createdAt", "updatedAt", "ipAddress", "userAgent")
		}
		return end, ok
	})
}

func readUser(p string, i int, u *authdb.User) (int, bool) {
	if p[i] != '{' {
		return 0, false
	}
	var seen uint8
	return readObject(p, i, func(key string, v int) (end int, ok bool) {
		switch key {
		case "id":
			if !once(&seen, 1) {
				return 0, false
			}
			u.ID, end, ok = readString(p, v)
		case "name":
			if !once(&seen, 2) {
				return 0, false
			}
			u.Name, end, ok = readString(p, v)
		case "email":
			if !once(&seen, 4) {
				return 0, false
			}
			u.Email, end, ok = readString(p, v)
		case "emailVerified":
			if !once(&seen, 8) {
				return 0, false
			}
			switch {
			case strings.HasPrefix(p[v:], "true"):
				u.EmailVerified, end, ok = true, v+4, true
			case strings.HasPrefix(p[v:], "false"):
				u.EmailVerified, end, ok = false, v+5, true
			}
		case "image":
			if !once(&seen, 16) {
				return 0, false
			}
			if strings.HasPrefix(p[v:], "null") {
				u.Image, end, ok = nil, v+4, true
				break
			}
			var s string
			if s, end, ok = readString(p, v); ok {
				u.Image = &s
			}
		case "createdAt":
			if !once(&seen, 32) {
				return 0, false
			}
			u.CreatedAt, end, ok = readTime(p, v)
		case "updatedAt":
			if !once(&seen, 64) {
				return 0, false
			}
			u.UpdatedAt, end, ok = readTime(p, v)
		default:
			return skipOther(p, v, key, "id", "name", "email", "emailVerified", "image", "createdAt", "updatedAt")
		}
		return end, ok
	})
}

// readTime reads a time string as authdb.Time.UnmarshalJSON does.
func readTime(p string, i int) (time.Time, int, bool) {
	s, end, ok := readString(p, i)
	if !ok {
		return time.Time{}, 0, false
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	return t.UTC(), end, err == nil
}

// once records bit in seen, reporting false if it was already there: a
// repeated key is left to encoding/json (the last one wins there).
func once(seen *uint8, bit uint8) bool {
	if *seen&bit != 0 {
		return false
	}
	*seen |= bit
	return true
}

// skipOther skips the value at i of a member whose key is none of known,
// unless encoding/json would still match the key to one of them (it folds
// case; only ASCII keys are compared here, others are left to it).
func skipOther(s string, i int, key string, known ...string) (int, bool) {
	for j := 0; j < len(key); j++ {
		if key[j] >= utf8.RuneSelf {
			return 0, false
		}
	}
	for _, k := range known {
		if strings.EqualFold(key, k) {
			return 0, false
		}
	}
	return skipValue(s, i, 1)
}

// readObject reads the object starting at s[i] == '{', calling member with
// each key and the index of its value; member returns the index just past
// the value. It returns the index just past the object. Keys must be
// plain ASCII-or-UTF-8 strings without escapes.
func readObject(s string, i int, member func(key string, v int) (int, bool)) (int, bool) {
	i = skipSpace(s, i+1)
	if i < len(s) && s[i] == '}' {
		return i + 1, true
	}
	for {
		if i >= len(s) || s[i] != '"' {
			return 0, false
		}
		end, plain, ok := scanString(s, i)
		if !ok || !plain {
			return 0, false
		}
		key := s[i+1 : end-1]
		i = skipSpace(s, end)
		if i >= len(s) || s[i] != ':' {
			return 0, false
		}
		if i = skipSpace(s, i+1); i >= len(s) {
			return 0, false
		}
		if i, ok = member(key, i); !ok {
			return 0, false
		}
		if i = skipSpace(s, i); i >= len(s) {
			return 0, false
		}
		switch s[i] {
		case '}':
			return i + 1, true
		case ',':
			i = skipSpace(s, i+1)
		default:
			return 0, false
		}
	}
}

// maxSkipDepth bounds the nesting skipValue follows; deeper values are
// left to encoding/json.
const maxSkipDepth = 32

// skipValue returns the index just past the JSON value at s[i], checking
// it is valid as encoding/json's scanner does.
func skipValue(s string, i, depth int) (int, bool) {
	if i >= len(s) || depth > maxSkipDepth {
		return 0, false
	}
	switch c := s[i]; {
	case c == '"':
		end, _, ok := scanString(s, i)
		return end, ok
	case c == '{':
		return readObject(s, i, func(_ string, v int) (int, bool) { return skipValue(s, v, depth+1) })
	case c == '[':
		i = skipSpace(s, i+1)
		if i < len(s) && s[i] == ']' {
			return i + 1, true
		}
		for {
			var ok bool
			if i, ok = skipValue(s, i, depth+1); !ok {
				return 0, false
			}
			if i = skipSpace(s, i); i >= len(s) {
				return 0, false
			}
			switch s[i] {
			case ']':
				return i + 1, true
			case ',':
				i = skipSpace(s, i+1)
			default:
				return 0, false
			}
		}
	case c == 't' && strings.HasPrefix(s[i:], "true"):
		return i + 4, true
	case c == 'f' && strings.HasPrefix(s[i:], "false"):
		return i + 5, true
	case c == 'n' && strings.HasPrefix(s[i:], "null"):
		return i + 4, true
	case c == '-' || '0' <= c && c <= '9':
		return scanNumber(s, i)
	}
	return 0, false
}

// readString reads the JSON string at s[i]: a slice of s when it holds no
// escape and is valid UTF-8, else what encoding/json makes of it.
func readString(s string, i int) (string, int, bool) {
	if i >= len(s) || s[i] != '"' {
		return "", 0, false
	}
	end, plain, ok := scanString(s, i)
	if !ok {
		return "", 0, false
	}
	if plain {
		return s[i+1 : end-1], end, true
	}
	var v string
	if json.Unmarshal([]byte(s[i:end]), &v) != nil {
		return "", 0, false
	}
	return v, end, true
}

// scanString returns the index just past the JSON string starting at
// s[i] == '"', and whether its content is plain (no escapes, valid UTF-8)
// so that it can be used as it stands.
func scanString(s string, i int) (end int, plain, ok bool) {
	// Most strings are printable ASCII without escapes: run over those
	// bytes, and if a quote stops the run, that is the whole string.
	j := i + 1
	for j < len(s) && plainASCII[s[j]] {
		j++
	}
	if j < len(s) && s[j] == '"' {
		return j + 1, true, true
	}
	plain, ascii := true, true
	for ; j < len(s); j++ {
		switch c := s[j]; {
		case c == '"':
			if plain && !ascii {
				plain = utf8.ValidString(s[i+1 : j])
			}
			return j + 1, plain, true
		case c == '\\':
			plain = false
			if j++; j >= len(s) {
				return 0, false, false
			}
			switch s[j] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
			case 'u':
				if j+4 >= len(s) || !isHex(s[j+1]) || !isHex(s[j+2]) || !isHex(s[j+3]) || !isHex(s[j+4]) {
					return 0, false, false
				}
				j += 4
			default:
				return 0, false, false
			}
		case c < 0x20:
			return 0, false, false
		case c >= utf8.RuneSelf:
			ascii = false
		}
	}
	return 0, false, false
}

// scanNumber returns the index just past the JSON number at s[i].
func scanNumber(s string, i int) (int, bool) {
	if i < len(s) && s[i] == '-' {
		i++
	}
	switch {
	case i < len(s) && s[i] == '0':
		i++
	case i < len(s) && '1' <= s[i] && s[i] <= '9':
		i = skipDigits(s, i+1)
	default:
		return 0, false
	}
	if i < len(s) && s[i] == '.' {
		if i++; i >= len(s) || !isDigit(s[i]) {
			return 0, false
		}
		i = skipDigits(s, i)
	}
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		if i++; i < len(s) && (s[i] == '+' || s[i] == '-') {
			i++
		}
		if i >= len(s) || !isDigit(s[i]) {
			return 0, false
		}
		i = skipDigits(s, i)
	}
	return i, true
}

func skipDigits(s string, i int) int {
	for i < len(s) && isDigit(s[i]) {
		i++
	}
	return i
}

func skipSpace(s string, i int) int {
	for i < len(s) && (s[i] == ' ' || s[i] == '\t' || s[i] == '\n' || s[i] == '\r') {
		i++
	}
	return i
}

// plainASCII marks the bytes a JSON string holds as they stand and that
// need no UTF-8 check: printable ASCII other than '"' and '\'. It is
// filled once and only read.
var plainASCII = func() (t [256]bool) {
	for c := 0x20; c < utf8.RuneSelf; c++ {
		t[c] = c != '"' && c != '\\'
	}
	return t
}()

func isDigit(c byte) bool { return '0' <= c && c <= '9' }

func isHex(c byte) bool { return isDigit(c) || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F' }
