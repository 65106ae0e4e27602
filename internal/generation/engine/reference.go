package engine

import (
	"context"
	"encoding/base64"
	"errors"
	"mime"
	"path"
	"strings"

	"adstudio/internal/safefetch"
)

// MaxReference is the provider's limit on one reference image.
const MaxReference = 10 << 20

// ReferenceError is a reference image we refuse: a 400 INVALID_REQUEST
// whose Message (docs/app-api.md §9.4) the client may see. Cause, the
// download's failure when there was one, is for the log only.
type ReferenceError struct {
	Message string
	Cause   error
}

func (e *ReferenceError) Error() string {
	if e.Cause == nil {
		return e.Message
	}
	return e.Message + ": " + e.Cause.Error()
}

// Unwrap returns the cause.
func (e *ReferenceError) Unwrap() error { return e.Cause }

// ImageType maps an accepted image type or one of its aliases to the type
// sent on (docs/app-api.md §9.4). A switch rather than a map: nothing to
// build at cold start, and nothing a caller could change.
func ImageType(mediaType string) (string, bool) {
	switch mediaType {
	case "image/jpeg", "image/jpg", "image/pjpeg":
		return "image/jpeg", true
	case "image/png":
		return "image/png", true
	case "image/webp":
		return "image/webp", true
	case "image/gif":
		return "image/gif", true
	case "image/bmp", "image/x-ms-bmp", "image/x-bmp":
		return "image/bmp", true
	case "image/tiff", "image/tif", "image/x-tiff":
		return "image/tiff", true
	}
	return "", false
}

// suffixType is the image type a URL path's extension implies, for a
// download whose Content-Type is not an image type.
func suffixType(ext string) (string, bool) {
	switch ext {
	case ".png":
		return "image/png", true
	case ".jpg", ".jpeg":
		return "image/jpeg", true
	case ".webp":
		return "image/webp", true
	case ".gif":
		return "image/gif", true
	case ".bmp":
		return "image/bmp", true
	case ".tif", ".tiff":
		return "image/tiff", true
	}
	return "", false
}

// ResolveReference turns the validated reference into the base64 data URL
// the provider receives. An http(s) reference is downloaded by us, through
// the fetcher that refuses private and metadata addresses, so the provider
// never fetches a URL a user chose, and the image's type and size are known
// before any credit is spent. Every failure is a *ReferenceError.
//
// A reference the user uploaded (UploadURL) is read from the bucket under
// userID's own prefix instead: never fetched over the network, and another
// user's upload is simply not there.
func (rn *Runner) ResolveReference(ctx context.Context, userID, ref string) (string, error) {
	if id, ok := rn.uploadID(ref); ok {
		return rn.readUpload(ctx, userID, id)
	}
	if m := dataURL().FindStringSubmatch(ref); m != nil {
		typ, ok := ImageType(strings.ToLower(m[1]))
		payload := strings.Join(strings.Fields(m[2]), "")
		if !ok || len(payload)/4*3 > MaxReference {
			return "", &ReferenceError{Message: "referenceImageUrl data URL is invalid or exceeds the 10MB size limit."}
		}
		raw, err := base64.StdEncoding.DecodeString(payload)
		if err != nil {
			if raw, err = base64.RawStdEncoding.DecodeString(strings.TrimRight(payload, "=")); err != nil {
				return "", &ReferenceError{Message: "referenceImageUrl data URL is invalid or exceeds the 10MB size limit."}
			}
		}
		if len(raw) == 0 {
			return "", &ReferenceError{Message: "Could not read reference image bytes."}
		}
		return "data:" + typ + ";base64," + base64.StdEncoding.EncodeToString(raw), nil
	}
	res, err := rn.RefFetcher.Get(ctx, ref)
	if err != nil {
		var fe *safefetch.Error
		if errors.As(err, &fe) {
			return "", &ReferenceError{Message: fe.Message(), Cause: err}
		}
		return "", &ReferenceError{Message: "Could not download reference image from URL.", Cause: err}
	}
	mt, _, _ := mime.ParseMediaType(res.ContentType)
	typ, ok := ImageType(strings.ToLower(mt))
	if !ok {
		p := res.FinalURL
		if i := strings.IndexAny(p, "?#"); i >= 0 {
			p = p[:i]
		}
		if typ, ok = suffixType(strings.ToLower(path.Ext(p))); !ok {
			return "", &ReferenceError{Message: "referenceImageUrl must point to an image resource."}
		}
	}
	return "data:" + typ + ";base64," + base64.StdEncoding.EncodeToString(res.Body), nil
}
