package qwenfake_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"image/jpeg"
	"image/png"
	"io"
	"net/http"
	"strings"
	"testing"

	"adstudio/internal/devtools/qwenfake"
	"adstudio/internal/qwen"
)

// post sends a raw body to the fake's generation endpoint.
func post(t *testing.T, s *qwenfake.Server, key, ctype, body string) (int, map[string]any) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, s.URL()+qwen.GenerationPath, strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+key)
	req.Header.Set("Content-Type", ctype)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var v map[string]any
	json.NewDecoder(resp.Body).Decode(&v)
	return resp.StatusCode, v
}

const textBody = `{"model":"qwen-image-max","input":{"messages":[{"role":"user","content":[{"text":"PROMPT"}]}]},"parameters":{"n":1,"prompt_extend":true,"watermark":false}}`

// The fake rejects what the provider rejects, and (stricter than the
// provider) anything the backend must never send.
func TestRejects(t *testing.T) {
	t.Parallel()
	s := qwenfake.New(t)
	text := func(r ...string) string { return strings.NewReplacer(r...).Replace(textBody) }
	tests := []struct {
		name, body string
		status     int
		code       string
	}{
		{"not JSON", "{", 400, "InvalidParameter"},
		{"array", "[]", 400, "InvalidParameter"},
		{"missing model", text(`"model":"qwen-image-max",`, ""), 400, "BadRequest.EmptyModel"},
		{"unknown model", text("qwen-image-max", "qwen-image-ultra"), 400, "InvalidParameter"},
		{"missing input", `{"model":"qwen-image-max","parameters":{}}`, 400, "BadRequest.EmptyInput"},
		{"missing parameters", text(`,"parameters":{"n":1,"prompt_extend":true,"watermark":false}`, ""), 400, "BadRequest.EmptyParameters"},
		{"type wrapper", text(`{"text":"PROMPT"}`, `{"type":"text","text":"PROMPT"}`), 400, "InvalidParameter"},
		{"output_format", text(`"n":1`, `"n":1,"output_format":"png"`), 400, "InvalidParameter"},
		{"unknown top-level key", text(`{"model"`, `{"stream":false,"model"`), 400, "InvalidParameter"},
		{"two messages", text(`}]},"parameters"`, `},{"role":"user","content":[{"text":"x"}]}]},"parameters"`), 400, "InvalidParameter"},
		{"assistant role", text(`"user"`, `"assistant"`), 400, "InvalidParameter"},
		{"two texts", text(`{"text":"PROMPT"}`, `{"text":"a"},{"text":"b"}`), 400, "InvalidParameter"},
		{"blank text", text("PROMPT", " "), 400, "InvalidParameter"},
		{"image for a text model", text(`{"text":"PROMPT"}`, `{"image":"https://e.com/a.png"},{"text":"PROMPT"}`), 400, "InvalidParameter"},
		{"n 2 for max", text(`"n":1`, `"n":2`), 400, "InvalidParameter"},
		{"n fractional", text(`"n":1`, `"n":1.5`), 400, "InvalidParameter"},
		{"size not a preset", text(`"n":1`, `"n":1,"size":"1024*1024"`), 400, "InvalidParameter"},
		{"seed negative", text(`"n":1`, `"n":1,"seed":-1`), 400, "InvalidParameter"},
		{"watermark string", text(`"watermark":false`, `"watermark":"false"`), 400, "InvalidParameter"},
		{"edit without image", text("qwen-image-max", "qwen-image-edit-max"), 400, "InvalidParameter"},
		{"edit four images", text("qwen-image-max", "qwen-image-edit-max", `{"text"`, strings.Repeat(`{"image":"https://e.com/a.png"},`, 4)+`{"text"`), 400, "InvalidParameter"},
		{"edit bad data URL", text("qwen-image-max", "qwen-image-edit-max", `{"text"`, `{"image":"data:image/png,abc"},{"text"`), 400, "InvalidURL"},
		{"edit n 7", text("qwen-image-max", "qwen-image-edit-max", `{"text"`, `{"image":"https://e.com/a.png"},{"text"`, `"n":1`, `"n":7`), 400, "InvalidParameter"},
		{"edit side 2049", text("qwen-image-max", "qwen-image-edit-max", `{"text"`, `{"image":"https://e.com/a.png"},{"text"`, `"n":1`, `"n":1,"size":"2049*1024"`), 400, "InvalidParameter"},
		{"unknown marker", text("PROMPT", "[fake:nope]"), 400, "InvalidParameter"},
	}
	for _, tt := range tests {
		status, body := post(t, s, s.APIKey(), "application/json", tt.body)
		if status != tt.status || body["code"] != tt.code || body["request_id"] == "" || body["message"] == "" {
			t.Errorf("%s: %d %v, want %d %s", tt.name, status, body, tt.status, tt.code)
		}
	}

	if status, body := post(t, s, "sk-wrong", "application/json", textBody); status != 401 || body["code"] != "InvalidApiKey" {
		t.Errorf("wrong key: %d %v", status, body)
	}
	if status, body := post(t, s, s.APIKey(), "text/plain", textBody); status != 400 || body["code"] != "InvalidParameter" {
		t.Errorf("text/plain: %d %v", status, body)
	}
	if got, want := s.Calls(), len(tests)+2; got != want {
		t.Errorf("Calls() = %d, want %d", got, want)
	}
}

func TestDefaults(t *testing.T) {
	t.Parallel()
	s := qwenfake.New(t)
	for name, tt := range map[string]struct {
		body string
		w, h float64
		n    int
	}{
		"text max":          {textBody, 1664, 928, 1},
		"text 2.0":          {strings.Replace(textBody, "qwen-image-max", "qwen-image-2.0", 1), 1024, 1024, 1},
		"edit from URL, n4": {strings.NewReplacer("qwen-image-max", "qwen-image-edit-plus", `{"text"`, `{"image":"http://e.com/a.png"},{"text"`, `"n":1`, `"n":4`).Replace(textBody), 1024, 1024, 4},
		"2.0 edit, size":    {strings.NewReplacer("qwen-image-max", "qwen-image-2.0-pro", `{"text"`, `{"image":"http://e.com/a.png"},{"text"`, `"n":1`, `"n":2,"size":"2048*2048"`).Replace(textBody), 2048, 2048, 2},
	} {
		status, body := post(t, s, s.APIKey(), "application/json; charset=utf-8", tt.body)
		if status != 200 {
			t.Fatalf("%s: %d %v", name, status, body)
		}
		usage := body["usage"].(map[string]any)
		content := body["output"].(map[string]any)["choices"].([]any)[0].(map[string]any)["message"].(map[string]any)["content"].([]any)
		if usage["width"] != tt.w || usage["height"] != tt.h || usage["image_count"] != float64(tt.n) || len(content) != tt.n || body["request_id"] != s.LastRequestID() {
			t.Errorf("%s: %v", name, body)
		}
	}
}

func TestImages(t *testing.T) {
	t.Parallel()
	s := qwenfake.New(t)
	url := func(prompt string) string {
		t.Helper()
		_, b := post(t, s, s.APIKey(), "application/json", strings.Replace(textBody, "PROMPT", prompt, 1))
		return b["output"].(map[string]any)["choices"].([]any)[0].(map[string]any)["message"].(map[string]any)["content"].([]any)[0].(map[string]any)["image"].(string)
	}
	get := func(u string) (*http.Response, []byte, error) {
		resp, err := http.Get(u)
		if err != nil {
			return nil, nil, err
		}
		defer resp.Body.Close()
		data, err := io.ReadAll(resp.Body)
		return resp, data, err
	}

	ok := url("plain")
	resp, data, err := get(ok)
	if err != nil || resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "image/png" {
		t.Fatalf("GET result: %v %v", resp, err)
	}
	img, err := png.Decode(strings.NewReader(string(data)))
	if err != nil || img.Bounds().Dx() != 1664 || img.Bounds().Dy() != 928 {
		t.Errorf("result image: %v %v", img.Bounds(), err)
	}

	base, _, _ := strings.Cut(ok, "?")
	if resp, _, _ := get(base); resp.StatusCode != 403 {
		t.Errorf("without Expires: %d", resp.StatusCode)
	}
	if resp, _, _ := get(base + "?Expires=1"); resp.StatusCode != 403 {
		t.Errorf("expired: %d", resp.StatusCode)
	}
	if resp, _, _ := get(url(qwenfake.BrokenImage)); resp.StatusCode != 404 {
		t.Errorf("broken image: %d", resp.StatusCode)
	}
	if _, _, err := get(url(qwenfake.DropImage)); err == nil {
		t.Errorf("dropped download read without error")
	}
	resp, data, err = get(url(qwenfake.BigImage))
	if err != nil || resp.StatusCode != 200 || len(data) < 5<<20 || len(data) > 6<<20 {
		t.Fatalf("big image: %v %d bytes %v", resp, len(data), err)
	}
	if _, err := png.DecodeConfig(strings.NewReader(string(data))); err != nil {
		t.Errorf("big image is not a PNG: %v", err)
	}
	if s.Downloads() != 6 {
		t.Errorf("Downloads() = %d", s.Downloads())
	}
}

// TestResultScenarios: each result scenario points the result at what it
// promises, and only the mislabelled one holds image bytes.
func TestResultScenarios(t *testing.T) {
	t.Parallel()
	s := qwenfake.New(t)
	url := func(prompt string) string {
		t.Helper()
		_, b := post(t, s, s.APIKey(), "application/json", strings.Replace(textBody, "PROMPT", prompt, 1))
		return b["output"].(map[string]any)["choices"].([]any)[0].(map[string]any)["message"].(map[string]any)["content"].([]any)[0].(map[string]any)["image"].(string)
	}
	noRedirects := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	get := func(u string) (*http.Response, []byte) {
		t.Helper()
		resp, err := noRedirects.Get(u)
		if err != nil {
			t.Fatalf("GET %s: %v", u, err)
		}
		defer resp.Body.Close()
		data, _ := io.ReadAll(resp.Body)
		return resp, data
	}
	for _, tc := range []struct {
		marker, ctype string
		script        bool
	}{
		{qwenfake.HTMLImage, "text/html; charset=utf-8", true},
		{qwenfake.SVGImage, "image/svg+xml", true},
		{qwenfake.MislabeledImage, "text/html; charset=utf-8", false},
	} {
		resp, data := get(url(tc.marker))
		if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != tc.ctype || strings.Contains(string(data), qwenfake.ScriptMarker) != tc.script {
			t.Errorf("%s: %d %q %.60q", tc.marker, resp.StatusCode, resp.Header.Get("Content-Type"), data)
		}
		if _, err := jpeg.DecodeConfig(bytes.NewReader(data)); (err == nil) != (tc.marker == qwenfake.MislabeledImage) {
			t.Errorf("%s: JPEG decode: %v", tc.marker, err)
		}
	}
	loop := url(qwenfake.RedirectLoopImage)
	if resp, _ := get(loop); resp.StatusCode != 302 || s.URL()+resp.Header.Get("Location") != loop {
		t.Errorf("redirect loop: %d Location %q, want %q", resp.StatusCode, resp.Header.Get("Location"), loop)
	}
	resp, err := http.Get(url(qwenfake.HugeImage))
	if err != nil {
		t.Fatal(err)
	}
	if resp.ContentLength != 64<<20 {
		t.Errorf("huge image: Content-Length %d", resp.ContentLength)
	}
	if _, err := io.Copy(io.Discard, resp.Body); err == nil {
		t.Errorf("huge image: read its whole body")
	}
	resp.Body.Close()
	if u := url(qwenfake.PrivateImageURL); !strings.HasPrefix(u, "http://169.254.169.254/") || !strings.Contains(u, "&Signature=") {
		t.Errorf("private URL %q", u)
	}
	if u := url(qwenfake.FileImageURL); !strings.HasPrefix(u, "file:") {
		t.Errorf("file URL %q", u)
	}
	for marker, isPNG := range map[string]bool{qwenfake.DataImage: true, qwenfake.DataHTMLImage: false} {
		payload, ok := strings.CutPrefix(url(marker), "data:image/png;base64,")
		data, err := base64.StdEncoding.DecodeString(payload)
		if !ok || err != nil {
			t.Fatalf("%s: not a base64 PNG data URL: %v", marker, err)
		}
		if _, err := png.DecodeConfig(bytes.NewReader(data)); (err == nil) != isPNG || strings.Contains(string(data), qwenfake.ScriptMarker) == isPNG {
			t.Errorf("%s: %.60q", marker, data)
		}
	}
}

// The Hold marker keeps a request until the test releases it, reports it on
// arrival, gives it up when its client goes away, and does not keep Close
// waiting.
func TestHold(t *testing.T) {
	t.Parallel()
	body := strings.Replace(textBody, "PROMPT", "p "+qwenfake.Hold, 1)
	// send posts body from a goroutine: the status, or 0 when the exchange
	// failed; the test goroutine asserts.
	send := func(ctx context.Context, s *qwenfake.Server) <-chan int {
		status := make(chan int, 1)
		go func() {
			req, _ := http.NewRequestWithContext(ctx, http.MethodPost, s.URL()+qwen.GenerationPath, strings.NewReader(body))
			req.Header.Set("Authorization", "Bearer "+s.APIKey())
			req.Header.Set("Content-Type", "application/json")
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				status <- 0
				return
			}
			defer resp.Body.Close()
			if _, err := io.ReadAll(resp.Body); err != nil {
				status <- 0
				return
			}
			status <- resp.StatusCode
		}()
		return status
	}

	s := qwenfake.New(t)
	got := send(context.Background(), s)
	h := <-s.Held()
	select {
	case <-h.Done():
		t.Fatal("a held request ended before its release")
	case st := <-got:
		t.Fatalf("a held request was answered before its release: %d", st)
	default:
	}
	h.Release()
	if st := <-got; st != 200 || h.ClientGone() {
		t.Errorf("released: status %d, client gone %v; want 200, false", st, h.ClientGone())
	}

	ctx, cancel := context.WithCancel(context.Background())
	got = send(ctx, s)
	h = <-s.Held()
	cancel()
	if st := <-got; st != 0 || !h.ClientGone() {
		t.Errorf("client gone: status %d, client gone %v; want no answer", st, h.ClientGone())
	}
	h.Release() // after the client went away: nothing happens

	closing := qwenfake.New(t)
	got = send(context.Background(), closing)
	h = <-closing.Held()
	closing.Close()
	if st := <-got; st != 0 || !h.ClientGone() {
		t.Errorf("fake closed: status %d, client gone %v; want the connection cut", st, h.ClientGone())
	}
	if n := s.Calls(); n != 2 {
		t.Errorf("Calls() = %d, want 2", n)
	}
}
