package devapp_test

import (
	"encoding/base64"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// wantAppError asserts the app API's normalized error shape.
func wantAppError(t *testing.T, r resp, status int, code string) map[string]any {
	t.Helper()
	if r.StatusCode != status {
		t.Fatalf("status %d, want %d: %s", r.StatusCode, status, r.body)
	}
	m := r.json(t)
	e, _ := m["error"].(map[string]any)
	if e == nil || e["code"] != code || m["requestId"] == nil {
		t.Fatalf("body %s, want error code %s", r.body, code)
	}
	return m
}

// generations counts the user's generation rows and input bytes.
func generations(t *testing.T, ts *testServer) (rows, inputBytes int) {
	t.Helper()
	ts.app.DB.QueryRow(t.Context(), `SELECT count(*), coalesce(sum(length("input_json")), 0) FROM "generation"`).Scan(&rows, &inputBytes)
	return rows, inputBytes
}

// TestOversizedPromptsCostNothing: prompts past the provider's documented
// limits (800 characters; 500 for the negative prompt) are refused with 400
// INVALID_REQUEST before any credit is reserved or any row written — five
// 4 MiB prompts once wrote 42 MB of input_json.
func TestOversizedPromptsCostNothing(t *testing.T) {
	t.Parallel()
	ts, fake := newGenServer(t, nil)
	b := ts.browser()
	b.signUp(t, "long@example.com", "password123")
	for _, body := range []map[string]any{
		{"prompt": strings.Repeat("x", 4<<20)},
		{"prompt": strings.Repeat("x", 801)},
		{"prompt": "mug", "negative_prompt": strings.Repeat("y", 501)},
	} {
		r := b.do(t, "POST", "/api/workflows/image-from-text", body, nil)
		m := wantAppError(t, r, 400, "INVALID_REQUEST")
		if msg := m["error"].(map[string]any)["message"].(string); !strings.Contains(msg, "at most") {
			t.Fatalf("message %q", msg)
		}
	}
	if rows, _ := generations(t, ts); rows != 0 || fake.Calls() != 0 {
		t.Fatalf("%d rows, %d provider calls", rows, fake.Calls())
	}
	if ps, ag := b.balance(t); ps != 1 || ag != 1 {
		t.Fatalf("balance %d/%d", ps, ag)
	}
	// At the limit it goes through.
	if r := b.do(t, "POST", "/api/workflows/image-from-text", map[string]any{"prompt": strings.Repeat("é", 800)}, nil); r.StatusCode != 200 {
		t.Fatalf("800 characters: %d %s", r.StatusCode, r.body)
	}
	if _, n := generations(t, ts); n > 8<<10 {
		t.Fatalf("one 800-character prompt stored %d bytes of input", n)
	}
}

// TestNoCreditNoDownload: a user without a credit for the reference
// workflow gets 402 before the server fetches the reference URL, so a
// refused request costs no download.
func TestNoCreditNoDownload(t *testing.T) {
	t.Parallel()
	var hits atomic.Int64
	img := countingReferenceServer(t, &hits)
	ts, _ := newGenServer(t, map[string]string{"FETCH_ALLOW_HOSTS": strings.TrimPrefix(img, "http://")})
	b := ts.browser()
	b.signUp(t, "broke@example.com", "password123")
	ref := map[string]any{"prompt": "put it on a table", "referenceImageUrl": img + "/photo.png"}
	if r := b.do(t, "POST", "/api/workflows/image-from-reference", ref, nil); r.StatusCode != 200 {
		t.Fatalf("first (paid) run: %d %s", r.StatusCode, r.body)
	}
	if hits.Load() != 1 {
		t.Fatalf("%d downloads for one run", hits.Load())
	}
	for range 5 {
		m := wantAppError(t, b.do(t, "POST", "/api/workflows/image-from-reference", ref, nil), 402, "OUT_OF_CREDITS")
		if c := m["credits"].(map[string]any); c["adGraphics"] != 0.0 {
			t.Fatalf("credits %v", c)
		}
	}
	if hits.Load() != 1 {
		t.Fatalf("refused requests downloaded the reference: %d downloads", hits.Load())
	}
	invariant(t, ts, "broke@example.com")
}

// TestIdempotencyKeyIsBoundToItsRequest: the same key with another body (or
// on another workflow) is 422 IDEMPOTENCY_KEY_REUSED, never the first
// request's answer; the same body replays.
func TestIdempotencyKeyIsBoundToItsRequest(t *testing.T) {
	t.Parallel()
	ts, fake := newGenServer(t, nil)
	b := ts.browser()
	b.signUp(t, "idem@example.com", "password123")
	ts.app.Generations.Grant(t.Context(), userID(t, ts, "idem@example.com"), "image-from-text", 5, "test", "g1", ts.clock.Now())
	key := header{"Idempotency-Key": "order-42"}
	first := b.do(t, "POST", "/api/workflows/image-from-text", map[string]any{"prompt": "a red mug"}, key)
	if first.StatusCode != 200 {
		t.Fatalf("first: %d %s", first.StatusCode, first.body)
	}
	wantAppError(t, b.do(t, "POST", "/api/workflows/image-from-text", map[string]any{"prompt": "a blue mug"}, key), 422, "IDEMPOTENCY_KEY_REUSED")
	wantAppError(t, b.do(t, "POST", "/api/workflows/image-from-reference", map[string]any{"prompt": "a red mug", "referenceImageUrl": pngDataURL(t)}, key), 422, "IDEMPOTENCY_KEY_REUSED")
	again := b.do(t, "POST", "/api/workflows/image-from-text", map[string]any{"prompt": "a red mug"}, key)
	if again.StatusCode != 200 || again.Header.Get("Idempotent-Replayed") != "true" || string(again.body) != string(first.body) {
		t.Fatalf("replay: %d %s", again.StatusCode, again.body)
	}
	if rows, _ := generations(t, ts); rows != 1 || fake.Calls() != 1 {
		t.Fatalf("%d rows, %d provider calls", rows, fake.Calls())
	}
}

// TestPerUserWorkflowLimit: workflow POSTs are limited per user, counted in
// the database (10 a minute, across instances), answered 429 RATE_LIMITED
// with Retry-After in the app API's shape; another user is not affected,
// and the window ends after a quiet minute.
func TestPerUserWorkflowLimit(t *testing.T) {
	t.Parallel()
	ts, _ := newGenServer(t, map[string]string{"RATE_LIMIT_ENABLED": "true"})
	b := ts.browser()
	b.signUp(t, "busy@example.com", "password123")
	// Invalid bodies count too: the limit sits before any work.
	for i := range 10 {
		if r := b.do(t, "POST", "/api/workflows/image-from-text", map[string]any{}, nil); r.StatusCode != 400 {
			t.Fatalf("request %d: %d %s", i, r.StatusCode, r.body)
		}
	}
	r := b.do(t, "POST", "/api/workflows/image-from-reference", map[string]any{"prompt": "x"}, nil)
	wantAppError(t, r, 429, "RATE_LIMITED")
	if n, err := strconv.Atoi(r.Header.Get("Retry-After")); err != nil || n < 1 || n > 60 {
		t.Fatalf("Retry-After %q", r.Header.Get("Retry-After"))
	}
	other := ts.browser()
	other.signUp(t, "calm@example.com", "password123")
	if r := other.do(t, "POST", "/api/workflows/image-from-text", map[string]any{"prompt": "mug"}, nil); r.StatusCode != 200 {
		t.Fatalf("another user: %d %s", r.StatusCode, r.body)
	}
	ts.clock.Advance(61 * time.Second)
	if r := b.do(t, "POST", "/api/workflows/image-from-text", map[string]any{"prompt": "mug"}, nil); r.StatusCode != 200 {
		t.Fatalf("after a quiet minute: %d %s", r.StatusCode, r.body)
	}
}

// TestPerUserHistoryDeleteLimit: deletes are limited per user the same way.
func TestPerUserHistoryDeleteLimit(t *testing.T) {
	t.Parallel()
	ts, _ := newGenServer(t, map[string]string{"RATE_LIMIT_ENABLED": "true"})
	b := ts.browser()
	b.signUp(t, "deleter@example.com", "password123")
	for i := range 60 {
		if r := b.do(t, "DELETE", "/api/history/nope-"+strconv.Itoa(i), nil, nil); r.StatusCode != 404 {
			t.Fatalf("delete %d: %d %s", i, r.StatusCode, r.body)
		}
	}
	r := b.do(t, "DELETE", "/api/history/nope", nil, nil)
	wantAppError(t, r, 429, "RATE_LIMITED")
	if r.Header.Get("Retry-After") == "" {
		t.Fatal("no Retry-After")
	}
	// Reads are not limited by it.
	if r := b.do(t, "GET", "/api/history", nil, nil); r.StatusCode != 200 {
		t.Fatalf("history read: %d", r.StatusCode)
	}
}

// countingReferenceServer serves a small PNG at every path, counting the
// downloads in hits; it returns its base URL.
func countingReferenceServer(t *testing.T, hits *atomic.Int64) string {
	t.Helper()
	png, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(pngDataURL(t), "data:image/png;base64,"))
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		w.Header().Set("Content-Type", "image/png")
		w.Write(png)
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}

// referenceServer is countingReferenceServer without the count.
func referenceServer(t *testing.T) string {
	t.Helper()
	var hits atomic.Int64
	return countingReferenceServer(t, &hits)
}
