package authdb

import (
	"bytes"
	"encoding/json"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"adstudio/internal/jscompat"
)

// The encoders as they were before AppendJSON: json.Marshal of tagged
// structs, times through a Marshaler. The one-pass encoders must write
// exactly these bytes.
type refTime time.Time

func (t refTime) MarshalJSON() ([]byte, error) {
	return []byte(`"` + time.Time(t).UTC().Truncate(time.Millisecond).Format("2006-01-02T15:04:05.000Z") + `"`), nil
}

type refUser User

func (u refUser) MarshalJSON() ([]byte, error) {
	return json.Marshal(struct {
		ID            string  `json:"id"`
		Name          string  `json:"name"`
		Email         string  `json:"email"`
		EmailVerified bool    `json:"emailVerified"`
		Image         *string `json:"image"`
		CreatedAt     refTime `json:"createdAt"`
		UpdatedAt     refTime `json:"updatedAt"`
	}{u.ID, u.Name, u.Email, u.EmailVerified, u.Image, refTime(u.CreatedAt), refTime(u.UpdatedAt)})
}

type refSession Session

func (s refSession) MarshalJSON() ([]byte, error) {
	return json.Marshal(struct {
		ID        string  `json:"id"`
		Token     string  `json:"token"`
		UserID    string  `json:"userId"`
		ExpiresAt refTime `json:"expiresAt"`
		CreatedAt refTime `json:"createdAt"`
		UpdatedAt refTime `json:"updatedAt"`
		IPAddress string  `json:"ipAddress"`
		UserAgent string  `json:"userAgent"`
	}{s.ID, s.Token, s.UserID, refTime(s.ExpiresAt), refTime(s.CreatedAt), refTime(s.UpdatedAt), s.IPAddress, s.UserAgent})
}

// testStrings are the strings the encoders must agree on: plain, unicode,
// every escape, HTML characters, the JavaScript line terminators and
// invalid UTF-8.
var testStrings = []string{
	"", "ann@example.com", "Zoë \"Z\"", "日本語", "emoji 😀 and 𝄞", `back\slash`, "/slash/",
	"tab\tnew\nline\rret\bback\fform", "\x00\x01\x1f\x7f", "<script>&amp;</script>",
	"line\u2028para\u2029end", "bad \xff utf8", "cut \xe2\x80", "lone \xed\xa0\x80 surrogate",
	"\ufffd replacement", "mixed <\u2028\x00\xc3>",
}

func mixedString(r *rand.Rand) string {
	pieces := []string{"a", "Z", "0", " ", `"`, `\`, "<", ">", "&", "\u2028", "\u2029", "é", "😀", "\x00", "\x1f", "\n", "\xff", "\xe2", "\x80", "\u007f", "/", "'"}
	var b strings.Builder
	for range r.IntN(12) {
		b.WriteString(pieces[r.IntN(len(pieces))])
	}
	return b.String()
}

// testTimes cover both stored precisions (better-auth's milliseconds and
// the addreams layout's seconds), more precision than a Date holds, other
// zones, and the zero time.
func testTimes() []time.Time {
	berlin := time.FixedZone("CET", 3600)
	return []time.Time{
		time.Date(2026, 11, 24, 13, 31, 22, 927_000_000, time.UTC),
		time.Unix(1795527082, 0),
		time.Date(2026, 11, 24, 13, 0, 0, 123_456_789, time.UTC),
		time.Date(2026, 1, 1, 0, 30, 0, 999_999_999, berlin),
		time.UnixMilli(1795527382928).Local(),
		{},
		time.Date(12000, 1, 1, 0, 0, 0, 0, time.UTC),
	}
}

func TestAppendJSONStringMatchesEncodingJSON(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	in := append([]string{}, testStrings...)
	for range 2000 {
		in = append(in, mixedString(r))
	}
	for _, s := range in {
		want, err := json.Marshal(s)
		if err != nil {
			t.Fatal(err)
		}
		if got := AppendJSONString(nil, s, true); !bytes.Equal(got, want) {
			t.Errorf("escapeHTML %q: got %s, want %s", s, got, want)
		}
		var b bytes.Buffer
		enc := json.NewEncoder(&b)
		enc.SetEscapeHTML(false)
		if err := enc.Encode(s); err != nil {
			t.Fatal(err)
		}
		want = bytes.TrimSuffix(b.Bytes(), []byte("\n"))
		if got := AppendJSONString([]byte("prefix"), s, false); !bytes.Equal(got, append([]byte("prefix"), want...)) {
			t.Errorf("no escapeHTML %q: got %s, want %s", s, got, want)
		}
	}
}

func TestAppendJSONMatchesMarshal(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	times := testTimes()
	str := func(i int) string {
		if i < len(testStrings) {
			return testStrings[i]
		}
		return mixedString(r)
	}
	for i := range 400 {
		var img *string
		if i%3 != 0 {
			s := str(i + 1)
			img = &s
		}
		u := User{ID: str(i), Name: str(i + 2), Email: str(i + 3), EmailVerified: i%2 == 0, Image: img,
			CreatedAt: times[i%len(times)], UpdatedAt: times[(i+1)%len(times)]}
		s := Session{ID: str(i + 4), Token: str(i + 5), UserID: str(i), ExpiresAt: times[(i+2)%len(times)],
			CreatedAt: times[(i+3)%len(times)], UpdatedAt: times[(i+4)%len(times)], IPAddress: str(i + 6), UserAgent: str(i + 7)}

		want, _ := refUser(u).MarshalJSON()
		if got := u.AppendJSON([]byte("x")); !bytes.Equal(got, append([]byte("x"), want...)) {
			t.Fatalf("user %d:\n got %s\nwant %s", i, got, want)
		}
		if got, _ := u.MarshalJSON(); !bytes.Equal(got, want) {
			t.Fatalf("user MarshalJSON %d:\n got %s\nwant %s", i, got, want)
		}
		want, _ = refSession(s).MarshalJSON()
		if got := s.AppendJSON(nil); !bytes.Equal(got, want) {
			t.Fatalf("session %d:\n got %s\nwant %s", i, got, want)
		}
		for _, tm := range times {
			want, _ := refTime(tm).MarshalJSON()
			if got, _ := Time(tm).MarshalJSON(); !bytes.Equal(got, want) {
				t.Fatalf("time %v: got %s want %s", tm, got, want)
			}
		}

		// Inside a response or the cookie cache, through jscompat.Marshal:
		// the enclosing encoder must leave the bytes as they were.
		old, err := jscompat.Marshal(struct {
			Session refSession `json:"session"`
			User    refUser    `json:"user"`
		}{refSession(s), refUser(u)})
		if err != nil {
			t.Fatal(err)
		}
		now, err := jscompat.Marshal(struct {
			Session Session `json:"session"`
			User    User    `json:"user"`
		}{s, u})
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(now, old) {
			t.Fatalf("enclosed %d:\n got %s\nwant %s", i, now, old)
		}
	}
}
