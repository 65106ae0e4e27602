package awsenv

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"

	"adstudio/internal/devtools/awsdifftest"
)

func TestValuesNeverInErrors(t *testing.T) {
	// A 200 cut short: the part that arrived holds a value.
	rec := awsdifftest.NewRecorder(t, awsdifftest.Answer{Status: 200, Body: `{"Parameters":[{"Name":"/adstudio/auth-secret","Value":"s3cret-value","Type":"SecureString"}`})
	_, _, err := GetParameters(context.Background(), testConfig(), rec.URL, []string{"/adstudio/auth-secret"})
	if err == nil || strings.Contains(err.Error(), "s3cret") {
		t.Fatalf("truncated answer: %v", err)
	}
	// Not a value's type: a number where a string belongs.
	rec = awsdifftest.NewRecorder(t, awsdifftest.Answer{Status: 200, Body: `{"Parameters":[{"Name":"/a","Value":12345678}]}`})
	if _, _, err := GetParameters(context.Background(), testConfig(), rec.URL, []string{"/a"}); err == nil || strings.Contains(err.Error(), "12345678") {
		t.Fatalf("mistyped answer: %v", err)
	}
}

func TestErrorAnswers(t *testing.T) {
	for _, c := range []struct {
		name     string
		answer   awsdifftest.Answer
		attempts int
		want     []string // in the error's text
		code     string
		status   int
	}{
		{"access denied", jsonAnswer(400, nil, `{"__type":"AccessDeniedException","Message":"not authorized"}`), 1,
			[]string{"ssm GetParameters: AccessDeniedException: not authorized (HTTP 400, request id 5d6b9b4c-"}, "AccessDeniedException", 400},
		// A proxy's page: no JSON, so the status is all there is; the SDK
		// reports a deserialization error here.
		{"html 502", awsdifftest.Answer{Status: 502, Header: map[string]string{"Content-Type": "text/html"}, Body: "<html><body>Bad Gateway</body></html>"}, 3,
			[]string{"UnknownError (HTTP 502)", "after 3 attempts"}, "UnknownError", 502},
		{"empty 500", awsdifftest.Answer{Status: 500}, 3, []string{"UnknownError (HTTP 500)"}, "UnknownError", 500},
		{"long message", jsonAnswer(400, nil, `{"__type":"ValidationException","message":"`+strings.Repeat("é", 400)+`"}`), 1,
			[]string{strings.Repeat("é", 250) + "…"}, "ValidationException", 400},
	} {
		t.Run(c.name, func(t *testing.T) {
			rec := awsdifftest.NewRecorder(t, c.answer)
			_, _, err := GetParameters(context.Background(), testConfig(), rec.URL, []string{"/a"})
			if n := len(rec.Take()); n != c.attempts {
				t.Errorf("%d attempts, want %d", n, c.attempts)
			}
			var ae *APIError
			if !errors.As(err, &ae) || ae.Code != c.code || ae.StatusCode != c.status {
				t.Fatalf("error %v, want an APIError %s %d", err, c.code, c.status)
			}
			for _, w := range c.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("%q does not say %q", err, w)
				}
			}
		})
	}
}

func TestInvokeAsyncWantsQueued(t *testing.T) {
	// 200 is a synchronous run (RequestResponse), 204 a dry run: either way
	// nothing was queued.
	for _, status := range []int{200, 204} {
		rec := awsdifftest.NewRecorder(t, awsdifftest.Answer{Status: status})
		err := InvokeAsync(context.Background(), testConfig(), rec.URL, "generate", []byte(`{}`))
		if err == nil || !strings.Contains(err.Error(), "want 202") {
			t.Errorf("HTTP %d: %v", status, err)
		}
	}
}

func TestCallerGivesUpDuringBackoff(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var calls atomic.Int32
	// The caller gives up while the first attempt's 500 is on its way; the
	// retryer would then wait an hour.
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		cancel()
		w.WriteHeader(500)
	}))
	t.Cleanup(srv.Close)
	cfg := testConfig()
	cfg.Retryer = func() aws.Retryer {
		return retry.NewStandard(func(o *retry.StandardOptions) {
			o.Backoff = retry.BackoffDelayerFunc(func(int, error) (time.Duration, error) { return time.Hour, nil })
		})
	}
	err := InvokeAsync(ctx, cfg, srv.URL, "generate", []byte(`{}`))
	if !errors.Is(err, context.Canceled) || calls.Load() != 1 {
		t.Fatalf("%d calls, error %v; want 1 call and context.Canceled", calls.Load(), err)
	}
}

func TestNothingSentWithoutSetup(t *testing.T) {
	rec := awsdifftest.NewRecorder(t, awsdifftest.Answer{Status: 202})
	noRegion, noCreds := testConfig(), testConfig()
	noRegion.Region = ""
	noCreds.Credentials = nil
	for _, c := range []struct {
		name     string
		cfg      aws.Config
		endpoint string
		want     string
	}{
		{"no region", noRegion, rec.URL, "no region"},
		{"no credentials", noCreds, rec.URL, "no credentials"},
		{"no endpoint", testConfig(), "", "want an http(s) URL"},
		{"not a URL", testConfig(), "lambda.eu-west-1.amazonaws.com", "want an http(s) URL"},
	} {
		err := InvokeAsync(context.Background(), c.cfg, c.endpoint, "generate", []byte(`{}`))
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v, want %q", c.name, err, c.want)
		}
	}
	if err := InvokeAsync(context.Background(), testConfig(), rec.URL, "", []byte(`{}`)); err == nil {
		t.Error("no function name: no error")
	}
	if n := len(rec.Take()); n != 0 {
		t.Errorf("%d requests sent", n)
	}
}
