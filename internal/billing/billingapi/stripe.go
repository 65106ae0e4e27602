package billingapi

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"

	stripe "github.com/stripe/stripe-go/v85"
	"github.com/stripe/stripe-go/v85/webhook"

	"adstudio/internal/httpapi"
)

// Stripe is the two calls checkout makes to Stripe's API, through
// stripe-go's client.
type Stripe struct {
	client *stripe.Client
}

// NewStripe is a client for the account of key at apiBase (Stripe's API,
// or stripe-mock in tests). One retry of a failed connection or a 5xx
// (stripe-go sends an idempotency key with it, so a retried create is not
// a second object); each call's budget comes from its context. stripe-go's
// own logging is off: failures are logged once, by the handler, without
// the request.
func NewStripe(key, apiBase string, hc *http.Client) *Stripe {
	if hc == nil {
		hc = &http.Client{Timeout: 8 * time.Second}
	}
	backends := stripe.NewBackendsWithConfig(&stripe.BackendConfig{
		URL:               stripe.String(apiBase),
		HTTPClient:        hc,
		MaxNetworkRetries: stripe.Int64(1),
		LeveledLogger:     &stripe.LeveledLogger{Level: stripe.LevelNull},
	})
	return &Stripe{client: stripe.NewClient(key, stripe.WithBackends(backends))}
}

// CreateCustomer makes the user's Stripe customer. key makes a retry of
// the same first checkout (two tabs) return the same customer.
func (s *Stripe) CreateCustomer(ctx context.Context, userID, email, name, key string) (string, error) {
	p := &stripe.CustomerCreateParams{Email: stripe.String(email), Metadata: map[string]string{"user_id": userID}}
	if name != "" {
		p.Name = stripe.String(name)
	}
	p.SetIdempotencyKey(key)
	c, err := s.client.V1Customers.Create(ctx, p)
	if err != nil {
		return "", &callError{"create customer", err}
	}
	return c.ID, nil
}

// session is a Checkout Session to create.
type session struct {
	UserID, PackID, PriceID, CustomerID string
	SuccessURL, CancelURL               string
	IdempotencyKey                      string // "" for none
}

// CreateCheckoutSession creates a one-time payment for one unit of the
// pack's price, tied to the user and the pack by client_reference_id and
// metadata (on the session and on its payment), and returns its id and the
// hosted page's URL.
func (s *Stripe) CreateCheckoutSession(ctx context.Context, in session) (id, url string, err error) {
	meta := map[string]string{"user_id": in.UserID, "pack_id": in.PackID}
	p := &stripe.CheckoutSessionCreateParams{
		Mode:              stripe.String(string(stripe.CheckoutSessionModePayment)),
		LineItems:         []*stripe.CheckoutSessionCreateLineItemParams{{Price: stripe.String(in.PriceID), Quantity: stripe.Int64(1)}},
		Customer:          stripe.String(in.CustomerID),
		ClientReferenceID: stripe.String(in.UserID),
		Metadata:          meta,
		PaymentIntentData: &stripe.CheckoutSessionCreatePaymentIntentDataParams{Metadata: meta},
		SuccessURL:        stripe.String(in.SuccessURL),
		CancelURL:         stripe.String(in.CancelURL),
	}
	if in.IdempotencyKey != "" {
		p.SetIdempotencyKey(in.IdempotencyKey)
	}
	cs, err := s.client.V1CheckoutSessions.Create(ctx, p)
	if err != nil {
		return "", "", &callError{"create checkout session", err}
	}
	return cs.ID, cs.URL, nil
}

// callError is a failed Stripe call: which, and why (stripe-go's error,
// which holds no secret: the key is never in it).
type callError struct {
	call string
	err  error
}

func (e *callError) Error() string { return "stripe " + e.call + ": " + e.err.Error() }
func (e *callError) Unwrap() error { return e.err }

// upstreamError answers a failed Stripe call in the app API's provider
// failure shape, never a 500: Stripe's own error code and request id, when
// it answered, go in providerCode and providerRequestId. Nothing was
// charged: a checkout is only a page to pay on.
func upstreamError(err error, requestID string) error {
	fields := map[string]any{}
	e := &httpapi.AppError{Status: http.StatusBadGateway, Code: httpapi.CodeUpstreamUnavailable,
		Message: "Payments are unavailable right now. Please try again in a moment.", RequestID: requestID, Fields: fields, Cause: err}
	var se *stripe.Error
	switch {
	case errors.As(err, &se):
		if se.Code != "" {
			fields["providerCode"] = string(se.Code)
		}
		if se.RequestID != "" {
			fields["providerRequestId"] = se.RequestID
		}
		if se.HTTPStatusCode == http.StatusTooManyRequests {
			e.Code = httpapi.CodeUpstreamRateLimited
		} else if se.HTTPStatusCode >= 400 && se.HTTPStatusCode < 500 {
			// Our request was refused: a price id or key that is wrong is
			// the operator's to fix, and the log says which.
			e.Code = httpapi.CodeUpstreamRequestFailed
			e.Message = "The payment page could not be created. Please try again later."
		}
	case errors.Is(err, context.DeadlineExceeded):
		e.Status, e.Code, e.Message = http.StatusGatewayTimeout, httpapi.CodeUpstreamTimeout, "Payments did not answer in time. Please try again."
	}
	return e
}

// Signature failures.
var (
	errBadSignature   = errors.New("stripe signature does not verify")
	errStaleSignature = errors.New("stripe signature timestamp outside the tolerance")
)

// verifySignature checks Stripe-Signature over the raw body with stripe-go,
// then its timestamp against now (the injected clock; stripe-go's own
// check reads the wall clock): at most tolerance apart either way, which
// also bounds how long a captured delivery can be replayed.
func verifySignature(body []byte, header, secret string, now time.Time, tolerance time.Duration) error {
	if err := webhook.ValidatePayloadIgnoringTolerance(body, header, secret); err != nil {
		return errBadSignature
	}
	for _, part := range strings.Split(header, ",") {
		if v, ok := strings.CutPrefix(strings.TrimSpace(part), "t="); ok {
			ts, err := strconv.ParseInt(v, 10, 64)
			if err != nil {
				return errBadSignature
			}
			if d := now.Sub(time.Unix(ts, 0)); d > tolerance || d < -tolerance {
				return errStaleSignature
			}
			return nil
		}
	}
	return errBadSignature
}
