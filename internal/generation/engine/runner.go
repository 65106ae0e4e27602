// Package engine is where a generation runs once its credit is reserved: it
// calls the image provider, copies the first image into object storage and
// finishes the generation (failing and refunding it on any error), whether
// the job was started by a request or is a continuation handed off by one.
// The HTTP side (validation, idempotency, reserving, the sync budget and the
// answer) is internal/generation/workflowapi; see docs/generation.md.
package engine

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"image"
	"image/gif"
	"image/jpeg"
	"image/png"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"time"

	"golang.org/x/image/webp"

	"adstudio/internal/assetlink"
	"adstudio/internal/generation/gendb"
	"adstudio/internal/generation/workflow"
	"adstudio/internal/httpapi"
	"adstudio/internal/metrics"
	"adstudio/internal/objectstore"
	"adstudio/internal/qwen"
	"adstudio/internal/safefetch"
)

// Provider resolves the image generator for one request. A configuration
// problem is returned as the contract's BACKEND_MISCONFIGURED message.
type Provider func() (qwen.Generator, *qwen.ConfigError)

// Runner does the work of one generation after its credit is reserved.
type Runner struct {
	Generations *gendb.Store
	Provider    Provider
	Storage     objectstore.Store  // nil: no bucket, nothing is copied
	Fetcher     *safefetch.Fetcher // downloads the provider's result image
	RefFetcher  *safefetch.Fetcher // downloads a user's reference image (10 MB, 15 s)
	BaseURL     string             // public API origin, for asset URLs
	// Links signs the stored copy's URL in a workflow's answer, so the
	// studio's <img> opens it without a cookie (nil: unsigned).
	Links *assetlink.Signer
	Now   func() time.Time
	// CopyAttempts bounds the download retries of the result image.
	CopyAttempts int
	// JobTimeout bounds a generation's provider call and copy in total.
	JobTimeout time.Duration
	// Dispatcher, when set (Lambda), takes over a job whose request
	// answered before it was done.
	Dispatcher Dispatcher
	// Inject, when set (tests only), is asked at each step whether to fail
	// there: "after-debit" (the job is abandoned, as if the process died),
	// "after-provider", "thumbnail" (a thumbnail that could not be made,
	// which the generation survives), "copy", "finish", and "hand-off"
	// (before a request past its budget keeps the reference and
	// dispatches; failing there is a hand-off that never happened). A test
	// may also block in it, to run something else at exactly that point.
	Inject func(step string) error
	// Logger receives the failures of generations (nil: slog's default).
	Logger *slog.Logger
	// Metrics receives the generations' outcomes, the provider's latency
	// and errors, copy failures and refunds (nil: none).
	Metrics *metrics.Emitter

	jobs sync.WaitGroup // the jobs Start started, see Wait
}

func (rn *Runner) logger() *slog.Logger {
	if rn.Logger != nil {
		return rn.Logger
	}
	return slog.Default()
}

func (rn *Runner) now() time.Time {
	if rn.Now != nil {
		return rn.Now()
	}
	return time.Now()
}

// finished records the outcome of a generation this runner finished.
func (rn *Runner) finished(ctx context.Context, j Job, outcome string) {
	rn.Metrics.Count(ctx, metrics.Generations, 1,
		metrics.Dim{Name: metrics.DimWorkflow, Value: j.Generation.Workflow}, metrics.Dim{Name: metrics.DimOutcome, Value: outcome})
}

func (rn *Runner) fault(step string) error {
	if rn.Inject == nil {
		return nil
	}
	return rn.Inject(step)
}

// Job is one generation in flight.
type Job struct {
	RequestID  string
	Generation gendb.Record    // the pending row its credit was reserved with
	Params     workflow.Params // ReferenceImage already resolved to a data URL
	Credits    gendb.Balance   // the balance echoed in the answer
	// Generator is the Provider's, resolved before the credit is reserved
	// so that a misconfiguration costs nothing.
	Generator qwen.Generator
}

// Result is what the request answers, also stored on the row for replays.
type Result struct {
	Status int
	Body   []byte
}

// run calls the provider, stores the first image and finishes the
// generation. Every failure after the reservation ends in Finish(Failed),
// which refunds the credit; Finish moves a generation only out of pending,
// so a late or repeated finisher changes nothing.
func (rn *Runner) run(ctx context.Context, j Job) Result {
	if err := rn.fault("after-debit"); err != nil {
		// The process "died": nothing finishes this generation but the
		// sweeper, and nothing logs.
		status, body := httpapi.ErrorBody(httpapi.Internal(err), j.RequestID)
		return Result{Status: status, Body: body}
	}
	started := rn.now()
	res, err := j.Generator.Generate(ctx, qwen.Request{
		Edit: j.Generation.Workflow == workflow.ImageFromReference, Prompt: j.Params.Prompt, ReferenceImage: j.Params.ReferenceImage,
		N: j.Params.N, Size: j.Params.Size, NegativePrompt: j.Params.NegativePrompt, Seed: j.Params.Seed,
		PromptExtend: j.Params.PromptExtend, Watermark: j.Params.Watermark,
	})
	if errors.Is(context.Cause(ctx), errHandedOff) {
		return Result{}
	}
	rn.Metrics.Duration(ctx, metrics.ProviderLatency, rn.now().Sub(started), metrics.Dim{Name: metrics.DimWorkflow, Value: j.Generation.Workflow})
	if err != nil {
		var pe *qwen.Error
		if !errors.As(err, &pe) {
			pe = &qwen.Error{Status: http.StatusBadGateway, Code: httpapi.CodeUpstreamUnavailable, Message: qwen.MsgConnectFailed}
			if errors.Is(err, context.DeadlineExceeded) {
				pe = &qwen.Error{Status: http.StatusGatewayTimeout, Code: httpapi.CodeUpstreamTimeout, Message: qwen.MsgTimeout}
			}
		}
		rn.Metrics.Count(ctx, metrics.ProviderErrors, 1, metrics.Dim{Name: metrics.DimCode, Value: pe.Code})
		fields := map[string]any{}
		if pe.ProviderCode != "" {
			fields["providerCode"] = pe.ProviderCode
		}
		if pe.ProviderRequestID != "" {
			fields["providerRequestId"] = pe.ProviderRequestID
		}
		return rn.fail(ctx, j, &httpapi.AppError{Status: pe.Status, Code: pe.Code, Message: pe.Message, Fields: fields, Cause: err})
	}

	if err := rn.fault("after-provider"); err != nil {
		return rn.fail(ctx, j, httpapi.Internal(err))
	}
	images := append([]string(nil), res.Images...)
	key := ""
	if rn.Storage != nil && len(images) > 0 {
		k, err := rn.copyFirst(ctx, j, images[0])
		if errors.Is(context.Cause(ctx), errHandedOff) {
			// The continuation owns this generation now, and it stores its
			// result under the same key: deleting ours could delete the
			// image it has just stored (a frozen Lambda may thaw this job
			// long after). Left as it is, the object is overwritten by the
			// continuation, or stays under the generation's own prefix, which
			// deleting the item or the account removes.
			return Result{}
		}
		if err == nil {
			if err = rn.fault("copy"); err != nil {
				rn.deleteResult(j, k)
			}
		}
		if err != nil {
			rn.Metrics.Count(ctx, metrics.ResultCopyFailures, 1)
		}
		var re *resultError
		if errors.As(err, &re) {
			// The provider's result, not our storage, is at fault: answered
			// like its other failures, with its request id for support.
			fields := map[string]any{}
			if res.RequestID != "" {
				fields["providerRequestId"] = res.RequestID
			}
			return rn.fail(ctx, j, &httpapi.AppError{Status: http.StatusBadGateway, Code: re.code, Message: re.message, Fields: fields, Cause: err})
		}
		if err != nil {
			return rn.fail(ctx, j, httpapi.Internal(err))
		}
		key = k
	}
	assetPath := ""
	if key != "" {
		assetPath = "/api/history/" + j.Generation.ID + "/asset"
		// The built-in generator answers with data: URLs; hand the browser
		// the stored copy instead of megabytes of base64.
		for i, u := range images {
			if i == 0 && strings.HasPrefix(u, "data:") {
				images[i] = rn.BaseURL + assetPath
			}
		}
	}
	out := map[string]any{"requestId": j.RequestID, "images": images, "assetUrl": nil}
	if res.Usage != nil {
		out["usage"] = res.Usage
	}
	if assetPath != "" {
		out["assetUrl"] = assetPath
	}
	outJSON, _ := json.Marshal(out)

	imgs := make([]map[string]string, len(images))
	for i, u := range images {
		if assetPath != "" && u == rn.BaseURL+assetPath && rn.Links != nil {
			// The answer's copy of our own URL is signed; output_json keeps
			// the plain one, which history signs afresh on every read.
			u += "?" + rn.Links.Query(j.Generation.UserID, j.Generation.ID, "")
		}
		imgs[i] = map[string]string{"url": u}
	}
	prov := map[string]any{"name": "qwen", "model": res.Model}
	if res.RequestID != "" {
		prov["requestId"] = res.RequestID
	}
	body := map[string]any{
		"workflow": j.Generation.Workflow, "status": "completed", "requestId": j.RequestID, "generationId": j.Generation.ID,
		"provider": prov, "output": map[string]any{"images": imgs, "expiresInHours": 24}, "credits": j.Credits,
	}
	if res.Usage != nil {
		body["usage"] = res.Usage
	}
	resp := Result{Status: http.StatusOK, Body: mustJSON(body)}
	if err := rn.fault("finish"); err != nil {
		if key != "" {
			rn.deleteResult(j, key)
		}
		return rn.fail(ctx, j, httpapi.Internal(err))
	}
	won, err := rn.Generations.Finish(ctx, j.Generation.ID, gendb.Outcome{
		Status: gendb.Succeeded, OutputJSON: string(outJSON), ProviderRequestID: res.RequestID, ProviderModel: res.Model,
		R2Key: key, ResponseStatus: resp.Status, ResponseJSON: string(resp.Body),
	}, rn.Now())
	if err != nil {
		if key != "" {
			rn.deleteResult(j, key)
		}
		return rn.fail(ctx, j, httpapi.Internal(err))
	}
	if !won {
		// Deleted or swept while we worked: its credit is already back, and
		// the stored copy belongs to nothing.
		if key != "" {
			rn.deleteResult(j, key)
		}
		return rn.finalAnswer(ctx, j)
	}
	rn.finished(ctx, j, metrics.OutcomeSucceeded)
	return resp
}

// fail ends the generation as failed (refunding it) with e, whose body is
// built by httpapi.ErrorBody, as WriteError would build it: the request
// answers it now, and idempotent replays and history answer it later.
// Every failure after the reservation comes through here, so here is where
// a 5xx (provider, result copy, storage, database) is logged, once, with
// its cause; the request writes the stored body and logs nothing more.
func (rn *Runner) fail(ctx context.Context, j Job, e *httpapi.AppError) Result {
	log := rn.logger()
	if e.Status >= 500 {
		log.ErrorContext(ctx, "generation failed", "generationId", j.Generation.ID, "requestId", j.RequestID,
			"status", e.Status, "code", e.Code, "err", e.Cause)
	}
	status, body := httpapi.ErrorBody(e, j.RequestID)
	resp := Result{Status: status, Body: body}
	// The context may be the one that just expired; finishing must not be
	// lost with it.
	fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	won, err := rn.Generations.Finish(fctx, j.Generation.ID, gendb.Outcome{
		Status: gendb.Failed, ErrorCode: e.Code, ErrorMessage: e.Message, ResponseStatus: resp.Status, ResponseJSON: string(resp.Body),
	}, rn.Now())
	if err != nil {
		// The sweeper fails it (and refunds) within minutes.
		log.ErrorContext(ctx, "could not record failed generation", "generationId", j.Generation.ID, "err", err)
	} else if !won {
		return rn.finalAnswer(fctx, j)
	} else {
		rn.finished(ctx, j, metrics.OutcomeFailed)
		rn.Metrics.Count(ctx, metrics.Refunds, 1, metrics.Dim{Name: metrics.DimWorkflow, Value: j.Generation.Workflow})
	}
	return resp
}

// finalAnswer is the stored answer of a generation someone else finished.
func (rn *Runner) finalAnswer(ctx context.Context, j Job) Result {
	r, err := rn.Generations.GetAny(ctx, j.Generation.ID)
	if err == nil && r.ResponseJSON != "" {
		return Result{Status: r.ResponseStatus, Body: []byte(r.ResponseJSON)}
	}
	// Gone: what history answers for it.
	status, body := httpapi.ErrorBody(&httpapi.PlainError{Status: http.StatusNotFound, Message: "History item not found.", Cause: err}, j.RequestID)
	return Result{Status: status, Body: body}
}

// copyFirst downloads the first result image, checks that it is one, and
// stores it. A failed download is retried here; objectstore.Put retries
// transient failures itself. Either way a blink of the provider's CDN or of
// storage does not cost the image. A result that is refused or not an image
// is a *resultError, and so is a download that still fails after the
// retries; a storage failure is not.
func (rn *Runner) copyFirst(ctx context.Context, j Job, src string) (string, error) {
	var data []byte
	var declared string
	var err error
	for i := range max(rn.CopyAttempts, 1) {
		if i > 0 {
			select {
			case <-time.After(time.Duration(i*i) * 200 * time.Millisecond):
			case <-ctx.Done():
				return "", resultFailure(src, fmt.Errorf("%w (after: %w)", ctx.Err(), err))
			}
		}
		// Only a failed transfer may go better next time; a refused URL,
		// an oversized or empty body or a bad data URL will not.
		if data, declared, err = rn.download(ctx, src); err == nil || safefetch.KindOf(err) != safefetch.KindDownloadFailed {
			break
		}
	}
	if err != nil {
		return "", resultFailure(src, err)
	}
	// The type stored (and later served from the API's own origin) is the
	// one the bytes decode as, never what the provider's header or data URL
	// claims: a page or an SVG with script labelled as an image must not be
	// kept at all.
	f, ok := sniffImage(data)
	if !ok {
		return "", resultFailure(src, fmt.Errorf("%w (declared %q)", errNotImage, declared))
	}
	key := objectstore.ResultKey(j.Generation.UserID, j.Generation.ID, f.ext)
	if err := rn.Storage.Put(ctx, key, f.ctype, data); err != nil {
		return "", fmt.Errorf("store result image: %w", err)
	}
	rn.storeThumbnail(ctx, j, f, data)
	return key, nil
}

// dataURL matches a base64 data URL, both a reference image a client sends
// and a result the provider returns: type in group 1, payload in group 2.
// Compiled on first use rather than at init, which every cold start of
// every function linking this package would pay.
var dataURL = sync.OnceValue(func() *regexp.Regexp {
	return regexp.MustCompile(`(?is)^data:([a-z0-9.+/-]+);base64,(.*)$`)
})

// errNotImage: the result's bytes are not one of the raster formats we keep.
var errNotImage = errors.New("not a PNG, JPEG, GIF or WebP image")

// download returns the result's bytes and, for the log only, the type its
// data URL or response header declares: copyFirst trusts the bytes.
func (rn *Runner) download(ctx context.Context, src string) ([]byte, string, error) {
	if m := dataURL().FindStringSubmatch(src); m != nil {
		b, err := base64.StdEncoding.DecodeString(strings.Join(strings.Fields(m[2]), ""))
		if err != nil || len(b) == 0 {
			return nil, "", errors.New("result data URL: invalid base64")
		}
		return b, m[1], nil
	}
	res, err := rn.Fetcher.Get(ctx, src)
	if err != nil {
		return nil, "", err
	}
	return res.Body, res.ContentType, nil
}

// resultError is a provider result we refused or could not download. It is
// the provider's failure, answered as a 502 like its others; storage
// failures are ours and stay a 500.
type resultError struct {
	code, message string
	source        string // the result URL without its query (signed) or data
	err           error
}

func (e *resultError) Error() string {
	return "result image " + e.source + ": " + withoutQueries(e.err.Error())
}

func (e *resultError) Unwrap() error { return e.err }

// resultFailure classifies a download or check failure of src: a transfer
// that failed (network, timeout, an error status from the provider's CDN)
// means the provider is unavailable; everything else (a URL safefetch
// refuses, too many redirects, too large, empty, a bad data URL, bytes that
// are not an image) is an invalid response.
func resultFailure(src string, err error) *resultError {
	e := &resultError{code: httpapi.CodeUpstreamMalformedResponse, message: qwen.MsgMalformedResponse, source: logSafeURL(src), err: err}
	if safefetch.KindOf(err) == safefetch.KindDownloadFailed || errors.Is(err, context.DeadlineExceeded) {
		e.code, e.message = httpapi.CodeUpstreamUnavailable, qwen.MsgUnavailable
	}
	return e
}

// logSafeURL is what a log may say about a result URL: the provider's are
// signed OSS URLs whose query (Expires, Signature) grants access, and a
// data URL is megabytes of base64. Scheme, host and path are enough to
// investigate.
func logSafeURL(src string) string {
	if strings.HasPrefix(strings.ToLower(src), "data:") {
		typ, _, _ := strings.Cut(src[len("data:"):], ",")
		typ, _, _ = strings.Cut(typ, ";")
		return "data:" + typ
	}
	u, err := url.Parse(src)
	if err != nil {
		return "(unparsable URL)"
	}
	return (&url.URL{Scheme: u.Scheme, Host: u.Host, Path: u.Path}).String()
}

// queryRE matches the query and fragment of a URL inside a message. It is
// compiled on first use: only a failed result ever needs it.
var queryRE = sync.OnceValue(func() *regexp.Regexp {
	return regexp.MustCompile(`([a-zA-Z][a-zA-Z0-9+.-]*://[^\s"'?#]*)[?#][^\s"']*`)
})

// withoutQueries drops the query and fragment of every URL in s: a cause
// from the fetcher (a parse error, a redirect target) may quote one.
func withoutQueries(s string) string { return queryRE().ReplaceAllString(s, "$1?…") }

// imageFormat is a raster format we store and serve.
type imageFormat struct {
	ctype, ext string
	magic      func([]byte) bool
	config     func(io.Reader) (image.Config, error)
	decode     func(io.Reader) (image.Image, error) // for the thumbnail
}

// imageFormats are the formats a result may be: the provider's PNG, and
// the common web formats. Each decoder is called directly, not through
// image.DecodeConfig, whose registry holds whatever formats other packages
// in the binary registered.
var imageFormats = []imageFormat{
	{"image/png", "png", prefix("\x89PNG\r\n\x1a\n"), png.DecodeConfig, png.Decode},
	{"image/jpeg", "jpg", prefix("\xff\xd8\xff"), jpeg.DecodeConfig, jpeg.Decode},
	{"image/gif", "gif", func(b []byte) bool { return prefix("GIF87a")(b) || prefix("GIF89a")(b) }, gif.DecodeConfig, gif.Decode},
	{"image/webp", "webp", func(b []byte) bool { return len(b) >= 12 && string(b[:4]) == "RIFF" && string(b[8:12]) == "WEBP" }, webp.DecodeConfig, webp.Decode},
}

func prefix(p string) func([]byte) bool {
	return func(b []byte) bool { return bytes.HasPrefix(b, []byte(p)) }
}

// sniffImage reports the format data is, if its header decodes as one of
// imageFormats with a non-empty size.
func sniffImage(data []byte) (imageFormat, bool) {
	for _, f := range imageFormats {
		if !f.magic(data) {
			continue
		}
		cfg, err := f.config(bytes.NewReader(data))
		return f, err == nil && cfg.Width > 0 && cfg.Height > 0
	}
	return imageFormat{}, false
}

// deleteResult removes the result copied under key and its thumbnail.
func (rn *Runner) deleteResult(j Job, key string) {
	rn.deleteObject(key)
	rn.deleteObject(objectstore.ThumbnailKey(j.Generation.UserID, j.Generation.ID))
}

func (rn *Runner) deleteObject(key string) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := rn.Storage.Delete(ctx, key); err != nil {
		rn.logger().Error("delete orphaned object", "key", key, "err", err)
	}
}

// mustJSON encodes like JSON.stringify (provider URLs keep their "&").
// Only maps of strings, numbers and our own structs get here, which cannot
// fail to encode.
func mustJSON(v any) []byte {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	enc.Encode(v)
	return bytes.TrimRight(b.Bytes(), "\n")
}
