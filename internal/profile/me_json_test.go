package profile

import (
	"encoding/json"
	"net/http/httptest"
	"reflect"
	"testing"
	"time"

	"adstudio/internal/auth/authdb"
	"adstudio/internal/httpapi"
)

// The user and time encoders as they were before the one-pass bodies:
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

type oldProfile struct {
	UserID               string  `json:"userId"`
	AccountType          string  `json:"accountType"`
	CreditsProductShoots int64   `json:"creditsProductShoots"`
	CreditsAdGraphics    int64   `json:"creditsAdGraphics"`
	CreatedAt            oldTime `json:"createdAt"`
	UpdatedAt            oldTime `json:"updatedAt"`
}

func TestMeBodyMatchesEncodingJSON(t *testing.T) {
	strs := []string{
		"", "uid-123", "Zoë \"Z\"", "日本語 😀", `back\slash /`, "tab\tnl\ncr\r\b\f", "\x00\x1f\x7f",
		"<b>&amp;</b>", "line\u2028para\u2029", "bad \xff utf8", "cut \xe2\x80", "free",
	}
	times := []time.Time{
		time.Date(2026, 11, 24, 13, 31, 22, 927_000_000, time.UTC), // better-auth's milliseconds
		time.Unix(1795527082, 0),                                   // the addreams layout's seconds, local zone
		time.Date(2026, 1, 2, 3, 4, 5, 123_456_789, time.FixedZone("X", -7*3600)),
		{},
	}
	for i, s := range strs {
		for j, tm := range times {
			var img *string
			if (i+j)%2 == 1 {
				img = &strs[(i+3)%len(strs)]
			}
			u := authdb.User{ID: s, Name: strs[(i+1)%len(strs)], Email: strs[(i+2)%len(strs)], EmailVerified: j%2 == 0,
				Image: img, CreatedAt: tm, UpdatedAt: times[(j+1)%len(times)]}
			p := Profile{UserID: s, AccountType: strs[(i+4)%len(strs)], CreditsProductShoots: int64(i - 5),
				CreditsAdGraphics: int64(j) << 40, CreatedAt: authdb.Time(times[(j+2)%len(times)]), UpdatedAt: authdb.Time(tm)}

			old := httptest.NewRecorder()
			httpapi.WriteJSON(old, 200, struct {
				User    oldUser    `json:"user"`
				Profile oldProfile `json:"profile"`
			}{oldUser(u), oldProfile{p.UserID, p.AccountType, p.CreditsProductShoots, p.CreditsAdGraphics, oldTime(p.CreatedAt), oldTime(p.UpdatedAt)}})
			now := httptest.NewRecorder()
			httpapi.WriteJSON(now, 200, meBody{u, p})

			if now.Body.String() != old.Body.String() {
				t.Fatalf("case %d/%d:\n got %s\nwant %s", i, j, now.Body, old.Body)
			}
			if !reflect.DeepEqual(now.Header(), old.Header()) || now.Code != old.Code {
				t.Fatalf("headers: got %d %v, want %d %v", now.Code, now.Header(), old.Code, old.Header())
			}
			// The Profile type itself still encodes as it did.
			got, _ := json.Marshal(p)
			want, _ := json.Marshal(oldProfile{p.UserID, p.AccountType, p.CreditsProductShoots, p.CreditsAdGraphics, oldTime(p.CreatedAt), oldTime(p.UpdatedAt)})
			if string(got) != string(want) {
				t.Fatalf("Profile: got %s want %s", got, want)
			}
		}
	}
}
