// Package workflowapi is the HTTP side of the generation workflows: it
// validates a request, replays an Idempotency-Key, reserves the credit
// (internal/generation/gendb), starts the job on internal/generation/engine,
// which runs every generation, and answers with its result, or 202 once the
// sync budget is spent (docs/generation.md).
package workflowapi

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"

	"adstudio/internal/generation/engine"
	"adstudio/internal/generation/gendb"
	"adstudio/internal/generation/workflow"
	"adstudio/internal/httpapi"
)

// MaxBody caps a workflow request at Lambda's 6 MB event limit: on the
// stack a larger body never reaches us (the gateway refuses it), so the
// local server refuses it too, in our shape and naming the way around it,
// POST /api/uploads. A reference image as a data URL is ~1.37× its file,
// and the SPA sends it twice, so inline references stop at about 2.2 MB;
// larger ones are uploaded.
const MaxBody = 6 << 20

// msgTooLarge is the PAYLOAD_TOO_LARGE message of a workflow body.
const msgTooLarge = "Request body is larger than 6 MB. Send a large reference image with POST /api/uploads and pass its referenceImageUrl instead of a data URL."

// API serves POST /api/workflows/*.
type API struct {
	Guard       *httpapi.Guard
	Generations *gendb.Store
	// Runner runs the generations; its Provider is asked before anything
	// is reserved, so a misconfigured one costs the user nothing.
	Runner *engine.Runner
	Now    func() time.Time
	// SyncBudget is how long a request waits for its generation before it
	// answers 202 and lets the work finish in the background. On Lambda the
	// request's own deadline shortens it further.
	SyncBudget time.Duration
	// After starts the wait for the sync budget (nil: time.After). Tests
	// end the budget themselves through it, so whether a request answers
	// 200 or 202 never depends on how fast the machine is.
	After func(time.Duration) <-chan time.Time
}

type parser func([]byte) (workflow.Params, error)

// ImageFromText is POST /api/workflows/image-from-text (Product Shoots).
func (a *API) ImageFromText(w http.ResponseWriter, r *http.Request) error {
	return a.serve(w, r, workflow.TextToImage, workflow.ParseTextToImage)
}

// ImageFromReference is POST /api/workflows/image-from-reference.
func (a *API) ImageFromReference(w http.ResponseWriter, r *http.Request) error {
	return a.serve(w, r, workflow.ImageFromReference, workflow.ParseImageFromReference)
}

// VideoFromReference answers the old backend's stub honestly: it charged a
// credit for nothing; this validates the body as it did (same 400s), then
// says the workflow is not available and charges nothing.
func (a *API) VideoFromReference(w http.ResponseWriter, r *http.Request) error {
	if _, err := a.Guard.User(w, r, false); err != nil {
		return err
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, MaxBody))
	if err != nil {
		return &httpapi.PlainError{Status: http.StatusBadRequest, Message: "Invalid JSON payload"}
	}
	if _, _, err := workflow.ParseVideoStub(body); err != nil {
		var pe *workflow.PlainError
		if errors.As(err, &pe) {
			return &httpapi.PlainError{Status: http.StatusBadRequest, Message: pe.Message}
		}
		return err
	}
	return &httpapi.AppError{Status: http.StatusNotImplemented, Code: httpapi.CodeNotImplemented, Message: "Video generation is not available yet. No credit was charged."}
}

// NotFound answers unknown paths below /api/workflows/ after the session
// check, as the old backend's prefix middleware did (401 signed out).
func (a *API) NotFound(w http.ResponseWriter, r *http.Request) error {
	if _, err := a.Guard.User(w, r, false); err != nil {
		return err
	}
	return &httpapi.PlainError{Status: http.StatusNotFound, Message: "Not found"}
}

func (a *API) serve(w http.ResponseWriter, r *http.Request, wf string, parse parser) error {
	requestID := uuid.NewString()
	cur, err := a.Guard.User(w, r, false)
	if err != nil {
		return err
	}
	invalid := func(msg string) error {
		return &httpapi.AppError{Status: http.StatusBadRequest, Code: httpapi.CodeInvalidRequest, Message: msg, RequestID: requestID}
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, MaxBody))
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return &httpapi.AppError{Status: http.StatusRequestEntityTooLarge, Code: httpapi.CodePayloadTooLarge, Message: msgTooLarge, RequestID: requestID}
		}
		return invalid("Invalid JSON payload.")
	}
	params, err := parse(body)
	if err != nil {
		var ve *workflow.ValidationError
		if errors.As(err, &ve) {
			return invalid(ve.Message)
		}
		return err
	}
	gen, cfgErr := a.Runner.Provider()
	if cfgErr != nil {
		return &httpapi.AppError{Status: http.StatusInternalServerError, Code: httpapi.CodeBackendMisconfigured, Message: cfgErr.Error(), RequestID: requestID}
	}
	ctx := r.Context()
	key, err := idempotencyKey(r)
	if err != nil {
		return invalid(err.Error())
	}
	hash := requestHash(wf, body)
	if key != "" {
		// Looked up before reserving or downloading anything: a retry must
		// replay, not be refused for the credit its first attempt spent.
		if prev, err := a.Generations.ByIdempotencyKey(ctx, cur.User.ID, key); err == nil {
			return replay(w, prev, hash, requestID)
		} else if !errors.Is(err, gendb.ErrNotFound) {
			return err
		}
	}
	outOfCredits := func(bal gendb.Balance) error {
		if bal.FreeWithheld {
			// The free tier waits for the address (FREE_CREDITS_REQUIRE_VERIFIED_EMAIL):
			// say so, rather than "no credits remaining".
			return &httpapi.AppError{Status: http.StatusPaymentRequired, Code: httpapi.CodeEmailNotVerified,
				Message: "Verify your email address to receive your free credits.", RequestID: requestID, Extra: map[string]any{"credits": bal}}
		}
		return &httpapi.AppError{Status: http.StatusPaymentRequired, Code: httpapi.CodeOutOfCredits, Message: "You do not have credits remaining for this workflow.",
			RequestID: requestID, Extra: map[string]any{"credits": bal}}
	}
	stored := params
	if params.ReferenceImage != "" {
		if !strings.HasPrefix(params.ReferenceImage, "data:") {
			// Downloading a reference costs us bandwidth and time: a user
			// without a credit for it gets their 402 before any of that.
			// (The reservation below still decides; this only spares the
			// download.)
			bal, err := a.Generations.Balance(ctx, cur.User.ID)
			if err != nil {
				return err
			}
			if bal.Of(wf) < 1 {
				return outOfCredits(bal)
			}
		}
		resolved, err := a.Runner.ResolveReference(ctx, cur.User.ID, params.ReferenceImage)
		if err != nil {
			var re *engine.ReferenceError
			if errors.As(err, &re) {
				return invalid(re.Message)
			}
			return err
		}
		params.ReferenceImage = resolved
		if strings.HasPrefix(stored.ReferenceImage, "data:") {
			// A data URL can be megabytes; input_json keeps a marker, as the
			// SPA's later backend does, so rows stay small on Turso.
			stored.ReferenceImage = "[omitted:data-url length=" + strconv.Itoa(len(stored.ReferenceImage)) + "]"
		}
	}
	input, err := stored.InputJSON(wf, requestID)
	if err != nil {
		return err
	}
	rec := gendb.Record{ID: uuid.NewString(), UserID: cur.User.ID, Workflow: wf, InputJSON: string(input), IdempotencyKey: key, RequestHash: hash}
	credits, err := a.Generations.Create(ctx, rec, a.Now())
	switch {
	case errors.Is(err, gendb.ErrOutOfCredits):
		bal, err := a.Generations.Balance(ctx, cur.User.ID)
		if err != nil {
			return err
		}
		return outOfCredits(bal)
	case errors.Is(err, gendb.ErrDuplicate):
		prev, err := a.Generations.ByIdempotencyKey(ctx, cur.User.ID, key)
		if err != nil {
			return err
		}
		return replay(w, prev, hash, requestID)
	case errors.Is(err, gendb.ErrInputTooLarge):
		return invalid("Request is too large to record.")
	case err != nil:
		return err
	}
	j := engine.Job{RequestID: requestID, Generation: rec, Params: params, Credits: credits, Generator: gen}
	return a.await(w, r, j)
}

// await starts the job and waits for it up to the sync budget. The job
// outlives a request that answers early (see engine.Runner.Start).
func (a *API) await(w http.ResponseWriter, r *http.Request, j engine.Job) error {
	budget := a.SyncBudget
	if dl, ok := r.Context().Deadline(); ok {
		// Leave time to answer before Lambda's own deadline.
		budget = min(budget, time.Until(dl)-2*time.Second)
	}
	flight := a.Runner.Start(r.Context(), j)
	after := a.After
	if after == nil {
		after = time.After
	}
	select {
	case res := <-flight.Done():
		writeRaw(w, res)
	case <-after(max(budget, 0)):
		flight.Detach(r.Context())
		httpapi.WriteJSON(w, http.StatusAccepted, map[string]any{
			"workflow": j.Generation.Workflow, "status": "pending", "requestId": j.RequestID, "generationId": j.Generation.ID,
			"credits": j.Credits, "statusUrl": "/api/history/" + j.Generation.ID,
		})
	}
	return nil
}

// requestHash identifies a request for its Idempotency-Key: the workflow
// and the exact body bytes (a client's retry resends the same bytes).
func requestHash(wf string, body []byte) string {
	h := sha256.New()
	h.Write([]byte(wf))
	h.Write([]byte{0})
	h.Write(body)
	return hex.EncodeToString(h.Sum(nil))
}

// replay answers a retried request with what its first attempt answered,
// provided it is the same request: a key reused with another body (or for
// another workflow) is a client bug, and replaying would hand it an answer
// to a request it did not make. Rows from before request hashes existed
// replay as they did.
func replay(w http.ResponseWriter, prev gendb.Record, hash, requestID string) error {
	if prev.RequestHash != "" && prev.RequestHash != hash {
		return &httpapi.AppError{Status: http.StatusUnprocessableEntity, Code: httpapi.CodeIdempotencyKeyReused, RequestID: requestID,
			Message: "This Idempotency-Key was already used with a different request."}
	}
	if prev.Status == gendb.Pending || prev.ResponseJSON == "" {
		httpapi.WriteJSON(w, http.StatusAccepted, map[string]any{
			"workflow": prev.Workflow, "status": prev.Status, "generationId": prev.ID, "statusUrl": "/api/history/" + prev.ID,
		})
		return nil
	}
	w.Header().Set("Idempotent-Replayed", "true")
	writeRaw(w, engine.Result{Status: prev.ResponseStatus, Body: []byte(prev.ResponseJSON)})
	return nil
}

// writeRaw writes a result's JSON exactly as stored, byte for byte.
func writeRaw(w http.ResponseWriter, res engine.Result) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(res.Status)
	w.Write(res.Body)
}

// idempotencyKey reads the Idempotency-Key header: 1–255 visible ASCII.
func idempotencyKey(r *http.Request) (string, error) {
	k := r.Header.Get("Idempotency-Key")
	if k == "" {
		return "", nil
	}
	if len(k) > 255 {
		return "", errors.New("Idempotency-Key must be at most 255 characters.")
	}
	for i := 0; i < len(k); i++ {
		if k[i] < 0x21 || k[i] > 0x7e {
			return "", errors.New("Idempotency-Key must be visible ASCII characters.")
		}
	}
	return k, nil
}
