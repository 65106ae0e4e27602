package sesfake

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/sesv2"
	"github.com/aws/aws-sdk-go-v2/service/sesv2/types"
	"github.com/aws/smithy-go"
)

// sdkClient is the SDK's own SES v2 client aimed at the fake, without
// retries, so each call is one request.
func sdkClient(s *Server, cfg aws.Config) *sesv2.Client {
	cfg.RetryMaxAttempts = 1
	return sesv2.NewFromConfig(cfg, func(o *sesv2.Options) { o.BaseEndpoint = aws.String(s.URL()) })
}

func simpleEmail(to, subject string) *sesv2.SendEmailInput {
	return &sesv2.SendEmailInput{
		FromEmailAddress: aws.String("Ad Studio <noreply@example.com>"),
		Destination:      &types.Destination{ToAddresses: []string{to}},
		Content: &types.EmailContent{Simple: &types.Message{
			Subject: &types.Content{Data: aws.String(subject), Charset: aws.String("UTF-8")},
			Body: &types.Body{
				Text: &types.Content{Data: aws.String("Reset: https://app.example.com/r?t=1"), Charset: aws.String("UTF-8")},
				Html: &types.Content{Data: aws.String(`<a href="https://app.example.com/r?t=1">Reset</a>`), Charset: aws.String("UTF-8")},
			},
		}},
	}
}

// code is an SDK error's code.
func code(t *testing.T, err error) string {
	t.Helper()
	var ae smithy.APIError
	if !errors.As(err, &ae) {
		t.Fatalf("error %v is not an API error", err)
	}
	return ae.ErrorCode()
}

// The SDK's own client is what the fake must accept: its checks are SES's,
// not a copy of our transport's habits.
func TestAcceptsTheSDK(t *testing.T) {
	s := New(t)
	out, err := sdkClient(s, AWSConfig()).SendEmail(context.Background(), simpleEmail("ann@example.com", "Réinitialiser ✓"))
	if err != nil {
		t.Fatal(err)
	}
	msgs := s.Messages()
	if len(msgs) != 1 {
		t.Fatalf("%d messages", len(msgs))
	}
	m := msgs[0]
	if aws.ToString(out.MessageId) != m.MessageID || m.MessageID == "" {
		t.Errorf("MessageId %q, recorded %q", aws.ToString(out.MessageId), m.MessageID)
	}
	if m.From != "Ad Studio <noreply@example.com>" || len(m.To) != 1 || m.To[0] != "ann@example.com" ||
		m.Subject != (Content{"Réinitialiser ✓", "UTF-8"}) || !strings.Contains(m.Text.Data, "https://") || !strings.Contains(m.HTML.Data, "<a ") {
		t.Errorf("recorded %+v", m)
	}
	if s.Calls() != 1 {
		t.Errorf("%d calls", s.Calls())
	}
	// What Messages returns is a copy.
	msgs[0].To[0] = "changed"
	if s.Messages()[0].To[0] != "ann@example.com" {
		t.Error("Messages shares its slices")
	}
}

func TestRefusesBadSignatures(t *testing.T) {
	wrongSecret := AWSConfig()
	wrongSecret.Credentials = credentials.NewStaticCredentialsProvider(AccessKeyID, "not-the-secret", SessionToken)
	wrongKey := AWSConfig()
	wrongKey.Credentials = credentials.NewStaticCredentialsProvider("AKIAOTHER", SecretAccessKey, SessionToken)
	noToken := AWSConfig()
	noToken.Credentials = credentials.NewStaticCredentialsProvider(AccessKeyID, SecretAccessKey, "")
	wrongRegion := AWSConfig()
	wrongRegion.Region = "us-east-1"
	for _, c := range []struct {
		name string
		cfg  aws.Config
		code string
	}{
		{"wrong secret", wrongSecret, "InvalidSignatureException"},
		{"unknown key", wrongKey, "UnrecognizedClientException"},
		{"no session token", noToken, "UnrecognizedClientException"},
		{"wrong region", wrongRegion, "InvalidSignatureException"},
	} {
		t.Run(c.name, func(t *testing.T) {
			s := New(t)
			_, err := sdkClient(s, c.cfg).SendEmail(context.Background(), simpleEmail("ann@example.com", "Hi"))
			if got := code(t, err); got != c.code {
				t.Errorf("code %s, want %s (%v)", got, c.code, err)
			}
			if len(s.Messages()) != 0 {
				t.Error("message recorded")
			}
		})
	}
}

// A fake told other credentials accepts exactly those: here long-term
// keys without a session token, as the local gateway's functions have.
func TestOtherCredentials(t *testing.T) {
	creds := Credentials{AccessKeyID: "AKIDEXAMPLE", SecretAccessKey: "other-secret", Region: "us-east-1"}
	withToken := creds
	withToken.SessionToken = "a-token"
	otherRegion := creds
	otherRegion.Region = Region
	for _, c := range []struct {
		name string
		cfg  aws.Config
		code string // "" for accepted
	}{
		{"its own", creds.AWSConfig(), ""},
		{"the default ones", AWSConfig(), "UnrecognizedClientException"},
		{"with a session token", withToken.AWSConfig(), "UnrecognizedClientException"},
		{"another region", otherRegion.AWSConfig(), "InvalidSignatureException"},
	} {
		t.Run(c.name, func(t *testing.T) {
			s := NewFor(t, creds)
			_, err := sdkClient(s, c.cfg).SendEmail(context.Background(), simpleEmail("ann@example.com", "Hi"))
			if c.code == "" {
				if err != nil || len(s.Messages()) != 1 {
					t.Errorf("%v, %d messages", err, len(s.Messages()))
				}
				return
			}
			if got := code(t, err); got != c.code {
				t.Errorf("code %s, want %s (%v)", got, c.code, err)
			}
			if len(s.Messages()) != 0 {
				t.Error("message recorded")
			}
		})
	}
}

// signedRequest is a request signed correctly for the fake, for tests that
// then change one thing.
func signedRequest(t *testing.T, s *Server, body string, at time.Time) *http.Request {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, s.URL()+SendPath, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	sign(t, req, body, at)
	return req
}

const validBody = `{"FromEmailAddress":"a@example.com","Destination":{"ToAddresses":["b@example.com"]},"Content":{"Simple":{"Subject":{"Data":"S"},"Body":{"Text":{"Data":"T"}}}}}`

func TestChecksRequests(t *testing.T) {
	s := New(t)
	now := time.Now()
	do := func(t *testing.T, req *http.Request) (int, string) {
		t.Helper()
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		return res.StatusCode, res.Header.Get("X-Amzn-ErrorType")
	}
	// The baseline: a hand-signed valid request passes.
	if status, code := do(t, signedRequest(t, s, validBody, now)); status != 200 {
		t.Fatalf("valid request: %d %s", status, code)
	}
	for _, c := range []struct {
		name   string
		req    func() *http.Request
		status int
		code   string
	}{
		{"body changed after signing", func() *http.Request {
			r := signedRequest(t, s, validBody, now)
			changed := strings.Replace(validBody, "b@example.com", "c@example.com", 1)
			r.Body, r.ContentLength = io.NopCloser(strings.NewReader(changed)), int64(len(changed))
			return r
		}, 403, "InvalidSignatureException"},
		{"no signature", func() *http.Request {
			r := signedRequest(t, s, validBody, now)
			r.Header.Del("Authorization")
			return r
		}, 403, "MissingAuthenticationTokenException"},
		{"old date", func() *http.Request { return signedRequest(t, s, validBody, now.Add(-time.Hour)) }, 403, "InvalidSignatureException"},
		{"other content type", func() *http.Request {
			r, _ := http.NewRequest(http.MethodPost, s.URL()+SendPath, strings.NewReader(validBody))
			r.Header.Set("Content-Type", "text/plain")
			sign(t, r, validBody, now)
			return r
		}, 415, "UnsupportedMediaTypeException"},
		{"not JSON", func() *http.Request { return signedRequest(t, s, "{", now) }, 400, "SerializationException"},
		{"no sender", func() *http.Request {
			return signedRequest(t, s, strings.Replace(validBody, `"a@example.com"`, `""`, 1), now)
		}, 400, "BadRequestException"},
		{"no recipient", func() *http.Request {
			return signedRequest(t, s, strings.Replace(validBody, `["b@example.com"]`, `[]`, 1), now)
		}, 400, "BadRequestException"},
		{"no subject", func() *http.Request {
			return signedRequest(t, s, strings.Replace(validBody, `"Subject":{"Data":"S"},`, ``, 1), now)
		}, 400, "BadRequestException"},
		{"no body", func() *http.Request {
			return signedRequest(t, s, strings.Replace(validBody, `,"Body":{"Text":{"Data":"T"}}`, ``, 1), now)
		}, 400, "BadRequestException"},
		{"wrong path", func() *http.Request {
			r, _ := http.NewRequest(http.MethodPost, s.URL()+"/v1/email", strings.NewReader(validBody))
			sign(t, r, validBody, now)
			return r
		}, 404, "UnknownOperationException"},
	} {
		t.Run(c.name, func(t *testing.T) {
			if status, code := do(t, c.req()); status != c.status || code != c.code {
				t.Errorf("%d %s, want %d %s", status, code, c.status, c.code)
			}
		})
	}
	if n := len(s.Messages()); n != 1 {
		t.Errorf("%d messages recorded, want only the valid one", n)
	}
}

func TestFailNext(t *testing.T) {
	s := New(t)
	s.FailNext(2, 429, "TooManyRequestsException", "Maximum sending rate exceeded.")
	c := sdkClient(s, AWSConfig())
	for i := range 2 {
		_, err := c.SendEmail(context.Background(), simpleEmail("ann@example.com", "Hi"))
		if got := code(t, err); got != "TooManyRequestsException" || !strings.Contains(err.Error(), "Maximum sending rate") {
			t.Errorf("call %d: %v", i+1, err)
		}
	}
	if _, err := c.SendEmail(context.Background(), simpleEmail("ann@example.com", "Hi")); err != nil {
		t.Fatalf("third call: %v", err)
	}
	if s.Calls() != 3 || len(s.Messages()) != 1 {
		t.Errorf("%d calls, %d messages", s.Calls(), len(s.Messages()))
	}
}

// Concurrent senders are all recorded: the fake's state is locked.
func TestConcurrent(t *testing.T) {
	s := New(t)
	c := sdkClient(s, AWSConfig())
	const n = 20
	errs := make(chan error, n)
	var wg sync.WaitGroup
	for range n {
		wg.Go(func() {
			_, err := c.SendEmail(context.Background(), simpleEmail("ann@example.com", "Hi"))
			errs <- err
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Error(err)
		}
	}
	if s.Calls() != n || len(s.Messages()) != n {
		t.Errorf("%d calls, %d messages, want %d", s.Calls(), len(s.Messages()), n)
	}
}

func sign(t *testing.T, r *http.Request, body string, at time.Time) {
	t.Helper()
	sum := sha256.Sum256([]byte(body))
	creds := aws.Credentials{AccessKeyID: AccessKeyID, SecretAccessKey: SecretAccessKey, SessionToken: SessionToken}
	if err := v4.NewSigner().SignHTTP(context.Background(), creds, r, hex.EncodeToString(sum[:]), "ses", Region, at); err != nil {
		t.Fatal(err)
	}
}
