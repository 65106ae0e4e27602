package objectstore

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"adstudio/internal/devtools/testenv"
)

// Hostile keys first; none may touch anything, inside the directory or out.
var hostileKeys = []string{
	"../x",
	"/etc/passwd",
	"a/../../b",
	`a\b`,
	`..\x`,
	"",
	"..",
	".",
	"./a",
	"a/./b",
	"a/..",
	"a//b",
	"/",
	"a/",
	".hidden",
	"a/.b.meta.json", // would be a sidecar
	"a/.tmp-x",       // would be a temporary file
	"a\x00b",
	"a\nb",
	"\xff\xfe",
	strings.Repeat("a", 1025),
}

func TestLocalRejectsHostileKeys(t *testing.T) {
	t.Parallel()
	parent := t.TempDir()
	l, err := NewLocal(filepath.Join(parent, "store"))
	if err != nil {
		t.Fatal(err)
	}
	if err := l.ServePresigned("http://localhost:8080", testSecret, nil); err != nil {
		t.Fatal(err)
	}
	ctx := ctxFor(t)
	for _, key := range hostileKeys {
		errs := map[string]error{
			"Put":    l.Put(ctx, key, "image/png", pngBytes),
			"Delete": l.Delete(ctx, key),
		}
		_, errs["Get"] = l.Get(ctx, key, "")
		_, errs["Head"] = l.Head(ctx, key)
		_, errs["PresignPut"] = l.PresignPut(ctx, key, "image/png", 10, time.Minute)
		for op, err := range errs {
			if !errors.Is(err, ErrInvalidKey) {
				t.Errorf("%s(%q) = %v, want ErrInvalidKey", op, key, err)
			}
		}
	}
	for _, prefix := range []string{"", "/", "../", "../../etc", "a/../../", `a\`, ".", "./"} {
		if err := l.DeletePrefix(ctx, prefix); !errors.Is(err, ErrInvalidKey) {
			t.Errorf("DeletePrefix(%q) = %v, want ErrInvalidKey", prefix, err)
		}
		if _, err := l.DeleteOlder(ctx, prefix, time.Now()); !errors.Is(err, ErrInvalidKey) {
			t.Errorf("DeleteOlder(%q) = %v, want ErrInvalidKey", prefix, err)
		}
	}
	// Nothing was written anywhere.
	var found []string
	filepath.WalkDir(parent, func(p string, d fs.DirEntry, err error) error {
		if p != parent {
			found = append(found, strings.TrimPrefix(p, parent))
		}
		return err
	})
	if !slices.Equal(found, []string{"/store"}) {
		t.Errorf("files after hostile calls: %q, want only the empty store directory", found)
	}
}

// TestLocalSymlinkCannotEscape: even a symlink planted inside the directory
// (not something a key can create) does not lead out of it, thanks to os.Root.
func TestLocalSymlinkCannotEscape(t *testing.T) {
	t.Parallel()
	outside := t.TempDir()
	secret := filepath.Join(outside, "secret.png")
	if err := os.WriteFile(secret, []byte("secret"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(outside, ".secret.png.meta.json"), []byte(`{"contentType":"image/png"}`), 0o644); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if err := os.Symlink(outside, filepath.Join(dir, "link")); err != nil {
		testenv.Missing(t, "cannot create symlinks here: "+err.Error())
	}
	l, err := NewLocal(dir)
	if err != nil {
		t.Fatal(err)
	}
	ctx := ctxFor(t)
	if obj, err := l.Get(ctx, "link/secret.png", ""); err == nil {
		obj.Body.Close()
		t.Error("Get through a symlink read a file outside the directory")
	}
	if err := l.Put(ctx, "link/new.png", "image/png", pngBytes); err == nil {
		t.Error("Put through a symlink succeeded")
	}
	if err := l.DeletePrefix(ctx, "link/"); err != nil {
		t.Logf("DeletePrefix through a symlink: %v", err)
	}
	entries, _ := os.ReadDir(outside)
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	if !slices.Equal(names, []string{".secret.png.meta.json", "secret.png"}) {
		t.Errorf("outside directory now holds %q", names)
	}
}

func TestLocalPresignUnsupported(t *testing.T) {
	t.Parallel()
	l := mustLocal(t)
	mustPut(t, l, imageKey, "image/png", pngBytes)
	if u, err := l.PresignGet(ctxFor(t), imageKey, time.Minute); !errors.Is(err, ErrPresignUnsupported) || u != "" {
		t.Errorf("PresignGet = %q, %v; want ErrPresignUnsupported", u, err)
	}
}

// TestLocalLayout: objects are plain files (handy in `make dev`), sidecars
// and temporary files are hidden, and deleting prunes empty folders.
func TestLocalLayout(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	l, err := NewLocal(dir)
	if err != nil {
		t.Fatal(err)
	}
	mustPut(t, l, imageKey, "image/png", pngBytes)
	b, err := os.ReadFile(filepath.Join(dir, filepath.FromSlash(imageKey)))
	if err != nil || string(b) != string(pngBytes) {
		t.Errorf("object file: %q, %v", b, err)
	}
	entries, _ := os.ReadDir(filepath.Join(dir, "users/u1/generations/g1"))
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	if !slices.Equal(names, []string{".output.png.meta.json", "output.png"}) {
		t.Errorf("folder holds %q, want the object and its sidecar only", names)
	}
	if err := l.Delete(ctxFor(t), imageKey); err != nil {
		t.Fatal(err)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Errorf("directory not pruned after the last Delete: %v", entries)
	}
	// A file without its sidecar (an unfinished Put) is not an object.
	if err := os.WriteFile(filepath.Join(dir, "stray.png"), pngBytes, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := l.Head(ctxFor(t), "stray.png"); !errors.Is(err, ErrNotFound) {
		t.Errorf("Head of a file without a sidecar = %v, want ErrNotFound", err)
	}
}

func TestValidateKey(t *testing.T) {
	t.Parallel()
	for _, key := range hostileKeys {
		if err := ValidateKey(key); !errors.Is(err, ErrInvalidKey) {
			t.Errorf("ValidateKey(%q) = %v, want ErrInvalidKey", key, err)
		}
	}
	for _, key := range []string{
		imageKey,
		"users/0b9c6c1e-7d8a-4c57-9d57-3f1c2a9e4b11/generations/5e3f/output.webp",
		"a",
		"a.b/c-d_e~f",
		"ü/名前.png",
		"a/b..c",
		strings.Repeat("a", 1024),
	} {
		if err := ValidateKey(key); err != nil {
			t.Errorf("ValidateKey(%q) = %v, want nil", key, err)
		}
	}
}
