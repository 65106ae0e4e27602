// Package billingapi sells credit packs through Stripe Checkout
// (docs/billing.md): the catalog, the checkout that sends a signed-in user
// to Stripe's payment page, the webhook through which Stripe reports
// payments and refunds, and the user's purchase history. Only the webhook
// grants credits; the success URL the user returns to grants nothing.
package billingapi

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/url"
	"time"

	"github.com/google/uuid"

	"adstudio/internal/audit"
	"adstudio/internal/auth/authdb"
	"adstudio/internal/billing/billingdb"
	"adstudio/internal/config"
	"adstudio/internal/httpapi"
	"adstudio/internal/metrics"
)

// API holds the billing routes' dependencies.
type API struct {
	Guard   *httpapi.Guard
	Store   *billingdb.Store
	Billing config.Billing
	// Stripe is nil when STRIPE_SECRET_KEY is not set: checkout answers
	// BACKEND_MISCONFIGURED.
	Stripe  *Stripe
	Now     func() time.Time
	Metrics *metrics.Emitter
	Logger  *slog.Logger
}

// Tolerance is how far a webhook's signed timestamp may be from now:
// stripe-go's default, Stripe's recommendation.
const Tolerance = 5 * time.Minute

// stripeBudget bounds the Stripe calls of one checkout (a customer, then a
// session), inside the function's 10 s limit.
const stripeBudget = 8 * time.Second

// maxWebhookBody caps a delivery; Stripe's events are a few KB.
const maxWebhookBody = 1 << 20

func (a *API) logger() *slog.Logger {
	if a.Logger == nil {
		return slog.Default()
	}
	return a.Logger
}

// credits is the app API's credits object (docs/app-api.md §13.1).
type credits struct {
	ProductShoots int64 `json:"productShoots"`
	AdGraphics    int64 `json:"adGraphics"`
}

type packJSON struct {
	ID      string  `json:"id"`
	Name    string  `json:"name"`
	Credits credits `json:"credits"`
	Paid    bool    `json:"paid"`
}

// Packs is GET /api/billing/packs: the catalog, public and cacheable. It
// is the configuration as loaded: no Stripe call, no database.
func (a *API) Packs(w http.ResponseWriter, r *http.Request) error {
	out := make([]packJSON, 0, len(a.Billing.Packs))
	for _, p := range a.Billing.Packs {
		out = append(out, packJSON{p.ID, p.Name, credits{p.Credits.ImageFromText, p.Credits.ImageFromReference}, p.Paid})
	}
	w.Header().Set("Cache-Control", "public, max-age=300")
	httpapi.WriteJSON(w, http.StatusOK, map[string]any{"packs": out})
	return nil
}

type checkoutRequest struct {
	PackID     *string `json:"packId"`
	SuccessURL *string `json:"successUrl"`
	CancelURL  *string `json:"cancelUrl"`
}

// maxIdempotencyKey bounds the client's key; Stripe takes up to 255
// characters, and ours adds a prefix.
const maxIdempotencyKey = 200

// Checkout is POST /api/billing/checkout {packId, successUrl, cancelUrl}:
// a Checkout Session for one pack, for the caller, answered with the
// hosted page's URL. Checks, first failure wins: origin and session (the
// guard, with the per-user limit), the body, the pack, the two URLs, the
// Idempotency-Key, then Stripe.
func (a *API) Checkout(w http.ResponseWriter, r *http.Request) error {
	requestID := uuid.NewString()
	cur, err := a.Guard.User(w, r, false)
	if err != nil {
		return err
	}
	invalid := func(msg string) error {
		return &httpapi.AppError{Status: http.StatusBadRequest, Code: httpapi.CodeInvalidRequest, Message: msg, RequestID: requestID}
	}
	var req checkoutRequest
	if !httpapi.ReadJSON(w, r, 8<<10, &req) {
		return invalid("Invalid JSON payload.")
	}
	if req.PackID == nil || req.SuccessURL == nil || req.CancelURL == nil {
		return invalid("packId, successUrl and cancelUrl are required.")
	}
	pack, ok := a.Billing.Pack(*req.PackID)
	if !ok {
		return invalid("Unknown packId.")
	}
	for _, u := range []struct{ name, url string }{{"successUrl", *req.SuccessURL}, {"cancelUrl", *req.CancelURL}} {
		if !a.returnURL(u.url) {
			return &httpapi.AppError{Status: http.StatusForbidden, Code: httpapi.CodeInvalidRedirectURL, RequestID: requestID,
				Message: u.name + " must be an absolute URL on a trusted origin."}
		}
	}
	key := r.Header.Get("Idempotency-Key")
	if len(key) > maxIdempotencyKey {
		return invalid("Idempotency-Key must be at most 200 characters.")
	}
	if a.Stripe == nil {
		return &httpapi.AppError{Status: http.StatusInternalServerError, Code: httpapi.CodeBackendMisconfigured, Message: "STRIPE_SECRET_KEY is not configured.", RequestID: requestID}
	}
	ctx, cancel := context.WithTimeout(r.Context(), stripeBudget)
	defer cancel()
	customer, err := a.customer(ctx, cur.User)
	if err != nil {
		return a.stripeFailed(err, requestID)
	}
	in := session{UserID: cur.User.ID, PackID: pack.ID, PriceID: pack.PriceID, CustomerID: customer, SuccessURL: *req.SuccessURL, CancelURL: *req.CancelURL}
	if key != "" {
		// Stripe's keys are per account: scoped to the user, so nobody can
		// be handed another user's session by guessing their key.
		in.IdempotencyKey = "checkout:" + cur.User.ID + ":" + key
	}
	id, payURL, err := a.Stripe.CreateCheckoutSession(ctx, in)
	if err != nil {
		return a.stripeFailed(err, requestID)
	}
	c := billingdb.Checkout{ID: id, UserID: cur.User.ID, PackID: pack.ID, PackName: pack.Name, PriceID: pack.PriceID,
		ProductShoots: pack.Credits.ImageFromText, AdGraphics: pack.Credits.ImageFromReference, MakesPaid: pack.Paid, CustomerID: customer}
	if err := a.Store.CreateCheckout(r.Context(), c, a.Now()); err != nil {
		return err
	}
	httpapi.WriteJSON(w, http.StatusOK, map[string]string{"url": payURL, "sessionId": id})
	return nil
}

// returnURL: Stripe sends the browser back to these, so like every
// redirect target they must be on a trusted origin; Stripe needs them
// absolute.
func (a *API) returnURL(raw string) bool {
	u, err := url.Parse(raw)
	if err != nil || !u.IsAbs() || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http") {
		return false
	}
	return a.Guard.Origins.Trusted(raw)
}

// customer is the user's Stripe customer, created on their first checkout
// and kept.
func (a *API) customer(ctx context.Context, u authdb.User) (string, error) {
	mode := a.Billing.Mode()
	id, err := a.Store.Customer(ctx, u.ID, mode)
	if !errors.Is(err, billingdb.ErrNotFound) {
		return id, err
	}
	id, err = a.Stripe.CreateCustomer(ctx, u.ID, u.Email, u.Name, "customer:"+u.ID)
	if err != nil {
		return "", err
	}
	return a.Store.SaveCustomer(ctx, u.ID, mode, id, a.Now())
}

// stripeFailed answers a failed Stripe call in the upstream shape (the
// error writer logs it, as every 5xx, with the request id shown); any
// other error met on the way (the database) is ours: a 500.
func (a *API) stripeFailed(err error, requestID string) error {
	var ce *callError
	if !errors.As(err, &ce) {
		return err
	}
	return upstreamError(ce, requestID)
}

type purchaseJSON struct {
	Kind              string  `json:"kind"` // purchase | refund
	ID                string  `json:"id"`
	CheckoutSessionID string  `json:"checkoutSessionId"`
	PackID            string  `json:"packId"`
	PackName          string  `json:"packName"`
	Amount            int64   `json:"amount"` // minor units, as Stripe counts
	Currency          string  `json:"currency"`
	RefundedAmount    *int64  `json:"refundedAmount,omitempty"`
	Credits           credits `json:"credits"`
	Requested         credits `json:"requested"`
	CreatedAt         string  `json:"createdAt"`
}

// Purchases is GET /api/billing/purchases: the caller's purchases and
// refunds, newest first (the last 50).
func (a *API) Purchases(w http.ResponseWriter, r *http.Request) error {
	cur, err := a.Guard.User(w, r, true)
	if err != nil {
		return err
	}
	list, err := a.Store.Purchases(r.Context(), cur.User.ID, 50)
	if err != nil {
		return err
	}
	out := make([]purchaseJSON, 0, len(list))
	for _, e := range list {
		p := purchaseJSON{Kind: "purchase", ID: e.ID, CheckoutSessionID: e.CheckoutID, PackID: e.PackID, PackName: e.PackName,
			Amount: e.AmountTotal, Currency: e.Currency, Credits: credits{e.Moved.ProductShoots, e.Moved.AdGraphics},
			Requested: credits{e.Requested.ProductShoots, e.Requested.AdGraphics}, CreatedAt: authdb.FormatTime(e.CreatedAt)}
		if e.Kind == billingdb.ReasonRefund {
			p.Kind = "refund"
			total := e.RefundedTotal
			p.RefundedAmount = &total
		}
		out = append(out, p)
	}
	httpapi.WriteJSON(w, http.StatusOK, map[string]any{"purchases": out})
	return nil
}

// purchaseTrail is the audit rows of a purchase.
func purchaseTrail(c billingdb.Checkout, now time.Time) []audit.Event {
	trail := []audit.Event{{Event: audit.Purchase, UserID: c.UserID, UserAgent: "stripe", Outcome: audit.Success, At: now,
		Detail: map[string]any{"pack": c.PackID, "checkoutSession": c.ID}}}
	if c.MakesPaid {
		trail = append(trail, audit.Event{Event: audit.AccountTypeChange, UserID: c.UserID, UserAgent: "stripe", Outcome: audit.Success, At: now,
			Detail: map[string]any{"to": "paid", "by": "purchase"}})
	}
	return trail
}
