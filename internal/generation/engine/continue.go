package engine

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"

	"adstudio/internal/generation/gendb"
	"adstudio/internal/generation/workflow"
	"adstudio/internal/httpapi"
	"adstudio/internal/objectstore"
)

// Dispatcher carries a generation that outlived its request into a fresh
// invocation. On Lambda the environment freezes once a response is sent, so
// a job past its sync budget is handed to an asynchronous invocation of the
// generate function itself; a long-running server needs none (nil), its
// goroutine simply continues.
type Dispatcher interface {
	Dispatch(ctx context.Context, generationID string) error
}

// errHandedOff cancels an in-request job whose generation another
// invocation will finish: the job must stop without finishing it.
var errHandedOff = errors.New("handed off to a continuation")

// handOff prepares and dispatches a continuation. Whatever fails here, the
// generation still ends: the sweeper (or its owner's history read) fails and
// refunds it once it is older than any job can run.
func (rn *Runner) handOff(ctx context.Context, j Job) {
	if err := rn.fault("hand-off"); err != nil {
		rn.logger().ErrorContext(ctx, "hand off", "generationId", j.Generation.ID, "err", err)
		return
	}
	if strings.HasPrefix(j.Params.ReferenceImage, "data:") && rn.Storage != nil {
		key := objectstore.ReferenceKey(j.Generation.UserID, j.Generation.ID)
		typ, payload, _ := strings.Cut(strings.TrimPrefix(j.Params.ReferenceImage, "data:"), ";base64,")
		raw, err := base64.StdEncoding.DecodeString(payload)
		if err == nil {
			err = rn.Storage.Put(ctx, key, typ, raw)
		}
		if err != nil {
			rn.logger().ErrorContext(ctx, "keep reference for continuation", "generationId", j.Generation.ID, "err", err)
			return
		}
		// A delete of this generation fails it before removing its objects.
		// Still pending now, after the Put, means any such delete has yet to
		// remove them, this one included; no longer pending (or gone) means
		// it may be past that point, and the reference would belong to
		// nothing. Nor would a continuation have anything to do.
		rec, err := rn.Generations.GetAny(ctx, j.Generation.ID)
		if errors.Is(err, gendb.ErrNotFound) || (err == nil && rec.Status != gendb.Pending) {
			rn.deleteObject(key)
			return
		}
	}
	if err := rn.Dispatcher.Dispatch(ctx, j.Generation.ID); err != nil {
		rn.logger().ErrorContext(ctx, "dispatch continuation", "generationId", j.Generation.ID, "err", err)
	}
}

// storedInput is the part of input_json a continuation needs.
type storedInput struct {
	RequestID  string `json:"requestId"`
	Parameters struct {
		Prompt         string `json:"prompt"`
		ReferenceImage string `json:"referenceImage"`
		N              int    `json:"n"`
		Size           string `json:"size"`
		NegativePrompt string `json:"negativePrompt"`
		Seed           *int64 `json:"seed"`
		PromptExtend   bool   `json:"promptExtend"`
		Watermark      bool   `json:"watermark"`
	} `json:"parameters"`
}

// Continue finishes a handed-off generation from its stored row: the same
// provider call, copy and final update as the request would have made. A
// generation that is no longer pending (finished, swept, deleted) is left
// alone, so a duplicated or late continuation changes nothing.
func (rn *Runner) Continue(ctx context.Context, generationID string) error {
	rec, err := rn.Generations.GetAny(ctx, generationID)
	if errors.Is(err, gendb.ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	if rec.Status != gendb.Pending {
		return nil
	}
	var in storedInput
	if err := json.Unmarshal([]byte(rec.InputJSON), &in); err != nil {
		return fmt.Errorf("continue %s: input_json: %w", generationID, err)
	}
	p := in.Parameters
	params := workflow.Params{Prompt: p.Prompt, ReferenceImage: p.ReferenceImage, N: p.N, Size: p.Size,
		NegativePrompt: p.NegativePrompt, Seed: p.Seed, PromptExtend: p.PromptExtend, Watermark: p.Watermark}
	j := Job{RequestID: in.RequestID, Generation: rec, Params: params}
	if j.Credits, err = rn.Generations.Balance(ctx, rec.UserID); err != nil {
		return err
	}
	gen, cfgErr := rn.Provider()
	if cfgErr != nil {
		rn.fail(ctx, j, &httpapi.AppError{Status: http.StatusInternalServerError, Code: httpapi.CodeBackendMisconfigured, Message: cfgErr.Error(), Cause: cfgErr})
		return nil
	}
	j.Generator = gen
	if rec.Workflow == workflow.ImageFromReference {
		if j.Params.ReferenceImage, err = rn.continuationReference(ctx, rec, p.ReferenceImage); err != nil {
			rn.fail(ctx, j, httpapi.Internal(err))
			return nil
		}
	}
	jctx, cancel := context.WithTimeout(ctx, rn.JobTimeout)
	defer cancel()
	rn.run(jctx, j)
	return nil
}

// continuationReference gets the reference back: the object kept at hand-off
// for a data URL, or the URL itself, fetched again through the safe fetcher.
func (rn *Runner) continuationReference(ctx context.Context, rec gendb.Record, stored string) (string, error) {
	if !strings.HasPrefix(stored, "[omitted:") {
		return rn.ResolveReference(ctx, rec.UserID, stored)
	}
	if rn.Storage == nil {
		return "", errors.New("reference image was not kept: no storage")
	}
	obj, err := rn.Storage.Get(ctx, objectstore.ReferenceKey(rec.UserID, rec.ID), "")
	if err != nil {
		return "", fmt.Errorf("reference image: %w", err)
	}
	defer obj.Body.Close()
	var b strings.Builder
	b.WriteString("data:" + obj.ContentType + ";base64,")
	enc := base64.NewEncoder(base64.StdEncoding, &b)
	if _, err := io.Copy(enc, obj.Body); err != nil {
		return "", err
	}
	enc.Close()
	return b.String(), nil
}
