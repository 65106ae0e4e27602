package qwen_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"image"
	"image/png"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"adstudio/internal/devtools/qwenfake"
	"adstudio/internal/qwen"
)

func TestGenerateText(t *testing.T) {
	t.Parallel()
	fake := qwenfake.New(t)
	c := qwen.NewClient(fake.Config(), nil)

	res, err := c.Generate(context.Background(), qwen.Request{Prompt: "a ceramic mug", Size: "1328*1328", PromptExtend: true})
	if err != nil {
		t.Fatal(err)
	}
	want := `{"model":"qwen-image-max","input":{"messages":[{"role":"user","content":[{"text":"a ceramic mug"}]}]},` +
		`"parameters":{"n":1,"size":"1328*1328","prompt_extend":true,"watermark":false}}`
	if got := string(fake.LastBody()); got != want {
		t.Errorf("body:\n got %s\nwant %s", got, want)
	}
	h := fake.LastHeader()
	if h.Get("Authorization") != "Bearer "+fake.APIKey() || h.Get("Content-Type") != "application/json" || h.Get("X-DashScope-Async") != "" {
		t.Errorf("headers: %v", h)
	}
	if res.Model != "qwen-image-max" || res.RequestID != fake.LastRequestID() || len(res.Images) != 1 {
		t.Fatalf("result: %+v", res)
	}
	checkUsage(t, res.Usage, 1, 1328, 1328)
	checkPNG(t, res.Images[0], 1328, 1328)
	if !strings.Contains(res.Images[0], ".png?Expires=") || !strings.Contains(res.Images[0], "&") {
		t.Errorf("image URL %q does not look like a signed result URL", res.Images[0])
	}
}

// Text-to-image always sends n = 1, and every optional key is omitted when
// absent; seed 0 is present.
func TestGenerateTextOptionalKeys(t *testing.T) {
	t.Parallel()
	fake := qwenfake.New(t)
	cfg := fake.Config()
	cfg.ImageModel = "qwen-image-plus"
	c := qwen.NewClient(cfg, nil)

	if _, err := c.Generate(context.Background(), qwen.Request{Prompt: "p", N: 3, Watermark: true}); err != nil {
		t.Fatal(err)
	}
	want := `{"model":"qwen-image-plus","input":{"messages":[{"role":"user","content":[{"text":"p"}]}]},` +
		`"parameters":{"n":1,"prompt_extend":false,"watermark":true}}`
	if got := string(fake.LastBody()); got != want {
		t.Errorf("body:\n got %s\nwant %s", got, want)
	}

	res, err := c.Generate(context.Background(), qwen.Request{Prompt: "p", Size: "928*1664", NegativePrompt: "blurry", Seed: ptr(int64(0))})
	if err != nil {
		t.Fatal(err)
	}
	want = `{"model":"qwen-image-plus","input":{"messages":[{"role":"user","content":[{"text":"p"}]}]},` +
		`"parameters":{"n":1,"size":"928*1664","negative_prompt":"blurry","seed":0,"prompt_extend":false,"watermark":false}}`
	if got := string(fake.LastBody()); got != want {
		t.Errorf("body:\n got %s\nwant %s", got, want)
	}
	checkUsage(t, res.Usage, 1, 928, 1664)
}

func TestGenerateEdit(t *testing.T) {
	t.Parallel()
	fake := qwenfake.New(t)
	c := qwen.NewClient(fake.Config(), nil)
	ref := pngDataURL(t, 600, 400)

	res, err := c.Generate(context.Background(), qwen.Request{
		Edit: true, Prompt: "put it on marble", ReferenceImage: ref, N: 3, Size: "1472*1140",
		NegativePrompt: "text, watermark", Seed: ptr(int64(2147483647)), PromptExtend: true,
	})
	if err != nil {
		t.Fatal(err)
	}
	// The size is forwarded as given: remapping is the caller's business.
	want := `{"model":"qwen-image-edit-max","input":{"messages":[{"role":"user","content":[{"image":"` + ref + `"},{"text":"put it on marble"}]}]},` +
		`"parameters":{"n":3,"size":"1472*1140","negative_prompt":"text, watermark","seed":2147483647,"prompt_extend":true,"watermark":false}}`
	if got := string(fake.LastBody()); got != want {
		t.Errorf("body:\n got %.300s\nwant %.300s", got, want)
	}
	if res.Model != "qwen-image-edit-max" || res.RequestID != fake.LastRequestID() || len(res.Images) != 3 {
		t.Fatalf("result: %+v", res)
	}
	checkUsage(t, res.Usage, 3, 1472, 1140)
	seen := map[string]bool{}
	for _, u := range res.Images {
		if seen[u] {
			t.Errorf("duplicate image URL %s", u)
		}
		seen[u] = true
		checkPNG(t, u, 1472, 1140)
	}

	// Without a size the provider keeps the input's aspect ratio around
	// 1024×1024.
	res, err = c.Generate(context.Background(), qwen.Request{Edit: true, Prompt: "x", ReferenceImage: ref})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasSuffix(string(fake.LastBody()), `"parameters":{"n":1,"prompt_extend":false,"watermark":false}}`) {
		t.Errorf("body: %.300s", fake.LastBody())
	}
	checkUsage(t, res.Usage, 1, 1248, 832)
}

// The body is what JSON.stringify would send: <, >, &, U+2028 unescaped.
func TestGenerateBodyEscaping(t *testing.T) {
	t.Parallel()
	fake := qwenfake.New(t)
	c := qwen.NewClient(fake.Config(), nil)
	prompt := "<b>\"Tom & Jerry\"</b>\\ \u2028\x01\t\n é 😀"
	if _, err := c.Generate(context.Background(), qwen.Request{Prompt: prompt, NegativePrompt: "a\"b"}); err != nil {
		t.Fatal(err)
	}
	want := `{"model":"qwen-image-max","input":{"messages":[{"role":"user","content":[{"text":"<b>\"Tom & Jerry\"</b>\\ ` + "\u2028" + `\u0001\t\n é 😀"}]}]},` +
		`"parameters":{"n":1,"negative_prompt":"a\"b","prompt_extend":false,"watermark":false}}`
	got := fake.LastBody()
	if string(got) != want {
		t.Errorf("body:\n got %s\nwant %s", got, want)
	}
	var v struct {
		Input struct {
			Messages []struct {
				Content []struct{ Text string }
			}
		}
	}
	if err := json.Unmarshal(got, &v); err != nil || v.Input.Messages[0].Content[0].Text != prompt {
		t.Errorf("body does not round-trip: %v %+v", err, v)
	}
}

// The error matrix of docs/dashscope.md §13, plus the ordering consequences of §9.2.
func TestGenerateProviderErrors(t *testing.T) {
	t.Parallel()
	fake := qwenfake.New(t)
	c := qwen.NewClient(fake.Config(), nil)
	const fromFake = "<fake>" // ProviderRequestID: the fake's last request id

	tests := []struct {
		name   string
		prompt string
		want   qwen.Error
	}{
		{"moderation", qwenfake.Moderation,
			qerr(502, "UPSTREAM_POLICY_VIOLATION", "Request was rejected by provider safety checks.", "DataInspectionFailed", fromFake)},
		{"bad parameter passes the message", qwenfake.InvalidParameter,
			qerr(502, "UPSTREAM_INVALID_PARAMETER", qwenfake.MsgInvalidParameter, "InvalidParameter", fromFake)},
		{"bad key", qwenfake.BadKey,
			qerr(502, "UPSTREAM_AUTH_ERROR", "Image provider authentication failed.", "InvalidApiKey", fromFake)},
		{"throttled", qwenfake.Throttled,
			qerr(502, "UPSTREAM_RATE_LIMITED", "Image provider rate limit exceeded.", "Throttling.RateQuota", fromFake)},
		{"arrearage passes the message", qwenfake.Arrearage,
			qerr(502, "UPSTREAM_REQUEST_FAILED", qwenfake.MsgArrearage, "Arrearage", fromFake)},
		{"access denied", qwenfake.AccessDenied,
			qerr(502, "UPSTREAM_REQUEST_FAILED", "Access denied.", "AccessDenied", fromFake)},
		{"provider fault", qwenfake.Internal,
			qerr(502, "UPSTREAM_UNAVAILABLE", "Image provider is currently unavailable.", "InternalError", fromFake)},
		{"gateway HTML", qwenfake.GatewayHTML,
			qerr(502, "UPSTREAM_UNAVAILABLE", "Image provider is currently unavailable.", "", "")},
		{"200 with code", qwenfake.OKWithCode,
			qerr(502, "UPSTREAM_INVALID_PARAMETER", qwenfake.MsgInvalidParameter, "InvalidParameter", fromFake)},
		{"200 non-JSON", qwenfake.NonJSON,
			qerr(502, "UPSTREAM_MALFORMED_RESPONSE", "Image provider returned an invalid response body.", "", "")},
		{"200 JSON array", qwenfake.JSONArray,
			qerr(502, "UPSTREAM_MALFORMED_RESPONSE", "Image provider returned an invalid response body.", "", "")},
		{"200 without images", qwenfake.NoImages,
			qerr(502, "UPSTREAM_MALFORMED_RESPONSE", "Image provider returned an invalid response body.", "", fromFake)},
		{"request id from header", qwenfake.HeaderRequestID + qwenfake.Moderation,
			qerr(502, "UPSTREAM_POLICY_VIOLATION", "Request was rejected by provider safety checks.", "DataInspectionFailed", fromFake)},
		{"request id from x-acs-request-id", "[fake:header-request-id=x-acs-request-id]" + qwenfake.NoImages,
			qerr(502, "UPSTREAM_MALFORMED_RESPONSE", "Image provider returned an invalid response body.", "", fromFake)},
		{"request id from x-dashscope-request-id", "[fake:header-request-id=X-DashScope-Request-Id]" + qwenfake.Internal,
			qerr(502, "UPSTREAM_UNAVAILABLE", "Image provider is currently unavailable.", "InternalError", fromFake)},
		{"unrelated header is not a request id", "[fake:header-request-id=x-trace-id]" + qwenfake.Internal,
			qerr(502, "UPSTREAM_UNAVAILABLE", "Image provider is currently unavailable.", "InternalError", "")},
		// docs/dashscope.md §9.2 consequences.
		{"throttling code without 429", qwenfake.Fail(400, "Throttling.RateQuota", ""),
			qerr(502, "UPSTREAM_REQUEST_FAILED", "Image provider request failed.", "Throttling.RateQuota", fromFake)},
		{"429 without code", qwenfake.Fail(429, "", ""),
			qerr(502, "UPSTREAM_RATE_LIMITED", "Image provider rate limit exceeded.", "", fromFake)},
		{"500 InvalidParameter", qwenfake.Fail(500, "InvalidParameter", "bad"),
			qerr(502, "UPSTREAM_UNAVAILABLE", "Image provider is currently unavailable.", "InvalidParameter", fromFake)},
		{"500 DataInspectionFailed", qwenfake.Fail(500, "DataInspectionFailed", ""),
			qerr(502, "UPSTREAM_POLICY_VIOLATION", "Request was rejected by provider safety checks.", "DataInspectionFailed", fromFake)},
		{"503 InvalidApiKey", qwenfake.Fail(503, "InvalidApiKey", ""),
			qerr(502, "UPSTREAM_UNAVAILABLE", "Image provider is currently unavailable.", "InvalidApiKey", fromFake)},
		{"429 InvalidParameter", qwenfake.Fail(429, "InvalidParameter", ""),
			qerr(502, "UPSTREAM_INVALID_PARAMETER", "Image provider rejected request parameters.", "InvalidParameter", fromFake)},
		{"429 InvalidApiKey", qwenfake.Fail(429, "InvalidApiKey", "nope"),
			qerr(502, "UPSTREAM_AUTH_ERROR", "Image provider authentication failed.", "InvalidApiKey", fromFake)},
		{"403 without InvalidApiKey", qwenfake.Fail(403, "Model.AccessDenied", ""),
			qerr(502, "UPSTREAM_REQUEST_FAILED", "Image provider request failed.", "Model.AccessDenied", fromFake)},
		{"codes are case-sensitive", qwenfake.Fail(400, "invalidparameter", "m"),
			qerr(502, "UPSTREAM_REQUEST_FAILED", "m", "invalidparameter", fromFake)},
		{"404 without code or message", qwenfake.Fail(404, "", ""),
			qerr(502, "UPSTREAM_REQUEST_FAILED", "Image provider request failed.", "", fromFake)},
		{"200 with DataInspectionFailed", qwenfake.Fail(200, "DataInspectionFailed", ""),
			qerr(502, "UPSTREAM_POLICY_VIOLATION", "Request was rejected by provider safety checks.", "DataInspectionFailed", fromFake)},
		{"200 with blank code is a success body without images", qwenfake.Fail(200, "  ", "m"),
			qerr(502, "UPSTREAM_MALFORMED_RESPONSE", "Image provider returned an invalid response body.", "", fromFake)},
	}
	for _, tt := range tests {
		// Sequential: the fake's last request id is the one to expect.
		_, err := c.Generate(context.Background(), qwen.Request{Prompt: "a mug " + tt.prompt})
		want := tt.want
		if want.ProviderRequestID == fromFake {
			want.ProviderRequestID = fake.LastRequestID()
		}
		checkError(t, tt.name, err, want)
	}
}

func TestGenerateWrongKey(t *testing.T) {
	t.Parallel()
	fake := qwenfake.New(t)
	cfg := fake.Config()
	cfg.APIKey = "sk-wrong"
	_, err := qwen.NewClient(cfg, nil).Generate(context.Background(), qwen.Request{Prompt: "p"})
	checkError(t, "wrong key", err, qerr(502, "UPSTREAM_AUTH_ERROR", "Image provider authentication failed.", "InvalidApiKey", fake.LastRequestID()))
}

// Requests the fake (like the provider) rejects come back as the mapped
// error, so a client bug is visible as UPSTREAM_INVALID_PARAMETER.
func TestGenerateRejectedByFake(t *testing.T) {
	t.Parallel()
	fake := qwenfake.New(t)
	c := qwen.NewClient(fake.Config(), nil)
	for name, r := range map[string]qwen.Request{
		"text size not a preset":  {Prompt: "p", Size: "1472*1140"},
		"edit n beyond 6":         {Edit: true, Prompt: "p", ReferenceImage: "https://example.com/a.png", N: 7},
		"edit side below 512":     {Edit: true, Prompt: "p", ReferenceImage: "https://example.com/a.png", Size: "511*1024"},
		"edit reference not data": {Edit: true, Prompt: "p", ReferenceImage: "data:image/png;base64,AAAA"},
		"seed out of range":       {Prompt: "p", Seed: ptr(int64(1 << 31))},
		"unknown marker":          {Prompt: "p [fake:typo]"},
	} {
		_, err := c.Generate(context.Background(), r)
		var qe *qwen.Error
		if !errors.As(err, &qe) || qe.Code != "UPSTREAM_INVALID_PARAMETER" || qe.ProviderCode != "InvalidParameter" {
			t.Errorf("%s: err = %v", name, err)
		}
	}
}

func TestGenerateConnectionRefused(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	c := qwen.NewClient(qwen.Config{APIKey: "k", BaseURL: "http://" + addr, Timeout: patient}, nil)
	_, err = c.Generate(context.Background(), qwen.Request{Prompt: "p"})
	checkError(t, "refused", err, qerr(502, "UPSTREAM_UNAVAILABLE", "Failed to connect to image provider.", "", ""))

	// So is a fake that has been closed.
	fake := qwenfake.New(t)
	fake.Close()
	_, err = qwen.NewClient(fake.Config(), nil).Generate(context.Background(), qwen.Request{Prompt: "p"})
	checkError(t, "closed fake", err, qerr(502, "UPSTREAM_UNAVAILABLE", "Failed to connect to image provider.", "", ""))
}

// patient is a provider timeout no test here reaches: go test stops a
// test binary after 10 minutes by default. A test that needs the timeout
// fires it itself (manualTimer).
const patient = qwenfake.Timeout

// manualTimer is the provider timeout of a client under test
// (Client.AfterFunc): it fires only when the test says so, and reports
// when the client stops it, which the client does once headers are in.
type manualTimer struct {
	mu      sync.Mutex
	d       time.Duration
	f       func()
	expired bool // fired, or about to: Stop reports false from then on
	stopped bool
	stops   chan struct{} // closed by the client's Stop
}

func newManualTimer() *manualTimer { return &manualTimer{stops: make(chan struct{})} }

func (m *manualTimer) afterFunc(d time.Duration, f func()) func() bool {
	m.mu.Lock()
	m.d, m.f = d, f
	m.mu.Unlock()
	return func() bool {
		m.mu.Lock()
		defer m.mu.Unlock()
		if !m.stopped {
			m.stopped = true
			close(m.stops)
		}
		return !m.expired
	}
}

// fire runs the timeout now, unless the client already stopped the timer.
func (m *manualTimer) fire() {
	m.mu.Lock()
	f := m.f
	if m.stopped || m.expired || f == nil {
		f = nil
	}
	m.expired = true
	m.mu.Unlock()
	if f != nil {
		f()
	}
}

// expireLate is a timer that has fired but whose function has not run
// yet, as time.AfterFunc can be when Stop is called: Stop reports false.
func (m *manualTimer) expireLate() {
	m.mu.Lock()
	m.expired = true
	m.mu.Unlock()
}

func (m *manualTimer) duration() time.Duration {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.d
}

// expiringContext is a caller's context whose deadline passes when the
// test calls expire, at a chosen point of the exchange.
type expiringContext struct {
	context.Context
	done chan struct{}
	mu   sync.Mutex
	err  error
}

func newExpiringContext() *expiringContext {
	return &expiringContext{Context: context.Background(), done: make(chan struct{})}
}

func (c *expiringContext) Done() <-chan struct{} { return c.done }

func (c *expiringContext) Err() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.err
}

func (c *expiringContext) expire() {
	c.mu.Lock()
	c.err = context.DeadlineExceeded
	c.mu.Unlock()
	close(c.done)
}

// generate runs c.Generate on its own goroutine; the test goroutine
// receives the error and asserts on it.
func generate(ctx context.Context, c *qwen.Client, prompt string) <-chan error {
	errc := make(chan error, 1)
	go func() {
		_, err := c.Generate(ctx, qwen.Request{Prompt: prompt})
		errc <- err
	}()
	return errc
}

// The provider timeout and the caller's deadline, each fired by the test
// while the fake holds the request: nothing here waits for a real clock.
func TestGenerateTimeout(t *testing.T) {
	t.Parallel()
	fake := qwenfake.New(t)
	cfg := fake.Config()
	timeoutErr := qerr(504, "UPSTREAM_TIMEOUT", "Image provider request timed out.", "", "")

	t.Run("no headers before the timeout", func(t *testing.T) {
		tm := newManualTimer()
		c := qwen.NewClient(cfg, nil)
		c.AfterFunc = tm.afterFunc
		errc := generate(context.Background(), c, "p "+qwenfake.Hold)
		held := <-fake.Held()
		tm.fire()
		err := <-errc
		checkError(t, "timed out", err, timeoutErr)
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("a timeout should unwrap to context.DeadlineExceeded: %v", err)
		}
		if !held.ClientGone() {
			t.Error("the fake answered a request the client had given up")
		}
		if d := tm.duration(); d != cfg.Timeout {
			t.Errorf("timer started for %v, want the configured %v", d, cfg.Timeout)
		}
	})

	t.Run("headers before the timeout", func(t *testing.T) {
		tm := newManualTimer()
		c := qwen.NewClient(cfg, nil)
		c.AfterFunc = tm.afterFunc
		errc := generate(context.Background(), c, "p "+qwenfake.Hold)
		(<-fake.Held()).Release()
		if err := <-errc; err != nil {
			t.Fatalf("answered before the timeout: %v", err)
		}
		select {
		case <-tm.stops:
		default:
			t.Error("Generate returned without stopping its timer")
		}
	})

	t.Run("timer fired as the headers arrived", func(t *testing.T) {
		tm := newManualTimer()
		c := qwen.NewClient(cfg, nil)
		c.AfterFunc = tm.afterFunc
		errc := generate(context.Background(), c, "p "+qwenfake.Hold)
		held := <-fake.Held()
		tm.expireLate()
		held.Release()
		err := <-errc
		checkError(t, "late timer", err, timeoutErr)
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("a timeout should unwrap to context.DeadlineExceeded: %v", err)
		}
	})

	t.Run("caller deadline", func(t *testing.T) {
		c := qwen.NewClient(cfg, nil)
		c.AfterFunc = newManualTimer().afterFunc
		ctx := newExpiringContext()
		errc := generate(ctx, c, "p "+qwenfake.Hold)
		held := <-fake.Held()
		ctx.expire()
		checkError(t, "caller deadline", <-errc, timeoutErr)
		if !held.ClientGone() {
			t.Error("the fake answered a request the client had given up")
		}
	})
}

// The timeout stops at the headers: a body still arriving after them is
// read whatever the timer does, but the caller's context still bounds it.
func TestGenerateTimeoutCoversHeadersOnly(t *testing.T) {
	t.Parallel()
	// The server sends the headers and the start of a success body, says
	// so on midBody, and sends the rest when the test sends on finish.
	midBody := make(chan struct{})
	finish := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusOK)
		io.WriteString(w, `{"request_id":"r1","output":{"choices":[{"message":{"content":[`)
		http.NewResponseController(w).Flush()
		select {
		case midBody <- struct{}{}:
		case <-r.Context().Done():
			return
		}
		select {
		case <-finish:
		case <-r.Context().Done():
			return
		}
		io.WriteString(w, `{"image":"https://x/y.png"}]}}]}}`)
	}))
	defer srv.Close()
	cfg := qwen.Config{APIKey: "k", BaseURL: srv.URL, Timeout: patient}

	t.Run("timer after the headers", func(t *testing.T) {
		tm := newManualTimer()
		c := qwen.NewClient(cfg, nil)
		c.AfterFunc = tm.afterFunc
		errc := generate(context.Background(), c, "p")
		<-midBody
		<-tm.stops // headers in, body not finished: the timer is stopped already
		finish <- struct{}{}
		if err := <-errc; err != nil {
			t.Fatalf("slow body: %v", err)
		}
	})

	t.Run("caller deadline during the body", func(t *testing.T) {
		tm := newManualTimer()
		c := qwen.NewClient(cfg, nil)
		c.AfterFunc = tm.afterFunc
		ctx := newExpiringContext()
		errc := generate(ctx, c, "p")
		<-midBody
		<-tm.stops
		ctx.expire()
		checkError(t, "caller deadline during body", <-errc, qerr(504, "UPSTREAM_TIMEOUT", "Image provider request timed out.", "", ""))
	})

	t.Run("caller cancel during the body", func(t *testing.T) {
		tm := newManualTimer()
		c := qwen.NewClient(cfg, nil)
		c.AfterFunc = tm.afterFunc
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		errc := generate(ctx, c, "p")
		<-midBody
		<-tm.stops
		cancel()
		err := <-errc
		checkError(t, "caller cancel during body", err, qerr(502, "UPSTREAM_UNAVAILABLE", "Failed to connect to image provider.", "", ""))
		if !errors.Is(err, context.Canceled) {
			t.Errorf("cancel should unwrap to context.Canceled: %v", err)
		}
	})
}

// Response shapes the fake does not produce, served verbatim.
func TestGenerateResponseParsing(t *testing.T) {
	t.Parallel()
	type reply struct {
		status int
		header map[string]string
		body   string
	}
	var current atomic.Pointer[reply]
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		cur := current.Load()
		for k, v := range cur.header {
			w.Header().Set(k, v)
		}
		w.WriteHeader(cur.status)
		io.WriteString(w, cur.body)
	}))
	defer srv.Close()
	c := qwen.NewClient(qwen.Config{APIKey: "k", BaseURL: srv.URL + "/", Timeout: patient}, nil)

	ok := func(content string) string {
		return `{"output":{"choices":[{"message":{"content":` + content + `}}]},"request_id":"rid"}`
	}
	malformed := func(rid string) *qwen.Error {
		return ptr(qerr(502, "UPSTREAM_MALFORMED_RESPONSE", "Image provider returned an invalid response body.", "", rid))
	}
	f := func(v float64) *float64 { return &v }
	tests := []struct {
		name    string
		reply   reply
		want    *qwen.Result // with Model "m"
		wantErr *qwen.Error
	}{
		{"empty body", reply{200, nil, ""}, nil, malformed("")},
		{"null", reply{200, nil, "null"}, nil, malformed("")},
		{"string", reply{200, nil, `"ok"`}, nil, malformed("")},
		{"trailing garbage", reply{200, nil, ok(`[{"image":"u"}]`) + "x"}, nil, malformed("")},
		{"two values", reply{200, nil, ok(`[{"image":"u"}]`) + "{}"}, nil, malformed("")},
		{"no output", reply{200, nil, `{"request_id":"rid"}`}, nil, malformed("rid")},
		{"output not object", reply{200, nil, `{"output":[],"request_id":"rid"}`}, nil, malformed("rid")},
		{"choices not array", reply{200, nil, `{"output":{"choices":{}},"request_id":"rid"}`}, nil, malformed("rid")},
		{"choice 0 not object", reply{200, nil, `{"output":{"choices":[1,{"message":{"content":[{"image":"u"}]}}]},"request_id":"rid"}`}, nil, malformed("rid")},
		{"message not object", reply{200, nil, `{"output":{"choices":[{"message":"x"}]},"request_id":"rid"}`}, nil, malformed("rid")},
		{"content not array", reply{200, nil, ok(`{"image":"u"}`)}, nil, malformed("rid")},
		{"only blank images", reply{200, nil, ok(`[{"image":" \u00a0"},{"image":5},{"text":"t"},"u"]`)}, nil, malformed("rid")},
		{"body too big", reply{200, nil, ok(`[{"image":"u"}]`) + strings.Repeat(" ", qwen.MaxResponseBytes)}, nil, malformed("")},
		{"too big error body", reply{500, map[string]string{"x-request-id": "h"}, `{"code":"X"}` + strings.Repeat(" ", qwen.MaxResponseBytes)}, nil,
			ptr(qerr(502, "UPSTREAM_UNAVAILABLE", "Image provider is currently unavailable.", "", "h"))},
		{"blank message uses default", reply{400, nil, `{"code":"InvalidParameter","message":"  ","request_id":"rid"}`}, nil,
			ptr(qerr(502, "UPSTREAM_INVALID_PARAMETER", "Image provider rejected request parameters.", "InvalidParameter", "rid"))},
		{"non-string code ignored", reply{400, nil, `{"code":42,"message":"m"}`}, nil,
			ptr(qerr(502, "UPSTREAM_REQUEST_FAILED", "m", "", ""))},
		{"code and message kept untrimmed", reply{400, nil, `{"code":" Arrearage ","message":" pay up "}`}, nil,
			ptr(qerr(502, "UPSTREAM_REQUEST_FAILED", " pay up ", " Arrearage ", ""))},
		{"body request id beats header", reply{400, map[string]string{"x-request-id": "h"}, `{"code":"X","request_id":"b"}`}, nil,
			ptr(qerr(502, "UPSTREAM_REQUEST_FAILED", "Image provider request failed.", "X", "b"))},
		{"blank body request id falls back to header", reply{400, map[string]string{"x-request-id": " ", "x-acs-request-id": " acs "}, `{"code":"X","request_id":" "}`}, nil,
			ptr(qerr(502, "UPSTREAM_REQUEST_FAILED", "Image provider request failed.", "X", "acs"))},
		{"non-JSON error keeps the header id", reply{503, map[string]string{"x-dashscope-request-id": "d"}, "<html>"}, nil,
			ptr(qerr(502, "UPSTREAM_UNAVAILABLE", "Image provider is currently unavailable.", "", "d"))},
		{"3xx is an error", reply{304, nil, ""}, nil, ptr(qerr(502, "UPSTREAM_REQUEST_FAILED", "Image provider request failed.", "", ""))},
		{"BOM and 201", reply{201, nil, "\ufeff" + ok(`[{"image":"u"}]`)},
			&qwen.Result{Images: []string{"u"}, RequestID: "rid"}, nil},
		{"images filtered, order and spacing kept", reply{200, nil, ok(`[{"image":" a "},null,[],{"image":""},{"image":"b"},{"text":"t"}]`)},
			&qwen.Result{Images: []string{" a ", "b"}, RequestID: "rid"}, nil},
		{"only choice 0 counts", reply{200, nil, `{"output":{"choices":[{"message":{"content":[{"image":"a"}]}},{"message":{"content":[{"image":"b"}]}}]}}`},
			&qwen.Result{Images: []string{"a"}}, nil},
		{"usage numeric fields only", reply{200, nil, `{"output":{"choices":[{"message":{"content":[{"image":"a"}]}}]},"usage":{"image_count":"1","width":1024.5,"height":1e400}}`},
			&qwen.Result{Images: []string{"a"}, Usage: &qwen.Usage{Width: f(1024.5)}}, nil},
		{"usage without numbers", reply{200, nil, `{"output":{"choices":[{"message":{"content":[{"image":"a"}]}}]},"usage":{"image_count":null}}`},
			&qwen.Result{Images: []string{"a"}}, nil},
		{"usage zero kept", reply{200, nil, `{"output":{"choices":[{"message":{"content":[{"image":"a"}]}}]},"usage":{"image_count":0,"width":1,"height":2}}`},
			&qwen.Result{Images: []string{"a"}, Usage: &qwen.Usage{ImageCount: f(0), Width: f(1), Height: f(2)}}, nil},
	}
	for _, tt := range tests {
		current.Store(&tt.reply)
		res, err := c.Generate(context.Background(), qwen.Request{Prompt: "p"})
		if tt.wantErr != nil {
			checkError(t, tt.name, err, *tt.wantErr)
			continue
		}
		if err != nil {
			t.Errorf("%s: %v", tt.name, err)
			continue
		}
		want := *tt.want // Model stays "": the Config names none
		if !reflect.DeepEqual(res, want) {
			t.Errorf("%s: result %+v (usage %+v), want %+v (usage %+v)", tt.name, res, res.Usage, want, want.Usage)
		}
	}
}

// qerr is the client-visible part of an upstream error.
func qerr(status int, code, message, providerCode, providerRequestID string) qwen.Error {
	return qwen.Error{Status: status, Code: code, Message: message, ProviderCode: providerCode, ProviderRequestID: providerRequestID}
}

func checkError(t *testing.T, name string, err error, want qwen.Error) {
	t.Helper()
	var qe *qwen.Error
	if !errors.As(err, &qe) {
		t.Errorf("%s: err = %v, want *qwen.Error", name, err)
		return
	}
	got := *qe
	got.Err, want.Err = nil, nil
	if got != want {
		t.Errorf("%s:\n got %+v\nwant %+v", name, got, want)
	}
}

func checkUsage(t *testing.T, u *qwen.Usage, n, w, h float64) {
	t.Helper()
	if u == nil || u.ImageCount == nil || u.Width == nil || u.Height == nil || *u.ImageCount != n || *u.Width != w || *u.Height != h {
		t.Errorf("usage = %+v, want %v×%v×%v", u, n, w, h)
	}
}

// checkPNG downloads a result URL and checks it is a PNG of w×h.
func checkPNG(t *testing.T, url string, w, h int) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "image/png" {
		t.Fatalf("GET %s: %d %s", url, resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	img, err := png.Decode(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	if b := img.Bounds(); b.Dx() != w || b.Dy() != h {
		t.Errorf("image is %v, want %d×%d", b, w, h)
	}
}

func pngDataURL(t *testing.T, w, h int) string {
	t.Helper()
	var b bytes.Buffer
	if err := png.Encode(&b, image.NewGray(image.Rect(0, 0, w, h))); err != nil {
		t.Fatal(err)
	}
	return "data:image/png;base64," + base64.StdEncoding.EncodeToString(b.Bytes())
}
