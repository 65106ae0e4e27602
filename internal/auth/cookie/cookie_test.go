package cookie

import (
	"net/http"
	"net/http/httptest"
	"testing"
)

const vectorSecret = "test-secret-0123456789-abcdefghijklmnopqrstuvwxyz"

func TestSignMatchesBetterAuthVectors(t *testing.T) {
	s := NewSigner([]string{vectorSecret})
	for value, want := range map[string]string{
		"AZrUF5X0t1eiLorYLdLaTiaM5pZqLm7S": "AZrUF5X0t1eiLorYLdLaTiaM5pZqLm7S.xWetNXlnqjkCMnvwM4n4BQOAuuYprkAarIv3l6%2BKlqA%3D",
		"true":                             "true.0R39059RJMlqy6vRfLQM%2B9OejOdzDaSFqtRZ3UvvW0o%3D",
	} {
		if got := s.Sign(value); got != want {
			t.Errorf("Sign(%q) = %q, want %q", value, got, want)
		}
	}
}

func TestVerifyRejectsForgeries(t *testing.T) {
	s := NewSigner([]string{vectorSecret})
	good := "AZrUF5X0t1eiLorYLdLaTiaM5pZqLm7S.xWetNXlnqjkCMnvwM4n4BQOAuuYprkAarIv3l6+KlqA="
	for _, raw := range []string{
		"AZrUF5X0t1eiLorYLdLaTiaM5pZqLm7T.xWetNXlnqjkCMnvwM4n4BQOAuuYprkAarIv3l6+KlqA=", // other token
		"AZrUF5X0t1eiLorYLdLaTiaM5pZqLm7S.xWetNXlnqjkCMnvwM4n4BQOAuuYprkAarIv3l6+KlqB=", // other sig
		"AZrUF5X0t1eiLorYLdLaTiaM5pZqLm7S.xWetNXlnqjkCMnvwM4n4BQOAuuYprkAarIv3l6+KlqA",  // 43 chars
		".xWetNXlnqjkCMnvwM4n4BQOAuuYprkAarIv3l6+KlqA=",                                 // empty value
		"AZrUF5X0t1eiLorYLdLaTiaM5pZqLm7S",                                              // unsigned
		"",
	} {
		if v, ok := s.Verify(raw); ok {
			t.Errorf("Verify(%q) accepted, value %q", raw, v)
		}
	}
	if v, ok := s.Verify(good); !ok || v != "AZrUF5X0t1eiLorYLdLaTiaM5pZqLm7S" {
		t.Fatalf("Verify(good) = %q, %v", v, ok)
	}
	// Rotation: a new first secret still accepts cookies signed by the old.
	rotated := NewSigner([]string{"a-brand-new-secret-that-is-long-enough-0001", vectorSecret})
	if _, ok := rotated.Verify(good); !ok {
		t.Fatal("rotated signer rejects a cookie signed with the previous secret")
	}
	if rotated.Sign("x") == s.Sign("x") {
		t.Fatal("rotated signer does not sign with its first secret")
	}
}

func TestSetCookieWireFormat(t *testing.T) {
	for _, tc := range []struct {
		s      Settings
		maxAge int
		want   string
	}{
		{Settings{Prefix: "better-auth", Secure: true}, 604800, "__Secure-better-auth.session_token=v; Max-Age=604800; Path=/; HttpOnly; Secure; SameSite=Lax"},
		{Settings{Prefix: "better-auth"}, 300, "better-auth.session_token=v; Max-Age=300; Path=/; HttpOnly; SameSite=Lax"},
		{Settings{Prefix: "kriptik_auth", Secure: true, SameSite: "none"}, NoMaxAge, "__Secure-kriptik_auth.session_token=v; Path=/; HttpOnly; Secure; SameSite=None"},
		{Settings{Prefix: "p", Secure: true, SameSite: "none", Partitioned: true, Domain: "example.com"}, 0, "__Secure-p.session_token=v; Max-Age=0; Domain=example.com; Path=/; HttpOnly; Secure; SameSite=None; Partitioned"},
	} {
		h := http.Header{}
		tc.s.Set(h, "session_token", "v", tc.maxAge)
		if got := h.Get("Set-Cookie"); got != tc.want {
			t.Errorf("got  %s\nwant %s", got, tc.want)
		}
	}
}

func TestReadFirstWinsAndDecodes(t *testing.T) {
	r := httptest.NewRequest("GET", "/", nil)
	r.Header.Add("Cookie", `a=1; b="q%2Bv"; a=2`)
	r.Header.Add("Cookie", "c=bad%zzescape") // API Gateway sends one line per cookie
	got := Read(r)
	if got["a"] != "1" || got["b"] != "q+v" || got["c"] != "bad%zzescape" {
		t.Fatalf("Read = %v", got)
	}
}
