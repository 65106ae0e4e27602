package devapp_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"adstudio/internal/devtools/qwenfake"
	"adstudio/internal/qwen"
)

// newGenBench is benchApp with the fake provider and a local bucket, and a
// signed-up user with plenty of credits.
func newGenBench(b *testing.B) (*benchApp, string, string) {
	ba, c, uid, _ := newGenBenchFake(b)
	return ba, c, uid
}

func newGenBenchFake(b *testing.B) (*benchApp, string, string, *qwenfake.Server) {
	fake := qwenfake.New(b)
	ts := newServer(b, map[string]string{
		"RATE_LIMIT_ENABLED": "true", "QWEN_API_KEY": fake.APIKey(), "QWEN_BASE_URL": fake.URL(),
		"FETCH_ALLOW_HOSTS": strings.TrimPrefix(fake.URL(), "http://"), "OBJECTS_DIR": filepath.Join(b.TempDir(), "objects"),
	})
	ba, c, uid := benchUser(b, ts)
	return ba, c, uid, fake
}

// benchUser drives ts in-process with one signed-up user with plenty of
// credits: its cookie and id.
func benchUser(b *testing.B, ts *testServer) (*benchApp, string, string) {
	ba := &benchApp{ts: ts, h: ts.app.Handler()}
	w := ba.do(b, "POST", "/api/auth/sign-up/email", `{"name":"B","email":"bench@example.com","password":"password123"}`, "")
	var uid string
	ts.app.DB.QueryRow(context.Background(), `SELECT "id" FROM "users"`).Scan(&uid)
	if _, _, err := ts.app.Generations.Grant(context.Background(), uid, "image-from-text", 1_000_000, "bench", "bench-grant", time.Now()); err != nil {
		b.Fatal(err)
	}
	return ba, cookieHeader(w), uid
}

// BenchmarkGeneration is a whole image-from-text request with an instant
// fake provider: validation, reservation, provider call, download and
// storage of a 1328×1328 PNG, and the final update.
//
// The same run measures the provider alone (the fake's generation call and
// the image download), and reports the time spent outside it.
func BenchmarkGeneration(b *testing.B) {
	ba, c, _, fake := newGenBenchFake(b)
	client := qwen.NewClient(fake.Config(), nil)
	req := qwen.Request{Prompt: "a ceramic mug", N: 1, Size: "1328*1328", PromptExtend: true}
	providerOnly := func() {
		res, err := client.Generate(context.Background(), req)
		if err != nil {
			b.Fatal(err)
		}
		resp, err := http.Get(res.Images[0])
		if err != nil {
			b.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	}
	providerOnly()
	start := time.Now()
	for range 20 {
		providerOnly()
	}
	provider := time.Since(start) / 20
	body := `{"prompt":"a ceramic mug","parameters":{"size":"1328*1328","n":1}}`
	start = time.Now()
	ba.run(b, func(int) {
		// A quiet minute on the injected clock before each request: the
		// per-user limit (10 a minute) does its database work every time
		// but never refuses, as the auth limit does with fresh addresses.
		ba.ts.clock.Advance(time.Minute)
		ba.do(b, "POST", "/api/workflows/image-from-text", body, c)
	})
	per := time.Since(start) / time.Duration(b.N)
	b.ReportMetric(float64(provider)/1e6, "provider-ms")
	b.ReportMetric(float64(per-provider)/1e6, "outside-provider-ms")
}

// BenchmarkHistoryList pages through a user's 1,000 generations.
func BenchmarkHistoryList(b *testing.B) {
	ba, c, uid := newGenBench(b)
	ctx := context.Background()
	for i := range 1000 {
		err := ba.ts.app.DB.Exec(ctx, `INSERT INTO "generation" ("id", "user_id", "workflow", "status", "input_json", "output_json", "r2_key", "created_at", "updated_at")
VALUES (?, ?, 'image-from-text', 'succeeded', '{"prompt":"x"}', '{"images":["https://x/y.png"]}', ?, ?, ?)`,
			fmt.Sprint("g", i), uid, fmt.Sprintf("users/%s/generations/g%d/output.png", uid, i), 1_700_000_000+i, 1_700_000_000+i)
		if err != nil {
			b.Fatal(err)
		}
	}
	ba.run(b, func(i int) {
		ba.do(b, "GET", fmt.Sprintf("/api/history?limit=12&offset=%d", (i*12)%996), "", c)
	})
}

// BenchmarkHistoryPageBytes is what the history page downloads for its 12
// previews: 12 generations through the real path (1328×1328 each, result
// copied, thumbnail made), then the 12 assetUrls of the list against its
// 12 thumbnailUrls, through the image proxy's handler. It reports the bytes
// of each page, their ratio (x-full: thumbnails/full), and the time each
// page takes to serve (ns/op is both pages). "qwenfake" is the fake
// provider's images, flat gradients that PNG compresses to a few KB, which
// is the worst case for a JPEG thumbnail; "imagegen" is make dev's built-in
// generator (gradient, blocks and text), closer to a picture. Real
// photographs compress far worse as PNG, so their ratio is lower still.
func BenchmarkHistoryPageBytes(b *testing.B) {
	b.Run("qwenfake", func(b *testing.B) {
		ba, c, _, _ := newGenBenchFake(b)
		historyPageBytes(b, ba, c)
	})
	b.Run("imagegen", func(b *testing.B) {
		ts := newLocalServer(b, map[string]string{"RATE_LIMIT_ENABLED": "true", "OBJECTS_DIR": filepath.Join(b.TempDir(), "objects")})
		ba, c, _ := benchUser(b, ts)
		historyPageBytes(b, ba, c)
	})
}

func historyPageBytes(b *testing.B, ba *benchApp, cookie string) {
	for i := range 12 {
		ba.ts.clock.Advance(time.Minute) // the per-user limit: 10 a minute
		ba.do(b, "POST", "/api/workflows/image-from-text", fmt.Sprintf(`{"prompt":"product shot %d","parameters":{"size":"1328*1328","n":1}}`, i), cookie)
	}
	var list struct {
		Items []struct {
			AssetURL     string `json:"assetUrl"`
			ThumbnailURL string `json:"thumbnailUrl"`
		} `json:"items"`
	}
	if err := json.Unmarshal(ba.do(b, "GET", "/api/history?limit=12", "", cookie).Body.Bytes(), &list); err != nil || len(list.Items) != 12 {
		b.Fatalf("history: %v, %d items", err, len(list.Items))
	}
	var full, thumbs []string
	for _, it := range list.Items {
		full = append(full, strings.TrimPrefix(it.AssetURL, ba.ts.app.Config.BaseURL))
		thumbs = append(thumbs, strings.TrimPrefix(it.ThumbnailURL, ba.ts.app.Config.BaseURL))
	}
	page := func(urls []string, ctype string) (n int) {
		for _, u := range urls {
			w := ba.do(b, "GET", u, "", cookie)
			if got := w.Header().Get("Content-Type"); got != ctype {
				b.Fatalf("%s: %s, want %s", u, got, ctype)
			}
			n += w.Body.Len()
		}
		return n
	}
	fullBytes, thumbBytes := page(full, "image/png"), page(thumbs, "image/jpeg")
	var fullTime, thumbTime time.Duration
	ba.run(b, func(int) {
		start := time.Now()
		page(full, "image/png")
		fullTime += time.Since(start)
		start = time.Now()
		page(thumbs, "image/jpeg")
		thumbTime += time.Since(start)
	})
	b.ReportMetric(float64(fullBytes), "full-bytes")
	b.ReportMetric(float64(thumbBytes), "thumb-bytes")
	b.ReportMetric(float64(thumbBytes)/float64(fullBytes), "x-full")
	b.ReportMetric(float64(fullTime.Microseconds())/float64(b.N), "full-page-us")
	b.ReportMetric(float64(thumbTime.Microseconds())/float64(b.N), "thumb-page-us")
}

// BenchmarkAsset5MB streams a 5 MB image to its owner and reports the peak
// heap growth while it does: streaming keeps it flat, buffering would not.
func BenchmarkAsset5MB(b *testing.B) {
	ba, c, uid := newGenBench(b)
	ctx := context.Background()
	img := make([]byte, 5<<20)
	rand.NewChaCha8([32]byte{1}).Read(img)
	key := "users/" + uid + "/generations/big/output.png"
	if err := ba.ts.app.Storage.Put(ctx, key, "image/png", img); err != nil {
		b.Fatal(err)
	}
	ba.ts.app.DB.Exec(ctx, `INSERT INTO "generation" ("id", "user_id", "workflow", "status", "input_json", "r2_key") VALUES ('big', ?, 'image-from-text', 'succeeded', '{}', ?)`, uid, key)
	img = nil
	runtime.GC()

	var peak uint64
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	base := ms.HeapAlloc
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		var m runtime.MemStats
		for {
			select {
			case <-stop:
				return
			case <-time.After(200 * time.Microsecond):
				runtime.ReadMemStats(&m)
				peak = max(peak, m.HeapAlloc)
			}
		}
	}()
	b.SetBytes(5 << 20)
	ba.run(b, func(int) {
		req := httptest.NewRequest("GET", "/api/history/big/asset", nil)
		req.Header.Set("Cookie", c)
		w := &discard{h: http.Header{}}
		ba.h.ServeHTTP(w, req)
		if w.status != 200 || w.n != 5<<20 {
			b.Fatalf("asset: %d, %d bytes", w.status, w.n)
		}
	})
	close(stop)
	wg.Wait()
	b.ReportMetric(float64(peak-min(peak, base))/(1<<20), "peak-heap-MB")
}

// discard is a ResponseWriter that counts and drops the body, so the
// benchmark measures the server's memory, not a recorder's buffer.
type discard struct {
	h      http.Header
	status int
	n      int
}

func (d *discard) Header() http.Header { return d.h }
func (d *discard) WriteHeader(s int)   { d.status = s }
func (d *discard) Write(p []byte) (int, error) {
	if d.status == 0 {
		d.status = 200
	}
	d.n += len(p)
	return len(p), nil
}
