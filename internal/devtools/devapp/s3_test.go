package devapp_test

import (
	"errors"
	"net/http"
	"strings"
	"testing"

	"adstudio/internal/devtools/objectstoretest"
	"adstudio/internal/devtools/testenv"
	"adstudio/internal/objectstore"
)

// TestGenerateWithS3 runs generations against a real S3-compatible server
// (versitygw, region auto, path-style: R2's settings): the copy, the asset
// route inline and as a presigned redirect, and deletes.
func TestGenerateWithS3(t *testing.T) {
	t.Parallel()
	gw := objectstoretest.Start(t, testenv.Tool(t, objectstoretest.BinEnv, objectstoretest.BinHow), "generations")
	ts, _ := newGenServer(t, map[string]string{
		"OBJECTS_DIR": "", "R2_ACCESS_KEY_ID": gw.Access, "R2_SECRET_ACCESS_KEY": gw.Secret,
		"R2_BUCKET": "generations", "S3_ENDPOINT": gw.Endpoint,
	})
	if _, ok := ts.app.Storage.(*objectstore.S3); !ok {
		t.Fatalf("storage is %T, want the S3 store", ts.app.Storage)
	}
	b := ts.browser()
	b.signUp(t, "s3@example.com", "password123")

	// A small image is served inline, with ETag/304 and ranges.
	r := b.do(t, "POST", "/api/workflows/image-from-reference", map[string]any{"prompt": "on marble", "referenceImageUrl": pngDataURL(t)}, nil)
	if r.StatusCode != 200 {
		t.Fatalf("generate: %d %s", r.StatusCode, r.body)
	}
	small := r.json(t)["generationId"].(string)
	a := b.do(t, "GET", "/api/history/"+small+"/asset", nil, nil)
	if a.StatusCode != 200 || a.Header.Get("Content-Type") != "image/png" || !strings.HasPrefix(string(a.body), "\x89PNG") || a.Header.Get("ETag") == "" {
		t.Fatalf("asset from S3: %d %v", a.StatusCode, a.Header)
	}
	if r := b.do(t, "GET", "/api/history/"+small+"/asset", nil, header{"If-None-Match": a.Header.Get("ETag")}); r.StatusCode != 304 {
		t.Fatalf("If-None-Match against S3: %d", r.StatusCode)
	}
	if r := b.do(t, "GET", "/api/history/"+small+"/asset", nil, header{"Range": "bytes=1-3"}); r.StatusCode != 206 || string(r.body) != "PNG" {
		t.Fatalf("range against S3: %d %q", r.StatusCode, r.body)
	}

	// A 5 MB image is too big for a Lambda response: a presigned redirect.
	r = b.do(t, "POST", "/api/workflows/image-from-text", map[string]any{"prompt": "poster [fake:big-image]"}, nil)
	if r.StatusCode != 200 {
		t.Fatalf("big generate: %d %s", r.StatusCode, r.body)
	}
	big := r.json(t)["generationId"].(string)
	a = b.do(t, "GET", "/api/history/"+big+"/asset", nil, nil)
	loc := a.Header.Get("Location")
	if a.StatusCode != 302 || !strings.HasPrefix(loc, gw.Endpoint+"/generations/users/") || !strings.Contains(loc, "X-Amz-Signature=") {
		t.Fatalf("big asset: %d Location=%q", a.StatusCode, loc)
	}
	res, err := http.Get(loc)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != 200 || res.ContentLength < 4<<20 {
		t.Fatalf("presigned URL: %d, %d bytes", res.StatusCode, res.ContentLength)
	}

	// Deleting the item deletes its object in the bucket.
	var key string
	ts.app.DB.QueryRow(t.Context(), `SELECT "r2_key" FROM "generation" WHERE "id" = ?`, small).Scan(&key)
	if r := b.do(t, "DELETE", "/api/history/"+small, nil, nil); r.StatusCode != 200 {
		t.Fatalf("delete: %d", r.StatusCode)
	}
	if _, err := ts.app.Storage.Head(t.Context(), key); !errors.Is(err, objectstore.ErrNotFound) {
		t.Fatalf("object after delete: %v", err)
	}
	// Deleting the user takes the rest.
	ts.app.DB.QueryRow(t.Context(), `SELECT "r2_key" FROM "generation" WHERE "id" = ?`, big).Scan(&key)
	if r := b.do(t, "POST", "/api/auth/delete-user", map[string]any{"password": "password123"}, nil); r.StatusCode != 200 {
		t.Fatalf("delete-user: %d", r.StatusCode)
	}
	if _, err := ts.app.Storage.Head(t.Context(), key); !errors.Is(err, objectstore.ErrNotFound) {
		t.Fatalf("object of a deleted user: %v", err)
	}
}
