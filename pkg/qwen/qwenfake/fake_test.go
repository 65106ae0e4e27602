package qwenfake_test

import (
	"encoding/json"
	"image/png"
	"io"
	"net/http"
	"strings"
	"testing"

	"adstudio/pkg/qwen"
	"adstudio/pkg/qwen/qwenfake"
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
