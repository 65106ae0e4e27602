package mail

// Differential tests: the SDK's own SES v2 client (a test-only dependency)
// and the SES transport send the same message to one recording server.

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sesv2"
	"github.com/aws/aws-sdk-go-v2/service/sesv2/types"
	"github.com/aws/smithy-go"

	"adstudio/internal/awsenv"
	"adstudio/internal/devtools/awsdifftest"
	"adstudio/internal/devtools/sesfake"
)

// sdkSend sends m as the SDK would, from from.
func sdkSend(endpoint string, s awsdifftest.SDKSigner, from string, m Message) error {
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
				rec := awsdifftest.NewRecorder(t, awsdifftest.Answer{Status: 200, Header: map[string]string{"Content-Type": "application/json"}, Body: `{"MessageId":"0100abc"}`})
				endpoint := rec.URL + prefix
				const from = "noreply@example.com"
				s, err := NewSES(from, sesfake.AWSConfig(), endpoint)
				if err != nil {
					t.Fatal(err)
				}
				if err := s.Send(context.Background(), m); err != nil {
					t.Fatal(err)
				}
				ours := rec.Only(t)
				if err := sdkSend(endpoint, awsdifftest.SDKSigner{At: awsdifftest.SigningTime(t, ours)}, from, m); err != nil {
					t.Fatal(err)
				}
				// Header for header, Authorization included (so the same
				// headers were signed, to the same signature), User-Agent
				// aside; the bodies as JSON.
				awsdifftest.SameRequest(t, ours, rec.Only(t), true)
				if ours.Method != http.MethodPost || !strings.HasSuffix(ours.Path, "/v2/email/outbound-emails") {
					t.Errorf("request line %s %s", ours.Method, ours.Path)
				}

				// The SDK unchanged signs its bookkeeping headers too; the
				// rest of its list and its scope are ours.
				if err := sdkSend(endpoint, awsdifftest.SDKSigner{}, from, m); err != nil {
					t.Fatal(err)
				}
				awsdifftest.SameShape(t, ours, rec.Only(t))
				if scope, _ := awsdifftest.AuthParts(t, ours.Header.Get("Authorization")); !strings.HasSuffix(scope, "/eu-west-1/ses/aws4_request") {
					t.Errorf("credential scope %s", scope)
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
			rec := awsdifftest.NewRecorder(t, awsdifftest.Answer{Status: c.status, Header: c.header, Body: c.body})
			s, err := NewSES("noreply@example.com", sesfake.AWSConfig(), rec.URL)
			if err != nil {
				t.Fatal(err)
			}
			ours := s.Send(context.Background(), resetMail("ann@example.com"))
			sdk := sdkSend(rec.URL, awsdifftest.SDKSigner{}, "noreply@example.com", resetMail("ann@example.com"))
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
