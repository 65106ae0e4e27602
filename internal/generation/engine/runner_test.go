package engine

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"image"
	"image/gif"
	"image/jpeg"
	"image/png"
	"net/url"
	"strings"
	"testing"

	"adstudio/internal/safefetch"
)

func encoded(t *testing.T, enc func(*bytes.Buffer, image.Image) error) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := enc(&b, image.NewRGBA(image.Rect(0, 0, 3, 2))); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// TestSniffImage: the type comes from a header that decodes, whatever the
// bytes are labelled elsewhere; markup and truncated or foreign formats are
// not images.
func TestSniffImage(t *testing.T) {
	t.Parallel()
	pngBytes := encoded(t, func(b *bytes.Buffer, m image.Image) error { return png.Encode(b, m) })
	jpegBytes := encoded(t, func(b *bytes.Buffer, m image.Image) error { return jpeg.Encode(b, m, nil) })
	gifBytes := encoded(t, func(b *bytes.Buffer, m image.Image) error { return gif.Encode(b, m, nil) })
	// A 1×1 lossless WebP.
	webpBytes, _ := base64.StdEncoding.DecodeString("UklGRhoAAABXRUJQVlA4TA0AAAAvAAAAEAcQERGIiP4HAA==")
	for name, tc := range map[string]struct {
		data       []byte
		ctype, ext string
	}{
		"html":             {[]byte("<!doctype html><script>alert(1)</script>"), "", ""},
		"svg":              {[]byte(`<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>`), "", ""},
		"html after bom":   {[]byte("\ufeff<html><script>alert(1)</script>"), "", ""},
		"empty":            {nil, "", ""},
		"png magic only":   {[]byte("\x89PNG\r\n\x1a\n<script>alert(1)</script>"), "", ""},
		"truncated png":    {pngBytes[:20], "", ""},
		"gif header only":  {[]byte("GIF89a"), "", ""},
		"riff, not webp":   {append([]byte("RIFF\x1a\x00\x00\x00WAVE"), webpBytes[12:]...), "", ""},
		"bmp":              {[]byte("BM\x3a\x00\x00\x00\x00\x00\x00\x00\x36\x00\x00\x00\x28\x00\x00\x00\x01\x00\x00\x00\x01\x00\x00\x00\x01\x00\x18\x00"), "", ""},
		"png":              {pngBytes, "image/png", "png"},
		"jpeg":             {jpegBytes, "image/jpeg", "jpg"},
		"gif":              {gifBytes, "image/gif", "gif"},
		"webp":             {webpBytes, "image/webp", "webp"},
		"png then a page":  {append(append([]byte{}, pngBytes...), "<html><script>alert(1)</script>"...), "image/png", "png"},
		"jpeg, any suffix": {append(append([]byte{}, jpegBytes...), 0, 1, 2), "image/jpeg", "jpg"},
	} {
		f, ok := sniffImage(tc.data)
		if ok != (tc.ctype != "") || (ok && (f.ctype != tc.ctype || f.ext != tc.ext)) {
			t.Errorf("%s: sniffed %q/%q ok=%v, want %q/%q", name, f.ctype, f.ext, ok, tc.ctype, tc.ext)
		}
	}
}

// TestResultFailure: which failures are the provider being unavailable and
// which an invalid answer, and that the log text keeps no signed query and
// no data URL payload.
func TestResultFailure(t *testing.T) {
	t.Parallel()
	const src = "https://dashscope-result-sg.oss-ap-southeast-1.aliyuncs.com/1d/out.png?Expires=1796745058&OSSAccessKeyId=LTAIkey&Signature=c2VjcmV0"
	const redirect = "https://cdn.example.com/x.png?token=secret-token#frag"
	const unparsable = "https://cdn.example.com/a%zz.png?Expires=1&Signature=c2VjcmV0"
	_, parseErr := url.Parse(unparsable)
	if parseErr == nil || !strings.Contains(parseErr.Error(), "Signature") {
		t.Fatalf("the parse error %v should quote the URL", parseErr)
	}
	for name, tc := range map[string]struct {
		src  string
		err  error
		code string
	}{
		"blocked host":       {src, &safefetch.Error{Kind: safefetch.KindBlockedHost, Host: "169.254.169.254"}, "UPSTREAM_MALFORMED_RESPONSE"},
		"bad scheme":         {"file:///etc/passwd?Signature=c2VjcmV0", &safefetch.Error{Kind: safefetch.KindBadScheme, Err: errors.New(`scheme "file"`)}, "UPSTREAM_MALFORMED_RESPONSE"},
		"invalid URL":        {unparsable, &safefetch.Error{Kind: safefetch.KindInvalidURL, Err: parseErr}, "UPSTREAM_MALFORMED_RESPONSE"},
		"too many redirects": {src, &safefetch.Error{Kind: safefetch.KindTooManyRedirects, Redirect: true, Host: "cdn.example.com"}, "UPSTREAM_MALFORMED_RESPONSE"},
		"bad redirect":       {src, &safefetch.Error{Kind: safefetch.KindRedirectInvalid, Redirect: true, Err: fmt.Errorf("parse %q: bad", redirect)}, "UPSTREAM_MALFORMED_RESPONSE"},
		"too large":          {src, &safefetch.Error{Kind: safefetch.KindTooLarge, Host: "cdn.example.com"}, "UPSTREAM_MALFORMED_RESPONSE"},
		"empty":              {src, &safefetch.Error{Kind: safefetch.KindEmpty}, "UPSTREAM_MALFORMED_RESPONSE"},
		"not an image":       {"data:image/png;base64,PGh0bWw+c2VjcmV0LXBheWxvYWQ8L2h0bWw+", errNotImage, "UPSTREAM_MALFORMED_RESPONSE"},
		"status 503":         {src, &safefetch.Error{Kind: safefetch.KindDownloadFailed, Err: errors.New("status 503")}, "UPSTREAM_UNAVAILABLE"},
		"network":            {src, &safefetch.Error{Kind: safefetch.KindDownloadFailed, Err: fmt.Errorf("Get %q: connection reset", src)}, "UPSTREAM_UNAVAILABLE"},
		"job out of time":    {src, fmt.Errorf("%w (after: %w)", context.DeadlineExceeded, &safefetch.Error{Kind: safefetch.KindDownloadFailed}), "UPSTREAM_UNAVAILABLE"},
	} {
		e := resultFailure(tc.src, tc.err)
		if e.code != tc.code {
			t.Errorf("%s: %s, want %s", name, e.code, tc.code)
		}
		msg := e.Error()
		for _, secret := range []string{"Signature", "Expires", "c2VjcmV0", "secret-token", "frag", "PGh0bWw"} {
			if strings.Contains(msg, secret) {
				t.Errorf("%s: log text %q keeps %q", name, msg, secret)
			}
		}
		if !errors.Is(e, tc.err) {
			t.Errorf("%s: cause lost", name)
		}
	}
	if got := logSafeURL(src); got != "https://dashscope-result-sg.oss-ap-southeast-1.aliyuncs.com/1d/out.png" {
		t.Errorf("logSafeURL = %q", got)
	}
}
