// Package workflowapi serves the generation workflows: it reserves a credit
// (one statement, see pkg/generation), calls the image provider, copies the
// first image into object storage, and finishes the generation. The request
// waits for that work up to a budget below API Gateway's 30 s limit; past it
// the request answers 202 and the work continues, so a slow provider still
// ends the generation as succeeded or failed (docs/generation.md).
package workflowapi

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"path"
	"regexp"
	"strings"
	"time"

	"adstudio/pkg/generation"
	"adstudio/pkg/qwen"
	"adstudio/pkg/safefetch"
	"adstudio/pkg/storage"
	"adstudio/pkg/workflow"
)

// Provider resolves the image generator for one request. A configuration
// problem is returned as the contract's BACKEND_MISCONFIGURED message.
type Provider func() (qwen.Generator, *qwen.ConfigError)

// Runner does the work of one generation after its credit is reserved.
type Runner struct {
	Generations *generation.Store
	Storage     storage.Store      // nil: no bucket, nothing is copied
	Fetcher     *safefetch.Fetcher // downloads the provider's result image
	RefFetcher  *safefetch.Fetcher // downloads a user's reference image (10 MB, 15 s)
	BaseURL     string             // public API origin, for asset URLs
	Now         func() time.Time
	// CopyAttempts bounds the download retries of the result image.
	CopyAttempts int
	// Inject, when set (tests only), is asked at each step whether to fail
	// there: "after-debit" (the job is abandoned, as if the process died),
	// "after-provider", "copy" and "finish".
	Inject func(step string) error
}

func (rn *Runner) fault(step string) error {
	if rn.Inject == nil {
		return nil
	}
	return rn.Inject(step)
}

// job is one generation in flight.
type job struct {
	requestID string
	gen       generation.Record
	params    workflow.Params
	credits   generation.Balance
	generator qwen.Generator
}

// response is what the request answers, also stored for replays.
type response struct {
	status int
	body   []byte
}

// run calls the provider, stores the first image and finishes the
// generation. Every failure after the reservation ends in Finish(Failed),
// which refunds the credit; Finish moves a generation only out of pending,
// so a late or repeated finisher changes nothing.
func (rn *Runner) run(ctx context.Context, j job) response {
	if err := rn.fault("after-debit"); err != nil {
		// The process "died": nothing finishes this generation but the
		// sweeper.
		return response{status: http.StatusInternalServerError, body: mustJSON(map[string]any{
			"error": map[string]string{"code": "INTERNAL_SERVER_ERROR", "message": "Internal server error."}, "requestId": j.requestID})}
	}
	res, err := j.generator.Generate(ctx, qwen.Request{
		Edit: j.gen.Workflow == workflow.ImageFromReference, Prompt: j.params.Prompt, ReferenceImage: j.params.ReferenceImage,
		N: j.params.N, Size: j.params.Size, NegativePrompt: j.params.NegativePrompt, Seed: j.params.Seed,
		PromptExtend: j.params.PromptExtend, Watermark: j.params.Watermark,
	})
	if errors.Is(context.Cause(ctx), errHandedOff) {
		return response{}
	}
	if err != nil {
		var pe *qwen.Error
		if !errors.As(err, &pe) {
			pe = &qwen.Error{Status: http.StatusBadGateway, Code: "UPSTREAM_UNAVAILABLE", Message: "Failed to connect to image provider."}
			if errors.Is(err, context.DeadlineExceeded) {
				pe = &qwen.Error{Status: http.StatusGatewayTimeout, Code: "UPSTREAM_TIMEOUT", Message: "Image provider request timed out."}
			}
		}
		fields := map[string]any{}
		if pe.ProviderCode != "" {
			fields["providerCode"] = pe.ProviderCode
		}
		if pe.ProviderRequestID != "" {
			fields["providerRequestId"] = pe.ProviderRequestID
		}
		return rn.fail(ctx, j, pe.Status, pe.Code, pe.Message, fields, err)
	}

	if err := rn.fault("after-provider"); err != nil {
		return rn.fail(ctx, j, http.StatusInternalServerError, "INTERNAL_SERVER_ERROR", "Internal server error.", nil, err)
	}
	images := append([]string(nil), res.Images...)
	key := ""
	if rn.Storage != nil && len(images) > 0 {
		k, err := rn.copyFirst(ctx, j, images[0])
		if errors.Is(context.Cause(ctx), errHandedOff) {
			if err == nil {
				rn.deleteObject(k)
			}
			return response{}
		}
		if err == nil {
			if err = rn.fault("copy"); err != nil {
				rn.deleteObject(k)
			}
		}
		if err != nil {
			return rn.fail(ctx, j, http.StatusInternalServerError, "INTERNAL_SERVER_ERROR", "Internal server error.", nil, err)
		}
		key = k
	}
	assetPath := ""
	if key != "" {
		assetPath = "/api/history/" + j.gen.ID + "/asset"
		// The built-in generator answers with data: URLs; hand the browser
		// the stored copy instead of megabytes of base64.
		for i, u := range images {
			if i == 0 && strings.HasPrefix(u, "data:") {
				images[i] = rn.BaseURL + assetPath
			}
		}
	}
	out := map[string]any{"requestId": j.requestID, "images": images, "assetUrl": nil}
	if res.Usage != nil {
		out["usage"] = res.Usage
	}
	if assetPath != "" {
		out["assetUrl"] = assetPath
	}
	outJSON, _ := json.Marshal(out)

	imgs := make([]map[string]string, len(images))
	for i, u := range images {
		imgs[i] = map[string]string{"url": u}
	}
	prov := map[string]any{"name": "qwen", "model": res.Model}
	if res.RequestID != "" {
		prov["requestId"] = res.RequestID
	}
	body := map[string]any{
		"workflow": j.gen.Workflow, "status": "completed", "requestId": j.requestID, "generationId": j.gen.ID,
		"provider": prov, "output": map[string]any{"images": imgs, "expiresInHours": 24}, "credits": j.credits,
	}
	if res.Usage != nil {
		body["usage"] = res.Usage
	}
	resp := response{status: http.StatusOK, body: mustJSON(body)}
	if err := rn.fault("finish"); err != nil {
		if key != "" {
			rn.deleteObject(key)
		}
		return rn.fail(ctx, j, http.StatusInternalServerError, "INTERNAL_SERVER_ERROR", "Internal server error.", nil, err)
	}
	won, err := rn.Generations.Finish(ctx, j.gen.ID, generation.Outcome{
		Status: generation.Succeeded, OutputJSON: string(outJSON), ProviderRequestID: res.RequestID, ProviderModel: res.Model,
		R2Key: key, ResponseStatus: resp.status, ResponseJSON: string(resp.body),
	}, rn.Now())
	if err != nil {
		if key != "" {
			rn.deleteObject(key)
		}
		return rn.fail(ctx, j, http.StatusInternalServerError, "INTERNAL_SERVER_ERROR", "Internal server error.", nil, err)
	}
	if !won {
		// Deleted or swept while we worked: its credit is already back, and
		// the stored copy belongs to nothing.
		if key != "" {
			rn.deleteObject(key)
		}
		return rn.finalAnswer(ctx, j)
	}
	return resp
}

// fail ends the generation as failed (refunding it) and builds the error.
func (rn *Runner) fail(ctx context.Context, j job, status int, code, msg string, fields map[string]any, cause error) response {
	if status >= 500 {
		slog.ErrorContext(ctx, "generation failed", "generationId", j.gen.ID, "requestId", j.requestID, "code", code, "err", cause)
	}
	inner := map[string]any{"code": code, "message": msg}
	for k, v := range fields {
		inner[k] = v
	}
	resp := response{status: status, body: mustJSON(map[string]any{"error": inner, "requestId": j.requestID})}
	// The context may be the one that just expired; finishing must not be
	// lost with it.
	fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	won, err := rn.Generations.Finish(fctx, j.gen.ID, generation.Outcome{
		Status: generation.Failed, ErrorCode: code, ErrorMessage: msg, ResponseStatus: status, ResponseJSON: string(resp.body),
	}, rn.Now())
	if err != nil {
		// The sweeper fails it (and refunds) within minutes.
		slog.ErrorContext(ctx, "could not record failed generation", "generationId", j.gen.ID, "err", err)
	} else if !won {
		return rn.finalAnswer(fctx, j)
	}
	return resp
}

// finalAnswer is the stored answer of a generation someone else finished.
func (rn *Runner) finalAnswer(ctx context.Context, j job) response {
	r, err := rn.Generations.GetAny(ctx, j.gen.ID)
	if err == nil && r.ResponseJSON != "" {
		return response{status: r.ResponseStatus, body: []byte(r.ResponseJSON)}
	}
	return response{status: http.StatusNotFound, body: mustJSON(map[string]string{"error": "History item not found."})}
}

// copyFirst downloads the first result image and stores it. The download
// is retried here; storage.Put retries transient failures itself. Either
// way a blink of the provider's CDN or of storage does not cost the image.
func (rn *Runner) copyFirst(ctx context.Context, j job, src string) (string, error) {
	var data []byte
	var ctype string
	var err error
	for i := range max(rn.CopyAttempts, 1) {
		if i > 0 {
			select {
			case <-time.After(time.Duration(i*i) * 200 * time.Millisecond):
			case <-ctx.Done():
				return "", ctx.Err()
			}
		}
		if data, ctype, err = rn.download(ctx, src); err == nil {
			break
		}
	}
	if err != nil {
		return "", fmt.Errorf("download result image: %w", err)
	}
	key := fmt.Sprintf("users/%s/generations/%s/output.%s", j.gen.UserID, j.gen.ID, extension(ctype, src))
	if err := rn.Storage.Put(ctx, key, ctype, data); err != nil {
		return "", fmt.Errorf("store result image: %w", err)
	}
	return key, nil
}

var dataURL = regexp.MustCompile(`(?is)^data:([a-z0-9.+/-]+);base64,(.*)$`)

func (rn *Runner) download(ctx context.Context, src string) ([]byte, string, error) {
	if m := dataURL.FindStringSubmatch(src); m != nil {
		b, err := base64.StdEncoding.DecodeString(strings.Join(strings.Fields(m[2]), ""))
		if err != nil || len(b) == 0 {
			return nil, "", fmt.Errorf("result data URL: invalid base64")
		}
		return b, m[1], nil
	}
	res, err := rn.Fetcher.Get(ctx, src)
	if err != nil {
		return nil, "", err
	}
	ctype, _, _ := strings.Cut(res.ContentType, ";")
	if ctype = strings.TrimSpace(ctype); ctype == "" {
		ctype = "image/png"
	}
	return res.Body, ctype, nil
}

var extRE = regexp.MustCompile(`^[a-z0-9]{1,5}$`)

// extension follows app-api.md §12.4: known image types, else the source
// URL's own extension, else png.
func extension(ctype, src string) string {
	mt, _, _ := mime.ParseMediaType(ctype)
	switch strings.ToLower(mt) {
	case "image/png":
		return "png"
	case "image/jpeg", "image/jpg":
		return "jpg"
	case "image/webp":
		return "webp"
	case "image/gif":
		return "gif"
	}
	if !strings.HasPrefix(src, "data:") {
		p := src
		if i := strings.IndexAny(p, "?#"); i >= 0 {
			p = p[:i]
		}
		if e := strings.ToLower(strings.TrimPrefix(path.Ext(p), ".")); extRE.MatchString(e) {
			return e
		}
	}
	return "png"
}

func (rn *Runner) deleteObject(key string) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := rn.Storage.Delete(ctx, key); err != nil {
		slog.Error("delete orphaned object", "key", key, "err", err)
	}
}

// mustJSON encodes like JSON.stringify (provider URLs keep their "&").
// Only maps of strings, numbers and our own structs get here, which cannot
// fail to encode.
func copyAll(w io.Writer, r io.Reader) (int64, error) { return io.Copy(w, r) }

func mustJSON(v any) []byte {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	enc.Encode(v)
	return bytes.TrimRight(b.Bytes(), "\n")
}
