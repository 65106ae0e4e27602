package historyapi_test

import (
	"bytes"
	"image"
	"image/jpeg"
	"image/png"
	"net/http"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"adstudio/internal/devtools/apitest"
	"adstudio/internal/functions/billing"
	"adstudio/internal/functions/history"
	"adstudio/internal/functions/imageproxy"
	"adstudio/internal/objectstore"
	"adstudio/internal/server"
)

// vars give both functions a bucket (a local folder), as on Lambda.
func vars(t *testing.T) map[string]string {
	return map[string]string{"OBJECTS_DIR": filepath.Join(t.TempDir(), "objects")}
}

// newEnv is the history function as its Lambda builds it: list, detail,
// delete.
func newEnv(t *testing.T) *apitest.Env {
	return apitest.New(t, vars(t), func(c *server.Core) (http.Handler, error) {
		return c.Handler(history.Part(history.New(c), billing.New(c)))
	})
}

// newAssetEnv is the image proxy function, which serves the asset route
// with the same history API.
func newAssetEnv(t *testing.T) *apitest.Env {
	return apitest.New(t, vars(t), func(c *server.Core) (http.Handler, error) {
		return c.Handler(imageproxy.Part(history.New(c)))
	})
}

// gen is a generation row to seed.
type gen struct {
	id, email, workflow, status string
	asset                       bool // store a PNG and point r2_key at it
	thumb                       bool // and store its thumbnail (a JPEG)
}

// seed signs up every email it meets (the first one's cookie is sent) and
// inserts gens through SQL, as rows left by the generate function.
func seed(gens ...gen) func(t *testing.T, env *apitest.Env) {
	return func(t *testing.T, env *apitest.Env) {
		users := map[string]string{}
		for i, g := range gens {
			if users[g.email] == "" {
				cookie := env.SignUp(t, g.email)
				if env.Cookie == "" {
					env.Cookie = cookie
				}
				users[g.email] = env.UserID(t, g.email)
			}
			uid := users[g.email]
			var key any
			if g.asset {
				k := objectstore.ResultKey(uid, g.id, "png")
				if err := env.Core.Objects.Put(t.Context(), k, "image/png", pngBytes(t)); err != nil {
					t.Fatal(err)
				}
				key = k
			}
			if g.thumb {
				if err := env.Core.Objects.Put(t.Context(), objectstore.ThumbnailKey(uid, g.id), "image/jpeg", jpegBytes(t)); err != nil {
					t.Fatal(err)
				}
			}
			wf := g.workflow
			if wf == "" {
				wf = "image-from-text"
			}
			at := env.Clock.Now().Unix() + int64(i) // later rows list first
			env.Exec(t, `INSERT INTO "generation" ("id","user_id","workflow","status","input_json","r2_key","created_at","updated_at") VALUES (?,?,?,?,?,?,?,?)`,
				g.id, uid, wf, g.status, `{"prompt":"mug `+g.id+`"}`, key, at, at)
		}
	}
}

// signedIn signs up ann@example.com, with no generations.
func signedIn(t *testing.T, env *apitest.Env) { env.Cookie = env.SignUp(t, "ann@example.com") }

func pngBytes(t *testing.T) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := png.Encode(&buf, image.NewGray(image.Rect(0, 0, 4, 3))); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// jpegBytes is a thumbnail's bytes: a small JPEG, unlike the PNG above.
func jpegBytes(t *testing.T) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, image.NewGray(image.Rect(0, 0, 2, 1)), nil); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// body asserts the whole response body.
func body(want string) func(*testing.T, *apitest.Env, *http.Response, string) {
	return func(t *testing.T, _ *apitest.Env, _ *http.Response, got string) {
		t.Helper()
		if got != want {
			t.Errorf("body %q, want %q", got, want)
		}
	}
}

var (
	signedOut = []string{`{"error":{"code":"UNAUTHORIZED","message":"Authentication required."},"requestId":"`}
	forged    = http.Header{"Cookie": {"better-auth.session_token=forged.AAAA"}}
	// Ann owns g1 (succeeded, stored) and g2 (failed); Bob owns b1.
	annAndBob = seed(
		gen{id: "g1", email: "ann@example.com", status: "succeeded", asset: true},
		gen{id: "g2", email: "ann@example.com", workflow: "image-from-reference", status: "failed"},
		gen{id: "b1", email: "bob@example.com", status: "succeeded", asset: true},
	)
	// The same, with thumbnails stored beside g1's and b1's images.
	withThumbnails = seed(
		gen{id: "g1", email: "ann@example.com", status: "succeeded", asset: true, thumb: true},
		gen{id: "g2", email: "ann@example.com", workflow: "image-from-reference", status: "failed"},
		gen{id: "b1", email: "bob@example.com", status: "succeeded", asset: true, thumb: true},
	)
	invalidVariant = []string{`{"error":{"code":"INVALID_REQUEST","message":"Unknown variant: the only one is \"thumbnail\"."},"requestId":"`}
)

const (
	itemNotFound  = `{"error":"History item not found."}`
	assetNotFound = `{"error":"History item asset not found."}`
	notFound      = `{"error":"Not found"}`
)

func TestScenarios(t *testing.T) {
	apitest.Run(t, newEnv, []apitest.Scenario{
		// list
		{Name: "list signed out", Method: "GET", Path: "/api/history", Status: 401, Contains: signedOut},
		{Name: "list with a forged cookie", Method: "GET", Path: "/api/history", Header: forged, Before: annAndBob, Status: 401, Contains: signedOut},
		{
			Name: "list empty", Method: "GET", Path: "/api/history", Before: signedIn,
			Status: 200, Contains: []string{`"items":[]`, `"total":0`, `"nextOffset":null`},
		},
		{
			Name: "list own generations only, newest first", Method: "GET", Path: "/api/history", Before: annAndBob,
			Status: 200,
			Contains: []string{`"total":2`, `"id":"g2"`, `"id":"g1"`,
				`"assetUrl":"http://127.0.0.1:1/api/history/g1/asset?exp=`,
				`"thumbnailUrl":"http://127.0.0.1:1/api/history/g1/asset?variant=thumbnail&exp=`,
				`"assetUrl":null`, `"thumbnailUrl":null`, `"limit":20`},
			NotContains: []string{`"b1"`, `"input"`},
			After: func(t *testing.T, _ *apitest.Env, _ *http.Response, body string) {
				if i, j := bytes.Index([]byte(body), []byte(`"g2"`)), bytes.Index([]byte(body), []byte(`"g1"`)); i > j {
					t.Errorf("g1 listed before the newer g2: %s", body)
				}
			},
		},
		{
			Name: "list a page", Method: "GET", Path: "/api/history?limit=1&offset=1", Before: annAndBob,
			Status: 200, Contains: []string{`"id":"g1"`, `"limit":1`, `"offset":1`, `"nextOffset":null`}, NotContains: []string{`"g2"`},
		},
		{
			Name: "list filtered by status", Method: "GET", Path: "/api/history?status=failed", Before: annAndBob,
			Status: 200, Contains: []string{`"id":"g2"`, `"total":1`}, NotContains: []string{`"g1"`},
		},
		{
			// An owner's read fails (and refunds) what has been pending
			// longer than any generation can take.
			Name: "list sweeps a stale pending generation", Method: "GET", Path: "/api/history",
			Before: func(t *testing.T, env *apitest.Env) {
				seed(gen{id: "p1", email: "ann@example.com", status: "pending"})(t, env)
				env.Clock.Advance(time.Hour)
			},
			Status: 200, Contains: []string{`"status":"failed"`, `"errorCode":"UPSTREAM_TIMEOUT"`},
			Rows: map[string]int{"generation": 0, "credit_ledger": 1},
		},

		// detail
		{
			Name: "detail of own", Method: "GET", Path: "/api/history/g1", Before: annAndBob,
			Status: 200, Contains: []string{`"item":{`, `"id":"g1"`, `"input":{"prompt":"mug g1"}`, `"status":"succeeded"`,
				`"thumbnailUrl":"http://127.0.0.1:1/api/history/g1/asset?variant=thumbnail&exp=`},
		},
		{
			// No stored copy: the provider's URL is both, there is nothing
			// smaller to offer.
			Name: "detail of an item without a stored copy", Method: "GET", Path: "/api/history/p1",
			Before: func(t *testing.T, env *apitest.Env) {
				seed(gen{id: "p1", email: "ann@example.com", status: "succeeded"})(t, env)
				env.Exec(t, `UPDATE "generation" SET "output_json" = '{"images":["https://cdn.example.com/r.png?Expires=1"]}' WHERE "id" = 'p1'`)
			},
			Status: 200, Contains: []string{`"assetUrl":"https://cdn.example.com/r.png?Expires=1"`, `"thumbnailUrl":"https://cdn.example.com/r.png?Expires=1"`},
		},
		{Name: "detail of another user's", Method: "GET", Path: "/api/history/b1", Before: annAndBob, Status: 404, After: body(itemNotFound)},
		{Name: "detail of a missing id", Method: "GET", Path: "/api/history/nope", Before: annAndBob, Status: 404, After: body(itemNotFound)},
		{Name: "detail with a hostile id", Method: "GET", Path: "/api/history/b1'%20OR%20'1'='1", Before: annAndBob, Status: 404, After: body(itemNotFound)},
		{Name: "detail signed out", Method: "GET", Path: "/api/history/g1", Before: func(t *testing.T, env *apitest.Env) { annAndBob(t, env); env.Cookie = "" }, Status: 401, Contains: signedOut},

		// delete
		{
			Name: "delete own", Method: "DELETE", Path: "/api/history/g1", Header: apitest.SPA(), Before: withThumbnails,
			Status: 200, After: func(t *testing.T, env *apitest.Env, _ *http.Response, body string) {
				if body != `{"deleted":true,"id":"g1"}` {
					t.Errorf("body %s", body)
				}
				uid := env.UserID(t, "ann@example.com")
				if _, err := env.Core.Objects.Head(t.Context(), objectstore.ResultKey(uid, "g1", "png")); err == nil {
					t.Error("the image outlived its generation")
				}
				if _, err := env.Core.Objects.Head(t.Context(), objectstore.ThumbnailKey(uid, "g1")); err == nil {
					t.Error("the thumbnail outlived its generation")
				}
			},
			Rows: map[string]int{"generation": -1, "credit_ledger": 0},
		},
		{
			Name: "delete own pending refunds it", Method: "DELETE", Path: "/api/history/p1", Header: apitest.SPA(),
			Before: seed(gen{id: "p1", email: "ann@example.com", status: "pending"}),
			Status: 200, Rows: map[string]int{"generation": -1, "credit_ledger": 1},
		},
		{
			Name: "delete another user's", Method: "DELETE", Path: "/api/history/b1", Header: apitest.SPA(), Before: annAndBob,
			Status: 404, After: body(itemNotFound), Rows: map[string]int{"generation": 0},
		},
		{
			Name: "delete with a cookie and no Origin", Method: "DELETE", Path: "/api/history/g1", Before: annAndBob,
			Status: 403, Contains: []string{`"code":"MISSING_OR_NULL_ORIGIN"`}, Rows: map[string]int{"generation": 0},
		},
		{
			Name: "delete from an untrusted origin", Method: "DELETE", Path: "/api/history/g1", Before: annAndBob,
			Header: http.Header{"Origin": {"https://evil.example"}},
			Status: 403, Contains: []string{`"code":"INVALID_ORIGIN"`}, Rows: map[string]int{"generation": 0},
		},
		{
			Name: "delete with a forged cookie", Method: "DELETE", Path: "/api/history/g1", Before: annAndBob,
			Header: http.Header{"Origin": {apitest.Origin}, "Cookie": forged["Cookie"]},
			Status: 401, Contains: signedOut, Rows: map[string]int{"generation": 0},
		},

		// method and path edges: the app API's 404
		{Name: "POST to the list", Method: "POST", Path: "/api/history", Body: `{}`, Header: apitest.SPA(), Before: signedIn, Status: 404, After: body(notFound)},
		{Name: "path below an item", Method: "GET", Path: "/api/history/g1/x", Before: annAndBob, Status: 404, After: body(notFound)},
		{Name: "unclean path", Method: "GET", Path: "/api/history/../me", Before: signedIn, Status: 404, After: body(notFound)},
		// The asset is the image proxy's route, not this function's.
		{Name: "asset is not the history function's", Method: "GET", Path: "/api/history/g1/asset", Before: annAndBob, Status: 404, After: body(notFound)},
	})
}

func TestAssetScenarios(t *testing.T) {
	apitest.Run(t, newAssetEnv, []apitest.Scenario{
		{
			Name: "own asset", Method: "GET", Path: "/api/history/g1/asset", Before: annAndBob,
			Status: 200, After: func(t *testing.T, _ *apitest.Env, res *http.Response, body string) {
				h := res.Header
				if h.Get("Content-Type") != "image/png" || h.Get("X-Content-Type-Options") != "nosniff" || h.Get("Cache-Control") != "private, max-age=3600" ||
					h.Get("Content-Disposition") != `inline; filename="g1.png"` || body != string(pngBytes(t)) {
					t.Errorf("asset %v, %d bytes", h, len(body))
				}
			},
		},
		{
			Name: "own asset, one range", Method: "GET", Path: "/api/history/g1/asset", Before: annAndBob,
			Header: http.Header{"Range": {"bytes=0-7"}}, Status: 206, After: body("\x89PNG\r\n\x1a\n"),
		},
		{
			Name: "own asset, If-None-Match", Method: "GET", Path: "/api/history/g1/asset", Before: annAndBob,
			Header: http.Header{"If-None-Match": {"*"}}, Status: 304, After: body(""),
		},
		{Name: "another user's asset", Method: "GET", Path: "/api/history/b1/asset", Before: annAndBob, Status: 404, After: body(assetNotFound)},

		// ?variant=thumbnail: hostile and unknown first.
		{Name: "another user's thumbnail", Method: "GET", Path: "/api/history/b1/asset?variant=thumbnail", Before: withThumbnails, Status: 404, After: body(assetNotFound)},
		{Name: "thumbnail of a missing id", Method: "GET", Path: "/api/history/nope/asset?variant=thumbnail", Before: withThumbnails, Status: 404, After: body(assetNotFound)},
		{Name: "thumbnail of a generation without an image", Method: "GET", Path: "/api/history/g2/asset?variant=thumbnail", Before: withThumbnails, Status: 404, After: body(assetNotFound)},
		{Name: "thumbnail signed out", Method: "GET", Path: "/api/history/g1/asset?variant=thumbnail", Status: 401, Contains: signedOut},
		{Name: "thumbnail with a forged cookie", Method: "GET", Path: "/api/history/g1/asset?variant=thumbnail", Header: forged, Before: withThumbnails, Status: 401, Contains: signedOut},
		{Name: "unknown variant", Method: "GET", Path: "/api/history/g1/asset?variant=original", Before: withThumbnails, Status: 400, Contains: invalidVariant},
		{Name: "empty variant", Method: "GET", Path: "/api/history/g1/asset?variant=", Before: withThumbnails, Status: 400, Contains: invalidVariant},
		{Name: "variant in another case", Method: "GET", Path: "/api/history/g1/asset?variant=THUMBNAIL", Before: withThumbnails, Status: 400, Contains: invalidVariant},
		// Refused before the row is read: another user's item looks the same.
		{Name: "unknown variant of another user's", Method: "GET", Path: "/api/history/b1/asset?variant=x", Before: withThumbnails, Status: 400, Contains: invalidVariant},
		{
			Name: "own thumbnail", Method: "GET", Path: "/api/history/g1/asset?variant=thumbnail", Before: withThumbnails,
			Status: 200, After: func(t *testing.T, _ *apitest.Env, res *http.Response, body string) {
				h := res.Header
				if h.Get("Content-Type") != "image/jpeg" || h.Get("X-Content-Type-Options") != "nosniff" || h.Get("Cache-Control") != "private, max-age=3600" ||
					h.Get("Content-Security-Policy") != "default-src 'none'; sandbox" || h.Get("Accept-Ranges") != "bytes" || h.Get("ETag") == "" ||
					h.Get("Content-Disposition") != `inline; filename="g1-thumbnail.jpg"` || body != string(jpegBytes(t)) {
					t.Errorf("thumbnail %v, %d bytes", h, len(body))
				}
			},
		},
		{
			Name: "own thumbnail, one range", Method: "GET", Path: "/api/history/g1/asset?variant=thumbnail", Before: withThumbnails,
			Header: http.Header{"Range": {"bytes=0-2"}}, Status: 206, After: body("\xff\xd8\xff"),
		},
		{
			Name: "own thumbnail, If-None-Match", Method: "GET", Path: "/api/history/g1/asset?variant=thumbnail", Before: withThumbnails,
			Header: http.Header{"If-None-Match": {"*"}}, Status: 304, After: body(""),
		},
		{
			Name: "own thumbnail, the full image's ETag", Method: "GET", Path: "/api/history/g1/asset?variant=thumbnail",
			Before: func(t *testing.T, env *apitest.Env) {
				withThumbnails(t, env)
				info, err := env.Core.Objects.Head(t.Context(), objectstore.ResultKey(env.UserID(t, "ann@example.com"), "g1", "png"))
				if err != nil {
					t.Fatal(err)
				}
				env.Extra = info.ETag
			},
			Status: 200, After: func(t *testing.T, env *apitest.Env, res *http.Response, body string) {
				if res.Header.Get("ETag") == env.Extra || res.Header.Get("Content-Type") != "image/jpeg" {
					t.Errorf("the thumbnail shares the image's ETag %v", env.Extra)
				}
			},
		},
		{
			Name: "own thumbnail, unsatisfiable range", Method: "GET", Path: "/api/history/g1/asset?variant=thumbnail", Before: withThumbnails,
			Header: http.Header{"Range": {"bytes=999999-"}}, Status: 416, After: func(t *testing.T, _ *apitest.Env, res *http.Response, _ string) {
				if res.Header.Get("Content-Range") != "bytes */"+strconv.Itoa(len(jpegBytes(t))) {
					t.Errorf("Content-Range %q", res.Header.Get("Content-Range"))
				}
			},
		},
		{
			// A generation from before thumbnails: the full image, as it is.
			Name: "thumbnail falls back to the image", Method: "GET", Path: "/api/history/g1/asset?variant=thumbnail", Before: annAndBob,
			Status: 200, After: func(t *testing.T, _ *apitest.Env, res *http.Response, body string) {
				h := res.Header
				if h.Get("Content-Type") != "image/png" || h.Get("Content-Disposition") != `inline; filename="g1.png"` || h.Get("ETag") == "" || body != string(pngBytes(t)) {
					t.Errorf("fallback %v, %d bytes", h, len(body))
				}
			},
		},
		{
			Name: "thumbnail falls back, one range", Method: "GET", Path: "/api/history/g1/asset?variant=thumbnail", Before: annAndBob,
			Header: http.Header{"Range": {"bytes=0-7"}}, Status: 206, After: body("\x89PNG\r\n\x1a\n"),
		},
		{
			Name: "thumbnail falls back, malformed range", Method: "GET", Path: "/api/history/g1/asset?variant=thumbnail", Before: annAndBob,
			Header: http.Header{"Range": {"bytes=x-y"}}, Status: 416, After: func(t *testing.T, _ *apitest.Env, res *http.Response, _ string) {
				if res.Header.Get("Content-Disposition") != `inline; filename="g1.png"` {
					t.Errorf("416 for %q", res.Header.Get("Content-Disposition"))
				}
				if res.Header.Get("Content-Range") != "bytes */"+strconv.Itoa(len(pngBytes(t))) {
					t.Errorf("Content-Range %q", res.Header.Get("Content-Range"))
				}
			},
		},
		{
			Name: "thumbnail of a row whose objects are gone", Method: "GET", Path: "/api/history/g1/asset?variant=thumbnail",
			Before: func(t *testing.T, env *apitest.Env) {
				withThumbnails(t, env)
				if err := env.Core.Objects.DeletePrefix(t.Context(), objectstore.UserPrefix(env.UserID(t, "ann@example.com"))); err != nil {
					t.Fatal(err)
				}
			},
			Status: 404, After: body(assetNotFound),
		},
		{Name: "missing id", Method: "GET", Path: "/api/history/nope/asset", Before: annAndBob, Status: 404, After: body(assetNotFound)},
		{Name: "own generation without an image", Method: "GET", Path: "/api/history/g2/asset", Before: annAndBob, Status: 404, After: body(assetNotFound)},
		{
			Name: "own row whose object is gone", Method: "GET", Path: "/api/history/g1/asset",
			Before: func(t *testing.T, env *apitest.Env) {
				annAndBob(t, env)
				if err := env.Core.Objects.DeletePrefix(t.Context(), objectstore.UserPrefix(env.UserID(t, "ann@example.com"))); err != nil {
					t.Fatal(err)
				}
			},
			Status: 404, After: body(assetNotFound),
		},
		{Name: "hostile id", Method: "GET", Path: "/api/history/b1'%20OR%20'1'='1/asset", Before: annAndBob, Status: 404, After: body(assetNotFound)},
		// Encoded dot segments are unclean once decoded: refused before routing.
		{Name: "encoded dot segments", Method: "GET", Path: "/api/history/..%2F..%2Fb1/asset", Before: annAndBob, Status: 404, After: body(notFound)},
		{Name: "signed out", Method: "GET", Path: "/api/history/g1/asset", Status: 401, Contains: signedOut},
		{Name: "forged cookie", Method: "GET", Path: "/api/history/g1/asset", Header: forged, Before: annAndBob, Status: 401, Contains: signedOut},
		{Name: "the list is not the image proxy's", Method: "GET", Path: "/api/history", Before: annAndBob, Status: 404, After: body(notFound)},
		{Name: "DELETE of an asset", Method: "DELETE", Path: "/api/history/g1/asset", Header: apitest.SPA(), Before: annAndBob, Status: 404, After: body(notFound)},
	})
}
