package session

import (
	"strings"
	"testing"
	"time"

	"adstudio/internal/auth/authdb"
	"adstudio/internal/auth/cookie"
)

const vectorSecret = "test-secret-0123456789-abcdefghijklmnopqrstuvwxyz"

// The session_data cookie better-auth 1.7.1 wrote (docs/auth-wire.md §11).
const betterAuthCache = "eyJzZXNzaW9uIjp7InNlc3Npb24iOnsiZXhwaXJlc0F0IjoiMjAyNi0xMi0wMVQxMzozMToyMi45MjdaIiwidG9rZW4iOiJBWnJVRjVYMHQxZWlMb3JZTGRMYVRpYU01cFpxTG03UyIsImNyZWF0ZWRBdCI6IjIwMjYtMTEtMjRUMTM6MzE6MjIuOTI3WiIsInVwZGF0ZWRBdCI6IjIwMjYtMTEtMjRUMTM6MzE6MjIuOTI3WiIsImlwQWRkcmVzcyI6IiIsInVzZXJBZ2VudCI6IiIsInVzZXJJZCI6IjNUa09VeElkbkJCZTFCQ1NLR1dGSkVLSmI0a0NvdzEyIiwiaWQiOiI3STc5aDl0cGhDMnF0UTBZNnc3N0VKY2VzWEJ6YWt4WiJ9LCJ1c2VyIjp7Im5hbWUiOiJBbm4iLCJlbWFpbCI6ImFubkBleGFtcGxlLmNvbSIsImVtYWlsVmVyaWZpZWQiOmZhbHNlLCJjcmVhdGVkQXQiOiIyMDI2LTExLTI0VDEzOjMxOjIyLjY1MloiLCJ1cGRhdGVkQXQiOiIyMDI2LTExLTI0VDEzOjMxOjIyLjY1MloiLCJpZCI6IjNUa09VeElkbkJCZTFCQ1NLR1dGSkVLSmI0a0NvdzEyIn0sInVwZGF0ZWRBdCI6MTc5NTUyNzA4MjkyOCwidmVyc2lvbiI6IjEifSwiZXhwaXJlc0F0IjoxNzk1NTI3MzgyOTI4LCJzaWduYXR1cmUiOiJDdmJNZ05BYk9oTjVZSzgyRVBGYi1lNGZJaHRjYlc3WmRKMGtOOW5WWUkwIn0"

func TestDecodesBetterAuthCacheCookie(t *testing.T) {
	signer := cookie.NewSigner([]string{vectorSecret})
	issued := time.UnixMilli(1795527082928)
	s, u, ok := decodeCache(signer, betterAuthCache, issued.Add(time.Minute))
	if !ok {
		t.Fatal("better-auth's own session_data cookie was rejected")
	}
	if s.Token != "AZrUF5X0t1eiLorYLdLaTiaM5pZqLm7S" || s.UserID != "3TkOUxIdnBBe1BCSKGWFJEKJb4kCow12" || u.Email != "ann@example.com" || u.Name != "Ann" {
		t.Fatalf("decoded %+v %+v", s, u)
	}
	if got := authdb.FormatTime(s.ExpiresAt); got != "2026-12-01T13:31:22.927Z" {
		t.Fatalf("expiresAt %s", got)
	}
	// Past its 5 minutes, the same cookie is no longer accepted.
	if _, _, ok := decodeCache(signer, betterAuthCache, issued.Add(301*time.Second)); ok {
		t.Fatal("expired cache accepted")
	}
	// Another secret does not accept it.
	if _, _, ok := decodeCache(cookie.NewSigner([]string{strings.Repeat("x", 40)}), betterAuthCache, issued); ok {
		t.Fatal("cache accepted under a different secret")
	}
}

func TestCacheRoundTripAndTamper(t *testing.T) {
	signer := cookie.NewSigner([]string{vectorSecret})
	now := time.Date(2026, 11, 24, 13, 0, 0, 123456789, time.UTC)
	img := "https://img.example/<a>&b"
	s := authdb.Session{ID: "sid", Token: "tok", UserID: "uid", ExpiresAt: now.Add(7 * 24 * time.Hour), CreatedAt: now, UpdatedAt: now}
	u := authdb.User{ID: "uid", Name: "Zoë \"Z\"", Email: "z@example.com", Image: &img, CreatedAt: now, UpdatedAt: now}
	v, err := encodeCache(signer, s, u, now, now.Add(5*time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	gs, gu, ok := decodeCache(signer, v, now.Add(time.Minute))
	if !ok || gs.Token != "tok" || gu.Name != u.Name || *gu.Image != img {
		t.Fatalf("round trip: ok=%v %+v %+v", ok, gs, gu)
	}
	if !gs.CreatedAt.Equal(now.Truncate(time.Millisecond)) {
		t.Fatalf("createdAt %v", gs.CreatedAt)
	}
	// Flip one character anywhere in the middle: rejected.
	b := []byte(v)
	b[len(b)/2] ^= 1
	if _, _, ok := decodeCache(signer, string(b), now); ok {
		t.Fatal("tampered cache accepted")
	}
	if _, _, ok := decodeCache(signer, "!!!", now); ok {
		t.Fatal("garbage accepted")
	}
}
