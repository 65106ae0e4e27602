package historyapi

import (
	"errors"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"adstudio/internal/assetlink"
	"adstudio/internal/generation/gendb"
	"adstudio/internal/httpapi"
	"adstudio/internal/objectstore"
)

// variantThumbnail is the one ?variant= the asset route knows: the small
// JPEG the generate function stores beside each result.
const variantThumbnail = "thumbnail"

// errUnknownVariant answers a ?variant= other than variantThumbnail (a
// function, not a shared value: an AppError holds maps).
func errUnknownVariant() error {
	return &httpapi.AppError{Status: http.StatusBadRequest, Code: httpapi.CodeInvalidRequest,
		Message: `Unknown variant: the only one is "thumbnail".`}
}

// assetObject is one stored object the asset route may serve, and the
// file name it is served under.
type assetObject struct{ key, stem string }

// Asset is GET /api/history/{id}/asset: the stored image, to its owner only,
// with ETag/If-None-Match and single byte ranges. An object too large for a
// Lambda response is answered with a short-lived presigned redirect.
// ?variant=thumbnail serves the small JPEG stored beside the image under the
// same rules, or the image itself for a generation that has none (older
// ones, or one whose thumbnail could not be made): a gallery always gets a
// picture. The route only serves stored bytes; thumbnails are made by the
// generate function (internal/generation/engine).
//
// The bytes are served from the API's own origin, where the session cookie
// lives, so every answer tells the browser to render them as nothing but an
// image: nosniff, a sandboxing CSP, and an inline disposition only for the
// raster types generations store. Anything else (an object kept before
// results were checked) is a download.
func (a *API) Asset(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	rec, err := a.assetRecord(w, r, q)
	if err != nil {
		return err
	}
	thumbnail := q.Has("variant")
	if rec.R2Key == "" {
		return errAssetNotFound
	}
	ctx := r.Context()
	// The objects to try, in order: the first one that exists is served.
	candidates := []assetObject{{rec.R2Key, rec.ID}}
	if thumbnail {
		candidates = append([]assetObject{{objectstore.ThumbnailKey(rec.UserID, rec.ID), rec.ID + "-thumbnail"}}, candidates...)
	}
	rng := r.Header.Get("Range")
	var obj *objectstore.Object
	var served assetObject
	for _, c := range candidates {
		served = c
		if obj, err = a.Storage.Get(ctx, c.key, rng); !errors.Is(err, objectstore.ErrNotFound) {
			break
		}
	}
	if errors.Is(err, objectstore.ErrInvalidRange) {
		// Ask for the size so the 416 can say it, as RFC 9110 wants. A
		// malformed range may be refused before the store looks for the
		// object, so the fallback is looked for here too.
		var info objectstore.Info
		var herr error
		for _, c := range candidates {
			served = c
			if info, herr = a.Storage.Head(ctx, c.key); !errors.Is(herr, objectstore.ErrNotFound) {
				break
			}
		}
		assetHeaders(w.Header(), served.stem, info.ContentType)
		if herr == nil {
			w.Header().Set("Content-Range", "bytes */"+strconv.FormatInt(info.Size, 10))
		}
		w.WriteHeader(http.StatusRequestedRangeNotSatisfiable)
		return nil
	}
	if errors.Is(err, objectstore.ErrNotFound) {
		return errAssetNotFound
	}
	if err != nil {
		return err
	}
	defer obj.Body.Close()

	h := w.Header()
	ctype := assetHeaders(h, served.stem, obj.ContentType)
	h.Set("Cache-Control", "private, max-age=3600")
	if obj.ETag != "" {
		h.Set("ETag", obj.ETag)
		// A repeated If-None-Match counts as its comma-joined list.
		if matches(strings.Join(r.Header.Values("If-None-Match"), ","), obj.ETag) {
			w.WriteHeader(http.StatusNotModified)
			return nil
		}
	}
	if a.MaxInline > 0 && obj.TotalSize > a.MaxInline {
		url, err := a.Storage.PresignGet(ctx, served.key, 5*time.Minute)
		if err == nil {
			// Written by hand: http.Redirect would add an HTML body.
			h.Set("Cache-Control", "private, no-store")
			h.Set("Location", url)
			w.WriteHeader(http.StatusFound)
			return nil
		}
		if !errors.Is(err, objectstore.ErrPresignUnsupported) {
			return err
		}
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

// assetRecord finds the generation whose image is asked for, and checks
// the asker may have it: a signed link (assetlink) for this very image,
// or else the owner's session. A link that fails its check, expired or
// tampered or for another image, is answered like a stranger's request,
// 404, unless the owner's cookie came with it: an owner who opens an old
// link on the API's own site still sees their image.
func (a *API) assetRecord(w http.ResponseWriter, r *http.Request, q url.Values) (gendb.Record, error) {
	ctx := r.Context()
	id := r.PathValue("id")
	signed := q.Has(assetlink.ParamSignature) || q.Has(assetlink.ParamExpires)
	if signed && a.Links != nil {
		rec, err := a.Generations.GetAny(ctx, id)
		if err != nil && !errors.Is(err, gendb.ErrNotFound) {
			return rec, err
		}
		if err == nil && a.Links.Verify(rec.UserID, rec.ID, q.Get("variant"),
			q.Get(assetlink.ParamExpires), q.Get(assetlink.ParamSignature)) == nil {
			return rec, a.checkAsk(q)
		}
	}
	cur, err := a.Guard.User(w, r, false)
	if err == nil {
		// After the session, before the row, as for any bad input.
		if err := a.checkAsk(q); err != nil {
			return gendb.Record{}, err
		}
	}
	if err != nil {
		var ae *httpapi.AppError
		if signed && errors.As(err, &ae) && ae.Status == http.StatusUnauthorized {
			return gendb.Record{}, errAssetNotFound
		}
		return gendb.Record{}, err
	}
	rec, err := a.Generations.Get(ctx, cur.User.ID, id)
	if errors.Is(err, gendb.ErrNotFound) {
		return rec, errAssetNotFound
	}
	return rec, err
}

// checkAsk refuses what no asker may have: an unknown variant, or any
// image while no bucket is configured.
func (a *API) checkAsk(q url.Values) error {
	if q.Has("variant") && q.Get("variant") != variantThumbnail {
		return errUnknownVariant()
	}
	if a.Storage == nil {
		return &httpapi.AppError{Status: http.StatusInternalServerError, Code: httpapi.CodeBackendMisconfigured, Message: "GENERATIONS_BUCKET is not configured."}
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

// servedAs is how a stored object is served: its type and file extension.
type servedAs struct{ ctype, ext string }

// inlineType is how a stored content type is served as an image, with the
// extension of the download name; the generation runner stores only the
// canonical four, older rows may carry an alias. A switch rather than a
// map: nothing to build at cold start, and nothing a caller could change.
func inlineType(mediaType string) (servedAs, bool) {
	switch mediaType {
	case "image/png":
		return servedAs{"image/png", "png"}, true
	case "image/jpeg", "image/jpg", "image/pjpeg":
		return servedAs{"image/jpeg", "jpg"}, true
	case "image/gif":
		return servedAs{"image/gif", "gif"}, true
	case "image/webp":
		return servedAs{"image/webp", "webp"}, true
	}
	return servedAs{}, false
}

// assetHeaders sets the headers every asset answer carries and returns the
// Content-Type to serve the object as; stem names the file (the
// generation's id, or that with "-thumbnail"). An SVG is an image/* type
// that runs script when opened on its own, so it is not inline either.
func assetHeaders(h http.Header, stem, stored string) string {
	mt, _, _ := mime.ParseMediaType(stored)
	t, inline := inlineType(strings.ToLower(mt))
	disposition := "inline"
	if !inline {
		t = servedAs{"application/octet-stream", "bin"}
		disposition = "attachment"
	}
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Content-Security-Policy", "default-src 'none'; sandbox")
	h.Set("Content-Disposition", disposition+`; filename="`+fileStem(stem)+"."+t.ext+`"`)
	return t.ctype
}

// fileStem is a file name stem reduced to characters that need no quoting
// in a header parameter: ids are UUIDs, but a row from elsewhere could hold
// anything.
func fileStem(stem string) string {
	b := []byte(stem)
	for i, c := range b {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			b[i] = '_'
		}
	}
	if len(b) == 0 || len(b) > 100 {
		return "asset"
	}
	return string(b)
}
