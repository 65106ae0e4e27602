package devapp_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"image"
	"image/png"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"adstudio/internal/devtools/qwenfake"
)

// spaTextPayload is what the SPA's Product Shoots page sends (docs/app-api.md §8.7).
func spaTextPayload(prompt string) map[string]any {
	return map[string]any{
		"prompt": prompt, "model": "image-generation-latest",
		"input": map[string]any{"messages": []any{map[string]any{"role": "user", "content": []any{map[string]any{"type": "text", "text": prompt}}}}},
		"parameters": map[string]any{"size": "1472*1140", "n": 1, "prompt_extend": true, "watermark": false,
			"response_format": "url", "output_format": "png", "negative_prompt": "blurry"},
	}
}

// newGenServer is the whole API with the fake DashScope as its provider and
// a local folder as its bucket. No clock decides an outcome: the provider
// timeout and the sync budget are longer than go test lets a test run (10
// minutes by default), so a workflow request waits for its generation
// however slow the machine; a test that needs the budget to end ends it
// itself (endBudget).
func newGenServer(t *testing.T, env map[string]string) (*testServer, *qwenfake.Server) {
	t.Helper()
	fake := qwenfake.New(t)
	vars := map[string]string{
		"QWEN_API_KEY": fake.APIKey(), "QWEN_BASE_URL": fake.URL(), "QWEN_TIMEOUT_MS": "1800000",
		"FETCH_ALLOW_HOSTS": strings.TrimPrefix(fake.URL(), "http://"),
		"OBJECTS_DIR":       filepath.Join(t.TempDir(), "objects"),
	}
	for k, v := range env {
		if k == "FETCH_ALLOW_HOSTS" {
			v += "," + vars[k]
		}
		vars[k] = v
	}
	ts := newServer(t, vars)
	ts.app.SetSyncBudget(time.Hour)
	return ts, fake
}

// endBudget hands the end of the sync budget to the test: each value sent
// on the returned channel ends the budget of one waiting workflow request,
// the moment the request receives it.
func endBudget(ts *testServer) chan<- time.Time {
	end := make(chan time.Time)
	ts.app.SetSyncTimer(func(time.Duration) <-chan time.Time { return end })
	return end
}

// inFlight is a request sent from its own goroutine (sendAsync): its
// answer arrives on the channel, for the test goroutine to assert on.
type inFlight <-chan answered

type answered struct {
	r   resp
	err error
}

// sendAsync sends a request from its own goroutine, for a test that must
// act while the request waits.
func (b *browser) sendAsync(method, path string, body any) inFlight {
	c := make(chan answered, 1)
	go func() {
		r, err := b.try(method, path, body, nil)
		c <- answered{r, err}
	}()
	return c
}

// wait receives the answer on the test goroutine, failing t on a transport
// error.
func (f inFlight) wait(t testing.TB) resp {
	t.Helper()
	a := <-f
	if a.err != nil {
		t.Fatal(a.err)
	}
	return a.r
}

// balance reads /api/me's credits.
func (b *browser) balance(t testing.TB) (int, int) {
	t.Helper()
	r := b.do(t, "GET", "/api/me", nil, nil)
	prof := r.json(t)["profile"].(map[string]any)
	return int(prof["creditsProductShoots"].(float64)), int(prof["creditsAdGraphics"].(float64))
}

// invariant asserts balance = opening grant + ledger for the user, and
// returns the ledger's (debits, refunds) count.
func invariant(t *testing.T, ts *testServer, email string) (int, int) {
	t.Helper()
	uid := userID(t, ts, email)
	checkLedger(t, ts, uid)
	var debits, refunds int
	ts.app.DB.QueryRow(t.Context(), `SELECT count(*) FILTER (WHERE "reason" = 'generation_debit'), count(*) FILTER (WHERE "reason" = 'generation_refund') FROM "credit_ledger" WHERE "user_id" = ?`, uid).Scan(&debits, &refunds)
	return debits, refunds
}

// checkLedger asserts balance = free opening grant (1/1) + ledger sum for
// the user with id uid, never negative.
func checkLedger(t *testing.T, ts *testServer, uid string) {
	t.Helper()
	b, err := ts.app.Generations.Balance(t.Context(), uid)
	if err != nil {
		t.Fatal(err)
	}
	sum, err := ts.app.Generations.LedgerSum(t.Context(), uid)
	if err != nil {
		t.Fatal(err)
	}
	if b.ProductShoots != 1+sum.ProductShoots || b.AdGraphics != 1+sum.AdGraphics || b.ProductShoots < 0 || b.AdGraphics < 0 {
		t.Fatalf("credit invariant broken for user %s: balance %+v, ledger %+v", uid, b, sum)
	}
}

func TestGenerateAndServeImage(t *testing.T) {
	t.Parallel()
	ts, fake := newGenServer(t, nil)
	b := ts.browser()
	b.signUp(t, "gen@example.com", "password123")
	r := b.do(t, "POST", "/api/workflows/image-from-text", spaTextPayload("a ceramic mug"), nil)
	if r.StatusCode != 200 {
		t.Fatalf("generate: %d %s", r.StatusCode, r.body)
	}
	m := r.json(t)
	out := m["output"].(map[string]any)
	img := out["images"].([]any)[0].(map[string]any)["url"].(string)
	prov := m["provider"].(map[string]any)
	if m["status"] != "completed" || m["workflow"] != "image-from-text" || !strings.HasPrefix(img, fake.URL()) || out["expiresInHours"] != 24.0 ||
		prov["name"] != "qwen" || prov["model"] != "qwen-image-max" || prov["requestId"] == nil {
		t.Fatalf("response %s", r.body)
	}
	if c := m["credits"].(map[string]any); c["productShoots"] != 0.0 || c["adGraphics"] != 1.0 {
		t.Fatalf("credits %v", c)
	}
	if u := m["usage"].(map[string]any); u["width"] != 1472.0 || u["height"] != 1104.0 {
		t.Fatalf("usage %v (legacy 1472*1140 must be remapped)", u)
	}
	// The provider got exactly the contract's body: remapped size, no
	// output_format/response_format, no type wrappers.
	sent := string(fake.LastBody())
	if !strings.Contains(sent, `"size":"1472*1104"`) || strings.Contains(sent, "output_format") || strings.Contains(sent, `"type"`) {
		t.Fatalf("provider body %s", sent)
	}

	// History lists it with an absolute asset URL on the API's public origin.
	list := b.do(t, "GET", "/api/history?limit=12", nil, nil).json(t)
	item := list["items"].([]any)[0].(map[string]any)
	id := m["generationId"].(string)
	if item["id"] != id || item["status"] != "succeeded" || !signedURL(item["assetUrl"], "http://127.0.0.1:1/api/history/"+id+"/asset?exp=") {
		t.Fatalf("history item %v", item)
	}
	if p := list["pagination"].(map[string]any); p["total"] != 1.0 || p["nextOffset"] != nil || p["limit"] != 12.0 {
		t.Fatalf("pagination %v", p)
	}
	detail := b.do(t, "GET", "/api/history/"+id, nil, nil).json(t)["item"].(map[string]any)
	if in := detail["input"].(map[string]any); in["prompt"] != "a ceramic mug" || detail["output"].(map[string]any)["assetUrl"] != "/api/history/"+id+"/asset" {
		t.Fatalf("detail %v", detail)
	}

	// The asset: real PNG bytes, private caching, ETag/304, ranges.
	a := b.do(t, "GET", "/api/history/"+id+"/asset", nil, nil)
	if a.StatusCode != 200 || a.Header.Get("Content-Type") != "image/png" || a.Header.Get("Cache-Control") != "private, max-age=3600" || a.Header.Get("ETag") == "" {
		t.Fatalf("asset: %d %v", a.StatusCode, a.Header)
	}
	if cfg, err := png.DecodeConfig(bytes.NewReader(a.body)); err != nil || cfg.Width != 1472 || cfg.Height != 1104 {
		t.Fatalf("asset is not the 1472×1104 PNG: %v %+v", err, cfg)
	}
	if r := b.do(t, "GET", "/api/history/"+id+"/asset", nil, header{"If-None-Match": `"x", ` + a.Header.Get("ETag")}); r.StatusCode != 304 || len(r.body) != 0 {
		t.Fatalf("If-None-Match: %d", r.StatusCode)
	}
	if r := b.do(t, "GET", "/api/history/"+id+"/asset", nil, header{"Range": "bytes=0-7"}); r.StatusCode != 206 || string(r.body) != "\x89PNG\r\n\x1a\n" || !strings.HasPrefix(r.Header.Get("Content-Range"), "bytes 0-7/") {
		t.Fatalf("range: %d %q %v", r.StatusCode, r.body, r.Header)
	}

	// Out of credits: 402 with the balance, nothing written.
	r = b.do(t, "POST", "/api/workflows/image-from-text", spaTextPayload("another"), nil)
	e := r.json(t)
	if r.StatusCode != 402 || e["error"].(map[string]any)["code"] != "OUT_OF_CREDITS" || e["credits"].(map[string]any)["productShoots"] != 0.0 {
		t.Fatalf("402: %d %s", r.StatusCode, r.body)
	}
	if fake.Calls() != 1 {
		t.Fatalf("provider called %d times", fake.Calls())
	}
	if d, f := invariant(t, ts, "gen@example.com"); d != 1 || f != 0 {
		t.Fatalf("ledger %d debits %d refunds", d, f)
	}

	// Delete removes the row and the object.
	if r := b.do(t, "DELETE", "/api/history/"+id, nil, nil); r.StatusCode != 200 || string(r.body) != `{"deleted":true,"id":"`+id+`"}` {
		t.Fatalf("delete: %d %s", r.StatusCode, r.body)
	}
	if r := b.do(t, "GET", "/api/history/"+id+"/asset", nil, nil); r.StatusCode != 404 {
		t.Fatalf("asset after delete: %d", r.StatusCode)
	}
	if _, err := ts.app.Storage.Head(context.Background(), "users/x"); err == nil {
		t.Fatal("storage head of a missing key succeeded")
	}
}

// TestProviderFailures runs every failure mode of the fake provider: the
// mapped response, a failed generation with that code, and the credit back.
// The timeout has a test of its own (TestProviderTimeout).
func TestProviderFailures(t *testing.T) {
	t.Parallel()
	ts, _ := newGenServer(t, nil)
	for i, tc := range []struct {
		marker, code string
		status       int
		message      string
	}{
		{"[fake:moderation]", "UPSTREAM_POLICY_VIOLATION", 502, "Request was rejected by provider safety checks."},
		{"[fake:invalid-parameter]", "UPSTREAM_INVALID_PARAMETER", 502, ""},
		{"[fake:bad-key]", "UPSTREAM_AUTH_ERROR", 502, "Image provider authentication failed."},
		{"[fake:throttled]", "UPSTREAM_RATE_LIMITED", 502, "Image provider rate limit exceeded."},
		{"[fake:arrearage]", "UPSTREAM_REQUEST_FAILED", 502, ""},
		{"[fake:internal]", "UPSTREAM_UNAVAILABLE", 502, "Image provider is currently unavailable."},
		{"[fake:gateway-html]", "UPSTREAM_UNAVAILABLE", 502, "Image provider is currently unavailable."},
		{"[fake:200-with-code]", "UPSTREAM_INVALID_PARAMETER", 502, ""},
		{"[fake:non-json]", "UPSTREAM_MALFORMED_RESPONSE", 502, "Image provider returned an invalid response body."},
		{"[fake:no-images]", "UPSTREAM_MALFORMED_RESPONSE", 502, "Image provider returned an invalid response body."},
		{"[fake:broken-image]", "UPSTREAM_UNAVAILABLE", 502, "Image provider is currently unavailable."},
	} {
		t.Run(tc.marker, func(t *testing.T) {
			b := ts.browser()
			email := "fail" + string(rune('a'+i)) + "@example.com"
			b.signUp(t, email, "password123")
			r := b.do(t, "POST", "/api/workflows/image-from-text", spaTextPayload("mug "+tc.marker), nil)
			m := r.json(t)
			e := m["error"].(map[string]any)
			if r.StatusCode != tc.status || e["code"] != tc.code || (tc.message != "" && e["message"] != tc.message) || m["requestId"] == "" {
				t.Fatalf("%d %s", r.StatusCode, r.body)
			}
			var status, code string
			ts.app.DB.QueryRow(t.Context(), `SELECT "status", "error_code" FROM "generation" g JOIN "users" u ON u."id" = g."user_id" WHERE u."email" = ?`, email).Scan(&status, &code)
			if status != "failed" || code != tc.code {
				t.Fatalf("generation %s/%s", status, code)
			}
			if d, f := invariant(t, ts, email); d != 1 || f != 1 {
				t.Fatalf("ledger: %d debits, %d refunds", d, f)
			}
			if ps, _ := b.balance(t); ps != 1 {
				t.Fatalf("credit not back: %d", ps)
			}
		})
	}
}

// TestProviderTimeout: a provider that has not answered when the timeout
// ends is a 504 UPSTREAM_TIMEOUT, a failed generation and the credit back.
// The fake holds the call and is never told to answer, so the 1 ms timeout
// is the only way the call can end, however slow the machine; the sync
// budget (an hour, newGenServer) cannot end first, so the request waits
// for that end.
func TestProviderTimeout(t *testing.T) {
	t.Parallel()
	ts, _ := newGenServer(t, map[string]string{"QWEN_TIMEOUT_MS": "1"})
	b := ts.browser()
	b.signUp(t, "timeout@example.com", "password123")
	r := b.do(t, "POST", "/api/workflows/image-from-text", spaTextPayload("mug "+qwenfake.Hold), nil)
	m := r.json(t)
	e := m["error"].(map[string]any)
	if r.StatusCode != 504 || e["code"] != "UPSTREAM_TIMEOUT" || e["message"] != "Image provider request timed out." || m["requestId"] == "" {
		t.Fatalf("%d %s", r.StatusCode, r.body)
	}
	var status, code string
	ts.app.DB.QueryRow(t.Context(), `SELECT "status", "error_code" FROM "generation"`).Scan(&status, &code)
	if status != "failed" || code != "UPSTREAM_TIMEOUT" {
		t.Fatalf("generation %s/%s", status, code)
	}
	if d, f := invariant(t, ts, "timeout@example.com"); d != 1 || f != 1 {
		t.Fatalf("ledger: %d debits, %d refunds", d, f)
	}
}

// TestFaultInjection fails each step after the debit: nothing is lost, the
// credit comes back exactly once, and a job that "died" is swept.
func TestFaultInjection(t *testing.T) {
	t.Parallel()
	ts, _ := newGenServer(t, nil)
	boom := errors.New("injected")
	for i, step := range []string{"after-debit", "after-provider", "copy", "finish"} {
		t.Run(step, func(t *testing.T) {
			ts.app.InjectFaults(func(s string) error {
				if s == step {
					return boom
				}
				return nil
			})
			defer ts.app.InjectFaults(nil)
			b := ts.browser()
			email := "fault" + string(rune('a'+i)) + "@example.com"
			b.signUp(t, email, "password123")
			r := b.do(t, "POST", "/api/workflows/image-from-text", spaTextPayload("mug"), nil)
			if r.StatusCode != 500 {
				t.Fatalf("%d %s", r.StatusCode, r.body)
			}
			if step == "after-debit" {
				// Nothing finished it: still pending, credit still spent,
				// until it is older than any job can run. Then the owner's
				// own history read ends it (no scheduled sweep needed)...
				if d, f := invariant(t, ts, email); d != 1 || f != 0 {
					t.Fatalf("before sweep: %d/%d", d, f)
				}
				id := b.do(t, "GET", "/api/history", nil, nil).json(t)["items"].([]any)[0].(map[string]any)["id"].(string)
				ts.clock.Advance(time.Hour)
				item := b.do(t, "GET", "/api/history/"+id, nil, nil).json(t)["item"].(map[string]any)
				if item["status"] != "failed" || item["errorCode"] != "UPSTREAM_TIMEOUT" {
					t.Fatalf("stale item read by its owner: %v", item)
				}
				// ...and the scheduled sweep finds nothing left to do.
				if ids, err := ts.app.Sweep(t.Context()); err != nil || len(ids) != 0 {
					t.Fatalf("sweep: %v %v", ids, err)
				}
				ts.clock.Advance(-time.Hour)
			}
			if d, f := invariant(t, ts, email); d != 1 || f != 1 {
				t.Fatalf("ledger: %d debits, %d refunds", d, f)
			}
			// No image (nor its thumbnail) is left behind for a generation
			// that failed.
			var uid string
			ts.app.DB.QueryRow(t.Context(), `SELECT "id" FROM "users" WHERE "email" = ?`, email).Scan(&uid)
			filepath.WalkDir(filepath.Join(ts.app.Config.ObjectsDir, "users", uid), func(p string, d fs.DirEntry, err error) error {
				if err == nil && !d.IsDir() && !strings.Contains(p, ".meta.json") {
					t.Errorf("orphaned object %s", p)
				}
				return nil
			})
		})
	}
}

// TestSlowProviderHandsOff: a provider call still running when the sync
// budget ends gets a 202 pending, and on a long-running server (no
// Dispatcher) the same job goes on to finish the generation.
func TestSlowProviderHandsOff(t *testing.T) {
	t.Parallel()
	ts, fake := newGenServer(t, nil)
	budget := endBudget(ts)
	b := ts.browser()
	b.signUp(t, "slow@example.com", "password123")
	req := b.sendAsync("POST", "/api/workflows/image-from-text", spaTextPayload("mug "+qwenfake.Hold))
	call := <-fake.Held() // the job's provider call is in flight
	budget <- time.Time{}
	r := req.wait(t)
	m := r.json(t)
	if r.StatusCode != 202 || m["status"] != "pending" || m["generationId"] == nil {
		t.Fatalf("slow generation: %d %s", r.StatusCode, r.body)
	}
	id := m["generationId"].(string)
	if item := b.do(t, "GET", "/api/history/"+id, nil, nil).json(t)["item"].(map[string]any); item["status"] != "pending" {
		t.Fatalf("before the provider answered: %v", item)
	}
	call.Release()
	ts.app.WaitJobs() // the job has finished the generation, or never will
	item := b.do(t, "GET", "/api/history/"+id, nil, nil).json(t)["item"].(map[string]any)
	if item["status"] != "succeeded" || item["assetUrl"] == nil {
		t.Fatalf("generation ended %v", item)
	}
	if d, f := invariant(t, ts, "slow@example.com"); d != 1 || f != 0 {
		t.Fatalf("ledger %d/%d", d, f)
	}
}

func TestIdempotencyKeyReplays(t *testing.T) {
	t.Parallel()
	ts, fake := newGenServer(t, nil)
	b := ts.browser()
	b.signUp(t, "idem@example.com", "password123")
	first := b.do(t, "POST", "/api/workflows/image-from-text", spaTextPayload("mug"), header{"Idempotency-Key": "retry-1"})
	second := b.do(t, "POST", "/api/workflows/image-from-text", spaTextPayload("mug"), header{"Idempotency-Key": "retry-1"})
	if first.StatusCode != 200 || second.StatusCode != 200 || string(first.body) != string(second.body) || second.Header.Get("Idempotent-Replayed") != "true" {
		t.Fatalf("replay: %d %s / %d %s", first.StatusCode, first.body, second.StatusCode, second.body)
	}
	if fake.Calls() != 1 {
		t.Fatalf("provider called %d times", fake.Calls())
	}
	if d, _ := invariant(t, ts, "idem@example.com"); d != 1 {
		t.Fatalf("%d debits", d)
	}
	r := b.do(t, "POST", "/api/workflows/image-from-text", spaTextPayload("mug"), header{"Idempotency-Key": "has space"})
	if r.StatusCode != 400 {
		t.Fatalf("bad key: %d", r.StatusCode)
	}
}

// TestOwnerOnly walks every route with an {id}: another user, a signed-out
// browser and a revoked session all get nothing, and "not yours" looks
// exactly like "not there".
func TestOwnerOnly(t *testing.T) {
	t.Parallel()
	ts, _ := newGenServer(t, nil)
	owner := ts.browser()
	owner.signUp(t, "owner@example.com", "password123")
	id := owner.do(t, "POST", "/api/workflows/image-from-text", spaTextPayload("mine"), nil).json(t)["generationId"].(string)
	other := ts.browser()
	other.signUp(t, "other@example.com", "password123")
	revoked := ts.browser()
	revoked.signIn(t, "owner@example.com", "password123")
	owner.do(t, "POST", "/api/auth/revoke-other-sessions", map[string]any{}, nil)
	for _, rt := range routesWithID() {
		path := strings.ReplaceAll(rt.path, "{id}", id)
		missing := other.do(t, rt.method, strings.ReplaceAll(rt.path, "{id}", "no-such-id"), nil, nil)
		for name, b := range map[string]*browser{"other user": other, "signed out": ts.browser(), "revoked session": revoked} {
			r := b.do(t, rt.method, path, nil, nil)
			want := 404
			if name != "other user" {
				want = 401
			}
			if r.StatusCode != want {
				t.Errorf("%s %s as %s: %d %s", rt.method, rt.path, name, r.StatusCode, r.body)
			}
			if name == "other user" && string(r.body) != string(missing.body) {
				t.Errorf("%s %s: another user's item %q differs from a missing one %q", rt.method, rt.path, r.body, missing.body)
			}
		}
	}
	if r := owner.do(t, "GET", "/api/history/"+id+"/asset", nil, nil); r.StatusCode != 200 {
		t.Fatalf("owner: %d", r.StatusCode)
	}
}

func TestWorkflowValidationChargesNothing(t *testing.T) {
	t.Parallel()
	ts, fake := newGenServer(t, nil)
	b := ts.browser()
	b.signUp(t, "val@example.com", "password123")
	for _, tc := range []struct {
		path string
		body any
		msg  string
	}{
		{"/api/workflows/image-from-text", `{"prompt":`, "Invalid JSON payload."},
		{"/api/workflows/image-from-text", map[string]any{"prompt": 5}, "prompt: Invalid input: expected string, received number"},
		{"/api/workflows/image-from-text", map[string]any{"prompt": "  "}, "prompt is required."},
		{"/api/workflows/image-from-text", map[string]any{"prompt": "a", "n": 2}, "parameters.n must be 1 for image-from-text."},
		{"/api/workflows/image-from-reference", map[string]any{"prompt": "a"}, "referenceImageUrl is required."},
	} {
		r := b.do(t, "POST", tc.path, tc.body, nil)
		e := r.json(t)["error"].(map[string]any)
		if r.StatusCode != 400 || e["code"] != "INVALID_REQUEST" || e["message"] != tc.msg {
			t.Errorf("%v: %d %s", tc.body, r.StatusCode, r.body)
		}
	}
	r := b.do(t, "POST", "/api/workflows/video-from-reference", map[string]any{"prompt": "a", "referenceImageUrl": "https://x.example/a.png"}, nil)
	if r.StatusCode != 501 || r.json(t)["error"].(map[string]any)["code"] != "NOT_IMPLEMENTED" {
		t.Fatalf("video stub: %d %s", r.StatusCode, r.body)
	}
	if r := b.do(t, "GET", "/api/workflows/image-from-text", nil, nil); r.StatusCode != 404 || string(r.body) != `{"error":"Not found"}` {
		t.Fatalf("wrong method signed in: %d %s", r.StatusCode, r.body)
	}
	if r := ts.browser().do(t, "GET", "/api/workflows/nope", nil, nil); r.StatusCode != 401 {
		t.Fatalf("unknown workflow signed out: %d", r.StatusCode)
	}
	if fake.Calls() != 0 {
		t.Fatalf("provider called %d times", fake.Calls())
	}
	if ps, ag := b.balance(t); ps != 1 || ag != 1 {
		t.Fatalf("charged for invalid requests: %d %d", ps, ag)
	}
}

func TestMisconfiguredProvider(t *testing.T) {
	t.Parallel()
	ts := newServer(t, map[string]string{"QWEN_REGION": "eu"})
	b := ts.browser()
	b.signUp(t, "cfg@example.com", "password123")
	r := b.do(t, "POST", "/api/workflows/image-from-text", map[string]any{"prompt": "a"}, nil)
	e := r.json(t)["error"].(map[string]any)
	if r.StatusCode != 500 || e["code"] != "BACKEND_MISCONFIGURED" {
		t.Fatalf("%d %s", r.StatusCode, r.body)
	}
	if r := b.do(t, "GET", "/api/history/x/asset", nil, nil); r.StatusCode != 500 || !strings.Contains(string(r.body), "GENERATIONS_BUCKET is not configured.") {
		t.Fatalf("asset without bucket: %d %s", r.StatusCode, r.body)
	}
}

func TestDeleteUserTakesImages(t *testing.T) {
	t.Parallel()
	ts, _ := newGenServer(t, nil)
	b := ts.browser()
	uid := b.signUp(t, "bye@example.com", "password123").json(t)["user"].(map[string]any)["id"].(string)
	id := b.do(t, "POST", "/api/workflows/image-from-text", spaTextPayload("mug"), nil).json(t)["generationId"].(string)
	var key string
	ts.app.DB.QueryRow(t.Context(), `SELECT "r2_key" FROM "generation" WHERE "id" = ?`, id).Scan(&key)
	if _, err := ts.app.Storage.Head(t.Context(), key); err != nil {
		t.Fatalf("image not stored: %v", err)
	}
	if r := b.do(t, "POST", "/api/auth/delete-user", map[string]any{"password": "password123"}, nil); r.StatusCode != 200 {
		t.Fatalf("delete-user: %d %s", r.StatusCode, r.body)
	}
	if _, err := ts.app.Storage.Head(t.Context(), key); err == nil || !strings.HasPrefix(key, "users/"+uid+"/") {
		t.Fatalf("image of a deleted user still stored (%s): %v", key, err)
	}
	var n int
	ts.app.DB.QueryRow(t.Context(), `SELECT count(*) FROM "generation"`).Scan(&n)
	if n != 0 {
		t.Fatalf("%d generations left", n)
	}
}

type idRoute struct{ method, path string }

func routesWithID() []idRoute {
	var out []idRoute
	for _, r := range appRoutes() {
		if strings.Contains(r.Path, "{id}") {
			out = append(out, idRoute{r.Method, r.Path})
		}
	}
	return out
}

func TestHistoryListing(t *testing.T) {
	t.Parallel()
	ts, _ := newGenServer(t, nil)
	b := ts.browser()
	uid := b.signUp(t, "list@example.com", "password123").json(t)["user"].(map[string]any)["id"].(string)
	for i := range 30 {
		wf, st := "image-from-text", "succeeded"
		if i%3 == 0 {
			wf = "image-from-reference"
		}
		if i%5 == 0 {
			st = "failed"
		}
		if err := ts.app.DB.Exec(t.Context(), `INSERT INTO "generation" ("id","user_id","workflow","status","input_json","created_at","updated_at") VALUES (?,?,?,?,'{}',?,?)`,
			fmt.Sprintf("g%02d", i), uid, wf, st, 1_800_000_000+i, 1_800_000_000+i); err != nil {
			t.Fatal(err)
		}
	}
	page := func(q string) (ids []string, p map[string]any) {
		m := b.do(t, "GET", "/api/history"+q, nil, nil).json(t)
		for _, it := range m["items"].([]any) {
			ids = append(ids, it.(map[string]any)["id"].(string))
		}
		return ids, m["pagination"].(map[string]any)
	}
	for _, tc := range []struct {
		q          string
		n          int
		first      string
		limit, off float64
		total      float64
		next       any
	}{
		{"", 20, "g29", 20, 0, 30, 20.0},
		{"?limit=12abc&offset=24", 6, "g05", 12, 24, 30, nil},
		{"?limit=0", 1, "g29", 1, 0, 30, 1.0},
		{"?limit=-5&offset=-3", 1, "g29", 1, 0, 30, 1.0},
		{"?limit=999", 30, "g29", 50, 0, 30, nil},
		{"?limit=+8&offset=3.9", 8, "g26", 8, 3, 30, 11.0},
		{"?limit=x&offset=0x10", 20, "g29", 20, 0, 30, 20.0},
		{"?workflow=image-from-reference", 10, "g27", 20, 0, 10, nil},
		{"?workflow=IMAGE-FROM-TEXT", 20, "g29", 20, 0, 30, 20.0}, // unknown filter ignored
		{"?status=failed&workflow=image-from-reference", 2, "g15", 20, 0, 2, nil},
		{"?offset=100", 0, "", 20, 100, 30, nil},      // past the end still knows the total
		{"?limit=5&limit=7", 5, "g29", 5, 0, 30, 5.0}, // first occurrence wins
	} {
		ids, p := page(tc.q)
		if len(ids) != tc.n || (tc.n > 0 && ids[0] != tc.first) || p["limit"] != tc.limit || p["offset"] != tc.off || p["total"] != tc.total || p["nextOffset"] != tc.next {
			t.Errorf("%q: %d items from %v, pagination %v", tc.q, len(ids), ids, p)
		}
	}
	// Another user sees none of them.
	other := ts.browser()
	other.signUp(t, "nolist@example.com", "password123")
	if ids, p := func() ([]string, map[string]any) {
		m := other.do(t, "GET", "/api/history", nil, nil).json(t)
		return nil, m["pagination"].(map[string]any)
	}(); len(ids) != 0 || p["total"] != 0.0 {
		t.Fatalf("other user sees %v", p)
	}
}

// pngDataURL is a small real PNG as a data URL.
func pngDataURL(t testing.TB) string {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, 64, 48))
	for i := range img.Pix {
		img.Pix[i] = byte(i)
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		t.Fatal(err)
	}
	return "data:image/png;base64," + base64.StdEncoding.EncodeToString(buf.Bytes())
}

func TestReferenceImages(t *testing.T) {
	t.Parallel()
	// A server on loopback that is NOT in FETCH_ALLOW_HOSTS stands for an
	// internal service (the Lambda runtime API, metadata, a database).
	internal := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		t.Errorf("the internal service was reached: %s", r.URL)
	}))
	defer internal.Close()
	// A public image host the test allows, serving an image and a page.
	public := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/photo":
			data, _ := base64.StdEncoding.DecodeString(strings.TrimPrefix(pngDataURL(t), "data:image/png;base64,"))
			w.Header().Set("Content-Type", "image/png")
			w.Write(data)
		case "/to-internal":
			http.Redirect(w, r, internal.URL+"/secret", http.StatusFound)
		default:
			w.Header().Set("Content-Type", "text/html")
			w.Write([]byte("<html>not an image</html>"))
		}
	}))
	defer public.Close()
	ts, fake := newGenServer(t, map[string]string{"FETCH_ALLOW_HOSTS": strings.TrimPrefix(public.URL, "http://")})
	for i, tc := range []struct {
		ref    string
		status int
		msg    string
	}{
		{internal.URL + "/latest/meta-data", 400, "referenceImageUrl host is not allowed. Use an uploaded image or a public image URL."},
		{"http://169.254.169.254/latest/meta-data/", 400, "referenceImageUrl host is not allowed. Use an uploaded image or a public image URL."},
		{"http://localhost:9001/2018-06-01/runtime/invocation/next", 400, "referenceImageUrl host is not allowed. Use an uploaded image or a public image URL."},
		{public.URL + "/to-internal", 400, "referenceImageUrl redirect target host is not allowed. Use a public image URL."},
		{public.URL + "/page", 400, "referenceImageUrl must point to an image resource."},
		{"data:image/svg+xml;base64,PHN2Zz48L3N2Zz4=", 400, "referenceImageUrl data URL is invalid or exceeds the 10MB size limit."},
		{public.URL + "/photo", 200, ""},
		{pngDataURL(t), 200, ""},
	} {
		b := ts.browser()
		email := "ref" + string(rune('a'+i)) + "@example.com"
		b.signUp(t, email, "password123")
		r := b.do(t, "POST", "/api/workflows/image-from-reference", map[string]any{"prompt": "on marble", "referenceImageUrl": tc.ref, "parameters": map[string]any{"n": 1}}, nil)
		if r.StatusCode != tc.status || (tc.msg != "" && r.json(t)["error"].(map[string]any)["message"] != tc.msg) {
			t.Errorf("%.60s: %d %s", tc.ref, r.StatusCode, r.body)
			continue
		}
		if tc.status == 200 {
			// The provider got the image itself, never a URL a user chose.
			if sent := string(fake.LastBody()); !strings.Contains(sent, `"image":"data:image/png;base64,`) {
				t.Errorf("provider body %.200s", sent)
			}
			id := r.json(t)["generationId"].(string)
			in := b.do(t, "GET", "/api/history/"+id, nil, nil).json(t)["item"].(map[string]any)["input"].(map[string]any)
			if ri := in["referenceImage"].(string); strings.HasPrefix(tc.ref, "data:") && !strings.HasPrefix(ri, "[omitted:data-url length=") {
				t.Errorf("input_json keeps the data URL: %.80s", ri)
			}
		} else if ag := func() int { _, ag := b.balance(t); return ag }(); ag != 1 {
			t.Errorf("%.60s: charged for a refused reference", tc.ref)
		}
	}
}

// signedURL reports whether u is a string that starts with prefix and goes
// on with a signature: the image links of the answers open without a cookie.
func signedURL(u any, prefix string) bool {
	s, ok := u.(string)
	return ok && strings.HasPrefix(s, prefix) && strings.Contains(s[len(prefix):], "&sig=")
}
