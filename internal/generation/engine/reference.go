package engine

import (
	"context"
	"encoding/base64"
	"errors"
	"mime"
	"path"
	"regexp"
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

// imageTypes maps the accepted image types and their aliases to the type
// sent on (docs/app-api.md §9.4).
var imageTypes = map[string]string{
	"image/jpeg": "image/jpeg", "image/jpg": "image/jpeg", "image/pjpeg": "image/jpeg",
	"image/png": "image/png", "image/webp": "image/webp", "image/gif": "image/gif",
	"image/bmp": "image/bmp", "image/x-ms-bmp": "image/bmp", "image/x-bmp": "image/bmp",
	"image/tiff": "image/tiff", "image/tif": "image/tiff", "image/x-tiff": "image/tiff",
}

var suffixTypes = map[string]string{
	".png": "image/png", ".jpg": "image/jpeg", ".jpeg": "image/jpeg", ".webp": "image/webp",
	".gif": "image/gif", ".bmp": "image/bmp", ".tif": "image/tiff", ".tiff": "image/tiff",
}

var refDataURL = regexp.MustCompile(`(?is)^data:([a-z0-9.+/-]+);base64,(.*)$`)

// ResolveReference turns the validated reference into the base64 data URL
// the provider receives. An http(s) reference is downloaded by us, through
// the fetcher that refuses private and metadata addresses, so the provider
// never fetches a URL a user chose, and the image's type and size are known
// before any credit is spent. Every failure is a *ReferenceError.
func (rn *Runner) ResolveReference(ctx context.Context, ref string) (string, error) {
	if m := refDataURL.FindStringSubmatch(ref); m != nil {
		typ, ok := imageTypes[strings.ToLower(m[1])]
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
	typ, ok := imageTypes[strings.ToLower(mt)]
	if !ok {
		p := res.FinalURL
		if i := strings.IndexAny(p, "?#"); i >= 0 {
			p = p[:i]
		}
		if typ, ok = suffixTypes[strings.ToLower(path.Ext(p))]; !ok {
			return "", &ReferenceError{Message: "referenceImageUrl must point to an image resource."}
		}
	}
	return "data:" + typ + ";base64," + base64.StdEncoding.EncodeToString(res.Body), nil
}
