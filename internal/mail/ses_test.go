package mail

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"

	"adstudio/internal/awsenv"
	"adstudio/internal/devtools/sesfake"
)

// sesConfig is the fake's aws.Config with the standard retryer (3
// attempts) waiting backoff() between attempts; nil waits not at all.
func sesConfig(backoff func() time.Duration) aws.Config {
	cfg := sesfake.AWSConfig()
	cfg.Retryer = func() aws.Retryer {
		return retry.NewStandard(func(o *retry.StandardOptions) {
			o.Backoff = retry.BackoffDelayerFunc(func(int, error) (time.Duration, error) {
				if backoff == nil {
					return 0, nil
				}
				return backoff(), nil
			})
		})
	}
	return cfg
}

// sesTo returns an SES sender aimed at the fake, without waits between
// attempts.
func sesTo(t *testing.T, fake *sesfake.Server) *SES {
	t.Helper()
	s, err := NewSES("Ad Studio <noreply@example.com>", sesConfig(nil), fake.URL())
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// resetMail is a message like the ones the auth flows send.
func resetMail(to string) Message {
	return Message{
		To:      to,
		Subject: "Réinitialisez votre mot de passe ✓",
		Text:    "Bonjour,\n\nOpen https://app.example.com/reset-password/tok3n?callbackURL=%2Fhome to choose a new password.\n",
		HTML:    `<p>Bonjour,</p><p><a href="https://app.example.com/reset-password/tok3n?callbackURL=%2Fhome">Choose a new password</a></p>`,
	}
}

func TestSESSends(t *testing.T) {
	fake := sesfake.New(t)
	m := resetMail("ann@example.com")
	if err := sesTo(t, fake).Send(context.Background(), m); err != nil {
		t.Fatal(err)
	}
	got := fake.Messages()
	if len(got) != 1 {
		t.Fatalf("%d messages", len(got))
	}
	g := got[0]
	want := sesfake.Message{
		// net/mail quotes a display name with a space, as RFC 5322 allows.
		From: `"Ad Studio" <noreply@example.com>`, To: []string{"ann@example.com"},
		Subject: sesfake.Content{Data: m.Subject, Charset: "UTF-8"},
		Text:    sesfake.Content{Data: m.Text, Charset: "UTF-8"},
		HTML:    sesfake.Content{Data: m.HTML, Charset: "UTF-8"},
	}
	if g.From != want.From || strings.Join(g.To, ",") != strings.Join(want.To, ",") || len(g.Cc)+len(g.Bcc) != 0 ||
		g.Subject != want.Subject || g.Text != want.Text || g.HTML != want.HTML {
		t.Errorf("SES received %+v\nwant %+v", g, want)
	}
	// The fake accepted the signature (it recomputes it); it was over these.
	if a := g.Header.Get("Authorization"); !strings.Contains(a, "/"+sesfake.Region+"/ses/aws4_request") || !strings.Contains(a, "SignedHeaders=content-length;content-type;host;x-amz-date;x-amz-security-token,") {
		t.Errorf("Authorization %q", a)
	}
}

func TestSESNonASCIIDisplayName(t *testing.T) {
	fake := sesfake.New(t)
	s, err := NewSES("Équipe Ad Studio <noreply@example.com>", sesfake.AWSConfig(), fake.URL())
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Send(context.Background(), resetMail("Zoë <zoe@example.com>")); err != nil {
		t.Fatal(err)
	}
	g := fake.Messages()[0]
	// SES wants an RFC 2047 encoded word for a name that is not ASCII.
	if g.From != "=?utf-8?q?=C3=89quipe_Ad_Studio?= <noreply@example.com>" || g.To[0] != "=?utf-8?q?Zo=C3=AB?= <zoe@example.com>" {
		t.Errorf("From %q, To %q", g.From, g.To)
	}
}

func TestSESRetries(t *testing.T) {
	for _, c := range []struct {
		name     string
		status   int
		code     string
		failures int
		calls    int
		ok       bool
	}{
		{"throttled once", 429, "TooManyRequestsException", 1, 2, true},
		{"throttled as 400", 400, "ThrottlingException", 2, 3, true},
		{"server error twice", 500, "InternalFailure", 2, 3, true},
		{"unavailable", 503, "ServiceUnavailable", 1, 2, true},
		{"throttled throughout", 429, "TooManyRequestsException", 5, 3, false},
		{"rejected", 400, "MessageRejected", 1, 1, false},
		{"unverified sender", 400, "MailFromDomainNotVerifiedException", 1, 1, false},
		{"account paused", 400, "SendingPausedException", 1, 1, false},
		{"denied", 403, "AccessDeniedException", 1, 1, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			fake := sesfake.New(t)
			fake.FailNext(c.failures, c.status, c.code, "the fake says no")
			err := sesTo(t, fake).Send(context.Background(), resetMail("ann@example.com"))
			if fake.Calls() != c.calls {
				t.Errorf("%d calls, want %d", fake.Calls(), c.calls)
			}
			if c.ok {
				if err != nil || len(fake.Messages()) != 1 {
					t.Fatalf("error %v, %d messages", err, len(fake.Messages()))
				}
				return
			}
			var se *awsenv.APIError
			if !errors.As(err, &se) || se.Code != c.code || se.StatusCode != c.status || se.Message != "the fake says no" || se.RequestID == "" {
				t.Fatalf("error %v, want an APIError %s", err, c.code)
			}
			if !strings.HasPrefix(err.Error(), "mail: ses SendEmail: "+c.code+": the fake says no (HTTP ") {
				t.Errorf("error text %q", err)
			}
		})
	}
}

// A Lambda's own configuration (awsenv.Config's retryer, whose waits are
// real) retries SES's throttling answer, HTTP 429 TooManyRequestsException.
func TestSESRetriesWithLambdaConfig(t *testing.T) {
	fake := sesfake.New(t)
	cfg, err := awsenv.Config(func(k string) string {
		return map[string]string{"AWS_REGION": sesfake.Region, "AWS_ACCESS_KEY_ID": sesfake.AccessKeyID, "AWS_SECRET_ACCESS_KEY": sesfake.SecretAccessKey, "AWS_SESSION_TOKEN": sesfake.SessionToken}[k]
	})
	if err != nil {
		t.Fatal(err)
	}
	s, err := NewSES("noreply@example.com", cfg, fake.URL())
	if err != nil {
		t.Fatal(err)
	}
	fake.FailNext(1, http.StatusTooManyRequests, "TooManyRequestsException", "Maximum sending rate exceeded.")
	if err := s.Send(context.Background(), resetMail("ann@example.com")); err != nil || fake.Calls() != 2 || len(fake.Messages()) != 1 {
		t.Fatalf("error %v after %d calls, %d messages", err, fake.Calls(), len(fake.Messages()))
	}
}

func TestSESSignatureRefused(t *testing.T) {
	fake := sesfake.New(t)
	cfg := sesConfig(nil)
	cfg.Credentials = aws.NewCredentialsCache(staticCreds{aws.Credentials{AccessKeyID: sesfake.AccessKeyID, SecretAccessKey: "wrong-secret-value", SessionToken: sesfake.SessionToken}})
	s, err := NewSES("noreply@example.com", cfg, fake.URL())
	if err != nil {
		t.Fatal(err)
	}
	err = s.Send(context.Background(), resetMail("ann@example.com"))
	var se *awsenv.APIError
	if !errors.As(err, &se) || se.Code != "InvalidSignatureException" || fake.Calls() != 1 {
		t.Fatalf("%v after %d calls", err, fake.Calls())
	}
	if strings.Contains(err.Error(), "wrong-secret-value") {
		t.Errorf("the error shows the secret: %v", err)
	}
}

type staticCreds struct{ c aws.Credentials }

func (s staticCreds) Retrieve(context.Context) (aws.Credentials, error) { return s.c, nil }

// No error says a credential, whatever went wrong: the request carried
// them, the answer may echo anything.
func TestSESErrorsHoldNoSecrets(t *testing.T) {
	echo := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Amzn-ErrorType", "BadRequestException")
		w.WriteHeader(400)
		// A hostile or broken answer: the message quotes nothing of the
		// request here, but a long one is cut.
		w.Write([]byte(`{"message":"` + strings.Repeat("x", 2000) + `"}`))
	}))
	t.Cleanup(echo.Close)
	closed := httptest.NewServer(http.NotFoundHandler())
	closed.Close()
	for name, endpoint := range map[string]string{"error answer": echo.URL, "connection refused": closed.URL} {
		t.Run(name, func(t *testing.T) {
			s, err := NewSES("noreply@example.com", sesConfig(nil), endpoint)
			if err != nil {
				t.Fatal(err)
			}
			err = s.Send(context.Background(), resetMail("ann@example.com"))
			if err == nil {
				t.Fatal("no error")
			}
			for _, secret := range []string{sesfake.SecretAccessKey, sesfake.SessionToken, sesfake.AccessKeyID, "tok3n", "Bonjour"} {
				if strings.Contains(err.Error(), secret) {
					t.Errorf("error %q contains %q", err, secret)
				}
			}
			if len(err.Error()) > 1000 {
				t.Errorf("error is %d bytes long", len(err.Error()))
			}
		})
	}
	// Nor does the sender printed by mistake.
	s := sesTo(t, sesfake.New(t))
	for _, v := range []string{fmtV(s), fmtV(*s)} {
		if strings.Contains(v, sesfake.SecretAccessKey) || strings.Contains(v, sesfake.SessionToken) {
			t.Errorf("printed sender %q shows a credential", v)
		}
	}
}

func TestSESCallerGivesUp(t *testing.T) {
	t.Run("before sending", func(t *testing.T) {
		fake := sesfake.New(t)
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		err := sesTo(t, fake).Send(ctx, resetMail("ann@example.com"))
		if !errors.Is(err, context.Canceled) || len(fake.Messages()) != 0 {
			t.Fatalf("error %v, %d messages", err, len(fake.Messages()))
		}
	})
	t.Run("while waiting to retry", func(t *testing.T) {
		fake := sesfake.New(t)
		fake.FailNext(1, 503, "ServiceUnavailable", "busy")
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		// The backoff is where the caller gives up; the wait itself would
		// outlast any test.
		s, err := NewSES("noreply@example.com", sesConfig(func() time.Duration { cancel(); return time.Hour }), fake.URL())
		if err != nil {
			t.Fatal(err)
		}
		err = s.Send(ctx, resetMail("ann@example.com"))
		if !errors.Is(err, context.Canceled) || fake.Calls() != 1 {
			t.Fatalf("error %v after %d calls", err, fake.Calls())
		}
		var se *awsenv.APIError
		if !errors.As(err, &se) || se.Code != "ServiceUnavailable" {
			t.Errorf("the error does not carry the attempt's answer: %v", err)
		}
	})
}

func TestSESConfig(t *testing.T) {
	noRegion, noCreds := sesfake.AWSConfig(), sesfake.AWSConfig()
	noRegion.Region = ""
	noCreds.Credentials = nil
	for _, c := range []struct {
		name     string
		from     string
		cfg      aws.Config
		endpoint string
		want     string
	}{
		{"no sender", "", sesfake.AWSConfig(), "", "no sender"},
		{"two senders", "a@example.com, b@example.com", sesfake.AWSConfig(), "", "not one address"},
		{"no region", "a@example.com", noRegion, "", "no region"},
		{"no credentials", "a@example.com", noCreds, "", "no AWS credentials"},
		{"endpoint not a URL", "a@example.com", sesfake.AWSConfig(), "email.eu-west-1.amazonaws.com", "want an http(s) URL"},
	} {
		if _, err := NewSES(c.from, c.cfg, c.endpoint); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v, want %q", c.name, err, c.want)
		}
	}
	for region, want := range map[string]string{
		"eu-west-1":     "https://email.eu-west-1.amazonaws.com/v2/email/outbound-emails",
		"cn-north-1":    "https://email.cn-north-1.amazonaws.com.cn/v2/email/outbound-emails",
		"us-gov-west-1": "https://email.us-gov-west-1.amazonaws.com/v2/email/outbound-emails",
	} {
		cfg := sesfake.AWSConfig()
		cfg.Region = region
		s, err := NewSES("a@example.com", cfg, "")
		if err != nil || s.endpoint != want {
			t.Errorf("%s: %v %q, want %q", region, err, s.endpoint, want)
		}
	}
	// An endpoint with a path keeps it, as the SDK does.
	s, err := NewSES("a@example.com", sesfake.AWSConfig(), "http://127.0.0.1:9/proxy/")
	if err != nil || s.endpoint != "http://127.0.0.1:9/proxy/v2/email/outbound-emails" {
		t.Errorf("%v %q", err, s.endpoint)
	}
}

// fmtV prints v every way fmt and slog can.
func fmtV(v any) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%v %+v %#v %s", v, v, v, v)
	slog.New(slog.NewJSONHandler(&b, nil)).Info("x", "v", v)
	slog.New(slog.NewTextHandler(&b, nil)).Info("x", "v", v)
	return b.String()
}
