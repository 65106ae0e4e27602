package historyapi

import (
	"errors"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"adstudio/pkg/generation"
	"adstudio/pkg/httpapi"
	"adstudio/pkg/storage"
)

// Asset is GET /api/history/{id}/asset: the stored image, to its owner only,
// with ETag/If-None-Match and single byte ranges. An object too large for a
// Lambda response is answered with a short-lived presigned redirect.
func (a *API) Asset(w http.ResponseWriter, r *http.Request) error {
	cur, err := a.Guard.User(w, r, false)
	if err != nil {
		return err
	}
	if a.Storage == nil {
		return &httpapi.AppError{Status: http.StatusInternalServerError, Code: "BACKEND_MISCONFIGURED", Message: "GENERATIONS_BUCKET is not configured."}
	}
	ctx := r.Context()
	rec, err := a.Generations.Get(ctx, cur.User.ID, r.PathValue("id"))
	if errors.Is(err, generation.ErrNotFound) || (err == nil && rec.R2Key == "") {
		return errAssetNotFound
	}
	if err != nil {
		return err
	}
	rng := r.Header.Get("Range")
	obj, err := a.Storage.Get(ctx, rec.R2Key, rng)
	if errors.Is(err, storage.ErrInvalidRange) {
		// Ask for the size so the 416 can say it, as RFC 9110 wants.
		if info, herr := a.Storage.Head(ctx, rec.R2Key); herr == nil {
			w.Header().Set("Content-Range", "bytes */"+strconv.FormatInt(info.Size, 10))
		}
		w.WriteHeader(http.StatusRequestedRangeNotSatisfiable)
		return nil
	}
	if errors.Is(err, storage.ErrNotFound) {
		return errAssetNotFound
	}
	if err != nil {
		return err
	}
	defer obj.Body.Close()

	h := w.Header()
	h.Set("Cache-Control", "private, max-age=3600")
	if obj.ETag != "" {
		h.Set("ETag", obj.ETag)
		// API Gateway's adapter splits header values on commas: read all.
		if matches(strings.Join(r.Header.Values("If-None-Match"), ","), obj.ETag) {
			w.WriteHeader(http.StatusNotModified)
			return nil
		}
	}
	if a.MaxInline > 0 && obj.TotalSize > a.MaxInline {
		url, err := a.Storage.PresignGet(ctx, rec.R2Key, 5*time.Minute)
		if err == nil {
			h.Set("Cache-Control", "private, no-store")
			http.Redirect(w, r, url, http.StatusFound)
			return nil
		}
		if !errors.Is(err, storage.ErrPresignUnsupported) {
			return err
		}
	}
	ctype := obj.ContentType
	if ctype == "" {
		ctype = "application/octet-stream"
	}
	h.Set("Content-Type", ctype)
	h.Set("Accept-Ranges", "bytes")
	if !obj.LastModified.IsZero() {
		h.Set("Last-Modified", obj.LastModified.UTC().Format(http.TimeFormat))
	}
	h.Set("Content-Length", strconv.FormatInt(obj.Size, 10))
	status := http.StatusOK
	if obj.ContentRange != "" {
		h.Set("Content-Range", obj.ContentRange)
		status = http.StatusPartialContent
	}
	w.WriteHeader(status)
	if r.Method != http.MethodHead {
		io.Copy(w, obj.Body)
	}
	return nil
}

// matches reports whether an If-None-Match value names etag (weak
// comparison, as RFC 9110 asks for If-None-Match).
func matches(header, etag string) bool {
	if header == "" {
		return false
	}
	strip := func(t string) string { return strings.TrimPrefix(strings.TrimSpace(t), "W/") }
	for _, t := range strings.Split(header, ",") {
		if t = strings.TrimSpace(t); t == "*" || strip(t) == strip(etag) {
			return true
		}
	}
	return false
}
