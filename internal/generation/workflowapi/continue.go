package workflowapi

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"

	"adstudio/internal/generation/gendb"
	"adstudio/internal/generation/workflow"
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

// referenceKey is where a handed-off generation keeps its reference image:
// input_json only holds a marker for data URLs.
func referenceKey(userID, generationID string) string {
	return fmt.Sprintf("users/%s/generations/%s/reference", userID, generationID)
}

// handOff prepares and dispatches a continuation. Whatever fails here, the
// generation still ends: the sweeper (or its owner's history read) fails and
// refunds it once it is older than any job can run.
func (a *API) handOff(ctx context.Context, j job) {
	if err := a.Runner.fault("hand-off"); err != nil {
		slog.ErrorContext(ctx, "hand off", "generationId", j.gen.ID, "err", err)
		return
	}
	if strings.HasPrefix(j.params.ReferenceImage, "data:") && a.Runner.Storage != nil {
		key := referenceKey(j.gen.UserID, j.gen.ID)
		typ, payload, _ := strings.Cut(strings.TrimPrefix(j.params.ReferenceImage, "data:"), ";base64,")
		raw, err := base64.StdEncoding.DecodeString(payload)
		if err == nil {
			err = a.Runner.Storage.Put(ctx, key, typ, raw)
		}
		if err != nil {
			slog.ErrorContext(ctx, "keep reference for continuation", "generationId", j.gen.ID, "err", err)
			return
		}
		// A delete of this generation fails it before removing its objects.
		// Still pending now, after the Put, means any such delete has yet to
		// remove them, this one included; no longer pending (or gone) means
		// it may be past that point, and the reference would belong to
		// nothing. Nor would a continuation have anything to do.
		rec, err := a.Generations.GetAny(ctx, j.gen.ID)
		if errors.Is(err, gendb.ErrNotFound) || (err == nil && rec.Status != gendb.Pending) {
			a.Runner.deleteObject(key)
			return
		}
	}
	if err := a.Dispatcher.Dispatch(ctx, j.gen.ID); err != nil {
		slog.ErrorContext(ctx, "dispatch continuation", "generationId", j.gen.ID, "err", err)
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
func (a *API) Continue(ctx context.Context, generationID string) error {
	rec, err := a.Generations.GetAny(ctx, generationID)
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
	j := job{requestID: in.RequestID, gen: rec, params: params}
	if j.credits, err = a.Generations.Balance(ctx, rec.UserID); err != nil {
		return err
	}
	gen, cfgErr := a.Provider()
	if cfgErr != nil {
		a.Runner.fail(ctx, j, 500, "BACKEND_MISCONFIGURED", cfgErr.Error(), nil, cfgErr)
		return nil
	}
	j.generator = gen
	if rec.Workflow == workflow.ImageFromReference {
		if j.params.ReferenceImage, err = a.continuationReference(ctx, rec, p.ReferenceImage); err != nil {
			a.Runner.fail(ctx, j, 500, "INTERNAL_SERVER_ERROR", "Internal server error.", nil, err)
			return nil
		}
	}
	jctx, cancel := context.WithTimeout(ctx, a.JobTimeout)
	defer cancel()
	a.Runner.run(jctx, j)
	return nil
}

// continuationReference gets the reference back: the object kept at hand-off
// for a data URL, or the URL itself, fetched again through the safe fetcher.
func (a *API) continuationReference(ctx context.Context, rec gendb.Record, stored string) (string, error) {
	if !strings.HasPrefix(stored, "[omitted:") {
		return a.Runner.resolveReference(ctx, stored)
	}
	if a.Runner.Storage == nil {
		return "", errors.New("reference image was not kept: no storage")
	}
	obj, err := a.Runner.Storage.Get(ctx, referenceKey(rec.UserID, rec.ID), "")
	if err != nil {
		return "", fmt.Errorf("reference image: %w", err)
	}
	defer obj.Body.Close()
	var b strings.Builder
	b.WriteString("data:" + obj.ContentType + ";base64,")
	enc := base64.NewEncoder(base64.StdEncoding, &b)
	if _, err := copyAll(enc, obj.Body); err != nil {
		return "", err
	}
	enc.Close()
	return b.String(), nil
}
