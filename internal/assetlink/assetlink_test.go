package assetlink

import (
	"errors"
	"net/url"
	"testing"
	"time"
)

const (
	oldSecret = "the-previous-secret-that-is-long-enough-0001"
	newSecret = "the-current-secret-that-is-long-enough-00002"
)

type clock struct{ t time.Time }

func (c *clock) now() time.Time { return c.t }

func parse(t *testing.T, q string) url.Values {
	t.Helper()
	v, err := url.ParseQuery(q)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func TestSignVerify(t *testing.T) {
	c := &clock{time.Unix(1_800_000_000, 0)}
	s := New([]string{newSecret}, time.Hour, c.now)
	v := parse(t, s.Query("user-1", "gen-1", "thumbnail"))
	if v.Get("variant") != "thumbnail" {
		t.Fatalf("variant: %q", v.Get("variant"))
	}
	exp, sig := v.Get(ParamExpires), v.Get(ParamSignature)
	if err := s.Verify("user-1", "gen-1", "thumbnail", exp, sig); err != nil {
		t.Fatalf("fresh link refused: %v", err)
	}
	for name, args := range map[string][5]string{
		"other user":       {"user-2", "gen-1", "thumbnail", exp, sig},
		"other generation": {"user-1", "gen-2", "thumbnail", exp, sig},
		"other variant":    {"user-1", "gen-1", "", exp, sig},
		"later expiry":     {"user-1", "gen-1", "thumbnail", exp + "0", sig},
		"tampered sig":     {"user-1", "gen-1", "thumbnail", exp, "A" + sig[1:]},
		"short sig":        {"user-1", "gen-1", "thumbnail", exp, sig[:10]},
		"not base64":       {"user-1", "gen-1", "thumbnail", exp, "%%%"},
		"no sig":           {"user-1", "gen-1", "thumbnail", exp, ""},
		// Length prefixes: moving a byte between fields changes the MAC.
		"shifted fields": {"user-1g", "en-1", "thumbnail", exp, sig},
	} {
		if err := s.Verify(args[0], args[1], args[2], args[3], args[4]); !errors.Is(err, ErrInvalid) {
			t.Errorf("%s: got %v, want ErrInvalid", name, err)
		}
	}
}

func TestExpiry(t *testing.T) {
	c := &clock{time.Unix(1_800_000_000, 0)}
	s := New([]string{newSecret}, time.Hour, c.now)
	v := parse(t, s.Query("u", "g", ""))
	if v.Has("variant") {
		t.Fatal("a full-image link names no variant")
	}
	exp, sig := v.Get(ParamExpires), v.Get(ParamSignature)
	// At least the TTL, at most a quarter more.
	e := s.Expiry()
	if d := e.Sub(c.t); d < time.Hour || d > time.Hour+15*time.Minute {
		t.Fatalf("lifetime %v, want between 1h and 1h15m", d)
	}
	// The same URL for a while: a cache can keep the image.
	c.t = c.t.Add(time.Minute)
	if again := parse(t, s.Query("u", "g", "")); again.Get(ParamSignature) != sig && e.Sub(c.t) >= time.Hour {
		t.Fatal("a link made a minute later differs though the old one still has its TTL to run")
	}
	c.t = e.Add(-time.Second)
	if err := s.Verify("u", "g", "", exp, sig); err != nil {
		t.Fatalf("a second before expiry: %v", err)
	}
	c.t = e
	if err := s.Verify("u", "g", "", exp, sig); !errors.Is(err, ErrExpired) {
		t.Fatalf("at expiry: got %v, want ErrExpired", err)
	}
}

func TestRotation(t *testing.T) {
	c := &clock{time.Unix(1_800_000_000, 0)}
	old := New([]string{oldSecret}, time.Hour, c.now)
	v := parse(t, old.Query("u", "g", ""))
	exp, sig := v.Get(ParamExpires), v.Get(ParamSignature)

	rotated := New([]string{newSecret, oldSecret}, time.Hour, c.now)
	if err := rotated.Verify("u", "g", "", exp, sig); err != nil {
		t.Fatalf("a link signed before a rotation, while the old secret is still listed: %v", err)
	}
	nv := parse(t, rotated.Query("u", "g", ""))
	if err := New([]string{newSecret}, time.Hour, c.now).Verify("u", "g", "", nv.Get(ParamExpires), nv.Get(ParamSignature)); err != nil {
		t.Fatalf("the rotated signer does not sign with its first secret: %v", err)
	}
	dropped := New([]string{newSecret}, time.Hour, c.now)
	if err := dropped.Verify("u", "g", "", exp, sig); !errors.Is(err, ErrInvalid) {
		t.Fatalf("once the old secret is dropped its links must fail: %v", err)
	}
}
