package password

import (
	"context"
	"strings"
	"testing"
)

func TestVerifiesBetterAuthHash(t *testing.T) {
	// Observed row written by better-auth 1.7.1 for "password123".
	const stored = "086d410740a84391624963723822e50d:85c4e35bf5dfdda03a8b377c103ad390f6a9767922495a69d486eadc8b101675daeca33bdb74dad71c73447da18c00f48f965039b2cd3dbcaee084f0ae24da4c"
	h := NewHasher(2)
	ctx := context.Background()
	for _, tc := range []struct {
		pw, stored string
		want       bool
	}{
		{"password123", stored, true},
		{"password124", stored, false},
		{"Password123", stored, false},
		{"password123", "not-a-hash", false},
		{"password123", "", false},
		{"password123", "086d410740a84391624963723822e50d:zz", false},
		{"password123", stored[:100], false},
	} {
		got, err := h.Verify(ctx, tc.pw, tc.stored)
		if err != nil || got != tc.want {
			t.Errorf("Verify(%q, %.20q…) = %v, %v; want %v", tc.pw, tc.stored, got, err, tc.want)
		}
	}
}

func TestHashFormatAndRoundTrip(t *testing.T) {
	h := NewHasher(1)
	ctx := context.Background()
	// NFKC: the ligature "ﬁ" and "fi" are the same password.
	stored, err := h.Hash(ctx, "ﬁxed-password")
	if err != nil {
		t.Fatal(err)
	}
	if len(stored) != 161 || strings.Count(stored, ":") != 1 || stored != strings.ToLower(stored) {
		t.Fatalf("stored hash %q is not 161 lowercase hex chars with one colon", stored)
	}
	if ok, _ := h.Verify(ctx, "fixed-password", stored); !ok {
		t.Fatal("NFKC-equivalent password did not verify")
	}
	if ok, _ := h.Verify(ctx, "fixed-passwordx", stored); ok {
		t.Fatal("different password verified")
	}
}

func TestCancelledContextStopsWaiting(t *testing.T) {
	h := NewHasher(1)
	h.slots <- struct{}{} // occupy the only slot
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := h.Hash(ctx, "password123"); err == nil {
		t.Fatal("Hash with a cancelled context and no free slot returned no error")
	}
}

func BenchmarkScrypt(b *testing.B) {
	h := NewHasher(1)
	ctx := context.Background()
	for b.Loop() {
		h.Burn(ctx, "password123")
	}
}
