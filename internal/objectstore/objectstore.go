// Package objectstore keeps generated images in object storage: Cloudflare R2 (or
// any S3-compatible store) in production through S3, and a plain directory for
// `make dev` through Local. Both implement Store with the same behaviour, and
// the same test suite runs against both.
//
// Browsers upload reference images straight to the store through PresignPut:
// a URL signed for one key, content type and size. S3 gets that from SigV4;
// Local signs its own URLs and serves them with Handler once ServePresigned
// has been called, answering like an R2 bucket with a CORS rule. DeleteOlder
// sweeps the uploads nobody claimed.
package objectstore

import (
	"context"
	"errors"
	"fmt"
	"io"
	"mime"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// Sentinel errors, checked with errors.Is. Returned errors wrap them with the
// operation and key.
var (
	// ErrNotFound: no such object.
	ErrNotFound = errors.New("object not found")
	// ErrInvalidRange: the Range value is malformed, asks for several ranges,
	// or cannot be satisfied for the object's size.
	ErrInvalidRange = errors.New("invalid or unsatisfiable byte range")
	// ErrInvalidKey: the key (or prefix) is not one this package accepts; see
	// ValidateKey.
	ErrInvalidKey = errors.New("invalid object key")
	// ErrPresignUnsupported: the store cannot hand out presigned URLs (Local).
	ErrPresignUnsupported = errors.New("presigned URLs are not supported by this store")
)

// DefaultContentType is stored when Put is given an empty content type.
const DefaultContentType = "application/octet-stream"

// maxKeyLen is S3's limit on key length in bytes.
const maxKeyLen = 1024

// Object is an open object body with its metadata. The caller must close Body.
type Object struct {
	Body         io.ReadCloser
	ContentType  string
	Size         int64     // bytes in Body
	TotalSize    int64     // full object size
	ETag         string    // quoted, as S3 returns it
	LastModified time.Time // second precision, UTC
	ContentRange string    // "bytes a-b/total" for a ranged read, else ""
}

// Info is an object's metadata, as returned by Head.
type Info struct {
	ContentType  string
	Size         int64
	ETag         string
	LastModified time.Time
}

// PresignedPut is a URL that stores one object without credentials: the
// browser PUTs the body to URL with exactly Headers, before ExpiresAt.
type PresignedPut struct {
	URL string
	// Headers are the signed headers, by their canonical names: Content-Type
	// and Content-Length. A browser sets Content-Length itself from the body;
	// it is listed so callers know the body must have exactly that size.
	Headers   map[string]string
	ExpiresAt time.Time // whole seconds, UTC
}

// Store is object storage as the app uses it.
type Store interface {
	// Put stores body under key, replacing any existing object.
	Put(ctx context.Context, key, contentType string, body []byte) error
	// Get opens key. byteRange is "" for the whole object or one HTTP Range
	// value such as "bytes=0-99", "bytes=100-" or "bytes=-100"; a malformed,
	// multi-part or unsatisfiable range is ErrInvalidRange.
	Get(ctx context.Context, key string, byteRange string) (*Object, error)
	// Head returns key's metadata.
	Head(ctx context.Context, key string) (Info, error)
	// Delete removes key. A missing object is not an error.
	Delete(ctx context.Context, key string) error
	// DeletePrefix removes every object whose key starts with prefix (a plain
	// string prefix, as in S3: "users/a" also matches "users/ab/…"; end it
	// with "/" to mean one folder). An empty prefix is ErrInvalidKey.
	DeletePrefix(ctx context.Context, prefix string) error
	// PresignGet returns a URL that fetches key without credentials until ttl
	// has passed.
	PresignGet(ctx context.Context, key string, ttl time.Duration) (string, error)
	// PresignPut signs a PUT of exactly size bytes (at least 1) of
	// contentType ("" is DefaultContentType) to key, valid for ttl (1 s to 7
	// days, in whole seconds). A PUT with another content type or length is
	// refused.
	PresignPut(ctx context.Context, key, contentType string, size int64, ttl time.Duration) (PresignedPut, error)
	// DeleteOlder deletes every object under prefix (as DeletePrefix reads
	// it) whose LastModified is before cutoff, and returns how many it
	// deleted.
	DeleteOlder(ctx context.Context, prefix string, cutoff time.Time) (int, error)
}

// checkPresignPut checks PresignPut's arguments for both stores and returns
// the content type to sign and ttl in whole seconds.
func checkPresignPut(key, contentType string, size int64, ttl time.Duration) (string, time.Duration, error) {
	if err := ValidateKey(key); err != nil {
		return "", 0, err
	}
	if contentType == "" {
		contentType = DefaultContentType
	}
	// The browser must send this value as a header: refuse what it cannot.
	if _, _, err := mime.ParseMediaType(contentType); err != nil {
		return "", 0, fmt.Errorf("presign put %s: content type %s: %w", quote(key), quote(contentType), err)
	}
	// SigV4 signs Content-Length only when it is above 0: a URL for an empty
	// object would accept a body of any size.
	if size < 1 {
		return "", 0, fmt.Errorf("presign put %s: size %d: want at least 1 byte", quote(key), size)
	}
	// X-Amz-Expires counts whole seconds; under one it would be 0, a URL
	// that is already expired.
	if ttl < time.Second || ttl > maxPresignTTL {
		return "", 0, fmt.Errorf("presign put %s: ttl %v: want 1 s to 7 days", quote(key), ttl)
	}
	return contentType, ttl.Truncate(time.Second), nil
}

// ValidateKey reports whether key is one both stores accept, wrapping
// ErrInvalidKey if not. A key is 1–1024 bytes of UTF-8 made of "/"-separated
// segments, none empty, none starting with "." (so no "." or "..", and Local
// can keep its own files beside objects), with no backslash and no control
// character. So a key can never name anything outside Local's directory, and
// S3 and Local accept exactly the same keys.
func ValidateKey(key string) error {
	if err := validatePath(key); err != nil {
		return err
	}
	if strings.HasSuffix(key, "/") {
		return invalidKey(key, "ends with /")
	}
	return nil
}

// validatePrefix is ValidateKey for DeletePrefix, which also allows a
// trailing "/".
func validatePrefix(prefix string) error {
	return validatePath(strings.TrimSuffix(prefix, "/"))
}

func validatePath(key string) error {
	switch {
	case key == "":
		return invalidKey(key, "empty")
	case len(key) > maxKeyLen:
		return invalidKey(key, "longer than 1024 bytes")
	case !utf8.ValidString(key):
		return invalidKey(key, "not UTF-8")
	case strings.ContainsRune(key, '\\'):
		return invalidKey(key, "contains a backslash")
	}
	for _, r := range key {
		if r < 0x20 || r == 0x7f {
			return invalidKey(key, "contains a control character")
		}
	}
	for seg := range strings.SplitSeq(key, "/") {
		if seg == "" {
			return invalidKey(key, "has an empty segment")
		}
		if seg[0] == '.' {
			return invalidKey(key, "has a segment starting with .")
		}
	}
	return nil
}

func invalidKey(key, why string) error {
	return &keyError{key: key, why: why}
}

// keyError says what is wrong with a key and matches ErrInvalidKey.
type keyError struct{ key, why string }

func (e *keyError) Error() string { return "object key " + quote(e.key) + ": " + e.why }
func (e *keyError) Unwrap() error { return ErrInvalidKey }

// quote shortens and quotes a key for an error message.
func quote(s string) string {
	const max = 80
	if len(s) > max {
		s = s[:max] + "…"
	}
	return strconv.Quote(s)
}
