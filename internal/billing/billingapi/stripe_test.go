package billingapi

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"testing"
	"time"

	stripe "github.com/stripe/stripe-go/v85"
	"github.com/stripe/stripe-go/v85/webhook"

	"adstudio/internal/httpapi"
)

// TestVerifySignature: Stripe's own signer's header verifies within the
// tolerance of the injected clock, either way, and nothing else does.
func TestVerifySignature(t *testing.T) {
	now := time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
	body := []byte(`{"id":"evt_1","type":"charge.refunded"}`)
	sign := func(secret string, at time.Time) string {
		return webhook.GenerateTestSignedPayload(&webhook.UnsignedPayload{Payload: body, Secret: secret, Timestamp: at}).Header
	}
	for _, c := range []struct {
		name   string
		header string
		body   []byte
		want   error
	}{
		{"now", sign("whsec_a", now), body, nil},
		{"4 minutes old", sign("whsec_a", now.Add(-4*time.Minute)), body, nil},
		{"6 minutes old", sign("whsec_a", now.Add(-6*time.Minute)), body, errStaleSignature},
		{"6 minutes ahead", sign("whsec_a", now.Add(6*time.Minute)), body, errStaleSignature},
		{"another secret", sign("whsec_b", now), body, errBadSignature},
		{"another body", sign("whsec_a", now), []byte(`{"id":"evt_2"}`), errBadSignature},
		{"rolled secret: two v1, one ours", sign("whsec_a", now) + ",v1=" + fmt.Sprintf("%064x", 7), body, nil},
		{"no timestamp", "v1=" + fmt.Sprintf("%064x", 7), body, errBadSignature},
		{"garbage", "t=abc,v1=zz", body, errBadSignature},
	} {
		if got := verifySignature(c.body, c.header, "whsec_a", now, Tolerance); !errors.Is(got, c.want) && got != c.want {
			t.Errorf("%s: %v, want %v", c.name, got, c.want)
		}
	}
}

// TestUpstreamError: every Stripe failure is answered in the provider
// failure shape, never as a 500.
func TestUpstreamError(t *testing.T) {
	for _, c := range []struct {
		err    error
		status int
		code   string
	}{
		{errors.New("dial tcp: connection refused"), 502, httpapi.CodeUpstreamUnavailable},
		{&stripe.Error{HTTPStatusCode: 500, RequestID: "req_1"}, 502, httpapi.CodeUpstreamUnavailable},
		{&stripe.Error{HTTPStatusCode: 429, Code: stripe.ErrorCodeRateLimit}, 502, httpapi.CodeUpstreamRateLimited},
		{&stripe.Error{HTTPStatusCode: 400, Code: stripe.ErrorCodeResourceMissing, RequestID: "req_2"}, 502, httpapi.CodeUpstreamRequestFailed},
		{context.DeadlineExceeded, http.StatusGatewayTimeout, httpapi.CodeUpstreamTimeout},
	} {
		var e *httpapi.AppError
		if !errors.As(upstreamError(&callError{"create checkout session", c.err}, "rid"), &e) || e.Status != c.status || e.Code != c.code || e.RequestID != "rid" {
			t.Errorf("%v: %+v, want %d %s", c.err, e, c.status, c.code)
		}
	}
	var e *httpapi.AppError
	errors.As(upstreamError(&callError{"x", &stripe.Error{HTTPStatusCode: 400, Code: stripe.ErrorCodeResourceMissing, RequestID: "req_2"}}, "rid"), &e)
	if e.Fields["providerCode"] != "resource_missing" || e.Fields["providerRequestId"] != "req_2" {
		t.Errorf("fields %v", e.Fields)
	}
}
