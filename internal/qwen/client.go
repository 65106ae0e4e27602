package qwen

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"math"
	"net/http"
	"strings"
	"sync/atomic"
	"time"

	"adstudio/internal/jscompat"
)

// MaxResponseBytes caps the provider response body we read. A success body
// is a few hundred bytes of URLs; anything past this is treated as an
// unreadable body (malformed on a 2xx), never buffered whole.
const MaxResponseBytes = 8 << 20

// Client calls the synchronous DashScope generation endpoint. It is safe for
// concurrent use and holds no per-request state.
type Client struct {
	// AfterFunc starts the timer of the provider timeout and returns its
	// Stop (nil: time.AfterFunc). Tests fire the timeout themselves through
	// it instead of racing a real timer against the fake provider.
	AfterFunc func(d time.Duration, f func()) (stop func() bool)

	cfg      Config
	hc       *http.Client
	endpoint string
}

// NewClient builds a client for cfg. hc may be nil (a fresh http.Client with
// the default transport); its Timeout should be zero, because cfg.Timeout is
// applied to the wait for headers only. A zero cfg.Timeout means the 45 s
// default. NewClient does not validate cfg; call cfg.Validate first.
func NewClient(cfg Config, hc *http.Client) *Client {
	if hc == nil {
		hc = &http.Client{}
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = DefaultTimeout
	}
	base := cfg.BaseURL
	if base == "" {
		base = regionHost(cfg.Region)
	}
	return &Client{cfg: cfg, hc: hc, endpoint: strings.TrimRight(base, "/") + GenerationPath}
}

// Endpoint is the URL requests are POSTed to.
func (c *Client) Endpoint() string { return c.endpoint }

var _ Generator = (*Client)(nil)

// Generate sends one generation request. Every failure is a *Error carrying
// the client-facing status, code and message of docs/dashscope.md §9.2; ctx bounds the
// whole call, and the configured timeout bounds the wait for headers.
func (c *Client) Generate(ctx context.Context, r Request) (Result, error) {
	model := c.cfg.ImageModel
	if r.Edit {
		model = c.cfg.EditModel
	}
	body := requestBody(model, r)

	// The provider timeout covers sending and the wait for headers only
	// (docs/dashscope.md §10): a timer cancels a child context and is stopped once
	// headers are in, so the body read is bounded by ctx alone.
	hctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var timedOut atomic.Bool
	afterFunc := c.AfterFunc
	if afterFunc == nil {
		afterFunc = func(d time.Duration, f func()) func() bool { return time.AfterFunc(d, f).Stop }
	}
	stopTimer := afterFunc(c.cfg.Timeout, func() {
		timedOut.Store(true)
		cancel()
	})

	req, err := http.NewRequestWithContext(hctx, http.MethodPost, c.endpoint, bytes.NewReader(body))
	if err != nil {
		stopTimer()
		return Result{}, &Error{Status: http.StatusBadGateway, Code: CodeUnavailable, Message: MsgConnectFailed, Err: err}
	}
	req.Header.Set("Authorization", "Bearer "+c.cfg.APIKey)
	req.Header.Set("Content-Type", "application/json")

	resp, err := c.hc.Do(req)
	stopped := stopTimer()
	if err != nil {
		return Result{}, transportError(ctx, timedOut.Load(), err)
	}
	defer resp.Body.Close()
	if !stopped {
		// The timer fired as the headers arrived; the body read would fail
		// on the cancelled context anyway.
		return Result{}, transportError(ctx, true, context.DeadlineExceeded)
	}

	raw, readErr := io.ReadAll(io.LimitReader(resp.Body, MaxResponseBytes+1))
	if readErr != nil && ctx.Err() != nil {
		return Result{}, transportError(ctx, false, readErr)
	}
	// Like the reference's response.json() in a try/catch: a body that
	// cannot be read, is too big or is not JSON is simply "no body".
	var payload any
	if readErr == nil && len(raw) <= MaxResponseBytes {
		payload = parseJSON(raw)
	}
	obj, isObject := payload.(map[string]any)

	code := nonBlankString(obj["code"])
	message := nonBlankString(obj["message"])
	requestID := nonBlankString(obj["request_id"])
	if requestID == "" {
		requestID = headerRequestID(resp.Header)
	}

	if resp.StatusCode < 200 || resp.StatusCode > 299 || code != "" {
		return Result{}, mapProviderError(resp.StatusCode, code, message, requestID)
	}
	malformed := &Error{Status: http.StatusBadGateway, Code: CodeMalformedResponse, Message: MsgMalformedResponse, ProviderRequestID: requestID}
	if !isObject {
		return Result{}, malformed
	}
	images := imageURLs(obj)
	if len(images) == 0 {
		return Result{}, malformed
	}
	return Result{Images: images, RequestID: requestID, Model: model, Usage: usage(obj)}, nil
}

// transportError is rows 1–2 of docs/dashscope.md §9.2: no response at all. A caller
// context that ran out counts as the timeout too; one that was cancelled is
// reported as a connection failure, the only other row, with the
// cancellation as the cause.
func transportError(ctx context.Context, timedOut bool, err error) *Error {
	if cerr := ctx.Err(); cerr != nil && !errors.Is(err, cerr) {
		err = errors.Join(cerr, err)
	}
	if timedOut || errors.Is(ctx.Err(), context.DeadlineExceeded) {
		cause := err
		if !errors.Is(cause, context.DeadlineExceeded) {
			cause = errors.Join(context.DeadlineExceeded, err)
		}
		return &Error{Status: http.StatusGatewayTimeout, Code: CodeTimeout, Message: MsgTimeout, Err: cause}
	}
	return &Error{Status: http.StatusBadGateway, Code: CodeUnavailable, Message: MsgConnectFailed, Err: err}
}

// parseJSON decodes a body as fetch's response.json() would: a leading
// UTF-8 BOM is dropped; anything that is not exactly one JSON value gives
// nil. Numbers stay json.Number so that huge ones do not fail the decode.
func parseJSON(raw []byte) any {
	raw = bytes.TrimPrefix(raw, []byte("\xef\xbb\xbf"))
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil
	}
	return v
}

// nonBlankString is v when it is a string that is not blank, else "". The
// value itself is returned untrimmed, as the reference does.
func nonBlankString(v any) string {
	s, ok := v.(string)
	if !ok || isBlank(s) {
		return ""
	}
	return s
}

// headerRequestID is the fallback of docs/dashscope.md §8.1: the first non-blank header among
// these, trimmed.
func headerRequestID(h http.Header) string {
	for _, k := range []string{"x-request-id", "x-acs-request-id", "x-dashscope-request-id"} {
		if v := jscompat.Trim(strings.Join(h.Values(k), ", ")); v != "" {
			return v
		}
	}
	return ""
}

// imageURLs is docs/dashscope.md §8: every non-blank string image of choice 0's content,
// in order; non-object entries skipped, other choices ignored.
func imageURLs(payload map[string]any) []string {
	output, _ := payload["output"].(map[string]any)
	choices, _ := output["choices"].([]any)
	if len(choices) == 0 {
		return nil
	}
	choice, _ := choices[0].(map[string]any)
	message, _ := choice["message"].(map[string]any)
	content, _ := message["content"].([]any)
	var urls []string
	for _, item := range content {
		part, ok := item.(map[string]any)
		if !ok {
			continue
		}
		if u := nonBlankString(part["image"]); u != "" {
			urls = append(urls, u)
		}
	}
	return urls
}

// usage copies the numeric members of the provider's usage object; nil when
// there are none.
func usage(payload map[string]any) *Usage {
	u, ok := payload["usage"].(map[string]any)
	if !ok {
		return nil
	}
	num := func(v any) *float64 {
		n, ok := v.(json.Number)
		if !ok {
			return nil
		}
		f, err := n.Float64()
		// A number too big for a double is Infinity in JavaScript and
		// cannot be encoded back to JSON; drop it.
		if err != nil || math.IsInf(f, 0) {
			return nil
		}
		return &f
	}
	out := Usage{ImageCount: num(u["image_count"]), Width: num(u["width"]), Height: num(u["height"])}
	if out.ImageCount == nil && out.Width == nil && out.Height == nil {
		return nil
	}
	return &out
}
