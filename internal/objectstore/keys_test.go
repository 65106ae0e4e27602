package objectstore

import (
	"strings"
	"testing"
)

// Every key of a generation sits below its user's prefix, so the account
// delete (one prefix delete) reaches it.
func TestKeysNest(t *testing.T) {
	for _, k := range []string{ResultKey("u1", "g1", "png"), ThumbnailKey("u1", "g1"), ReferenceKey("u1", "g1")} {
		if !strings.HasPrefix(k, GenerationPrefix("u1", "g1")) || !strings.HasPrefix(k, UserPrefix("u1")) {
			t.Errorf("%q is outside its prefixes", k)
		}
	}
	if got := ResultKey("u1", "g1", "png"); got != "users/u1/generations/g1/output.png" {
		t.Errorf("ResultKey = %q", got)
	}
	if got := ThumbnailKey("u1", "g1"); got != "users/u1/generations/g1/thumbnail.jpg" {
		t.Errorf("ThumbnailKey = %q", got)
	}
	for _, ext := range []string{"png", "jpg", "gif", "webp"} {
		if ResultKey("u1", "g1", ext) == ThumbnailKey("u1", "g1") {
			t.Errorf("a %s result would overwrite the thumbnail", ext)
		}
	}
	if strings.HasPrefix(UserPrefix("u10"), UserPrefix("u1")) {
		t.Error("one user's prefix contains another's")
	}
}

// An upload sits below its user's upload prefix, one of the prefixes an
// account delete removes, and below the one prefix the expiry rule names.
func TestUploadKeys(t *testing.T) {
	k := UploadKey("u1", "up1")
	if k != "uploads/u1/up1" || !strings.HasPrefix(k, UploadsPrefix) {
		t.Fatalf("UploadKey = %q", k)
	}
	in := false
	for _, p := range UserPrefixes("u1") {
		in = in || strings.HasPrefix(k, p)
		if strings.HasPrefix(UploadKey("u10", "x"), p) || strings.HasPrefix(ResultKey("u10", "g", "png"), p) {
			t.Errorf("u1's prefix %q holds u10's objects", p)
		}
	}
	if !in {
		t.Errorf("%q is outside every prefix of its user", k)
	}
	if err := ValidateKey(k); err != nil {
		t.Error(err)
	}
}
