// Package historyapi serves a user's generations back to them: the list,
// one item, its deletion, and the stored image. Every lookup is scoped by
// owner, and another user's item answers exactly like a missing one.
package historyapi

import (
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"time"

	"adstudio/internal/assetlink"
	"adstudio/internal/auth/authdb"
	"adstudio/internal/generation/gendb"
	"adstudio/internal/httpapi"
	"adstudio/internal/jscompat"
	"adstudio/internal/objectstore"
)

// API holds the history routes' dependencies.
type API struct {
	Guard       *httpapi.Guard
	Generations *gendb.Store
	Storage     objectstore.Store // nil: no bucket configured
	BaseURL     string            // public API origin, for absolute asset URLs
	// Links signs the asset and thumbnail URLs of the answers, so they
	// open without a cookie, and checks them on the asset route.
	Links *assetlink.Signer
	Now   func() time.Time
	// StaleAfter is how long a generation may stay pending before a read
	// by its owner fails it (and refunds it); 0 never does.
	StaleAfter time.Duration
	// MaxInline is the largest object the asset route sends in its own
	// response; larger ones get a presigned redirect (Lambda responses stop
	// at 6 MB, base64 makes bytes 4/3 larger). 0 means no limit.
	MaxInline int64
	// Inject, when set (tests only), is asked in Delete whether to fail (or
	// wait) at "delete-objects" (before the objects go; failing there is a
	// storage failure) and "delete-row" (objects gone, row not yet).
	Inject func(step string) error
}

var (
	errItemNotFound  = &httpapi.PlainError{Status: http.StatusNotFound, Message: "History item not found."}
	errAssetNotFound = &httpapi.PlainError{Status: http.StatusNotFound, Message: "History item asset not found."}
)

// knownWorkflow and knownStatus are the values a list filter may name;
// any other value lists everything. Switches rather than maps: nothing to
// build at cold start, and nothing a caller could change.
func knownWorkflow(w string) bool {
	switch w {
	case "image-from-text", "image-from-reference", "video-from-reference":
		return true
	}
	return false
}

func knownStatus(s string) bool {
	switch s {
	case gendb.Pending, gendb.Succeeded, gendb.Failed:
		return true
	}
	return false
}

// List is GET /api/history.
func (a *API) List(w http.ResponseWriter, r *http.Request) error {
	cur, err := a.Guard.User(w, r, false)
	if err != nil {
		return err
	}
	q := r.URL.Query()
	limit := clamp(parseInt(q.Get("limit"), 20), 1, 50)
	offset := clamp(parseInt(q.Get("offset"), 0), 0, 10000)
	var f gendb.Filter
	if v := q.Get("workflow"); knownWorkflow(v) {
		f.Workflow = v
	}
	if v := q.Get("status"); knownStatus(v) {
		f.Status = v
	}
	recs, total, err := a.Generations.List(r.Context(), cur.User.ID, f, limit, offset)
	if err != nil {
		return err
	}
	if a.sweepStale(r, cur.User.ID, recs...) {
		if recs, total, err = a.Generations.List(r.Context(), cur.User.ID, f, limit, offset); err != nil {
			return err
		}
	}
	items := make([]map[string]any, len(recs))
	for i, rec := range recs {
		items[i] = a.summary(rec)
	}
	var next any
	if offset+len(recs) < total {
		next = offset + limit
	}
	httpapi.WriteJSON(w, http.StatusOK, map[string]any{
		"items":      items,
		"pagination": map[string]any{"limit": limit, "offset": offset, "total": total, "nextOffset": next},
	})
	return nil
}

// Detail is GET /api/history/{id}.
func (a *API) Detail(w http.ResponseWriter, r *http.Request) error {
	cur, err := a.Guard.User(w, r, false)
	if err != nil {
		return err
	}
	rec, err := a.Generations.Get(r.Context(), cur.User.ID, r.PathValue("id"))
	if errors.Is(err, gendb.ErrNotFound) {
		return errItemNotFound
	}
	if err != nil {
		return err
	}
	if a.sweepStale(r, cur.User.ID, rec) {
		if rec, err = a.Generations.Get(r.Context(), cur.User.ID, rec.ID); err != nil {
			return err
		}
	}
	item := a.summary(rec)
	item["input"] = parseJSON(rec.InputJSON)
	item["output"] = parseJSON(rec.OutputJSON)
	httpapi.WriteJSON(w, http.StatusOK, map[string]any{"item": item})
	return nil
}

// Delete is DELETE /api/history/{id}. An unfinished generation is failed
// first, which refunds it (one statement, by trigger): a runner still at
// work then loses its own finish and deletes the object it stored, where it
// would otherwise finish a row this delete is about to remove and leave that
// object to nobody. The stored objects go next, then the row: if storage
// fails, the row stays (failed, its credit back) and the delete can be
// retried, instead of leaving objects nobody can reach.
func (a *API) Delete(w http.ResponseWriter, r *http.Request) error {
	cur, err := a.Guard.User(w, r, false)
	if err != nil {
		return err
	}
	fault := func(step string) error {
		if a.Inject == nil {
			return nil
		}
		return a.Inject(step)
	}
	id := r.PathValue("id")
	ctx := r.Context()
	rec, err := a.Generations.Get(ctx, cur.User.ID, id)
	if errors.Is(err, gendb.ErrNotFound) {
		return errItemNotFound
	}
	if err != nil {
		return err
	}
	if rec.Status == gendb.Pending {
		// Losing this to a runner that just finished is fine: the row is
		// final either way, and its objects go next.
		if _, err := a.Generations.Finish(ctx, rec.ID, gendb.Outcome{
			Status: gendb.Failed, ErrorCode: httpapi.CodeDeleted, ErrorMessage: "Deleted before it finished.",
		}, a.Now()); err != nil {
			return err
		}
	}
	if err := fault("delete-objects"); err != nil {
		return err
	}
	if a.Storage != nil {
		if err := a.Storage.DeletePrefix(ctx, objectstore.GenerationPrefix(rec.UserID, rec.ID)); err != nil {
			return err
		}
	}
	if err := fault("delete-row"); err != nil {
		return err
	}
	if err := a.Generations.Delete(ctx, cur.User.ID, id, a.Now()); err != nil {
		return err
	}
	httpapi.WriteJSON(w, http.StatusOK, map[string]any{"id": id, "deleted": true})
	return nil
}

// sweepStale fails the user's generations that have been pending longer
// than any generation can take, if recs show one, and reports whether it
// changed anything. The common read meets no such row and costs nothing.
func (a *API) sweepStale(r *http.Request, userID string, recs ...gendb.Record) bool {
	if a.StaleAfter <= 0 {
		return false
	}
	cutoff := a.Now().Add(-a.StaleAfter)
	for _, rec := range recs {
		if rec.Status == gendb.Pending && rec.UpdatedAt.Before(cutoff) {
			n, err := a.Generations.SweepUser(r.Context(), userID, cutoff, a.Now())
			return err == nil && n > 0
		}
	}
	return false
}

// summary is the history item shape of docs/app-api.md §15.
func (a *API) summary(rec gendb.Record) map[string]any {
	var asset, thumbnail any
	if rec.R2Key != "" {
		// Both signed, so an <img>, a new tab or a download opens them
		// without a cookie. The thumbnail is offered with every stored
		// copy: for a generation from before thumbnails, or one whose
		// thumbnail could not be made, the asset route answers the full
		// image instead.
		asset, thumbnail = a.assetURL(rec, ""), a.assetURL(rec, variantThumbnail)
	} else if out, ok := parseJSON(rec.OutputJSON).(map[string]any); ok {
		// No stored copy: the provider's URL, while it lasts (24 h). There
		// is nothing smaller, so the thumbnail is that image too.
		if imgs, ok := out["images"].([]any); ok && len(imgs) > 0 {
			if s, ok := imgs[0].(string); ok && strings.TrimSpace(s) != "" && !strings.HasPrefix(s, "data:") {
				asset, thumbnail = s, s
			}
		}
	}
	return map[string]any{
		"id": rec.ID, "workflow": rec.Workflow, "status": rec.Status,
		"createdAt": authdb.FormatTime(rec.CreatedAt), "updatedAt": authdb.FormatTime(rec.UpdatedAt),
		"providerModel": null(rec.ProviderModel), "providerRequestId": null(rec.ProviderRequestID),
		"errorCode": null(rec.ErrorCode), "errorMessage": null(rec.ErrorMessage), "r2Key": null(rec.R2Key),
		"assetUrl": asset, "thumbnailUrl": thumbnail,
	}
}

// assetURL is the absolute, signed URL of a stored image or its variant.
func (a *API) assetURL(rec gendb.Record, variant string) string {
	u := a.BaseURL + "/api/history/" + rec.ID + "/asset"
	if a.Links == nil {
		if variant != "" {
			u += "?variant=" + variant
		}
		return u
	}
	return u + "?" + a.Links.Query(rec.UserID, rec.ID, variant)
}

func null(s string) any {
	if s == "" {
		return nil
	}
	return s
}

func parseJSON(s string) any {
	if s == "" {
		return nil
	}
	var v any
	if json.Unmarshal([]byte(s), &v) != nil {
		return nil
	}
	return v
}

// parseInt is JavaScript's parseInt(v, 10), or def where that is NaN.
func parseInt(v string, def int) int {
	f, ok := jscompat.ParseInt(v)
	if !ok {
		return def
	}
	return int(max(-999999999, min(f, 999999999))) // any such value is clamped anyway
}

func clamp(v, lo, hi int) int { return max(lo, min(v, hi)) }
