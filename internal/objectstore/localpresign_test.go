package objectstore

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

var testSecret = []byte("0123456789abcdef0123456789abcdef")

// presigningLocal is a Local whose presigned URLs reach its Handler on a
// test server, mounted as the dev server mounts it.
func presigningLocal(t *testing.T, now func() time.Time) (*Local, *httptest.Server) {
	t.Helper()
	l := mustLocal(t)
	mux := http.NewServeMux()
	mux.Handle(LocalObjectsPath, l.Handler())
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	if err := l.ServePresigned(srv.URL, testSecret, now); err != nil {
		t.Fatal(err)
	}
	return l, srv
}

// fixedClock is a clock that moves only when told to.
type fixedClock struct{ unixNano atomic.Int64 }

func newFixedClock() *fixedClock {
	c := &fixedClock{}
	c.unixNano.Store(time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC).UnixNano())
	return c
}
func (c *fixedClock) Now() time.Time      { return time.Unix(0, c.unixNano.Load()) }
func (c *fixedClock) set(t time.Time)     { c.unixNano.Store(t.UnixNano()) }
func (c *fixedClock) add(d time.Duration) { c.unixNano.Add(int64(d)) }

// do sends method to rawURL with body and the given headers.
func do(t *testing.T, method, rawURL string, body []byte, headers map[string]string) *http.Response {
	t.Helper()
	req, err := http.NewRequestWithContext(ctxFor(t), method, rawURL, strings.NewReader(string(body)))
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp
}

// TestLocalPresignTampered: any change to what was signed (signature, key,
// type, size, expiry, secret) is refused with 403, and nothing is stored.
func TestLocalPresignTampered(t *testing.T) {
	t.Parallel()
	l, srv := presigningLocal(t, nil)
	const other = "uploads/u2/ref.png"
	p, err := l.PresignPut(ctxFor(t), imageKey, "image/png", int64(len(pngBytes)), time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	// The same upload signed under another secret.
	impostor := mustLocal(t)
	if err := impostor.ServePresigned(srv.URL, []byte("another secret"), nil); err != nil {
		t.Fatal(err)
	}
	forged, err := impostor.PresignPut(ctxFor(t), imageKey, "image/png", int64(len(pngBytes)), time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	u, _ := url.Parse(p.URL)
	withQuery := func(name, value string) string {
		v := *u
		q := v.Query()
		q.Set(name, value)
		v.RawQuery = q.Encode()
		return v.String()
	}
	sig := u.Query().Get(paramSignature)
	flipped := "A"
	if sig[0] == 'A' {
		flipped = "B"
	}
	for name, rawURL := range map[string]string{
		"tampered signature":  withQuery(paramSignature, flipped+sig[1:]),
		"no signature":        strings.Replace(p.URL, paramSignature+"=", "x=", 1),
		"other key in path":   strings.Replace(p.URL, imageKey, other, 1),
		"other content type":  withQuery(paramType, "image/svg+xml"),
		"larger size":         withQuery(paramSize, "1000000"),
		"later expiry":        withQuery(paramExpires, "99999999999"),
		"another secret":      forged.URL,
		"key as a query only": srv.URL + LocalObjectsPath + "?" + u.RawQuery + "&key=" + url.QueryEscape(imageKey),
	} {
		resp := do(t, http.MethodPut, rawURL, pngBytes, p.Headers)
		if resp.StatusCode != http.StatusForbidden || resp.Header.Get("Content-Type") != "application/xml" {
			t.Errorf("%s: %d %q, want 403 with an XML error", name, resp.StatusCode, resp.Header.Get("Content-Type"))
		}
	}
	for _, key := range []string{imageKey, other} {
		if _, err := l.Head(ctxFor(t), key); !errors.Is(err, ErrNotFound) {
			t.Errorf("Head(%q) after tampered PUTs = %v, want ErrNotFound", key, err)
		}
	}
	// The untouched URL still works.
	if resp := do(t, http.MethodPut, p.URL, pngBytes, p.Headers); resp.StatusCode != http.StatusOK {
		t.Errorf("untampered PUT: %d, want 200", resp.StatusCode)
	}
}

// TestLocalPresignExpiry: a URL works up to the second before ExpiresAt and
// not from ExpiresAt on.
func TestLocalPresignExpiry(t *testing.T) {
	t.Parallel()
	clk := newFixedClock()
	l, _ := presigningLocal(t, clk.Now)
	p, err := l.PresignPut(ctxFor(t), imageKey, "image/png", int64(len(pngBytes)), time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	if want := clk.Now().Add(time.Minute).UTC(); !p.ExpiresAt.Equal(want) {
		t.Errorf("ExpiresAt = %v, want %v", p.ExpiresAt, want)
	}
	clk.set(p.ExpiresAt)
	if resp := do(t, http.MethodPut, p.URL, pngBytes, p.Headers); resp.StatusCode != http.StatusForbidden {
		t.Errorf("PUT at ExpiresAt: %d, want 403", resp.StatusCode)
	}
	clk.add(-time.Second)
	if resp := do(t, http.MethodPut, p.URL, pngBytes, p.Headers); resp.StatusCode != http.StatusOK {
		t.Errorf("PUT a second before ExpiresAt: %d, want 200", resp.StatusCode)
	}
}

// TestLocalPresignCORS: Handler answers a browser on another origin as an
// R2 bucket with a CORS rule for PUT would.
func TestLocalPresignCORS(t *testing.T) {
	t.Parallel()
	l, _ := presigningLocal(t, nil)
	const origin = "http://localhost:5173"
	p, err := l.PresignPut(ctxFor(t), imageKey, "image/png", int64(len(pngBytes)), time.Minute)
	if err != nil {
		t.Fatal(err)
	}

	resp := do(t, http.MethodOptions, p.URL, nil, map[string]string{
		"Origin":                         origin,
		"Access-Control-Request-Method":  "PUT",
		"Access-Control-Request-Headers": "content-type",
	})
	want := map[string]string{
		"Access-Control-Allow-Origin":  origin,
		"Access-Control-Allow-Methods": "PUT",
		"Access-Control-Allow-Headers": "content-type",
		"Access-Control-Max-Age":       "3600",
		"Vary":                         "Origin",
	}
	if resp.StatusCode != http.StatusOK {
		t.Errorf("preflight: %d, want 200", resp.StatusCode)
	}
	for name, v := range want {
		if got := resp.Header.Get(name); got != v {
			t.Errorf("preflight %s = %q, want %q", name, got, v)
		}
	}
	if _, err := l.Head(ctxFor(t), imageKey); !errors.Is(err, ErrNotFound) {
		t.Errorf("Head after a preflight = %v, want ErrNotFound", err)
	}

	// A preflight for another method, or without an origin, is refused.
	for name, h := range map[string]map[string]string{
		"DELETE":    {"Origin": origin, "Access-Control-Request-Method": "DELETE"},
		"no origin": {"Access-Control-Request-Method": "PUT"},
	} {
		if resp := do(t, http.MethodOptions, p.URL, nil, h); resp.StatusCode != http.StatusForbidden ||
			resp.Header.Get("Access-Control-Allow-Methods") != "" {
			t.Errorf("preflight for %s: %d, Allow-Methods %q; want 403 and none", name, resp.StatusCode, resp.Header.Get("Access-Control-Allow-Methods"))
		}
	}

	// The PUT, and a refused one, let the page read the answer and the ETag.
	headers := map[string]string{"Origin": origin, "Content-Type": "image/png"}
	for _, body := range [][]byte{pngBytes[1:], pngBytes} {
		resp := do(t, http.MethodPut, p.URL, body, headers)
		if resp.Header.Get("Access-Control-Allow-Origin") != origin || resp.Header.Get("Access-Control-Expose-Headers") != "ETag" {
			t.Errorf("PUT (%d): Allow-Origin %q, Expose-Headers %q; want %q, ETag", resp.StatusCode,
				resp.Header.Get("Access-Control-Allow-Origin"), resp.Header.Get("Access-Control-Expose-Headers"), origin)
		}
		if len(body) == len(pngBytes) && (resp.StatusCode != http.StatusOK || resp.Header.Get("ETag") != md5ETag(pngBytes)) {
			t.Errorf("PUT: %d, ETag %q; want 200, %s", resp.StatusCode, resp.Header.Get("ETag"), md5ETag(pngBytes))
		}
	}
}

// TestLocalPresignMethods: only PUT stores; other methods are 405 with Allow.
func TestLocalPresignMethods(t *testing.T) {
	t.Parallel()
	l, srv := presigningLocal(t, nil)
	p, err := l.PresignPut(ctxFor(t), imageKey, "image/png", int64(len(pngBytes)), time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	for _, method := range []string{http.MethodGet, http.MethodHead, http.MethodPost, http.MethodDelete, http.MethodPatch} {
		resp := do(t, method, p.URL, pngBytes, p.Headers)
		if resp.StatusCode != http.StatusMethodNotAllowed || resp.Header.Get("Allow") != "PUT, OPTIONS" {
			t.Errorf("%s: %d, Allow %q; want 405, PUT, OPTIONS", method, resp.StatusCode, resp.Header.Get("Allow"))
		}
	}
	if _, err := l.Head(ctxFor(t), imageKey); !errors.Is(err, ErrNotFound) {
		t.Errorf("Head after other methods = %v, want ErrNotFound", err)
	}
	// Outside the mount, the mux answers, not Handler.
	if resp := do(t, http.MethodPut, srv.URL+"/"+imageKey, pngBytes, p.Headers); resp.StatusCode != http.StatusNotFound {
		t.Errorf("PUT outside %s: %d, want 404", LocalObjectsPath, resp.StatusCode)
	}
}

// TestLocalPresignDisabled: without ServePresigned, PresignPut is
// unsupported and Handler refuses everything.
func TestLocalPresignDisabled(t *testing.T) {
	t.Parallel()
	l := mustLocal(t)
	if _, err := l.PresignPut(ctxFor(t), imageKey, "image/png", 10, time.Minute); !errors.Is(err, ErrPresignUnsupported) {
		t.Errorf("PresignPut = %v, want ErrPresignUnsupported", err)
	}
	// A URL signed by a configured store, sent to one that is not.
	signer, _ := presigningLocal(t, nil)
	p, err := signer.PresignPut(ctxFor(t), imageKey, "image/png", int64(len(pngBytes)), time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(l.Handler())
	defer srv.Close()
	u, _ := url.Parse(p.URL)
	if resp := do(t, http.MethodPut, srv.URL+u.RequestURI(), pngBytes, p.Headers); resp.StatusCode != http.StatusForbidden {
		t.Errorf("PUT to a store without ServePresigned: %d, want 403", resp.StatusCode)
	}
	for _, bad := range []struct {
		base   string
		secret []byte
	}{
		{"", testSecret},
		{"localhost:8080", testSecret},
		{"ftp://localhost", testSecret},
		{"http://localhost:8080?x=1", testSecret},
		{"http://localhost:8080", nil},
	} {
		if err := l.ServePresigned(bad.base, bad.secret, nil); err == nil {
			t.Errorf("ServePresigned(%q, %q): no error", bad.base, bad.secret)
		}
	}
	// A base URL with a path and a trailing slash is joined cleanly.
	if err := l.ServePresigned("http://localhost:8080/dev/", testSecret, nil); err != nil {
		t.Fatal(err)
	}
	p, err = l.PresignPut(ctxFor(t), imageKey, "image/png", 10, time.Minute)
	if want := "http://localhost:8080/dev" + LocalObjectsPath + imageKey + "?"; err != nil || !strings.HasPrefix(p.URL, want) {
		t.Errorf("PresignPut = %q, %v; want a URL starting %s", p.URL, err, want)
	}
}

// TestLocalDeleteOlder ages files with os.Chtimes: an object exactly at the
// cutoff is kept, and deleted objects take their sidecars and empty folders.
func TestLocalDeleteOlder(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	l, err := NewLocal(dir)
	if err != nil {
		t.Fatal(err)
	}
	cutoff := time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)
	ages := map[string]time.Time{
		"uploads/u1/r1.png":     cutoff.Add(-48 * time.Hour),
		"uploads/u1/r2.png":     cutoff.Add(-time.Second),
		"uploads/u2/at.png":     cutoff,
		"uploads/u2/sub/r3.png": cutoff.Add(-time.Hour),
		"uploads/u3/new.png":    cutoff.Add(time.Hour),
		"users/u1/old.png":      cutoff.Add(-48 * time.Hour),
	}
	for key, mtime := range ages {
		mustPut(t, l, key, "image/png", pngBytes)
		if err := os.Chtimes(filepath.Join(dir, filepath.FromSlash(key)), mtime, mtime); err != nil {
			t.Fatal(err)
		}
	}
	n, err := l.DeleteOlder(ctxFor(t), "uploads/", cutoff)
	if err != nil || n != 3 {
		t.Errorf("DeleteOlder = %d, %v; want 3, nil", n, err)
	}
	for key, mtime := range ages {
		_, err := l.Head(ctxFor(t), key)
		if gone := errors.Is(err, ErrNotFound); gone != (mtime.Before(cutoff) && strings.HasPrefix(key, "uploads/")) {
			t.Errorf("Head(%q) (modified %v) = %v", key, mtime, err)
		}
	}
	for _, name := range []string{"uploads/u1", "uploads/u2/sub"} {
		if _, err := os.Stat(filepath.Join(dir, name)); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("folder %s left behind: %v", name, err)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "uploads/u1/.r1.png.meta.json")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("sidecar left behind: %v", err)
	}
}
