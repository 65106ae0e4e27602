package engine

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"

	"adstudio/internal/objectstore"
)

// UploadPath is the path below the API's origin that names an uploaded
// reference image: a reference URL BaseURL + UploadPath + id is read from
// the bucket, not downloaded. No route serves it; it is a name the
// workflows understand.
const UploadPath = "/api/uploads/"

// UploadURL is the referenceImageUrl that names upload id.
func (rn *Runner) UploadURL(id string) string { return rn.BaseURL + UploadPath + id }

// uploadID returns the upload a reference URL names, if it names one. An
// id is what POST /api/uploads makes (a UUID); anything else after the
// path is no upload, and is refused as one rather than downloaded.
func (rn *Runner) uploadID(ref string) (string, bool) {
	if rn.BaseURL == "" {
		return "", false
	}
	id, ok := strings.CutPrefix(ref, rn.UploadURL(""))
	return id, ok
}

// validUploadID reports whether id could be one POST /api/uploads made.
func validUploadID(id string) bool {
	if id == "" || len(id) > 64 {
		return false
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-') {
			return false
		}
	}
	return true
}

// Messages of the upload failures (docs/app-api.md §9.4).
const (
	msgUploadMissing  = "The uploaded reference image was not found: it expired (uploads last a day) or was never completed. Upload it again."
	msgUploadNotImage = "The uploaded reference image is not a JPEG, PNG, WebP, GIF, BMP or TIFF image."
	msgUploadTooLarge = "The uploaded reference image exceeds the 10MB size limit."
)

// readUpload reads userID's upload id and returns it as the data URL the
// provider receives. The type is the one its bytes show, whatever the
// browser declared when it asked to upload: a file renamed to .png that is
// not one is refused here, before any credit is spent.
func (rn *Runner) readUpload(ctx context.Context, userID, id string) (string, error) {
	if rn.Storage == nil {
		return "", &ReferenceError{Message: msgUploadMissing, Cause: errors.New("no bucket is configured")}
	}
	if !validUploadID(id) {
		return "", &ReferenceError{Message: msgUploadMissing, Cause: fmt.Errorf("malformed upload id %q", id)}
	}
	obj, err := rn.Storage.Get(ctx, objectstore.UploadKey(userID, id), "")
	if errors.Is(err, objectstore.ErrNotFound) {
		return "", &ReferenceError{Message: msgUploadMissing, Cause: err}
	}
	if err != nil {
		return "", err
	}
	defer obj.Body.Close()
	if obj.TotalSize > MaxReference {
		return "", &ReferenceError{Message: msgUploadTooLarge}
	}
	raw, err := io.ReadAll(io.LimitReader(obj.Body, MaxReference+1))
	if err != nil {
		return "", err
	}
	if len(raw) > MaxReference {
		return "", &ReferenceError{Message: msgUploadTooLarge}
	}
	typ, ok := uploadType(raw)
	if !ok {
		return "", &ReferenceError{Message: msgUploadNotImage}
	}
	return "data:" + typ + ";base64," + base64.StdEncoding.EncodeToString(raw), nil
}

// uploadType is the accepted image type raw's first bytes show: the
// WHATWG sniffing rules of net/http for the types they know, and TIFF's
// two byte orders by hand (the rules have no TIFF pattern).
func uploadType(raw []byte) (string, bool) {
	if len(raw) >= 4 && (string(raw[:4]) == "II*\x00" || string(raw[:4]) == "MM\x00*") {
		return "image/tiff", true
	}
	return ImageType(http.DetectContentType(raw))
}
