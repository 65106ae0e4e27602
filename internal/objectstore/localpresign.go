package objectstore

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// LocalObjectsPath is where Local's Handler serves presigned PUTs. Mount it
// there unstripped and for every method, since browsers send a CORS
// preflight (OPTIONS) first: mux.Handle(LocalObjectsPath, l.Handler()).
const LocalObjectsPath = "/_objects/"

// The query parameters of Local's presigned URLs.
const (
	paramType      = "type"
	paramSize      = "size"
	paramExpires   = "expires" // unix seconds
	paramSignature = "signature"
)

// localPresign is what ServePresigned configures.
type localPresign struct {
	baseURL string
	secret  []byte
	now     func() time.Time
}

// ServePresigned lets Local stand in for a bucket's presigned PUTs in
// `make dev`: PresignPut then returns URLs under baseURL (the origin at
// which the browser reaches Handler, such as "http://localhost:8080")
// signed with HMAC-SHA256 under secret, and Handler stores what they send.
// now is the clock of both (nil: time.Now), so tests expire URLs by moving
// it. It is a method rather than a NewLocal option because the base URL is
// often known only once the server that mounts Handler is listening. It may
// be called at any time; the last call wins.
func (l *Local) ServePresigned(baseURL string, secret []byte, now func() time.Time) error {
	u, err := url.Parse(baseURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" {
		return fmt.Errorf("storage: presign base URL %s: want http(s)://host[:port][/path]", quote(baseURL))
	}
	if len(secret) == 0 {
		return errors.New("storage: presign secret is required")
	}
	if now == nil {
		now = time.Now
	}
	l.presign.Store(&localPresign{
		baseURL: strings.TrimSuffix(baseURL, "/"),
		secret:  append([]byte(nil), secret...),
		now:     now,
	})
	return nil
}

// PresignPut signs a PUT for Handler; without ServePresigned it is
// ErrPresignUnsupported. It does no I/O.
func (l *Local) PresignPut(ctx context.Context, key, contentType string, size int64, ttl time.Duration) (PresignedPut, error) {
	contentType, ttl, err := checkPresignPut(key, contentType, size, ttl)
	if err != nil {
		return PresignedPut{}, err
	}
	c := l.presign.Load()
	if c == nil {
		return PresignedPut{}, fmt.Errorf("presign put %s: %w", quote(key), ErrPresignUnsupported)
	}
	expires := c.now().Add(ttl).Unix()
	q := url.Values{
		paramType:      {contentType},
		paramSize:      {strconv.FormatInt(size, 10)},
		paramExpires:   {strconv.FormatInt(expires, 10)},
		paramSignature: {base64.RawURLEncoding.EncodeToString(c.sign(key, contentType, size, expires))},
	}
	segs := strings.Split(key, "/")
	for i, s := range segs {
		segs[i] = url.PathEscape(s)
	}
	return PresignedPut{
		URL: c.baseURL + LocalObjectsPath + strings.Join(segs, "/") + "?" + q.Encode(),
		Headers: map[string]string{
			"Content-Type":   contentType,
			"Content-Length": strconv.FormatInt(size, 10),
		},
		ExpiresAt: time.Unix(expires, 0).UTC(),
	}, nil
}

// sign is the MAC of one upload. Keys hold no newline and the last two
// fields are digits, so no two uploads share a message.
func (c *localPresign) sign(key, contentType string, size, expires int64) []byte {
	m := hmac.New(sha256.New, c.secret)
	fmt.Fprintf(m, "PUT\n%s\n%s\n%d\n%d", key, contentType, size, expires)
	return m.Sum(nil)
}

// Handler serves the URLs PresignPut returns, answering as an R2 bucket
// with a CORS rule for any origin would: S3-style XML errors, CORS headers
// on every answer, and an ETag on success.
func (l *Local) Handler() http.Handler {
	return http.HandlerFunc(l.servePut)
}

func (l *Local) servePut(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	origin := r.Header.Get("Origin")
	if origin != "" {
		// So the page can read the answer, errors included.
		h.Set("Access-Control-Allow-Origin", origin)
		h.Set("Access-Control-Expose-Headers", "ETag")
		h.Add("Vary", "Origin")
	}
	key, ok := strings.CutPrefix(r.URL.Path, LocalObjectsPath)
	if !ok {
		writeS3Error(w, http.StatusNotFound, "NoSuchKey", "Not a presigned object URL.")
		return
	}
	switch r.Method {
	case http.MethodPut:
	case http.MethodOptions:
		if origin == "" || r.Header.Get("Access-Control-Request-Method") != http.MethodPut {
			writeS3Error(w, http.StatusForbidden, "AccessForbidden", "CORSResponse: This CORS request is not allowed.")
			return
		}
		h.Set("Access-Control-Allow-Methods", http.MethodPut)
		h.Set("Access-Control-Allow-Headers", "content-type")
		h.Set("Access-Control-Max-Age", "3600")
		return
	default:
		h.Set("Allow", "PUT, OPTIONS")
		writeS3Error(w, http.StatusMethodNotAllowed, "MethodNotAllowed", "The specified method is not allowed against this resource.")
		return
	}
	c := l.presign.Load()
	if c == nil {
		writeS3Error(w, http.StatusForbidden, "AccessDenied", "Presigned uploads are not enabled.")
		return
	}
	q := r.URL.Query()
	contentType := q.Get(paramType)
	size, errSize := strconv.ParseInt(q.Get(paramSize), 10, 64)
	expires, errExp := strconv.ParseInt(q.Get(paramExpires), 10, 64)
	sig, errSig := base64.RawURLEncoding.DecodeString(q.Get(paramSignature))
	if errSize != nil || errExp != nil || errSig != nil || size < 1 {
		writeS3Error(w, http.StatusForbidden, "AccessDenied", "Query-string authentication requires type, size, expires and signature.")
		return
	}
	if !hmac.Equal(sig, c.sign(key, contentType, size, expires)) {
		writeS3Error(w, http.StatusForbidden, "SignatureDoesNotMatch", "The request signature we calculated does not match the signature you provided.")
		return
	}
	if !c.now().Before(time.Unix(expires, 0)) {
		writeS3Error(w, http.StatusForbidden, "AccessDenied", "Request has expired.")
		return
	}
	// Both headers are signed: another value is another request.
	if r.Header.Get("Content-Type") != contentType || r.ContentLength != size {
		writeS3Error(w, http.StatusForbidden, "SignatureDoesNotMatch", "Content-Type or Content-Length is not the one signed.")
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, size))
	if err != nil || int64(len(body)) != size {
		writeS3Error(w, http.StatusBadRequest, "IncompleteBody", "The body is not the size signed.")
		return
	}
	if err := l.Put(r.Context(), key, contentType, body); err != nil {
		writeS3Error(w, http.StatusInternalServerError, "InternalError", "The object could not be stored.")
		return
	}
	h.Set("ETag", etag(body))
}

// writeS3Error answers as S3 does, so a browser that talks to the bucket
// sees the same failure locally.
func writeS3Error(w http.ResponseWriter, status int, code, message string) {
	body, _ := xml.Marshal(struct {
		XMLName xml.Name `xml:"Error"`
		Code    string
		Message string
	}{Code: code, Message: message})
	w.Header().Set("Content-Type", "application/xml")
	w.WriteHeader(status)
	w.Write(append([]byte(xml.Header), body...))
}
