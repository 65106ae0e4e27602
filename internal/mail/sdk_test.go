package mail

// Differential tests: the SDK's own SES v2 client (a test-only dependency)
// and the SES transport send the same message to one recording server.

import (
	"context"
	"encoding/json"
	"errors"
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
	"github.com/aws/aws-sdk-go-v2/service/sesv2"
	"github.com/aws/aws-sdk-go-v2/service/sesv2/types"
	"github.com/aws/smithy-go"

	"adstudio/internal/awsenv"
	"adstudio/internal/devtools/sesfake"
)

// recorded is one request as the server saw it.
type recorded struct {
	Method, Path, EscapedPath, Host string
	Header                          http.Header
	Body                            []byte
}

// recorder stands in for SES: it records every request and gives each the
// same answer.
type recorder struct {
	URL  string
	mu   sync.Mutex
	reqs []recorded
}

func newRecorder(t *testing.T, status int, header map[string]string, body string) *recorder {
	t.Helper()
	rec := &recorder{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		rec.mu.Lock()
		rec.reqs = append(rec.reqs, recorded{r.Method, r.URL.Path, r.URL.EscapedPath(), r.Host, r.Header.Clone(), b})
		rec.mu.Unlock()
		for k, v := range header {
			w.Header().Set(k, v)
		}
		w.WriteHeader(status)
		io.WriteString(w, body)
	}))
	t.Cleanup(srv.Close)
	rec.URL = srv.URL
	return rec
}

// only returns the one request recorded since the last call.
func (r *recorder) only(t *testing.T) recorded {
	t.Helper()
	r.mu.Lock()
	defer r.mu.Unlock()
	reqs := r.reqs
	r.reqs = nil
	if len(reqs) != 1 {
		t.Fatalf("%d requests, want 1", len(reqs))
	}
	return reqs[0]
}

// sdkSigner is the SDK's signer with two changes that make its
// Authorization comparable byte for byte with ours: the clock is fixed to
// our request's X-Amz-Date, and the SDK's own bookkeeping headers
// (amz-sdk-invocation-id, amz-sdk-request), which we do not send, are
// dropped before signing. A zero at leaves the SDK unchanged.
type sdkSigner struct{ at time.Time }

func (s sdkSigner) SignHTTP(ctx context.Context, creds aws.Credentials, r *http.Request, payloadHash, service, region string, at time.Time, opts ...func(*v4.SignerOptions)) error {
	if !s.at.IsZero() {
		at = s.at
		r.Header.Del("Amz-Sdk-Invocation-Id")
		r.Header.Del("Amz-Sdk-Request")
	}
	return v4.NewSigner().SignHTTP(ctx, creds, r, payloadHash, service, region, at, opts...)
}

// sdkSend sends m as the SDK would, from from.
func sdkSend(endpoint string, s sdkSigner, from string, m Message) error {
	cfg := sesfake.AWSConfig()
	cfg.RetryMaxAttempts = 1
	_, err := sesv2.NewFromConfig(cfg, func(o *sesv2.Options) {
		o.BaseEndpoint = aws.String(endpoint)
		o.HTTPSignerV4 = s
	}).SendEmail(context.Background(), &sesv2.SendEmailInput{
		FromEmailAddress: aws.String(from),
		Destination:      &types.Destination{ToAddresses: []string{m.To}},
		Content: &types.EmailContent{Simple: &types.Message{
			Subject: &types.Content{Data: aws.String(m.Subject), Charset: aws.String("UTF-8")},
			Body: &types.Body{
				Text: &types.Content{Data: aws.String(m.Text), Charset: aws.String("UTF-8")},
				Html: &types.Content{Data: aws.String(m.HTML), Charset: aws.String("UTF-8")},
			},
		}},
	})
	return err
}

// authParts splits an Authorization header into its credential scope
// (without the date) and its signed header names.
func authParts(t *testing.T, auth string) (scope string, signed []string) {
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

func TestRequestMatchesSDK(t *testing.T) {
	messages := map[string]Message{
		"reset": resetMail("ann@example.com"),
		// JSON escaping: quotes, a backslash, <>&, a control character,
		// a line separator and characters outside the BMP.
		"escapes": {To: "o'brien+tag@example.com", Subject: `"Hi" \ <there> & 🎉`, Text: "tab\there\u2028line \x01 😀", HTML: `<p class="x">&amp; </script> 😀</p>`},
	}
	for _, prefix := range []string{"", "/", "/proxy", "/proxy/"} {
		for name, m := range messages {
			t.Run(name+" path="+prefix, func(t *testing.T) {
				rec := newRecorder(t, 200, map[string]string{"Content-Type": "application/json"}, `{"MessageId":"0100abc"}`)
				endpoint := rec.URL + prefix
				const from = "noreply@example.com"
				s, err := NewSES(from, sesfake.AWSConfig(), endpoint)
				if err != nil {
					t.Fatal(err)
				}
				if err := s.Send(context.Background(), m); err != nil {
					t.Fatal(err)
				}
				ours := rec.only(t)
				at, err := time.Parse("20060102T150405Z", ours.Header.Get("X-Amz-Date"))
				if err != nil {
					t.Fatal(err)
				}
				if err := sdkSend(endpoint, sdkSigner{at}, from, m); err != nil {
					t.Fatal(err)
				}
				sdk := rec.only(t)

				if ours.Method != sdk.Method || ours.EscapedPath != sdk.EscapedPath || ours.Path != sdk.Path || ours.Host != sdk.Host {
					t.Errorf("request line: ours %s %s (%s), SDK's %s %s (%s)", ours.Method, ours.EscapedPath, ours.Host, sdk.Method, sdk.EscapedPath, sdk.Host)
				}
				if ours.Method != http.MethodPost || !strings.HasSuffix(ours.Path, "/v2/email/outbound-emails") {
					t.Errorf("request line %s %s", ours.Method, ours.Path)
				}
				var a, b any
				if json.Unmarshal(ours.Body, &a) != nil || json.Unmarshal(sdk.Body, &b) != nil || !reflect.DeepEqual(a, b) {
					t.Errorf("bodies differ:\nours %s\nSDK  %s", ours.Body, sdk.Body)
				}
				// Header for header, Authorization included (so the same
				// headers were signed, to the same signature), User-Agent
				// aside.
				for _, h := range []http.Header{ours.Header, sdk.Header} {
					h.Del("User-Agent")
				}
				if !reflect.DeepEqual(ours.Header, sdk.Header) {
					t.Errorf("headers differ:\nours %v\nSDK  %v", ours.Header, sdk.Header)
				}

				// The SDK unchanged signs its bookkeeping headers too; the
				// rest of its list and its scope are ours.
				if err := sdkSend(endpoint, sdkSigner{}, from, m); err != nil {
					t.Fatal(err)
				}
				plain := rec.only(t)
				oScope, oSigned := authParts(t, ours.Header.Get("Authorization"))
				sScope, sSigned := authParts(t, plain.Header.Get("Authorization"))
				if oScope != sScope || !strings.HasSuffix(oScope, "/eu-west-1/ses/aws4_request") {
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
			})
		}
	}
}

// Error answers read the same: the code and message the SDK's error has,
// ours has too.
func TestErrorsMatchSDK(t *testing.T) {
	for _, c := range []struct {
		name   string
		status int
		header map[string]string
		body   string
	}{
		{"header type", 400, map[string]string{"X-Amzn-ErrorType": "MessageRejected"}, `{"message":"Email address is not verified."}`},
		{"header type with namespace", 400, map[string]string{"X-Amzn-ErrorType": "MailFromDomainNotVerifiedException:http://internal.amazon.com/coral/com.amazonaws.sesv2/"}, `{"message":"not verified"}`},
		{"body type", 400, nil, `{"__type":"com.amazonaws.sesv2#AccountSuspendedException","Message":"suspended"}`},
		{"code member", 400, nil, `{"code":"BadRequestException","message":"bad"}`},
		{"not JSON", 400, map[string]string{"Content-Type": "text/html"}, `<html>Bad Request</html>`},
	} {
		t.Run(c.name, func(t *testing.T) {
			rec := newRecorder(t, c.status, c.header, c.body)
			s, err := NewSES("noreply@example.com", sesfake.AWSConfig(), rec.URL)
			if err != nil {
				t.Fatal(err)
			}
			ours := s.Send(context.Background(), resetMail("ann@example.com"))
			sdk := sdkSend(rec.URL, sdkSigner{}, "noreply@example.com", resetMail("ann@example.com"))
			var se *awsenv.APIError
			var ae smithy.APIError
			if !errors.As(ours, &se) {
				t.Fatalf("ours: %v", ours)
			}
			if errors.As(sdk, &ae) {
				if se.Code != ae.ErrorCode() || se.Message != ae.ErrorMessage() {
					t.Errorf("ours (%q, %q), SDK's (%q, %q)", se.Code, se.Message, ae.ErrorCode(), ae.ErrorMessage())
				}
			} else if se.Code != "UnknownError" {
				// The SDK reports a body it cannot read as a deserialization
				// error; ours keeps the status.
				t.Errorf("ours %v, SDK's %v", ours, sdk)
			}
		})
	}
}
