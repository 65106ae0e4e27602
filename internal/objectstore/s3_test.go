package objectstore

import (
	"bytes"
	"context"
	"errors"
	"io"
	"maps"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

// clockPresigner signs at now's time rather than the SDK's, so a test makes
// a URL that has already expired without waiting for it to.
type clockPresigner struct {
	s3.HTTPPresignerV4
	now func() time.Time
}

func (p clockPresigner) PresignHTTP(ctx context.Context, creds aws.Credentials, r *http.Request,
	payloadHash, service, region string, _ time.Time, optFns ...func(*v4.SignerOptions),
) (string, http.Header, error) {
	return p.HTTPPresignerV4.PresignHTTP(ctx, creds, r, payloadHash, service, region, p.now(), optFns...)
}

// signWith makes s presign with now's time.
func (s *S3) signWith(now func() time.Time) {
	s.presign = s3.NewPresignClient(s.client, func(o *s3.PresignOptions) {
		// As the SDK's own presigner for S3: keys are not escaped twice.
		signer := v4.NewSigner(func(so *v4.SignerOptions) { so.DisableURIPathEscaping = true })
		o.Presigner = clockPresigner{signer, now}
	})
}

// faultProxy sits between an S3 client and versitygw. For the n-th PUT
// (1-based) fault says what to do instead of forwarding it; it also records
// every request's headers.
type faultProxy struct {
	fault func(n int) fault

	mu      sync.Mutex
	puts    int
	headers []http.Header // every request's headers, in order
	methods []string      // and its method
}

type fault int

const (
	forward   fault = iota
	status503       // S3-style 503 SlowDown / ServiceUnavailable
	status403       // S3-style 403 AccessDenied
	dropConn        // close the connection without an answer
)

func newFaultProxy(t *testing.T, target string, fault func(n int) fault) (*faultProxy, string) {
	t.Helper()
	u, err := url.Parse(target)
	if err != nil {
		t.Fatal(err)
	}
	p := &faultProxy{fault: fault}
	// NewSingleHostReverseProxy keeps the client's Host header, which SigV4
	// signed, so versitygw verifies the signature as sent.
	rp := httputil.NewSingleHostReverseProxy(u)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p.mu.Lock()
		p.methods = append(p.methods, r.Method)
		p.headers = append(p.headers, r.Header.Clone())
		f := forward
		if r.Method == http.MethodPut {
			p.puts++
			if p.fault != nil {
				f = p.fault(p.puts)
			}
		}
		p.mu.Unlock()
		switch f {
		case status503:
			io.Copy(io.Discard, r.Body)
			s3Error(w, http.StatusServiceUnavailable, "ServiceUnavailable", "Please reduce your request rate.")
		case status403:
			io.Copy(io.Discard, r.Body)
			s3Error(w, http.StatusForbidden, "AccessDenied", "Access Denied")
		case dropConn:
			io.Copy(io.Discard, r.Body)
			conn, _, err := http.NewResponseController(w).Hijack()
			if err != nil {
				t.Errorf("hijack: %v", err)
				return
			}
			conn.Close()
		default:
			rp.ServeHTTP(w, r)
		}
	}))
	t.Cleanup(srv.Close)
	return p, srv.URL
}

func s3Error(w http.ResponseWriter, status int, code, msg string) {
	w.Header().Set("Content-Type", "application/xml")
	w.WriteHeader(status)
	io.WriteString(w, `<?xml version="1.0" encoding="UTF-8"?><Error><Code>`+code+`</Code><Message>`+msg+`</Message></Error>`)
}

func (p *faultProxy) putCount() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.puts
}

// noSDKRetries leaves retrying to Put's own loop, so the tests see it.
func noSDKRetries(o *s3.Options) { o.RetryMaxAttempts = 1 }

func TestS3PutRetries(t *testing.T) {
	g := startGateway(t)
	always := func(f fault) func(int) fault { return func(int) fault { return f } }
	firstOnly := func(f fault) func(int) fault {
		return func(n int) fault {
			if n == 1 {
				return f
			}
			return forward
		}
	}
	tests := []struct {
		name     string
		fault    func(n int) fault
		sdkRetry bool // keep the SDK's own retries
		wantErr  bool
		wantPuts int
	}{
		// Hostile and hopeless first: never retried, or given up on.
		{"403 is not retried", always(status403), false, true, 1},
		{"503 every time gives up after putAttempts", always(status503), false, true, 3},
		{"first PUT 503", firstOnly(status503), false, false, 2},
		{"first PUT connection dropped", firstOnly(dropConn), false, false, 2},
		{"first PUT 503 with the SDK's retries too", firstOnly(status503), true, false, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			direct := g.newBucket(t)
			proxy, endpoint := newFaultProxy(t, g.endpoint, tt.fault)
			var opts []func(*s3.Options)
			if !tt.sdkRetry {
				opts = append(opts, noSDKRetries)
			}
			s := g.client(t, endpoint, direct.bucket, opts...)
			s.putBackoff = 10 * time.Millisecond

			err := s.Put(ctxFor(t), imageKey, "image/png", pngBytes)
			if (err != nil) != tt.wantErr {
				t.Fatalf("Put = %v, want error: %v", err, tt.wantErr)
			}
			if got := proxy.putCount(); got != tt.wantPuts {
				t.Errorf("PUT requests = %d, want %d", got, tt.wantPuts)
			}
			_, body, getErr := func() (*Object, []byte, error) {
				obj, err := direct.Get(ctxFor(t), imageKey, "")
				if err != nil {
					return nil, nil, err
				}
				defer obj.Body.Close()
				b, err := io.ReadAll(obj.Body)
				return obj, b, err
			}()
			if tt.wantErr {
				if !errors.Is(getErr, ErrNotFound) {
					t.Errorf("object after a failed Put: %v, want ErrNotFound", getErr)
				}
			} else if getErr != nil || !bytes.Equal(body, pngBytes) {
				t.Errorf("object after Put: %q, %v; want it stored", body, getErr)
			}
		})
	}
}

// TestS3PutStopsWhenContextEnds: a Put waiting to retry returns when its
// context ends. The backoff is an hour, so only the context can end the
// wait: the test is as fast as the machine, and a Put that ignored its
// context would never return.
func TestS3PutStopsWhenContextEnds(t *testing.T) {
	g := startGateway(t)
	direct := g.newBucket(t)
	_, endpoint := newFaultProxy(t, g.endpoint, func(int) fault { return status503 })
	s := g.client(t, endpoint, direct.bucket, noSDKRetries)
	s.putAttempts = 100
	s.putBackoff = time.Hour
	ctx, cancel := context.WithTimeout(t.Context(), 300*time.Millisecond)
	defer cancel()
	err := s.Put(ctx, imageKey, "image/png", pngBytes)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Put = %v, want the context's deadline", err)
	}
}

// TestS3RequestShape checks the wire format docs/platform.md §6 asks for: no
// checksum headers or aws-chunked framing, a Content-Length, and no
// Expect: 100-continue even for a body above the SDK's 2 MB threshold.
func TestS3RequestShape(t *testing.T) {
	g := startGateway(t)
	direct := g.newBucket(t)
	proxy, endpoint := newFaultProxy(t, g.endpoint, nil)
	s := g.client(t, endpoint, direct.bucket)
	body := bytes.Repeat([]byte("x"), 3<<20)
	mustPut(t, s, "big.bin", "application/octet-stream", body)
	obj, err := s.Get(ctxFor(t), "big.bin", "bytes=0-9")
	if err != nil {
		t.Fatal(err)
	}
	obj.Body.Close()

	proxy.mu.Lock()
	defer proxy.mu.Unlock()
	if len(proxy.headers) != 2 {
		t.Fatalf("saw %d requests (%v), want a PUT and a GET", len(proxy.headers), proxy.methods)
	}
	for i, h := range proxy.headers {
		for name := range h {
			if l := strings.ToLower(name); strings.HasPrefix(l, "x-amz-checksum") || strings.HasPrefix(l, "x-amz-sdk-checksum") ||
				l == "x-amz-trailer" || l == "x-amz-decoded-content-length" {
				t.Errorf("%s sent %s: %q", proxy.methods[i], name, h.Values(name))
			}
		}
		if v := h.Get("Content-Encoding"); strings.Contains(v, "aws-chunked") {
			t.Errorf("%s sent Content-Encoding %q", proxy.methods[i], v)
		}
		if v := h.Get("Expect"); v != "" {
			t.Errorf("%s sent Expect: %q (R2 does not support it)", proxy.methods[i], v)
		}
	}
	// Over plain HTTP the SDK signs the payload hash (UNSIGNED-PAYLOAD over
	// HTTPS); either way, no streaming signature.
	if v := proxy.headers[0].Get("X-Amz-Content-Sha256"); strings.HasPrefix(v, "STREAMING") {
		t.Errorf("PUT used a streaming payload signature %q", v)
	}
}

func TestS3PresignGet(t *testing.T) {
	g := startGateway(t)
	s := g.newBucket(t)
	mustPut(t, s, imageKey, "image/png", pngBytes)

	u, err := s.PresignGet(ctxFor(t), imageKey, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK || !bytes.Equal(body, pngBytes) || resp.Header.Get("Content-Type") != "image/png" {
		t.Errorf("GET presigned URL: %d %q %q, want 200 image/png with the object", resp.StatusCode, resp.Header.Get("Content-Type"), body)
	}

	// Presigning checks nothing remotely: a URL for a missing key is a 404
	// when fetched.
	u, err = s.PresignGet(ctxFor(t), "missing.png", time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	resp, err = http.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNotFound {
		t.Errorf("GET presigned URL of a missing key: %d, want 404", resp.StatusCode)
	}

	// A tampered URL is refused.
	tampered := strings.Replace(u, "missing.png", "output.png", 1)
	if resp, err := http.Get(tampered); err == nil {
		resp.Body.Close()
		if resp.StatusCode != http.StatusForbidden {
			t.Errorf("tampered presigned URL: %d, want 403", resp.StatusCode)
		}
	}
}

// TestS3ConfigOffline checks defaults and addressing through a presigned URL,
// which needs no network: R2 endpoint from the account id, path-style, region
// auto, no checksum mode.
func TestS3ConfigOffline(t *testing.T) {
	s, err := NewS3(t.Context(), S3Config{
		AccountID: "0123abcd", AccessKeyID: "AKID", SecretAccessKey: "secret", Bucket: "images",
	})
	if err != nil {
		t.Fatal(err)
	}
	u, err := s.PresignGet(t.Context(), imageKey, 15*time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	wantPrefix := "https://0123abcd.r2.cloudflarestorage.com/images/" + imageKey + "?"
	if !strings.HasPrefix(u, wantPrefix) {
		t.Errorf("URL %s, want prefix %s", u, wantPrefix)
	}
	q, _ := url.ParseQuery(u[strings.Index(u, "?")+1:])
	if c := q.Get("X-Amz-Credential"); !strings.HasPrefix(c, "AKID/") || !strings.HasSuffix(c, "/auto/s3/aws4_request") {
		t.Errorf("X-Amz-Credential = %q, want AKID/<date>/auto/s3/aws4_request", c)
	}
	if q.Get("X-Amz-Expires") != "900" {
		t.Errorf("X-Amz-Expires = %q, want 900", q.Get("X-Amz-Expires"))
	}
	if q.Has("X-Amz-Checksum-Mode") {
		t.Errorf("presigned URL asks for checksum mode: %s", u)
	}

	for _, ttl := range []time.Duration{0, -time.Second, 7*24*time.Hour + time.Second} {
		if _, err := s.PresignGet(t.Context(), imageKey, ttl); err == nil {
			t.Errorf("PresignGet ttl %v: no error", ttl)
		}
	}
	if _, err := s.PresignGet(t.Context(), imageKey, 7*24*time.Hour); err != nil {
		t.Errorf("PresignGet for 7 days: %v", err)
	}
}

// TestS3PresignPutOffline: the URL R2 would get signs host, Content-Length
// and Content-Type, for the ttl asked, and Headers lists what the browser
// must send.
func TestS3PresignPutOffline(t *testing.T) {
	s, err := NewS3(t.Context(), S3Config{
		AccountID: "0123abcd", AccessKeyID: "AKID", SecretAccessKey: "secret", Bucket: "images",
	})
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now().Truncate(time.Second)
	p, err := s.PresignPut(t.Context(), imageKey, "image/webp", 1234, 15*time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	wantPrefix := "https://0123abcd.r2.cloudflarestorage.com/images/" + imageKey + "?"
	if !strings.HasPrefix(p.URL, wantPrefix) {
		t.Errorf("URL %s, want prefix %s", p.URL, wantPrefix)
	}
	q, _ := url.ParseQuery(p.URL[strings.Index(p.URL, "?")+1:])
	if got := q.Get("X-Amz-SignedHeaders"); got != "content-length;content-type;host" {
		t.Errorf("X-Amz-SignedHeaders = %q, want content-length;content-type;host", got)
	}
	if q.Get("X-Amz-Expires") != "900" {
		t.Errorf("X-Amz-Expires = %q, want 900", q.Get("X-Amz-Expires"))
	}
	for name := range q {
		if l := strings.ToLower(name); strings.HasPrefix(l, "x-amz-checksum") || strings.HasPrefix(l, "x-amz-sdk-checksum") {
			t.Errorf("presigned PUT asks for a checksum: %s", p.URL)
		}
	}
	if want := map[string]string{"Content-Type": "image/webp", "Content-Length": "1234"}; !maps.Equal(p.Headers, want) {
		t.Errorf("Headers = %v, want %v", p.Headers, want)
	}
	if p.ExpiresAt.Before(start.Add(15*time.Minute)) || p.ExpiresAt.After(time.Now().Add(15*time.Minute)) {
		t.Errorf("ExpiresAt = %v, want 15 minutes from now", p.ExpiresAt)
	}
	// A fraction of a second is cut off, as X-Amz-Expires counts seconds.
	p, err = s.PresignPut(t.Context(), imageKey, "", 1, 90*time.Second+time.Second/2)
	if err != nil {
		t.Fatal(err)
	}
	q, _ = url.ParseQuery(p.URL[strings.Index(p.URL, "?")+1:])
	if q.Get("X-Amz-Expires") != "90" || p.Headers["Content-Type"] != DefaultContentType {
		t.Errorf("X-Amz-Expires %q, Content-Type %q; want 90, %s", q.Get("X-Amz-Expires"), p.Headers["Content-Type"], DefaultContentType)
	}
	if _, err := s.PresignPut(t.Context(), imageKey, "image/png", 1, 7*24*time.Hour); err != nil {
		t.Errorf("PresignPut for 7 days: %v", err)
	}
}

func TestNewS3Config(t *testing.T) {
	valid := S3Config{AccountID: "abc", AccessKeyID: "k", SecretAccessKey: "s", Bucket: "b"}
	tests := []struct {
		name    string
		edit    func(*S3Config)
		wantErr string // "" = valid
	}{
		{"endpoint with credentials", func(c *S3Config) { c.Endpoint = "https://user:pw@example.com" }, "credentials belong"},
		{"account id that is not a host label", func(c *S3Config) { c.AccountID = "evil.com/x?" }, "account id"},
		{"endpoint with a path", func(c *S3Config) { c.Endpoint = "https://example.com/bucket" }, "no path"},
		{"endpoint without scheme", func(c *S3Config) { c.Endpoint = "example.com" }, "http:// or https://"},
		{"no bucket", func(c *S3Config) { c.Bucket = "" }, "bucket is required"},
		{"no secret", func(c *S3Config) { c.SecretAccessKey = "" }, "secret access key is required"},
		{"no account and no endpoint", func(c *S3Config) { c.AccountID = "" }, "account id or an S3 endpoint"},
		{"R2 defaults", func(c *S3Config) {}, ""},
		{"other S3 store", func(c *S3Config) { c.AccountID, c.Endpoint, c.Region = "", "http://127.0.0.1:7070/", "us-east-1" }, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := valid
			tt.edit(&cfg)
			_, err := NewS3(t.Context(), cfg)
			switch {
			case tt.wantErr == "" && err != nil:
				t.Errorf("NewS3: %v", err)
			case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)):
				t.Errorf("NewS3 = %v, want an error containing %q", err, tt.wantErr)
			case err != nil && strings.Contains(err.Error(), "pw"):
				t.Errorf("error leaks the endpoint password: %v", err)
			}
		})
	}
	got, err := withDefaults(valid)
	if err != nil || got.Endpoint != "https://abc.r2.cloudflarestorage.com" || got.Region != "auto" {
		t.Errorf("defaults: %+v, %v", got, err)
	}
}
