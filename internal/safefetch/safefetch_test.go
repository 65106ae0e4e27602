package safefetch

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// testServer is an httptest server on 127.0.0.1 that counts its requests.
type testServer struct {
	*httptest.Server
	hits atomic.Int64
}

func mustServe(t *testing.T, h http.HandlerFunc) *testServer {
	t.Helper()
	s := &testServer{}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.hits.Add(1)
		h(w, r)
	}))
	t.Cleanup(s.Close)
	return s
}

// hostPort is "127.0.0.1:port", the AllowHosts form of the server.
func (s *testServer) hostPort() string { return s.Listener.Addr().String() }

func (s *testServer) port() string {
	_, p, _ := net.SplitHostPort(s.hostPort())
	return p
}

// fakeDNS answers lookups from a fixed table, so tests can make a
// public-looking name resolve to loopback; unknown names fail the test.
func fakeDNS(t *testing.T, table map[string][]string) func(context.Context, string) ([]netip.Addr, error) {
	return func(_ context.Context, host string) ([]netip.Addr, error) {
		answers, ok := table[host]
		if !ok {
			t.Errorf("unexpected lookup of %q", host)
			return nil, fmt.Errorf("no such host %q", host)
		}
		var ips []netip.Addr
		for _, a := range answers {
			ips = append(ips, netip.MustParseAddr(a))
		}
		return ips, nil
	}
}

func newFetcher(t *testing.T, o Options, dns map[string][]string) *Fetcher {
	t.Helper()
	if o.Timeout == 0 {
		// Longer than go test lets a test binary run by default (10
		// minutes): only the tests of the timeout, which set their own,
		// can reach it.
		o.Timeout = 15 * time.Minute
	}
	f := New(o)
	f.lookup = fakeDNS(t, dns)
	t.Cleanup(f.transport.CloseIdleConnections)
	return f
}

func mustFail(t *testing.T, err error, kind Kind, redirect bool) *Error {
	t.Helper()
	var e *Error
	if !errors.As(err, &e) {
		t.Fatalf("err = %v, want *Error of kind %v", err, kind)
	}
	if e.Kind != kind || e.Redirect != redirect {
		t.Fatalf("err = %v (kind %v, redirect %v), want kind %v, redirect %v", err, e.Kind, e.Redirect, kind, redirect)
	}
	return e
}

func image(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "image/png; charset=binary")
	_, _ = w.Write([]byte("\x89PNG fake"))
}

func TestGetRefusesHostileURLs(t *testing.T) {
	t.Parallel()
	// No lookup may happen for any of these: they are refused on their face.
	f := newFetcher(t, Options{}, nil)
	cases := []struct {
		url  string
		kind Kind
	}{
		{"http://127.0.0.1:9001/2018-06-01/runtime/invocation/next", KindBlockedHost},
		{"http://localhost:9001/2018-06-01/runtime/invocation/next", KindBlockedHost},
		{"http://LOCALHOST.:9001/", KindBlockedHost},
		{"http://169.254.169.254/latest/meta-data/iam/security-credentials/", KindBlockedHost},
		{"http://[fd00:ec2::254]/latest/meta-data/", KindBlockedHost},
		{"http://[::1]:9001/", KindBlockedHost},
		{"http://[::ffff:127.0.0.1]:9001/", KindBlockedHost},
		{"http://[::ffff:a9fe:a9fe]/", KindBlockedHost},
		{"http://[64:ff9b::a9fe:a9fe]/", KindBlockedHost},
		{"http://0.0.0.0:9001/", KindBlockedHost},
		{"http://127.1:9001/", KindBlockedHost},
		{"http://2130706433:9001/", KindBlockedHost},
		{"http://0x7f.1:9001/", KindBlockedHost},
		{"http://%31%32%37.0.0.1:9001/", KindInvalidURL}, // net/url refuses escapes in hosts
		{"http://metadata.google.internal/", KindBlockedHost},
		{"http://instance-data.ec2.internal/", KindBlockedHost},
		{"http://printer.local/", KindBlockedHost},
		{"http://app.localhost/", KindBlockedHost},
		{"https://8.8.8.8/a.png", KindBlockedHost}, // docs/app-api.md §9.4: every IP literal
		{"file:///etc/passwd", KindBadScheme},
		{"gopher://127.0.0.1:9001/_GET", KindBadScheme},
		{"ftp://example.com/a.png", KindBadScheme},
		{"javascript:alert(1)", KindBadScheme},
		{"//example.com/a.png", KindBadScheme},
		{"http://user:pass@example.com/a.png", KindInvalidURL},
		{"http://example.com@127.0.0.1:9001/", KindInvalidURL},
		{"http:///a.png", KindInvalidURL},
		{"http:example.com/a.png", KindInvalidURL},
		{"http://[::1/", KindInvalidURL},
		{"http://exa mple.com/", KindInvalidURL},
	}
	for _, c := range cases {
		t.Run(c.url, func(t *testing.T) {
			_, err := f.Get(context.Background(), c.url)
			mustFail(t, err, c.kind, false)
		})
	}
}

func TestLoopbackServerNeedsAllowHosts(t *testing.T) {
	t.Parallel()
	srv := mustServe(t, image)

	_, err := newFetcher(t, Options{}, nil).Get(context.Background(), srv.URL+"/a.png")
	e := mustFail(t, err, KindBlockedHost, false)
	if got, want := e.Message(), "referenceImageUrl host is not allowed. Use an uploaded image or a public image URL."; got != want {
		t.Errorf("Message() = %q, want %q", got, want)
	}
	if n := srv.hits.Load(); n != 0 {
		t.Errorf("server saw %d requests, want 0", n)
	}

	res, err := newFetcher(t, Options{AllowHosts: []string{srv.hostPort()}}, nil).Get(context.Background(), srv.URL+"/a.png")
	if err != nil {
		t.Fatal(err)
	}
	if string(res.Body) != "\x89PNG fake" || res.ContentType != "image/png; charset=binary" || res.FinalURL != srv.URL+"/a.png" {
		t.Errorf("Result = %+v", res)
	}
}

func TestNameResolvingToBlockedAddressRefusedAtDial(t *testing.T) {
	t.Parallel()
	srv := mustServe(t, image)
	f := newFetcher(t, Options{}, map[string][]string{
		"images.example.com": {"127.0.0.1"},
		"mixed.example.com":  {"93.184.216.34", "127.0.0.1"},
		"mapped.example.com": {"::ffff:127.0.0.1"},
		"meta.example.com":   {"169.254.169.254"},
	})
	for _, host := range []string{"images.example.com", "mixed.example.com", "mapped.example.com", "meta.example.com"} {
		t.Run(host, func(t *testing.T) {
			_, err := f.Get(context.Background(), "http://"+host+":"+srv.port()+"/a.png")
			mustFail(t, err, KindBlockedHost, false)
		})
	}
	if n := srv.hits.Load(); n != 0 {
		t.Errorf("server saw %d requests, want 0", n)
	}
}

func TestGuardedDialerRefusesBlockedPeer(t *testing.T) {
	t.Parallel()
	// Control is the last check before connect, whatever address reaches it.
	srv := mustServe(t, image)
	f := newFetcher(t, Options{}, nil)
	c, err := f.guarded.DialContext(context.Background(), "tcp", srv.hostPort())
	if err == nil {
		c.Close()
		t.Fatal("guarded dial to loopback succeeded")
	}
	mustFail(t, err, KindBlockedHost, false)
}

func TestRedirectTargetsRevalidated(t *testing.T) {
	t.Parallel()
	inner := mustServe(t, image) // not in AllowHosts: stands in for anything internal
	cases := []struct {
		name     string
		location string
		kind     Kind
		message  string
	}{
		{"loopback literal", "http://127.0.0.1:" + inner.port() + "/a.png", KindBlockedHost,
			"referenceImageUrl redirect target host is not allowed. Use a public image URL."},
		{"name resolving to loopback", "http://rebind.example.com:" + inner.port() + "/a.png", KindBlockedHost,
			"referenceImageUrl redirect target host is not allowed. Use a public image URL."},
		{"metadata", "http://169.254.169.254/latest/meta-data/", KindBlockedHost,
			"referenceImageUrl redirect target host is not allowed. Use a public image URL."},
		{"metadata v6", "http://[fd00:ec2::254]/latest/meta-data/", KindBlockedHost,
			"referenceImageUrl redirect target host is not allowed. Use a public image URL."},
		{"localhost", "http://localhost:" + inner.port() + "/", KindBlockedHost,
			"referenceImageUrl redirect target host is not allowed. Use a public image URL."},
		{"file scheme", "file:///etc/passwd", KindBadScheme,
			"referenceImageUrl redirect target must use http or https."},
		{"gopher scheme", "gopher://127.0.0.1:9001/", KindBadScheme,
			"referenceImageUrl redirect target must use http or https."},
		{"userinfo", "http://user:pw@example.com/", KindRedirectInvalid,
			"referenceImageUrl redirect target is invalid."},
		{"unparsable", "http://[::1", KindRedirectInvalid,
			"referenceImageUrl redirect target is invalid."},
		{"no host", "http:///a.png", KindRedirectInvalid,
			"referenceImageUrl redirect target is invalid."},
		{"missing location", "", KindRedirectMissingLocation,
			"referenceImageUrl redirect is missing a location header."},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			outer := mustServe(t, func(w http.ResponseWriter, _ *http.Request) {
				if c.location != "" {
					w.Header().Set("Location", c.location)
				}
				w.WriteHeader(http.StatusFound)
			})
			f := newFetcher(t, Options{AllowHosts: []string{outer.hostPort()}},
				map[string][]string{"rebind.example.com": {"127.0.0.1"}})
			_, err := f.Get(context.Background(), outer.URL+"/start")
			e := mustFail(t, err, c.kind, true)
			if got := e.Message(); got != c.message {
				t.Errorf("Message() = %q, want %q", got, c.message)
			}
		})
	}
	if n := inner.hits.Load(); n != 0 {
		t.Errorf("internal server saw %d requests, want 0", n)
	}
}

func TestRedirectLoopHitsLimit(t *testing.T) {
	t.Parallel()
	srv := mustServe(t, func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, r.URL.Path, http.StatusTemporaryRedirect)
	})
	f := newFetcher(t, Options{AllowHosts: []string{srv.hostPort()}}, nil)
	_, err := f.Get(context.Background(), srv.URL+"/loop")
	e := mustFail(t, err, KindTooManyRedirects, true)
	if got, want := e.Message(), "referenceImageUrl has too many redirects."; got != want {
		t.Errorf("Message() = %q, want %q", got, want)
	}
	if n := srv.hits.Load(); n != 1+DefaultMaxRedirects {
		t.Errorf("server saw %d requests, want %d", n, 1+DefaultMaxRedirects)
	}
}

func TestRedirectsFollowedUpToLimit(t *testing.T) {
	t.Parallel()
	// /3 → /2 → /1 → /0 uses every redirect status docs/app-api.md §9.4 names.
	codes := map[string]int{"/4": http.StatusMovedPermanently, "/3": http.StatusSeeOther, "/2": http.StatusPermanentRedirect, "/1": http.StatusFound}
	srv := mustServe(t, func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/0":
			image(w, r)
		default:
			var n int
			fmt.Sscanf(r.URL.Path, "/%d", &n)
			w.Header().Set("Location", fmt.Sprintf("/%d", n-1)) // relative target
			w.WriteHeader(codes[r.URL.Path])
		}
	})
	f := newFetcher(t, Options{AllowHosts: []string{srv.hostPort()}}, nil)
	res, err := f.Get(context.Background(), srv.URL+"/3")
	if err != nil {
		t.Fatal(err)
	}
	if res.FinalURL != srv.URL+"/0" || res.ContentType != "image/png; charset=binary" {
		t.Errorf("Result = %+v", res)
	}
	_, err = f.Get(context.Background(), srv.URL+"/4")
	mustFail(t, err, KindTooManyRedirects, true)

	f1 := newFetcher(t, Options{AllowHosts: []string{srv.hostPort()}, MaxRedirects: -1}, nil)
	_, err = f1.Get(context.Background(), srv.URL+"/1")
	mustFail(t, err, KindTooManyRedirects, true)
}

func TestSizeCap(t *testing.T) {
	t.Parallel()
	const limit = 16
	body := strings.Repeat("x", limit+1)
	srv := mustServe(t, func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/declared": // Content-Length says too big before any body is read
			w.Header().Set("Content-Length", "1000000000")
			_, _ = w.Write([]byte(body))
		case "/chunked": // no Content-Length; the stream itself runs over
			for i := 0; i < 4; i++ {
				_, _ = w.Write([]byte(body))
				w.(http.Flusher).Flush()
			}
		case "/exact":
			_, _ = w.Write([]byte(body[:limit]))
		}
	})
	f := newFetcher(t, Options{AllowHosts: []string{srv.hostPort()}, MaxBytes: limit}, nil)
	for _, path := range []string{"/declared", "/chunked"} {
		_, err := f.Get(context.Background(), srv.URL+path)
		e := mustFail(t, err, KindTooLarge, false)
		if got, want := e.Message(), "Reference image must be 10MB or smaller."; got != want {
			t.Errorf("Message() = %q, want %q", got, want)
		}
	}
	res, err := f.Get(context.Background(), srv.URL+"/exact")
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Body) != limit {
		t.Errorf("len(Body) = %d, want %d", len(res.Body), limit)
	}
}

func TestDeadlineCoversBody(t *testing.T) {
	t.Parallel()
	srv := mustServe(t, func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/slow-headers" {
			<-r.Context().Done()
			return
		}
		// Headers and a first byte arrive at once, then the body trickles.
		w.Header().Set("Content-Type", "image/png")
		for {
			if _, err := w.Write([]byte("x")); err != nil {
				return
			}
			w.(http.Flusher).Flush()
			select {
			case <-r.Context().Done():
				return
			case <-time.After(20 * time.Millisecond):
			}
		}
	})
	// Neither answer ever ends, so the timeout is the only way either Get
	// can return, however slow the machine; one that did not cover the
	// body would never return.
	f := newFetcher(t, Options{AllowHosts: []string{srv.hostPort()}, Timeout: 200 * time.Millisecond}, nil)
	for _, path := range []string{"/trickle", "/slow-headers"} {
		_, err := f.Get(context.Background(), srv.URL+path)
		e := mustFail(t, err, KindDownloadFailed, false)
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("%s: err = %v, want it to wrap context.DeadlineExceeded", path, err)
		}
		if got, want := e.Message(), "Could not download reference image from URL."; got != want {
			t.Errorf("Message() = %q, want %q", got, want)
		}
	}
}

func TestCallerContextCancels(t *testing.T) {
	t.Parallel()
	srv := mustServe(t, func(_ http.ResponseWriter, r *http.Request) { <-r.Context().Done() })
	f := newFetcher(t, Options{AllowHosts: []string{srv.hostPort()}}, nil)
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	_, err := f.Get(ctx, srv.URL)
	mustFail(t, err, KindDownloadFailed, false)
}

func TestStatusAndEmptyBody(t *testing.T) {
	t.Parallel()
	srv := mustServe(t, func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/404":
			http.NotFound(w, r)
		case "/500":
			http.Error(w, "boom", http.StatusInternalServerError)
		case "/304":
			w.WriteHeader(http.StatusNotModified)
		case "/300": // not one of the followed redirect statuses
			w.Header().Set("Location", "/ok")
			w.WriteHeader(http.StatusMultipleChoices)
		case "/204":
			w.WriteHeader(http.StatusNoContent)
		case "/empty":
			w.Header().Set("Content-Type", "image/png")
		}
	})
	f := newFetcher(t, Options{AllowHosts: []string{srv.hostPort()}}, nil)
	for _, c := range []struct {
		path string
		kind Kind
	}{
		{"/404", KindDownloadFailed},
		{"/500", KindDownloadFailed},
		{"/304", KindDownloadFailed},
		{"/300", KindDownloadFailed},
		{"/204", KindEmpty},
		{"/empty", KindEmpty},
	} {
		_, err := f.Get(context.Background(), srv.URL+c.path)
		e := mustFail(t, err, c.kind, false)
		if c.kind == KindEmpty && e.Message() != "Could not read reference image bytes." {
			t.Errorf("%s: Message() = %q", c.path, e.Message())
		}
	}
}

func TestIgnoresEnvironmentProxy(t *testing.T) {
	// Not parallel: t.Setenv. A proxy would dial the target for us, unchecked.
	proxy := mustServe(t, image)
	t.Setenv("HTTP_PROXY", proxy.URL)
	t.Setenv("http_proxy", proxy.URL)
	srv := mustServe(t, image)
	f := newFetcher(t, Options{AllowHosts: []string{srv.hostPort()}}, nil)
	if _, err := f.Get(context.Background(), srv.URL); err != nil {
		t.Fatal(err)
	}
	if proxy.hits.Load() != 0 || srv.hits.Load() != 1 {
		t.Errorf("proxy hits %d, server hits %d; want 0 and 1", proxy.hits.Load(), srv.hits.Load())
	}
}

func TestErrorMessages(t *testing.T) {
	t.Parallel()
	cases := []struct {
		err  Error
		want string
	}{
		{Error{Kind: KindInvalidURL}, "referenceImageUrl must be an http(s) URL, a supported internal /api URL, or Base64 data URL."},
		{Error{Kind: KindBadScheme}, "referenceImageUrl must use http or https."},
		{Error{Kind: KindBadScheme, Redirect: true}, "referenceImageUrl redirect target must use http or https."},
		{Error{Kind: KindBlockedHost}, "referenceImageUrl host is not allowed. Use an uploaded image or a public image URL."},
		{Error{Kind: KindBlockedHost, Redirect: true}, "referenceImageUrl redirect target host is not allowed. Use a public image URL."},
		{Error{Kind: KindTooManyRedirects, Redirect: true}, "referenceImageUrl has too many redirects."},
		{Error{Kind: KindRedirectMissingLocation, Redirect: true}, "referenceImageUrl redirect is missing a location header."},
		{Error{Kind: KindRedirectInvalid, Redirect: true}, "referenceImageUrl redirect target is invalid."},
		{Error{Kind: KindTooLarge}, "Reference image must be 10MB or smaller."},
		{Error{Kind: KindDownloadFailed}, "Could not download reference image from URL."},
		{Error{Kind: KindDownloadFailed, Redirect: true}, "Could not download reference image from URL."},
		{Error{Kind: KindEmpty}, "Could not read reference image bytes."},
	}
	for _, c := range cases {
		if got := c.err.Message(); got != c.want {
			t.Errorf("%v redirect=%v: Message() = %q, want %q", c.err.Kind, c.err.Redirect, got, c.want)
		}
	}
	// The log face carries the cause; the client face never does.
	e := &Error{Kind: KindDownloadFailed, Host: "example.com", Err: errors.New("dial tcp: secret detail")}
	if !strings.Contains(e.Error(), "secret detail") || strings.Contains(e.Message(), "secret") {
		t.Errorf("Error() = %q, Message() = %q", e.Error(), e.Message())
	}
	if KindOf(fmt.Errorf("wrapped: %w", e)) != KindDownloadFailed || KindOf(errors.New("x")) != 0 {
		t.Error("KindOf does not see through wrapping")
	}
}

func TestDefaults(t *testing.T) {
	t.Parallel()
	f := New(Options{})
	if f.maxBytes != 10<<20 || f.timeout != 15*time.Second || f.maxRedirects != 3 {
		t.Errorf("defaults = %d, %v, %d", f.maxBytes, f.timeout, f.maxRedirects)
	}
	if f.transport.Proxy != nil {
		t.Error("transport has a proxy function")
	}
}
