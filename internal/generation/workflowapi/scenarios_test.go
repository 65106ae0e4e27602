package workflowapi_test

import (
	"bytes"
	"encoding/base64"
	"image"
	"image/png"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"adstudio/internal/devtools/apitest"
	"adstudio/internal/devtools/qwenfake"
	"adstudio/internal/functions/generate"
	"adstudio/internal/server"
)

// newEnv is the generate function as its Lambda builds it, against the
// fake DashScope (env.Extra) and a local bucket. Without a Dispatcher a
// generation runs in this process, and the sync budget outlasts any test,
// so no clock decides between 200 and 202; the cleanup waits for every job
// before the database closes.
func newEnv(t *testing.T) *apitest.Env {
	fake := qwenfake.New(t)
	vars := map[string]string{
		"QWEN_API_KEY": fake.APIKey(), "QWEN_BASE_URL": fake.URL(), "QWEN_TIMEOUT_MS": "1800000",
		"FETCH_ALLOW_HOSTS": strings.TrimPrefix(fake.URL(), "http://"),
		"OBJECTS_DIR":       filepath.Join(t.TempDir(), "objects"),
	}
	env := apitest.New(t, vars, func(c *server.Core) (http.Handler, error) {
		g := generate.New(c, generate.Options{})
		g.API.SyncBudget = time.Hour
		t.Cleanup(g.Runner.Wait)
		return c.Handler(g.Part())
	})
	env.Extra = fake
	return env
}

// calls asserts how many generation requests reached the provider.
func calls(t *testing.T, env *apitest.Env, want int) {
	t.Helper()
	if n := env.Extra.(*qwenfake.Server).Calls(); n != want {
		t.Errorf("provider called %d times, want %d", n, want)
	}
}

// noCalls is an After for a request that must not reach the provider.
func noCalls(t *testing.T, env *apitest.Env, _ *http.Response, _ string) { calls(t, env, 0) }

func signedIn(t *testing.T, env *apitest.Env) { env.Cookie = env.SignUp(t, "ann@example.com") }

// untouched is what a refused request writes: nothing.
var untouched = map[string]int{"generation": 0, "credit_ledger": 0}

var signedOut = []string{`{"error":{"code":"UNAUTHORIZED","message":"Authentication required."},"requestId":"`}

// invalid is the fragment of a 400 with message msg.
func invalid(msg string) []string {
	return []string{`"code":"INVALID_REQUEST"`, `"message":"` + msg + `"`, `"requestId":"`}
}

func pngDataURL(t *testing.T) string {
	t.Helper()
	var buf bytes.Buffer
	if err := png.Encode(&buf, image.NewGray(image.Rect(0, 0, 64, 48))); err != nil {
		t.Fatal(err)
	}
	return "data:image/png;base64," + base64.StdEncoding.EncodeToString(buf.Bytes())
}

const (
	textPath = "/api/workflows/image-from-text"
	mug      = `{"prompt":"a ceramic mug"}`
)

// withKey is the SPA's header with an Idempotency-Key.
func withKey(key string) http.Header {
	h := apitest.SPA()
	h.Set("Idempotency-Key", key)
	return h
}

// firstRun sends mug once with key "k1", as a retried request's first try.
func firstRun(t *testing.T, env *apitest.Env) {
	signedIn(t, env)
	h := withKey("k1")
	h.Set("Cookie", env.Cookie)
	if res, body := apitest.Do(t, env.Handler, "POST", textPath, mug, h); res.StatusCode != 200 {
		t.Fatalf("first run: %d %s", res.StatusCode, body)
	}
}

func TestScenarios(t *testing.T) {
	apitest.Run(t, newEnv, []apitest.Scenario{
		// success
		{
			Name: "image-from-text", Method: "POST", Path: textPath, Body: mug, Header: apitest.SPA(), Before: signedIn,
			Status: 200,
			Contains: []string{`"status":"completed"`, `"workflow":"image-from-text"`, `"generationId":"`,
				`"credits":{"productShoots":0,"adGraphics":1}`, `"name":"qwen"`},
			Rows: map[string]int{"generation": 1, "credit_ledger": 1, "user_profile": 0},
			After: func(t *testing.T, env *apitest.Env, _ *http.Response, body string) {
				calls(t, env, 1)
				if strings.Contains(body, env.Extra.(*qwenfake.Server).APIKey()) {
					t.Error("the provider key reached the client")
				}
				var status, key string
				env.Core.DB.QueryRow(t.Context(), `SELECT "status", coalesce("r2_key", '') FROM "generation"`).Scan(&status, &key)
				if _, err := env.Core.Objects.Head(t.Context(), key); status != "succeeded" || err != nil {
					t.Errorf("generation %s, image %q: %v", status, key, err)
				}
			},
		},
		{
			Name: "image-from-reference with a data URL", Method: "POST", Path: "/api/workflows/image-from-reference", Header: apitest.SPA(), Before: signedIn,
			Body:   `{"prompt":"on marble","referenceImageUrl":"` + pngDataURL(t) + `"}`,
			Status: 200, Contains: []string{`"workflow":"image-from-reference"`, `"credits":{"productShoots":1,"adGraphics":0}`},
			Rows: map[string]int{"generation": 1, "credit_ledger": 1},
			After: func(t *testing.T, env *apitest.Env, _ *http.Response, _ string) {
				calls(t, env, 1)
				// input_json keeps a marker, not megabytes of data URL.
				var in string
				env.Core.DB.QueryRow(t.Context(), `SELECT "input_json" FROM "generation"`).Scan(&in)
				if strings.Contains(in, "base64") || !strings.Contains(in, "[omitted:data-url length=") {
					t.Errorf("input_json %.200s", in)
				}
			},
		},
		{
			Name: "provider refusal refunds the credit", Method: "POST", Path: textPath, Header: apitest.SPA(), Before: signedIn,
			Body:   `{"prompt":"mug ` + qwenfake.Moderation + `"}`,
			Status: 502, Contains: []string{`"code":"UPSTREAM_POLICY_VIOLATION"`},
			Rows: map[string]int{"generation": 1, "credit_ledger": 2},
		},
		{
			Name: "retry with the same Idempotency-Key replays", Method: "POST", Path: textPath, Body: mug, Header: withKey("k1"), Before: firstRun,
			Status: 200, Contains: []string{`"status":"completed"`}, Rows: untouched,
			After: func(t *testing.T, env *apitest.Env, res *http.Response, _ string) {
				calls(t, env, 1)
				if res.Header.Get("Idempotent-Replayed") != "true" {
					t.Errorf("no Idempotent-Replayed header: %v", res.Header)
				}
			},
		},

		// validation: 400 before any credit or call
		{
			Name: "malformed JSON", Method: "POST", Path: textPath, Body: `{"prompt":`, Header: apitest.SPA(), Before: signedIn,
			Status: 400, Contains: invalid("Invalid JSON payload."), Rows: untouched, After: noCalls,
		},
		{
			Name: "prompt of the wrong type", Method: "POST", Path: textPath, Body: `{"prompt":5}`, Header: apitest.SPA(), Before: signedIn,
			Status: 400, Contains: invalid("prompt: Invalid input: expected string, received number"), Rows: untouched, After: noCalls,
		},
		{
			Name: "blank prompt", Method: "POST", Path: textPath, Body: `{"prompt":"  "}`, Header: apitest.SPA(), Before: signedIn,
			Status: 400, Contains: invalid("prompt is required."), Rows: untouched, After: noCalls,
		},
		{
			Name: "prompt past the provider's limit", Method: "POST", Path: textPath, Header: apitest.SPA(), Before: signedIn,
			Body:   `{"prompt":"` + strings.Repeat("x", 801) + `"}`,
			Status: 400, Contains: []string{`"code":"INVALID_REQUEST"`, "at most"}, Rows: untouched, After: noCalls,
		},
		{
			// Over Lambda's 6 MB event limit: the stack's gateway refuses
			// it before the function runs; the function refuses it too,
			// in the app's shape, naming the way around it.
			Name: "inline reference past the 6 MB event", Method: "POST", Path: "/api/workflows/image-from-reference", Header: apitest.SPA(), Before: signedIn,
			Body:   `{"prompt":"a","referenceImageUrl":"data:image/png;base64,` + strings.Repeat("A", 6<<20) + `"}`,
			Status: 413, Contains: []string{`"code":"PAYLOAD_TOO_LARGE"`, `POST /api/uploads`, `"requestId":"`}, Rows: untouched, After: noCalls,
		},
		// POST /api/uploads: what it refuses before signing anything. (The
		// signed URLs themselves: internal/devtools/devapp TestUploads, on
		// both stores.)
		{
			Name: "upload signed out", Method: "POST", Path: "/api/uploads", Body: `{"contentType":"image/png","size":10}`, Header: apitest.SPA(),
			Status: 401, Contains: signedOut,
		},
		{
			Name: "upload from an untrusted origin", Method: "POST", Path: "/api/uploads", Body: `{"contentType":"image/png","size":10}`, Before: signedIn,
			Header: http.Header{"Origin": {"https://evil.example"}},
			Status: 403, Contains: []string{`"code":"INVALID_ORIGIN"`},
		},
		{
			Name: "upload of a type the provider does not take", Method: "POST", Path: "/api/uploads", Body: `{"contentType":"image/svg+xml","size":10}`, Header: apitest.SPA(), Before: signedIn,
			Status: 400, Contains: invalid("contentType must be one of image/jpeg, image/png, image/webp, image/gif, image/bmp, image/tiff."),
		},
		{
			Name: "upload of a fractional size", Method: "POST", Path: "/api/uploads", Body: `{"contentType":"image/png","size":1.5}`, Header: apitest.SPA(), Before: signedIn,
			Status: 400, Contains: invalid("size must be the file's size in bytes: a whole number above 0."),
		},
		{
			Name: "upload over the limit", Method: "POST", Path: "/api/uploads", Body: `{"contentType":"image/jpeg","size":10485761}`, Header: apitest.SPA(), Before: signedIn,
			Status: 413, Contains: []string{`"code":"PAYLOAD_TOO_LARGE"`, `"message":"The file is larger than the 10 MB upload limit."`, `"maxBytes":10485760`},
		},
		{
			// A folder store signs nothing unless make dev turns it on.
			Name: "upload to a store that cannot sign", Method: "POST", Path: "/api/uploads", Body: `{"contentType":"image/jpeg","size":1000}`, Header: apitest.SPA(), Before: signedIn,
			Status: 500, Contains: []string{`"code":"BACKEND_MISCONFIGURED"`, `"message":"The object store cannot take direct uploads."`},
		},
		{
			Name: "reference missing", Method: "POST", Path: "/api/workflows/image-from-reference", Body: `{"prompt":"a"}`, Header: apitest.SPA(), Before: signedIn,
			Status: 400, Contains: invalid("referenceImageUrl is required."), Rows: untouched, After: noCalls,
		},
		{
			Name: "reference on a host not allowed", Method: "POST", Path: "/api/workflows/image-from-reference", Header: apitest.SPA(), Before: signedIn,
			Body:   `{"prompt":"a","referenceImageUrl":"http://169.254.169.254/latest/meta-data/"}`,
			Status: 400, Contains: invalid("referenceImageUrl host is not allowed. Use an uploaded image or a public image URL."), Rows: untouched, After: noCalls,
		},
		{
			Name: "Idempotency-Key with a space", Method: "POST", Path: textPath, Body: mug, Header: withKey("has space"), Before: signedIn,
			Status: 400, Contains: invalid("Idempotency-Key must be visible ASCII characters."), Rows: untouched, After: noCalls,
		},
		{
			Name: "Idempotency-Key reused with another body", Method: "POST", Path: textPath, Body: `{"prompt":"a blue mug"}`, Header: withKey("k1"), Before: firstRun,
			Status: 422, Contains: []string{`"code":"IDEMPOTENCY_KEY_REUSED"`}, Rows: untouched,
			After: func(t *testing.T, env *apitest.Env, _ *http.Response, _ string) { calls(t, env, 1) },
		},

		// credits
		{
			Name: "no credit left", Method: "POST", Path: textPath, Body: mug, Header: apitest.SPA(),
			Before: func(t *testing.T, env *apitest.Env) {
				signedIn(t, env)
				env.Exec(t, `UPDATE "user_profile" SET "credits_product_shoots" = 0`)
			},
			Status: 402, Contains: []string{`"code":"OUT_OF_CREDITS"`, `"credits":{"productShoots":0,"adGraphics":1}`},
			Rows: untouched, After: noCalls,
		},

		// who may call
		{
			Name: "signed out", Method: "POST", Path: textPath, Body: mug, Header: apitest.SPA(),
			Status: 401, Contains: signedOut, Rows: untouched, After: noCalls,
		},
		{
			Name: "forged cookie", Method: "POST", Path: textPath, Body: mug, Before: signedIn,
			Header: http.Header{"Origin": {apitest.Origin}, "Cookie": {"better-auth.session_token=forged.AAAA"}},
			Status: 401, Contains: signedOut, Rows: untouched, After: noCalls,
		},
		{
			Name: "untrusted origin", Method: "POST", Path: textPath, Body: mug, Before: signedIn,
			Header: http.Header{"Origin": {"https://evil.example"}},
			Status: 403, Contains: []string{`"code":"INVALID_ORIGIN"`}, Rows: untouched, After: noCalls,
		},
		{
			Name: "no Origin with a cookie", Method: "POST", Path: textPath, Body: mug, Before: signedIn,
			Status: 403, Contains: []string{`"code":"MISSING_OR_NULL_ORIGIN"`}, Rows: untouched, After: noCalls,
		},
		{
			Name: "look-alike origin", Method: "POST", Path: textPath, Body: mug, Before: signedIn,
			Header: http.Header{"Origin": {apitest.Origin + ".evil.example"}},
			Status: 403, Contains: []string{`"code":"INVALID_ORIGIN"`}, Rows: untouched, After: noCalls,
		},

		// method and path edges
		{
			Name: "unknown workflow signed in", Method: "POST", Path: "/api/workflows/nope", Body: mug, Header: apitest.SPA(), Before: signedIn,
			Status: 404, Contains: []string{`{"error":"Not found"}`}, Rows: untouched,
		},
		{
			Name: "unknown workflow signed out", Method: "GET", Path: "/api/workflows/nope",
			Status: 401, Contains: signedOut,
		},
		{
			Name: "GET of a workflow", Method: "GET", Path: textPath, Before: signedIn,
			Status: 404, Contains: []string{`{"error":"Not found"}`}, Rows: untouched, After: noCalls,
		},
		{
			Name: "video is not available and costs nothing", Method: "POST", Path: "/api/workflows/video-from-reference", Header: apitest.SPA(), Before: signedIn,
			Body:   `{"prompt":"a","referenceImageUrl":"https://x.example/a.png"}`,
			Status: 501, Contains: []string{`"code":"NOT_IMPLEMENTED"`}, Rows: map[string]int{"generation": 0, "credit_ledger": 0, "user_profile": 0}, After: noCalls,
		},
	})
}

// TestFreeCreditsWithheld: a user whose free credits wait for a verified
// address (FREE_CREDITS_REQUIRE_VERIFIED_EMAIL) is told so, not just
// "out of credits".
func TestFreeCreditsWithheld(t *testing.T) {
	t.Parallel()
	fake := qwenfake.New(t)
	env := apitest.New(t, map[string]string{
		"QWEN_API_KEY": fake.APIKey(), "QWEN_BASE_URL": fake.URL(), "OBJECTS_DIR": filepath.Join(t.TempDir(), "objects"),
		"EMAIL_TRANSPORT": "outbox", "EMAIL_FROM": "a@example.com", "OUTBOX_DIR": t.TempDir(),
		"FREE_CREDITS_REQUIRE_VERIFIED_EMAIL": "true",
	}, func(c *server.Core) (http.Handler, error) {
		g := generate.New(c, generate.Options{})
		t.Cleanup(g.Runner.Wait)
		return c.Handler(g.Part())
	})
	env.Cookie = env.SignUp(t, "ann@example.com")
	hdr := apitest.SPA()
	hdr.Set("Cookie", env.Cookie)
	res, body := apitest.Do(t, env.Handler, "POST", textPath, mug, hdr)
	if res.StatusCode != 402 || !strings.Contains(body, `"code":"EMAIL_NOT_VERIFIED","message":"Verify your email address to receive your free credits."`) ||
		!strings.Contains(body, `"credits":{"productShoots":0,"adGraphics":0}`) {
		t.Fatalf("%d %s", res.StatusCode, body)
	}
	if n := fake.Calls(); n != 0 {
		t.Errorf("provider called %d times", n)
	}
}
