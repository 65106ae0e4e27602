package workflowapi

import (
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"time"

	"github.com/google/uuid"

	"adstudio/internal/auth/authdb"
	"adstudio/internal/generation/engine"
	"adstudio/internal/httpapi"
	"adstudio/internal/objectstore"
)

// UploadTTL is how long an upload URL may be used: long enough for a
// 10 MB file on a slow phone connection, short enough that a leaked URL
// is soon worthless. The object it makes lives a day (the sweep, and the
// bucket's lifecycle rule).
const UploadTTL = 15 * time.Minute

// Uploads is POST /api/uploads: a presigned PUT to the bucket, so a
// reference image reaches the generate function without passing through
// the 6 MB Lambda event (docs/generation.md, "Uploads").
type Uploads struct {
	Guard   *httpapi.Guard
	Storage objectstore.Store // nil: no bucket configured
	Runner  *engine.Runner    // names the upload (UploadURL)
	// MaxBytes caps one upload (UPLOAD_MAX_BYTES).
	MaxBytes int64
	Now      func() time.Time
}

// uploadRequest is the body: the file's type and exact size, which the
// URL is signed for.
type uploadRequest struct {
	ContentType string          `json:"contentType"`
	Size        json.RawMessage `json:"size"`
}

// Create is POST /api/uploads.
func (u *Uploads) Create(w http.ResponseWriter, r *http.Request) error {
	requestID := uuid.NewString()
	cur, err := u.Guard.User(w, r, false)
	if err != nil {
		return err
	}
	invalid := func(msg string) error {
		return &httpapi.AppError{Status: http.StatusBadRequest, Code: httpapi.CodeInvalidRequest, Message: msg, RequestID: requestID}
	}
	var req uploadRequest
	if !httpapi.ReadJSON(w, r, 4<<10, &req) {
		return invalid("Invalid JSON payload.")
	}
	typ, ok := engine.ImageType(req.ContentType)
	if !ok {
		return invalid("contentType must be one of image/jpeg, image/png, image/webp, image/gif, image/bmp, image/tiff.")
	}
	size, err := strconv.ParseInt(string(req.Size), 10, 64)
	if err != nil || size < 1 {
		return invalid("size must be the file's size in bytes: a whole number above 0.")
	}
	if size > u.MaxBytes {
		return &httpapi.AppError{Status: http.StatusRequestEntityTooLarge, Code: httpapi.CodePayloadTooLarge, RequestID: requestID,
			Message: "The file is larger than the " + megabytes(u.MaxBytes) + " upload limit.", Extra: map[string]any{"maxBytes": u.MaxBytes}}
	}
	if u.Storage == nil {
		return &httpapi.AppError{Status: http.StatusInternalServerError, Code: httpapi.CodeBackendMisconfigured, Message: "GENERATIONS_BUCKET is not configured.", RequestID: requestID}
	}
	id := uuid.NewString()
	put, err := u.Storage.PresignPut(r.Context(), objectstore.UploadKey(cur.User.ID, id), typ, size, UploadTTL)
	if errors.Is(err, objectstore.ErrPresignUnsupported) {
		return &httpapi.AppError{Status: http.StatusInternalServerError, Code: httpapi.CodeBackendMisconfigured, Message: "The object store cannot take direct uploads.", RequestID: requestID}
	}
	if err != nil {
		return err
	}
	httpapi.WriteJSON(w, http.StatusOK, map[string]any{
		"uploadUrl":         put.URL,
		"method":            http.MethodPut,
		"headers":           put.Headers,
		"referenceImageUrl": u.Runner.UploadURL(id),
		"expiresAt":         authdb.FormatTime(put.ExpiresAt),
		"maxBytes":          u.MaxBytes,
	})
	return nil
}

// megabytes writes a byte count as the SPA states its limits: "10 MB".
func megabytes(n int64) string {
	if n%(1<<20) == 0 {
		return strconv.FormatInt(n>>20, 10) + " MB"
	}
	return strconv.FormatInt(n, 10) + " bytes"
}
