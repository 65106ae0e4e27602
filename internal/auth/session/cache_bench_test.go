package session

import (
	"testing"
	"time"

	"adstudio/internal/auth/authdb"
	"adstudio/internal/auth/cookie"
)

// BenchmarkDecodeCache is the cost of reading one session_data cookie of
// the usual size, the bulk of a get-session answered from the cache.
func BenchmarkDecodeCache(b *testing.B) {
	signer := cookie.NewSigner([]string{"0123456789abcdef0123456789abcdef"})
	now := time.Date(2026, 11, 24, 12, 0, 0, 0, time.UTC)
	img := "https://x/y.png"
	u := authdb.User{ID: "uid123456789", Name: "Ann Example", Email: "ann@example.com", Image: &img, CreatedAt: now, UpdatedAt: now}
	s := authdb.Session{ID: "sid", Token: "tok0123456789abcdef0123456789", UserID: "uid123456789", ExpiresAt: now.Add(time.Hour), CreatedAt: now, UpdatedAt: now, IPAddress: "10.1.2.3", UserAgent: "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120 Safari/537.36"}
	v, err := encodeCache(signer, s, u, now, now.Add(5*time.Minute))
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, _, ok := decodeCache(signer, v, now); !ok {
			b.Fatal("not ok")
		}
	}
}
