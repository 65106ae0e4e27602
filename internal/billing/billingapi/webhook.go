package billingapi

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"

	"github.com/google/uuid"
	stripe "github.com/stripe/stripe-go/v85"

	"adstudio/internal/audit"
	"adstudio/internal/billing/billingdb"
	"adstudio/internal/httpapi"
	"adstudio/internal/metrics"
)

// The event types the webhook acts on; any other is recorded and
// answered 200, so Stripe stops sending it.
const (
	evCompleted     = "checkout.session.completed"
	evAsyncSucceded = "checkout.session.async_payment_succeeded"
	evAsyncFailed   = "checkout.session.async_payment_failed"
	evExpired       = "checkout.session.expired"
	evChargeRefund  = "charge.refunded"
)

// outcomeInvalidSignature is the BillingEvents outcome of a refused
// delivery (it is never stored: nothing about it can be trusted).
const outcomeInvalidSignature = "invalid_signature"

// Webhook is POST /api/billing/webhook: Stripe's deliveries, authenticated
// by Stripe-Signature over the raw body (no cookie, no origin). A bad or
// stale signature is 400 and changes nothing; anything verified is
// answered 200 once handled, whatever it was, and a database failure 500,
// so Stripe delivers it again.
func (a *API) Webhook(w http.ResponseWriter, r *http.Request) error {
	requestID := uuid.NewString()
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxWebhookBody))
	if err != nil {
		return &httpapi.AppError{Status: http.StatusBadRequest, Code: httpapi.CodeInvalidRequest, Message: "Unreadable or oversized body.", RequestID: requestID}
	}
	// "t=…,v1=…" arrives whole on Lambda (internal/lambdaentry undoes the
	// adapter's split at commas); a client that repeats the header gets its
	// values joined in order, as API Gateway would.
	sig := strings.Join(r.Header.Values("Stripe-Signature"), ",")
	if sig == "" {
		// Not from Stripe, whatever the configuration.
		return &httpapi.AppError{Status: http.StatusBadRequest, Code: httpapi.CodeInvalidSignature, Message: "Missing Stripe-Signature.", RequestID: requestID}
	}
	if a.Billing.WebhookSecret == "" {
		return &httpapi.AppError{Status: http.StatusInternalServerError, Code: httpapi.CodeBackendMisconfigured, Message: "STRIPE_WEBHOOK_SECRET is not configured.", RequestID: requestID}
	}
	now := a.Now()
	if err := verifySignature(body, sig, a.Billing.WebhookSecret, now, Tolerance); err != nil {
		a.Metrics.Count(r.Context(), metrics.BillingEvents, 1, metrics.Dim{Name: metrics.DimOutcome, Value: outcomeInvalidSignature})
		msg := "Invalid Stripe signature."
		if errors.Is(err, errStaleSignature) {
			msg = "Stale Stripe signature: its timestamp is outside the tolerance."
		}
		return &httpapi.AppError{Status: http.StatusBadRequest, Code: httpapi.CodeInvalidSignature, Message: msg, RequestID: requestID, Cause: err}
	}
	var ev stripe.Event
	if err := json.Unmarshal(body, &ev); err != nil || ev.ID == "" || ev.Type == "" || ev.Data == nil {
		return &httpapi.AppError{Status: http.StatusBadRequest, Code: httpapi.CodeInvalidRequest, Message: "Not a Stripe event.", RequestID: requestID}
	}
	ctx := r.Context()
	e := billingdb.Event{ID: ev.ID, Type: string(ev.Type), At: now}
	seen, err := a.Store.Seen(ctx, ev.ID)
	if err != nil {
		return err
	}
	outcome := "duplicate"
	if !seen {
		if outcome, err = a.handle(ctx, ev, e); err != nil {
			return err
		}
	}
	a.Metrics.Count(ctx, metrics.BillingEvents, 1, metrics.Dim{Name: metrics.DimOutcome, Value: outcome})
	a.logger().InfoContext(ctx, "stripe event", "eventId", ev.ID, "type", string(ev.Type), "outcome", outcome)
	httpapi.WriteJSON(w, http.StatusOK, map[string]bool{"received": true})
	return nil
}

// handle acts on one verified event and returns its outcome.
func (a *API) handle(ctx context.Context, ev stripe.Event, e billingdb.Event) (string, error) {
	switch string(ev.Type) {
	case evCompleted, evAsyncSucceded, evAsyncFailed, evExpired:
		var cs stripe.CheckoutSession
		if err := json.Unmarshal(ev.Data.Raw, &cs); err != nil || cs.ID == "" {
			return billingdb.OutcomeIgnored, a.Store.Record(ctx, e, billingdb.OutcomeIgnored)
		}
		e.ObjectID = cs.ID
		return a.sessionEvent(ctx, string(ev.Type), &cs, e)
	case evChargeRefund:
		var ch stripe.Charge
		if err := json.Unmarshal(ev.Data.Raw, &ch); err != nil || ch.ID == "" {
			return billingdb.OutcomeIgnored, a.Store.Record(ctx, e, billingdb.OutcomeIgnored)
		}
		e.ObjectID = ch.ID
		return a.refund(ctx, &ch, e)
	}
	return billingdb.OutcomeUnknownEventType, a.Store.Record(ctx, e, billingdb.OutcomeUnknownEventType)
}

// sessionEvent handles the Checkout Session events. The pack and the user
// credited are the ones recorded when this service created the session;
// the event must agree on the user (client_reference_id and metadata, which
// only this service sets) or nothing is granted.
func (a *API) sessionEvent(ctx context.Context, typ string, cs *stripe.CheckoutSession, e billingdb.Event) (string, error) {
	c, err := a.Store.Checkout(ctx, cs.ID)
	if errors.Is(err, billingdb.ErrNotFound) {
		a.logger().WarnContext(ctx, "stripe event for a checkout session this service did not create", "eventId", e.ID, "session", cs.ID)
		return billingdb.OutcomeUnknownSession, a.Store.Record(ctx, e, billingdb.OutcomeUnknownSession)
	}
	if err != nil {
		return "", err
	}
	if cs.ClientReferenceID != c.UserID || (cs.Metadata["user_id"] != "" && cs.Metadata["user_id"] != c.UserID) {
		a.logger().ErrorContext(ctx, "stripe event names another user than its checkout; nothing granted", "eventId", e.ID, "session", cs.ID)
		return billingdb.OutcomeUserMismatch, a.Store.Record(ctx, e, billingdb.OutcomeUserMismatch)
	}
	switch typ {
	case evExpired:
		return billingdb.OutcomeExpired, a.Store.Expire(ctx, cs.ID, e)
	case evAsyncFailed:
		return billingdb.OutcomePaymentFailed, a.Store.Record(ctx, e, billingdb.OutcomePaymentFailed)
	}
	// completed fires when the customer finishes the page, paid or not (a
	// bank debit settles days later, with async_payment_succeeded).
	if cs.Mode != stripe.CheckoutSessionModePayment ||
		(cs.PaymentStatus != stripe.CheckoutSessionPaymentStatusPaid && cs.PaymentStatus != stripe.CheckoutSessionPaymentStatusNoPaymentRequired) {
		return billingdb.OutcomeNotPaid, a.Store.Record(ctx, e, billingdb.OutcomeNotPaid)
	}
	p := billingdb.Payment{AmountTotal: cs.AmountTotal, Currency: string(cs.Currency)}
	if cs.PaymentIntent != nil {
		p.PaymentIntentID = cs.PaymentIntent.ID
	}
	won, err := a.Store.Grant(ctx, c, p, e, purchaseTrail(c, e.At)...)
	if err != nil {
		return "", err
	}
	if !won {
		return billingdb.OutcomeAlreadyGranted, nil
	}
	a.Metrics.Count(ctx, metrics.Purchases, 1, metrics.Dim{Name: metrics.DimPack, Value: c.PackID})
	return billingdb.OutcomeGranted, nil
}

// refund handles charge.refunded: the refund total is kept for the
// payment and applied to the pack it bought, now or when its grant
// arrives.
func (a *API) refund(ctx context.Context, ch *stripe.Charge, e billingdb.Event) (string, error) {
	if ch.PaymentIntent == nil || ch.PaymentIntent.ID == "" {
		return billingdb.OutcomeNotOurs, a.Store.Record(ctx, e, billingdb.OutcomeNotOurs)
	}
	trail := audit.Event{Event: audit.PurchaseRefund, UserAgent: "stripe", Outcome: audit.Success, At: e.At,
		Detail: map[string]any{"charge": ch.ID, "refundedAmount": ch.AmountRefunded, "amount": ch.Amount}}
	outcome, err := a.Store.ApplyRefund(ctx, billingdb.Refund{PaymentIntentID: ch.PaymentIntent.ID, ChargeID: ch.ID, Amount: ch.Amount, AmountRefunded: ch.AmountRefunded}, e, trail)
	if err != nil {
		return "", err
	}
	if outcome == billingdb.OutcomeRefundApplied {
		a.Metrics.Count(ctx, metrics.PurchaseRefunds, 1)
	}
	return outcome, nil
}
