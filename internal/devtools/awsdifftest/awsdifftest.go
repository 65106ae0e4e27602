// Package awsdifftest helps differential tests of our AWS clients: the
// SDK's own client and ours make the same call against one Recorder, and
// the requests are compared header for header, Authorization included.
package awsdifftest

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"reflect"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
)

// Recorded is one request as the server saw it.
type Recorded struct {
	Method, Path, EscapedPath, Host string
	Header                          http.Header
	Body                            []byte
}

// Answer is a canned HTTP answer.
type Answer struct {
	Status int
	Header map[string]string
	Body   string
}

// Recorder stands in for an AWS endpoint: it records every request and
// gives each the same answer.
type Recorder struct {
	URL  string
	mu   sync.Mutex
	reqs []Recorded
}

// NewRecorder starts a Recorder that gives every request a, for the
// test's lifetime.
func NewRecorder(t testing.TB, a Answer) *Recorder {
	t.Helper()
	rec := &Recorder{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		rec.mu.Lock()
		rec.reqs = append(rec.reqs, Recorded{r.Method, r.URL.Path, r.URL.EscapedPath(), r.Host, r.Header.Clone(), body})
		rec.mu.Unlock()
		for k, v := range a.Header {
			w.Header().Set(k, v)
		}
		w.WriteHeader(a.Status)
		io.WriteString(w, a.Body)
	}))
	t.Cleanup(srv.Close)
	rec.URL = srv.URL
	return rec
}

// Take returns the requests recorded since the last Take or Only.
func (r *Recorder) Take() []Recorded {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := r.reqs
	r.reqs = nil
	return out
}

// Only returns the one request recorded since the last Take or Only; any
// other count fails the test.
func (r *Recorder) Only(t testing.TB) Recorded {
	t.Helper()
	reqs := r.Take()
	if len(reqs) != 1 {
		t.Fatalf("%d requests, want 1", len(reqs))
	}
	return reqs[0]
}

// SDKSigner is the SDK's signer with two changes that make its
// Authorization comparable byte for byte with ours: the clock is fixed to
// our request's X-Amz-Date, and the SDK's own bookkeeping headers
// (amz-sdk-invocation-id, amz-sdk-request), which we do not send, are
// dropped before signing. A zero At leaves the SDK unchanged.
type SDKSigner struct{ At time.Time }

// SignHTTP signs r as v4.Signer does, at s.At when that is set.
func (s SDKSigner) SignHTTP(ctx context.Context, creds aws.Credentials, r *http.Request, payloadHash, service, region string, at time.Time, opts ...func(*v4.SignerOptions)) error {
	if !s.At.IsZero() {
		at = s.At
		r.Header.Del("Amz-Sdk-Invocation-Id")
		r.Header.Del("Amz-Sdk-Request")
	}
	return v4.NewSigner().SignHTTP(ctx, creds, r, payloadHash, service, region, at, opts...)
}

// SigningTime reads r's X-Amz-Date, for an SDKSigner that signs at the
// same time.
func SigningTime(t testing.TB, r Recorded) time.Time {
	t.Helper()
	at, err := time.Parse("20060102T150405Z", r.Header.Get("X-Amz-Date"))
	if err != nil {
		t.Fatalf("X-Amz-Date: %v", err)
	}
	return at
}

// AuthParts splits an Authorization header into its credential scope
// (without the date) and its signed header names.
func AuthParts(t testing.TB, auth string) (scope string, signed []string) {
	t.Helper()
	rest, ok := strings.CutPrefix(auth, "AWS4-HMAC-SHA256 ")
	if !ok {
		t.Fatalf("Authorization %q", auth)
	}
	for part := range strings.SplitSeq(rest, ", ") {
		k, v, _ := strings.Cut(part, "=")
		switch k {
		case "Credential":
			f := strings.Split(v, "/")
			if len(f) != 5 {
				t.Fatalf("credential %q", v)
			}
			scope = strings.Join(append(f[:1:1], f[2:]...), "/")
		case "SignedHeaders":
			signed = strings.Split(v, ";")
		}
	}
	return scope, signed
}

// SameRequest checks that ours is the SDK's request (signed by an
// SDKSigner at ours's time), header for header with Authorization
// included, User-Agent aside, and with an equivalent JSON body when
// jsonBody is set, else the same bytes. It removes User-Agent from both.
func SameRequest(t testing.TB, ours, sdk Recorded, jsonBody bool) {
	t.Helper()
	if ours.Method != sdk.Method || ours.EscapedPath != sdk.EscapedPath || ours.Path != sdk.Path || ours.Host != sdk.Host {
		t.Errorf("request line: ours %s %s (%s), SDK's %s %s (%s)", ours.Method, ours.EscapedPath, ours.Host, sdk.Method, sdk.EscapedPath, sdk.Host)
	}
	for _, h := range []http.Header{ours.Header, sdk.Header} {
		h.Del("User-Agent")
	}
	if !reflect.DeepEqual(ours.Header, sdk.Header) {
		t.Errorf("headers differ:\nours %v\nSDK  %v", ours.Header, sdk.Header)
	}
	if jsonBody {
		var a, b any
		if json.Unmarshal(ours.Body, &a) != nil || json.Unmarshal(sdk.Body, &b) != nil || !reflect.DeepEqual(a, b) {
			t.Errorf("bodies differ:\nours %s\nSDK  %s", ours.Body, sdk.Body)
		}
	} else if !bytes.Equal(ours.Body, sdk.Body) {
		t.Errorf("bodies differ:\nours %q\nSDK  %q", ours.Body, sdk.Body)
	}
}

// SameShape checks the unchanged SDK's Authorization against ours: the
// same credential scope, and the same signed headers but for the SDK's
// bookkeeping ones, which the unchanged SDK signs too.
func SameShape(t testing.TB, ours, sdk Recorded) {
	t.Helper()
	oScope, oSigned := AuthParts(t, ours.Header.Get("Authorization"))
	sScope, sSigned := AuthParts(t, sdk.Header.Get("Authorization"))
	if oScope != sScope {
		t.Errorf("credential scope: ours %s, SDK's %s", oScope, sScope)
	}
	var want []string
	for _, h := range sSigned {
		if h != "amz-sdk-invocation-id" && h != "amz-sdk-request" {
			want = append(want, h)
		}
	}
	if !sort.StringsAreSorted(oSigned) || !reflect.DeepEqual(oSigned, want) {
		t.Errorf("signed headers: ours %v, SDK's %v", oSigned, sSigned)
	}
}
