package devapp_test

import (
	"bytes"
	"errors"
	"image"
	"image/jpeg"
	"path"
	"slices"
	"strings"
	"testing"

	"adstudio/internal/devtools/qwenfake"
)

// relative is an absolute URL of the API (history's assetUrl and
// thumbnailUrl are built on BETTER_AUTH_URL) as a path for the test server.
func relative(t *testing.T, ts *testServer, u any) string {
	t.Helper()
	s, ok := u.(string)
	p, found := strings.CutPrefix(s, ts.app.Config.BaseURL)
	if !ok || !found {
		t.Fatalf("%v is not a URL of the API", u)
	}
	return p
}

// objectNames lists the objects (not their sidecars) the local store holds
// for one generation.
func objectNames(t *testing.T, ts *testServer, uid, id string) []string {
	t.Helper()
	var names []string
	for _, f := range storedFiles(t, ts, "users/"+uid+"/generations/"+id) {
		if name := path.Base(strings.ReplaceAll(f, "\\", "/")); !strings.HasPrefix(name, ".") {
			names = append(names, name)
		}
	}
	slices.Sort(names)
	return names
}

// jpegOf decodes a thumbnail answer, which must be a JPEG.
func jpegOf(t *testing.T, r resp) image.Image {
	t.Helper()
	if ct := r.Header.Get("Content-Type"); r.StatusCode != 200 || ct != "image/jpeg" {
		t.Fatalf("thumbnail: %d %q", r.StatusCode, ct)
	}
	img, err := jpeg.Decode(bytes.NewReader(r.body))
	if err != nil {
		t.Fatalf("thumbnail is not a JPEG: %v", err)
	}
	return img
}

// TestThumbnails: a generation stores its image and a thumbnail; history
// offers both URLs; the thumbnail is a JPEG of at most 512 px with its own
// ETag, served to its owner only, with 304s and ranges; a generation without
// one (from before thumbnails) gets the full image; deleting the generation
// takes both objects.
func TestThumbnails(t *testing.T) {
	t.Parallel()
	ts, _ := newGenServer(t, nil)
	ann, bob := ts.browser(), ts.browser()
	ann.signUp(t, "thumb-ann@example.com", "password123")
	bob.signUp(t, "thumb-bob@example.com", "password123")
	uid := userID(t, ts, "thumb-ann@example.com")
	r := ann.do(t, "POST", "/api/workflows/image-from-text", spaTextPayload("a ceramic mug"), nil)
	if r.StatusCode != 200 {
		t.Fatalf("generate: %d %s", r.StatusCode, r.body)
	}
	id := r.json(t)["generationId"].(string)
	if got := objectNames(t, ts, uid, id); !slices.Equal(got, []string{"output.png", "thumbnail.jpg"}) {
		t.Fatalf("stored %v", got)
	}

	item := ann.do(t, "GET", "/api/history?limit=12", nil, nil).json(t)["items"].([]any)[0].(map[string]any)
	asset := "http://127.0.0.1:1/api/history/" + id + "/asset"
	if !signedURL(item["assetUrl"], asset+"?exp=") || !signedURL(item["thumbnailUrl"], asset+"?variant=thumbnail&exp=") {
		t.Fatalf("history item %v", item)
	}
	detail := ann.do(t, "GET", "/api/history/"+id, nil, nil).json(t)["item"].(map[string]any)
	if !signedURL(detail["assetUrl"], asset+"?exp=") || !signedURL(detail["thumbnailUrl"], asset+"?variant=thumbnail&exp=") {
		t.Fatalf("detail %v", detail)
	}

	full := ann.do(t, "GET", relative(t, ts, item["assetUrl"]), nil, nil)
	thumbURL := relative(t, ts, item["thumbnailUrl"])
	thumb := ann.do(t, "GET", thumbURL, nil, nil)
	// The fake's 1472×1104 result, its longest side brought to 512.
	if b := jpegOf(t, thumb).Bounds(); b.Dx() != 512 || b.Dy() != 384 {
		t.Errorf("thumbnail %d×%d, want 512×384", b.Dx(), b.Dy())
	}
	etag := thumb.Header.Get("ETag")
	if etag == "" || etag == full.Header.Get("ETag") || thumb.Header.Get("Cache-Control") != "private, max-age=3600" ||
		thumb.Header.Get("X-Content-Type-Options") != "nosniff" || thumb.Header.Get("Content-Security-Policy") != "default-src 'none'; sandbox" ||
		thumb.Header.Get("Content-Disposition") != `inline; filename="`+id+`-thumbnail.jpg"` || thumb.Header.Get("Last-Modified") == "" {
		t.Errorf("thumbnail headers %v (image's ETag %s)", thumb.Header, full.Header.Get("ETag"))
	}
	if r := ann.do(t, "GET", thumbURL, nil, header{"If-None-Match": etag}); r.StatusCode != 304 || len(r.body) != 0 {
		t.Errorf("If-None-Match: %d", r.StatusCode)
	}
	if r := ann.do(t, "GET", thumbURL, nil, header{"If-None-Match": full.Header.Get("ETag")}); r.StatusCode != 200 {
		t.Errorf("the image's ETag matched the thumbnail: %d", r.StatusCode)
	}
	if r := ann.do(t, "GET", thumbURL, nil, header{"Range": "bytes=0-2"}); r.StatusCode != 206 || string(r.body) != "\xff\xd8\xff" {
		t.Errorf("range: %d %q", r.StatusCode, r.body)
	}

	// Another user gets what a missing item gets, for both, unless they
	// hold a signed link: a copied link opens for its lifetime, as the
	// README says.
	for _, u := range []string{thumbURL, relative(t, ts, item["assetUrl"])} {
		if r := bob.do(t, "GET", u, nil, nil); r.StatusCode != 200 {
			t.Errorf("bob with the signed link %s: %d", u, r.StatusCode)
		}
	}
	for _, u := range []string{"/api/history/" + id + "/asset?variant=thumbnail", "/api/history/" + id + "/asset"} {
		if r := bob.do(t, "GET", u, nil, nil); r.StatusCode != 404 || string(r.body) != `{"error":"History item asset not found."}` {
			t.Errorf("bob's %s: %d %s", u, r.StatusCode, r.body)
		}
	}
	if r := ann.do(t, "GET", "/api/history/"+id+"/asset?variant=small", nil, nil); r.StatusCode != 400 || !strings.Contains(string(r.body), `"code":"INVALID_REQUEST"`) {
		t.Errorf("unknown variant: %d %s", r.StatusCode, r.body)
	}

	// A generation from before thumbnails has none: the full image, as is.
	if err := ts.app.Storage.Delete(t.Context(), "users/"+uid+"/generations/"+id+"/thumbnail.jpg"); err != nil {
		t.Fatal(err)
	}
	old := ann.do(t, "GET", thumbURL, nil, nil)
	if old.StatusCode != 200 || old.Header.Get("Content-Type") != "image/png" || !bytes.Equal(old.body, full.body) || old.Header.Get("ETag") != full.Header.Get("ETag") {
		t.Errorf("fallback: %d %q, %d bytes", old.StatusCode, old.Header.Get("Content-Type"), len(old.body))
	}

	if r := ann.do(t, "DELETE", "/api/history/"+id, nil, nil); r.StatusCode != 200 {
		t.Fatalf("delete: %d %s", r.StatusCode, r.body)
	}
	r = ann.do(t, "POST", "/api/workflows/image-from-reference", map[string]any{"prompt": "on marble", "referenceImageUrl": pngDataURL(t)}, nil)
	if r.StatusCode != 200 {
		t.Fatalf("generate: %d %s", r.StatusCode, r.body)
	}
	second := r.json(t)["generationId"].(string)
	if got := objectNames(t, ts, uid, second); !slices.Equal(got, []string{"output.png", "thumbnail.jpg"}) {
		t.Fatalf("stored %v", got)
	}
	if r := ann.do(t, "DELETE", "/api/history/"+second, nil, nil); r.StatusCode != 200 {
		t.Fatalf("delete: %d %s", r.StatusCode, r.body)
	}
	if files := storedFiles(t, ts, "users/"+uid); len(files) != 0 {
		t.Errorf("left after the deletes: %v", files)
	}
}

// TestThumbnailFailureKeepsGeneration: a thumbnail that cannot be made
// (injected here; TestRunnerStoresThumbnail covers bombs, bad bytes and a
// refusing bucket) leaves the generation succeeded, its credit spent, and
// its gallery entry showing the full image.
func TestThumbnailFailureKeepsGeneration(t *testing.T) {
	t.Parallel()
	ts, _ := newGenServer(t, nil)
	ts.app.InjectFaults(func(step string) error {
		if step == "thumbnail" {
			return errors.New("injected")
		}
		return nil
	})
	b := ts.browser()
	b.signUp(t, "thumb-fail@example.com", "password123")
	uid := userID(t, ts, "thumb-fail@example.com")
	r := b.do(t, "POST", "/api/workflows/image-from-text", spaTextPayload("a ceramic mug"), nil)
	if r.StatusCode != 200 || r.json(t)["status"] != "completed" {
		t.Fatalf("generate: %d %s", r.StatusCode, r.body)
	}
	id := r.json(t)["generationId"].(string)
	if got := objectNames(t, ts, uid, id); !slices.Equal(got, []string{"output.png"}) {
		t.Fatalf("stored %v", got)
	}
	if d, f := invariant(t, ts, "thumb-fail@example.com"); d != 1 || f != 0 {
		t.Fatalf("ledger: %d debits, %d refunds", d, f)
	}
	item := b.do(t, "GET", "/api/history", nil, nil).json(t)["items"].([]any)[0].(map[string]any)
	if item["status"] != "succeeded" {
		t.Fatalf("history item %v", item)
	}
	if r := b.do(t, "GET", relative(t, ts, item["thumbnailUrl"]), nil, nil); r.StatusCode != 200 || r.Header.Get("Content-Type") != "image/png" {
		t.Errorf("thumbnail URL without a thumbnail: %d %q", r.StatusCode, r.Header.Get("Content-Type"))
	}
}

// TestThumbnailsOfEveryResult: results that arrive as data URLs (make dev's
// built-in generator, the fake's data-image) and as a JPEG get thumbnails
// through the same path.
func TestThumbnailsOfEveryResult(t *testing.T) {
	t.Parallel()
	ts, _ := newGenServer(t, nil)
	for i, marker := range []string{qwenfake.DataImage, qwenfake.MislabeledImage} {
		b := ts.browser()
		b.signUp(t, "thumb-every"+string(rune('a'+i))+"@example.com", "password123")
		r := b.do(t, "POST", "/api/workflows/image-from-text", spaTextPayload("mug "+marker), nil)
		if r.StatusCode != 200 {
			t.Fatalf("%s: %d %s", marker, r.StatusCode, r.body)
		}
		id := r.json(t)["generationId"].(string)
		if b := jpegOf(t, b.do(t, "GET", "/api/history/"+id+"/asset?variant=thumbnail", nil, nil)).Bounds(); max(b.Dx(), b.Dy()) != 512 {
			t.Errorf("%s: thumbnail %v", marker, b)
		}
	}

	// make dev itself: no DashScope key, the built-in generator.
	local := newLocalServer(t, map[string]string{"OBJECTS_DIR": t.TempDir()})
	b := local.browser()
	b.signUp(t, "thumb-local@example.com", "password123")
	r := b.do(t, "POST", "/api/workflows/image-from-text", map[string]any{"prompt": "a ceramic mug", "parameters": map[string]any{"size": "928*1664"}}, nil)
	if r.StatusCode != 200 {
		t.Fatalf("local: %d %s", r.StatusCode, r.body)
	}
	item := b.do(t, "GET", "/api/history", nil, nil).json(t)["items"].([]any)[0].(map[string]any)
	if b := jpegOf(t, b.do(t, "GET", relative(t, local, item["thumbnailUrl"]), nil, nil)).Bounds(); b.Dx() != 286 || b.Dy() != 512 {
		t.Errorf("local thumbnail %v, want 286×512", b)
	}
}
