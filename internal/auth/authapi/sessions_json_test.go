package authapi

import (
	"encoding/json"
	"net/http/httptest"
	"reflect"
	"testing"
	"time"

	"adstudio/internal/auth/authdb"
	"adstudio/internal/httpapi"
)

// The session and user encoders as they were before the one-pass body:
// json.Marshal of tagged structs.
type oldTime time.Time

func (t oldTime) MarshalJSON() ([]byte, error) {
	return []byte(`"` + time.Time(t).UTC().Truncate(time.Millisecond).Format("2006-01-02T15:04:05.000Z") + `"`), nil
}

type oldUser authdb.User

func (u oldUser) MarshalJSON() ([]byte, error) {
	return json.Marshal(struct {
		ID            string  `json:"id"`
		Name          string  `json:"name"`
		Email         string  `json:"email"`
		EmailVerified bool    `json:"emailVerified"`
		Image         *string `json:"image"`
		CreatedAt     oldTime `json:"createdAt"`
		UpdatedAt     oldTime `json:"updatedAt"`
	}{u.ID, u.Name, u.Email, u.EmailVerified, u.Image, oldTime(u.CreatedAt), oldTime(u.UpdatedAt)})
}

type oldSession authdb.Session

func (s oldSession) MarshalJSON() ([]byte, error) {
	return json.Marshal(struct {
		ID        string  `json:"id"`
		Token     string  `json:"token"`
		UserID    string  `json:"userId"`
		ExpiresAt oldTime `json:"expiresAt"`
		CreatedAt oldTime `json:"createdAt"`
		UpdatedAt oldTime `json:"updatedAt"`
		IPAddress string  `json:"ipAddress"`
		UserAgent string  `json:"userAgent"`
	}{s.ID, s.Token, s.UserID, oldTime(s.ExpiresAt), oldTime(s.CreatedAt), oldTime(s.UpdatedAt), s.IPAddress, s.UserAgent})
}

func TestSessionBodyMatchesEncodingJSON(t *testing.T) {
	strs := []string{
		"", "3TkOUxIdnBBe1BCSKGWFJEKJb4kCow12", "Zoë \"Z\"", "日本語 😀", `back\slash /`, "tab\tnl\ncr\r\b\f",
		"\x00\x1f\x7f", "<script>&amp;</script>", "line\u2028para\u2029", "bad \xff utf8", "cut \xe2\x80", "::ffff:10.0.0.1",
	}
	times := []time.Time{
		time.Date(2026, 11, 24, 13, 31, 22, 927_000_000, time.UTC), // better-auth's milliseconds
		time.Unix(1795527082, 0),                                   // the addreams layout's seconds, local zone
		time.Date(2026, 1, 2, 3, 4, 5, 123_456_789, time.FixedZone("X", 5*3600+1800)),
		{},
	}
	for i, s := range strs {
		for j, tm := range times {
			var img *string
			if (i+j)%2 == 0 {
				img = &strs[(i+5)%len(strs)]
			}
			u := authdb.User{ID: s, Name: strs[(i+1)%len(strs)], Email: strs[(i+2)%len(strs)], EmailVerified: j%2 == 1,
				Image: img, CreatedAt: tm, UpdatedAt: times[(j+1)%len(times)]}
			se := authdb.Session{ID: strs[(i+3)%len(strs)], Token: strs[(i+4)%len(strs)], UserID: s,
				ExpiresAt: times[(j+2)%len(times)], CreatedAt: tm, UpdatedAt: times[(j+3)%len(times)],
				IPAddress: strs[(i+6)%len(strs)], UserAgent: strs[(i+7)%len(strs)]}

			old := httptest.NewRecorder()
			httpapi.WriteJSON(old, 200, struct {
				Session oldSession `json:"session"`
				User    oldUser    `json:"user"`
			}{oldSession(se), oldUser(u)})
			now := httptest.NewRecorder()
			httpapi.WriteJSON(now, 200, sessionBody{se, u})

			if now.Body.String() != old.Body.String() {
				t.Fatalf("case %d/%d:\n got %s\nwant %s", i, j, now.Body, old.Body)
			}
			if !reflect.DeepEqual(now.Header(), old.Header()) || now.Code != old.Code {
				t.Fatalf("headers: got %d %v, want %d %v", now.Code, now.Header(), old.Code, old.Header())
			}
		}
	}
}
