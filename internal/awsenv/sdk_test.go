package awsenv

// Differential tests: the SDK's own clients (test-only dependencies here)
// and this package make the same calls against one recording server.

import (
	"context"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	lambdatypes "github.com/aws/aws-sdk-go-v2/service/lambda/types"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	"github.com/aws/smithy-go"

	"adstudio/internal/devtools/awsdifftest"
)

// testConfig is one configuration for both clients: fixed credentials and
// region, and the standard retryer without its waits.
func testConfig() aws.Config {
	return aws.Config{
		Region:      "eu-west-1",
		Credentials: credentials.NewStaticCredentialsProvider("ASIAEXAMPLEKEY", "example-secret", "example-session-token"),
		Retryer: func() aws.Retryer {
			return retry.NewStandard(func(o *retry.StandardOptions) {
				o.Backoff = retry.BackoffDelayerFunc(func(int, error) (time.Duration, error) { return 0, nil })
			})
		},
	}
}

func sdkGetParameters(cfg aws.Config, endpoint string, s awsdifftest.SDKSigner, names []string) (*ssm.GetParametersOutput, error) {
	return ssm.NewFromConfig(cfg, func(o *ssm.Options) {
		o.BaseEndpoint = aws.String(endpoint)
		o.HTTPSignerV4 = s
	}).GetParameters(context.Background(), &ssm.GetParametersInput{Names: names, WithDecryption: aws.Bool(true)})
}

func sdkInvokeAsync(cfg aws.Config, endpoint string, s awsdifftest.SDKSigner, name string, payload []byte) error {
	_, err := lambda.NewFromConfig(cfg, func(o *lambda.Options) {
		o.BaseEndpoint = aws.String(endpoint)
		o.HTTPSignerV4 = s
	}).Invoke(context.Background(), &lambda.InvokeInput{
		FunctionName: aws.String(name), InvocationType: lambdatypes.InvocationTypeEvent, Payload: payload,
	})
	return err
}

func TestRequestsMatchSDK(t *testing.T) {
	for _, prefix := range []string{"", "/", "/stage", "/stage/"} {
		t.Run("ssm path="+prefix, func(t *testing.T) {
			rec := awsdifftest.NewRecorder(t, awsdifftest.Answer{Status: 200, Header: map[string]string{"Content-Type": "application/x-amz-json-1.1"}, Body: `{"Parameters":[],"InvalidParameters":[]}`})
			cfg, endpoint := testConfig(), rec.URL+prefix
			names := []string{"/adstudio/auth-secret", "/adstudio/db token", "arn:aws:ssm:eu-west-1:123456789012:parameter/x:3"}
			if _, _, err := GetParameters(context.Background(), cfg, endpoint, names); err != nil {
				t.Fatal(err)
			}
			ours := rec.Only(t)
			if _, err := sdkGetParameters(cfg, endpoint, awsdifftest.SDKSigner{At: awsdifftest.SigningTime(t, ours)}, names); err != nil {
				t.Fatal(err)
			}
			awsdifftest.SameRequest(t, ours, rec.Only(t), true)
			if _, err := sdkGetParameters(cfg, endpoint, awsdifftest.SDKSigner{}, names); err != nil {
				t.Fatal(err)
			}
			awsdifftest.SameShape(t, ours, rec.Only(t))
			for k, want := range map[string]string{"X-Amz-Target": "AmazonSSM.GetParameters", "Content-Type": "application/x-amz-json-1.1", "X-Amz-Security-Token": "example-session-token"} {
				if got := ours.Header.Get(k); got != want {
					t.Errorf("%s: %q, want %q", k, got, want)
				}
			}
		})
		for _, name := range []string{"generate", "arn:aws:lambda:eu-west-1:123456789012:function:adstudio-generate:live", "123456789012:function:gen$LATEST"} {
			t.Run("lambda path="+prefix+" name="+name, func(t *testing.T) {
				rec := awsdifftest.NewRecorder(t, awsdifftest.Answer{Status: 202})
				cfg, endpoint := testConfig(), rec.URL+prefix
				payload := []byte(`{"adstudio":"continue","generationId":"0f8fad5b-d9cb-469f-a165-70867728950e"}`)
				if err := InvokeAsync(context.Background(), cfg, endpoint, name, payload); err != nil {
					t.Fatal(err)
				}
				ours := rec.Only(t)
				if err := sdkInvokeAsync(cfg, endpoint, awsdifftest.SDKSigner{At: awsdifftest.SigningTime(t, ours)}, name, payload); err != nil {
					t.Fatal(err)
				}
				awsdifftest.SameRequest(t, ours, rec.Only(t), false)
				if err := sdkInvokeAsync(cfg, endpoint, awsdifftest.SDKSigner{}, name, payload); err != nil {
					t.Fatal(err)
				}
				awsdifftest.SameShape(t, ours, rec.Only(t))
				if got := ours.Header.Get("X-Amz-Invocation-Type"); got != "Event" {
					t.Errorf("X-Amz-Invocation-Type %q", got)
				}
			})
		}
	}
}

// apiError reads an error's code, message and status the way callers of
// either client can.
func apiError(err error) (code, message string, status int) {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		code, message = ae.ErrorCode(), ae.ErrorMessage()
	}
	var hs interface{ HTTPStatusCode() int }
	if errors.As(err, &hs) {
		status = hs.HTTPStatusCode()
	}
	return code, message, status
}

// jsonAnswer is an error answer in AWS JSON.
func jsonAnswer(status int, header map[string]string, body string) awsdifftest.Answer {
	h := map[string]string{"Content-Type": "application/x-amz-json-1.1", "X-Amzn-Requestid": "5d6b9b4c-0000-4000-8000-000000000001"}
	for k, v := range header {
		h[k] = v
	}
	return awsdifftest.Answer{Status: status, Header: h, Body: body}
}

// errorAnswers are error answers as SSM and Lambda give them, each with the
// number of attempts the standard retryer makes.
var errorAnswers = []struct {
	name     string
	answer   awsdifftest.Answer
	attempts int
}{
	{"throttled", jsonAnswer(400, nil, `{"__type":"ThrottlingException","message":"Rate exceeded"}`), 3},
	{"access denied", jsonAnswer(400, nil, `{"__type":"com.amazonaws.ssm#AccessDeniedException","Message":"User: arn:aws:sts::123456789012:assumed-role/r/f is not authorized to perform: ssm:GetParameters"}`), 1},
	{"type in header", jsonAnswer(400, map[string]string{"X-Amzn-ErrorType": "ValidationException:http://internal.amazon.com/coral/com.amazon.coral.validate/"}, `{"message":"1 validation error detected"}`), 1},
	{"code member", jsonAnswer(400, nil, `{"code":"InvalidKeyId","message":"key is disabled"}`), 1},
	{"server error", jsonAnswer(500, nil, `{"__type":"InternalServerError","message":"We encountered an internal error."}`), 3},
	{"unavailable", jsonAnswer(503, map[string]string{"X-Amzn-ErrorType": "ServiceUnavailableException"}, `{"Message":"Service is busy"}`), 3},
	{"not found", jsonAnswer(404, map[string]string{"X-Amzn-ErrorType": "ResourceNotFoundException"}, `{"Type":"User","Message":"Function not found: arn:aws:lambda:eu-west-1:123456789012:function:generate"}`), 1},
	{"too many requests", jsonAnswer(429, map[string]string{"X-Amzn-ErrorType": "TooManyRequestsException"}, `{"Reason":"ReservedFunctionConcurrentInvocationLimitExceeded","Type":"User","message":"Rate Exceeded."}`), 3},
	{"too large", jsonAnswer(413, map[string]string{"X-Amzn-ErrorType": "RequestTooLargeException"}, `{"Type":"User","Message":"Request must be smaller than 262144 bytes for the InvokeFunction operation"}`), 1},
}

// sameError checks that ours fails as the SDK does, after as many attempts.
func sameError(t *testing.T, ours, sdk error, oursAttempts, sdkAttempts, wantAttempts int) {
	t.Helper()
	if ours == nil || sdk == nil {
		t.Fatalf("errors: ours %v, SDK's %v", ours, sdk)
	}
	oc, om, os := apiError(ours)
	sc, sm, ss := apiError(sdk)
	if oc != sc || om != sm || os != ss {
		t.Errorf("ours (%q, %q, %d), SDK's (%q, %q, %d)", oc, om, os, sc, sm, ss)
	}
	if oursAttempts != wantAttempts || sdkAttempts != wantAttempts {
		t.Errorf("attempts: ours %d, SDK's %d, want %d", oursAttempts, sdkAttempts, wantAttempts)
	}
	for _, want := range []string{oc, om} {
		if !strings.Contains(ours.Error(), want) {
			t.Errorf("%q does not say %q", ours, want)
		}
	}
}

func TestAnswersMatchSDK(t *testing.T) {
	// SSM's answer with every member of Parameter, as the SDK's own
	// response snapshot has them.
	t.Run("ssm success", func(t *testing.T) {
		rec := awsdifftest.NewRecorder(t, awsdifftest.Answer{Status: 200, Header: map[string]string{"Content-Type": "application/x-amz-json-1.1"}, Body: `{"InvalidParameters":["/adstudio/missing"],"Parameters":[` +
			`{"ARN":"arn:aws:ssm:eu-west-1:123456789012:parameter/adstudio/auth-secret","DataType":"text","LastModifiedDate":1.717171717123E9,"Name":"/adstudio/auth-secret","Selector":"","SourceResult":"","Type":"SecureString","Value":"s3cret \"quoted\" \u00e9","Version":4},` +
			`{"ARN":"arn:aws:ssm:eu-west-1:123456789012:parameter/adstudio/db-token","DataType":"text","LastModifiedDate":946684800,"Name":"/adstudio/db-token","Type":"SecureString","Value":"","Version":1}]}`})
		names := []string{"/adstudio/auth-secret", "/adstudio/db-token", "/adstudio/missing"}
		values, invalid, err := GetParameters(context.Background(), testConfig(), rec.URL, names)
		if err != nil {
			t.Fatal(err)
		}
		out, err := sdkGetParameters(testConfig(), rec.URL, awsdifftest.SDKSigner{}, names)
		if err != nil {
			t.Fatal(err)
		}
		want := map[string]string{}
		for _, p := range out.Parameters {
			want[aws.ToString(p.Name)] = aws.ToString(p.Value)
		}
		if !reflect.DeepEqual(values, want) || !reflect.DeepEqual(invalid, out.InvalidParameters) {
			t.Errorf("ours %q %q, SDK's %q %q", values, invalid, want, out.InvalidParameters)
		}
		if values["/adstudio/auth-secret"] != "s3cret \"quoted\" é" {
			t.Errorf("value %q", values["/adstudio/auth-secret"])
		}
	})
	t.Run("ssm only invalid", func(t *testing.T) {
		rec := awsdifftest.NewRecorder(t, awsdifftest.Answer{Status: 200, Body: `{"InvalidParameters":["/a","/b"],"Parameters":[]}`})
		values, invalid, err := GetParameters(context.Background(), testConfig(), rec.URL, []string{"/a", "/b"})
		if err != nil || len(values) != 0 || !reflect.DeepEqual(invalid, []string{"/a", "/b"}) {
			t.Errorf("%q %q %v", values, invalid, err)
		}
	})
	t.Run("lambda queued", func(t *testing.T) {
		rec := awsdifftest.NewRecorder(t, awsdifftest.Answer{Status: 202, Header: map[string]string{"X-Amzn-Requestid": "r"}})
		if err := InvokeAsync(context.Background(), testConfig(), rec.URL, "generate", []byte(`{}`)); err != nil {
			t.Fatal(err)
		}
	})
	for _, c := range errorAnswers {
		t.Run("ssm "+c.name, func(t *testing.T) {
			rec := awsdifftest.NewRecorder(t, c.answer)
			_, _, ours := GetParameters(context.Background(), testConfig(), rec.URL, []string{"/adstudio/auth-secret"})
			oursAttempts := len(rec.Take())
			_, sdk := sdkGetParameters(testConfig(), rec.URL, awsdifftest.SDKSigner{}, []string{"/adstudio/auth-secret"})
			sameError(t, ours, sdk, oursAttempts, len(rec.Take()), c.attempts)
		})
		t.Run("lambda "+c.name, func(t *testing.T) {
			rec := awsdifftest.NewRecorder(t, c.answer)
			ours := InvokeAsync(context.Background(), testConfig(), rec.URL, "generate", []byte(`{}`))
			oursAttempts := len(rec.Take())
			sdk := sdkInvokeAsync(testConfig(), rec.URL, awsdifftest.SDKSigner{}, "generate", []byte(`{}`))
			sameError(t, ours, sdk, oursAttempts, len(rec.Take()), c.attempts)
		})
	}
}
