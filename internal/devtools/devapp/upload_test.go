package devapp_test

import (
	"bytes"
	"encoding/base64"
	"image"
	"image/png"
	"io"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"adstudio/internal/devtools/objectstoretest"
	"adstudio/internal/devtools/qwenfake"
	"adstudio/internal/devtools/testenv"
	"adstudio/internal/objectstore"
)

// TestUploads: a reference image goes around the request body. The browser
// asks POST /api/uploads for a presigned PUT, sends the file to the bucket,
// and names the upload as its referenceImageUrl. Against both buckets: the
// local folder make dev uses (its own upload endpoint) and a real S3 server
// (versitygw, as R2). Every refusal spends no credit.
func TestUploads(t *testing.T) {
	t.Parallel()
	t.Run("local folder", func(t *testing.T) {
		t.Parallel()
		ts := newLocalServer(t, map[string]string{"OBJECTS_DIR": filepath.Join(t.TempDir(), "objects")})
		// The presigned URLs name the public origin; this server listens
		// elsewhere.
		reach := func(u string) string { return strings.Replace(u, "http://127.0.0.1:1", ts.srv.URL, 1) }
		uploadFlow(t, ts, nil, reach)
		// The URL expires (this bucket reads the app's clock; S3's
		// expiry is tested in internal/objectstore).
		b := ts.browser()
		b.signUp(t, "late@example.com", "password123")
		img := testPNG(t, 8, 8)
		u := askUpload(t, b, "image/png", len(img))
		ts.clock.Advance(16 * time.Minute)
		if code := put(t, reach(u.URL), u.Headers, img); code != 403 {
			t.Errorf("PUT after the URL expired: %d, want 403", code)
		}
	})
	t.Run("S3", func(t *testing.T) {
		t.Parallel()
		gw := objectstoretest.Start(t, testenv.Tool(t, objectstoretest.BinEnv, objectstoretest.BinHow), "generations")
		ts, fake := newGenServer(t, map[string]string{
			"OBJECTS_DIR": "", "R2_ACCESS_KEY_ID": gw.Access, "R2_SECRET_ACCESS_KEY": gw.Secret,
			"R2_BUCKET": "generations", "S3_ENDPOINT": gw.Endpoint,
		})
		uploadFlow(t, ts, fake, func(u string) string { return u })
	})
}

// upload is POST /api/uploads's answer.
type upload struct {
	URL, Reference string
	Headers        map[string]string
}

func askUpload(t *testing.T, b *browser, contentType string, size int) upload {
	t.Helper()
	r := b.do(t, "POST", "/api/uploads", map[string]any{"contentType": contentType, "size": size}, nil)
	if r.StatusCode != 200 {
		t.Fatalf("POST /api/uploads: %d %s", r.StatusCode, r.body)
	}
	m := r.json(t)
	u := upload{URL: m["uploadUrl"].(string), Reference: m["referenceImageUrl"].(string), Headers: map[string]string{}}
	for k, v := range m["headers"].(map[string]any) {
		u.Headers[k] = v.(string)
	}
	if m["method"] != "PUT" || u.Headers["Content-Type"] != contentType || !strings.HasPrefix(u.Reference, "http://127.0.0.1:1/api/uploads/") {
		t.Fatalf("upload answer %s", r.body)
	}
	if exp, err := time.Parse(time.RFC3339, m["expiresAt"].(string)); err != nil || exp.IsZero() {
		t.Fatalf("expiresAt %v: %v", m["expiresAt"], err)
	}
	return u
}

// put sends body to the upload URL as a browser's fetch does: the
// answer's headers, no cookie, from the SPA's origin.
func put(t *testing.T, url string, headers map[string]string, body []byte) int {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), "PUT", url, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range headers {
		if k != "Content-Length" { // net/http sets it from the body, as a browser does
			req.Header.Set(k, v)
		}
	}
	req.Header.Set("Origin", spaOrigin)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, res.Body)
	res.Body.Close()
	return res.StatusCode
}

// appError asserts the app API's error shape.
func appError(t *testing.T, r resp, status int, code, message string) {
	t.Helper()
	if r.StatusCode != status {
		t.Fatalf("status %d, want %d: %s", r.StatusCode, status, r.body)
	}
	e, _ := r.json(t)["error"].(map[string]any)
	if e["code"] != code || (message != "" && e["message"] != message) {
		t.Fatalf("error %s, want %s %q", r.body, code, message)
	}
}

func testPNG(t *testing.T, w, h int) []byte {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for i := range img.Pix {
		img.Pix[i] = byte(i * 7)
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

const (
	msgUploadMissing  = "The uploaded reference image was not found: it expired (uploads last a day) or was never completed. Upload it again."
	msgUploadNotImage = "The uploaded reference image is not a JPEG, PNG, WebP, GIF, BMP or TIFF image."
)

func uploadFlow(t *testing.T, ts *testServer, fake *qwenfake.Server, reach func(string) string) {
	ann := ts.browser()
	ann.signUp(t, "ann@example.com", "password123")
	ann.do(t, "POST", "/api/auth/sign-out", map[string]any{}, nil)
	ann.signIn(t, "ann@example.com", "password123")
	if _, _, err := ts.app.Generations.Grant(t.Context(), userID(t, ts, "ann@example.com"), "image-from-reference", 5, "admin_grant", "test-grant", ts.clock.Now()); err != nil {
		t.Fatal(err)
	}
	_, before := ann.balance(t)
	spent := func(want int) {
		t.Helper()
		if _, got := ann.balance(t); before-got != want {
			t.Fatalf("credits spent %d, want %d", before-got, want)
		}
	}
	generate := func(ref string) resp {
		return ann.do(t, "POST", "/api/workflows/image-from-reference", map[string]any{"prompt": "on marble", "referenceImageUrl": ref}, nil)
	}
	img := testPNG(t, 96, 64)

	// The request itself: type, size, signed in.
	appError(t, ann.do(t, "POST", "/api/uploads", map[string]any{"contentType": "text/html", "size": 10}, nil), 400, "INVALID_REQUEST", "")
	appError(t, ann.do(t, "POST", "/api/uploads", map[string]any{"contentType": "image/png", "size": 0}, nil), 400, "INVALID_REQUEST", "")
	appError(t, ann.do(t, "POST", "/api/uploads", map[string]any{"contentType": "image/png", "size": "12"}, nil), 400, "INVALID_REQUEST", "")
	appError(t, ann.do(t, "POST", "/api/uploads", map[string]any{"contentType": "image/png", "size": 10<<20 + 1}, nil), 413, "PAYLOAD_TOO_LARGE",
		"The file is larger than the 10 MB upload limit.")
	appError(t, ts.browser().do(t, "POST", "/api/uploads", map[string]any{"contentType": "image/png", "size": 10}, nil), 401, "UNAUTHORIZED", "")

	// Within limits: PUT, then generate from it.
	u := askUpload(t, ann, "image/png", len(img))
	if code := put(t, reach(u.URL), u.Headers, img); code != 200 {
		t.Fatalf("PUT within limits: %d", code)
	}
	r := generate(u.Reference)
	if r.StatusCode != 200 {
		t.Fatalf("generate from an upload: %d %s", r.StatusCode, r.body)
	}
	spent(1)
	if fake != nil && !strings.Contains(string(fake.LastBody()), base64.StdEncoding.EncodeToString(img)) {
		t.Error("the provider did not get the uploaded bytes as a data URL")
	}

	// The bucket refuses what the URL was not signed for.
	u = askUpload(t, ann, "image/png", len(img))
	if code := put(t, reach(u.URL), map[string]string{"Content-Type": "image/jpeg"}, img); code != 403 {
		t.Errorf("PUT with another type: %d, want 403", code)
	}
	if code := put(t, reach(u.URL), u.Headers, append(img, 0)); code < 400 {
		t.Errorf("PUT of a larger body: %d, want a refusal", code)
	}
	// Nothing stored: naming it is a 400, no credit.
	appError(t, generate(u.Reference), 400, "INVALID_REQUEST", msgUploadMissing)
	spent(1)

	// Bytes that are no image, declared as one.
	notImage := []byte("<svg xmlns='http://www.w3.org/2000/svg'><script>alert(1)</script></svg>")
	u = askUpload(t, ann, "image/png", len(notImage))
	if code := put(t, reach(u.URL), u.Headers, notImage); code != 200 {
		t.Fatalf("PUT of a non-image: %d", code)
	}
	appError(t, generate(u.Reference), 400, "INVALID_REQUEST", msgUploadNotImage)
	spent(1)

	// Another user's upload is not there for Ann.
	bob := ts.browser()
	bob.signUp(t, "bob@example.com", "password123")
	bu := askUpload(t, bob, "image/png", len(img))
	if code := put(t, reach(bu.URL), bu.Headers, img); code != 200 {
		t.Fatalf("Bob's PUT: %d", code)
	}
	appError(t, generate(bu.Reference), 400, "INVALID_REQUEST", msgUploadMissing)
	appError(t, generate("http://127.0.0.1:1/api/uploads/..%2F"+userID(t, ts, "bob@example.com")), 400, "INVALID_REQUEST", "")
	spent(1)

	// A day later the sweep deletes every upload (the clock is moved past
	// the files' real times: the store dates them by the wall clock).
	ts.clock.Advance(time.Since(ts.clock.Now()) + 25*time.Hour)
	if _, err := ts.app.Sweep(t.Context()); err != nil {
		t.Fatal(err)
	}
	_, err := ts.app.Storage.Head(t.Context(), objectstore.UploadKey(userID(t, ts, "bob@example.com"), bu.Reference[strings.LastIndex(bu.Reference, "/")+1:]))
	if err == nil {
		t.Error("an upload outlived its day")
	}
}
