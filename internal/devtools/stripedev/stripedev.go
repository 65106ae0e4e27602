// Package stripedev is make dev's built-in stand-in for Stripe Checkout:
// with no STRIPE_SECRET_KEY, the dev server sells its credit packs through
// it, so the whole purchase flow (docs/billing.md §1) runs in a browser
// with no account, no key and no Stripe CLI. It is the analogue of the
// built-in image generator and the mail outbox, and ships in no function.
//
// It speaks only what the server uses of Stripe: the two API calls a
// checkout makes (POST /v1/customers and POST /v1/checkout/sessions, as
// stripe-go sends them) and Stripe's webhook format, signed as Stripe signs
// (stripe-go's own test signer). For the rest it has pages of its own: a
// payment page per session (/_stripe/checkout/{id}) whose "Pay" button
// delivers checkout.session.completed to the server's webhook, and a
// dashboard (/_stripe/) whose "Refund" button delivers charge.refunded. It
// keeps everything in memory; a restart forgets its sessions, not what the
// server granted.
//
// It is not a Stripe emulator: it checks the few parameters the server
// sends and nothing else, has no price list, and takes no card. The tests
// of the billing API use stripe-mock instead (internal/devtools/stripemocktest),
// which checks every request against Stripe's OpenAPI spec.
package stripedev

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	stripe "github.com/stripe/stripe-go/v85"
	"github.com/stripe/stripe-go/v85/webhook"
)

// Options configure a Handler.
type Options struct {
	// BaseURL is the origin the handler is served at (make dev's own): the
	// payment pages' URLs start with it.
	BaseURL string
	// WebhookSecret signs the events (whsec_…), as the endpoint's secret at
	// Stripe would.
	WebhookSecret string
	// Deliver sends a signed event to the webhook and returns the HTTP
	// status it answered. A delivery that fails (an error, or a status
	// outside 2xx) is shown on the page, and the payment or refund is not
	// made, so it can be tried again.
	Deliver func(ctx context.Context, body []byte, signature string) (int, error)
	// Now is the clock of the signatures and of the objects' timestamps
	// (nil: time.Now). It must be the webhook's clock: the signature's
	// timestamp is checked against it.
	Now func() time.Time
	// Logger gets a line per payment page created and per event delivered
	// (nil: slog's default logger).
	Logger *slog.Logger
}

// Amount and Currency are what every session costs: the stand-in has no
// price list (at Stripe the amount lives on the price), so each unit of
// any price is $9.00.
const (
	Amount   = 900
	Currency = "usd"
)

// Handler serves the stand-in's API (/v1/) and pages (/_stripe/).
type Handler struct {
	opts Options
	mux  *http.ServeMux

	mu       sync.Mutex
	seq      int
	sessions map[string]*session
	// idem holds the answers to the POSTs made with an Idempotency-Key.
	idem map[string]idemAnswer
}

// session is a Checkout Session and, once paid, its payment.
type session struct {
	seq                       int
	id                        string
	created                   time.Time
	customer                  string
	clientReferenceID         string
	metadata                  map[string]string
	paymentMetadata           map[string]string
	priceID                   string
	quantity                  int64
	successURL, cancelURL     string
	status, paymentStatus     string // open/unpaid, then complete/paid
	paymentIntent, chargeID   string // set when paid
	refunded                  bool
	paidAt                    time.Time
	lastEvent, lastEventError string // for the dashboard
}

func (s *session) amount() int64 { return Amount * s.quantity }

type idemAnswer struct {
	request string // method, path and form, to refuse a reused key
	status  int
	body    []byte
}

// New returns the stand-in.
func New(o Options) *Handler {
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	o.BaseURL = strings.TrimRight(o.BaseURL, "/")
	h := &Handler{opts: o, sessions: map[string]*session{}, idem: map[string]idemAnswer{}}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /v1/customers", h.api(h.createCustomer))
	mux.HandleFunc("POST /v1/checkout/sessions", h.api(h.createSession))
	mux.HandleFunc("/v1/", h.api(func(r *http.Request) (int, any) {
		return apiError(http.StatusNotFound, "", fmt.Sprintf("Unrecognized request URL (%s: %s). The built-in checkout of make dev serves only POST /v1/customers and POST /v1/checkout/sessions.", r.Method, r.URL.Path))
	}))
	mux.HandleFunc("GET /_stripe/{$}", h.dashboard)
	mux.HandleFunc("GET /_stripe/checkout/{id}", h.checkoutPage)
	mux.HandleFunc("POST /_stripe/checkout/{id}/pay", h.pay)
	mux.HandleFunc("POST /_stripe/checkout/{id}/cancel", h.cancel)
	mux.HandleFunc("POST /_stripe/refund/{id}", h.refund)
	mux.HandleFunc("/_stripe/", func(w http.ResponseWriter, r *http.Request) {
		h.page(w, http.StatusNotFound, "Not found", "Nothing here. The sessions are listed on the dashboard.")
	})
	h.mux = mux
	return h
}

func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) { h.mux.ServeHTTP(w, r) }

// DashboardURL is where the dashboard is.
func (h *Handler) DashboardURL() string { return h.opts.BaseURL + "/_stripe/" }

func newID(prefix string) string { return prefix + rand.Text() }

// ---- The API ----------------------------------------------------------

type errorBody struct {
	Error struct {
		Type    string `json:"type"`
		Code    string `json:"code,omitempty"`
		Message string `json:"message"`
		Param   string `json:"param,omitempty"`
	} `json:"error"`
}

// apiError is Stripe's error shape; param names the parameter at fault.
func apiError(status int, param, msg string) (int, any) {
	var e errorBody
	e.Error.Type, e.Error.Message, e.Error.Param = "invalid_request_error", msg, param
	switch status {
	case http.StatusNotFound:
		e.Error.Code = "resource_missing"
	case http.StatusBadRequest:
		if param != "" {
			e.Error.Code = "parameter_invalid"
		}
	}
	return status, e
}

// maxForm bounds a request's form: stripe-go's are a few hundred bytes.
const maxForm = 64 << 10

// api wraps an API route, which runs with h.mu held: the key must be there
// (its value is not checked: there is one account), the answer is JSON
// with a request id as Stripe's, and a POST with an Idempotency-Key is
// answered once per key, the same answer each time.
func (h *Handler) api(f func(*http.Request) (int, any)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Request-Id", newID("req_dev_"))
		scheme, key, _ := strings.Cut(r.Header.Get("Authorization"), " ")
		if !strings.EqualFold(scheme, "Bearer") || !(strings.HasPrefix(key, "sk_") || strings.HasPrefix(key, "rk_")) {
			status, body := apiError(http.StatusUnauthorized, "", "You did not provide an API key: send it as Authorization: Bearer sk_….")
			writeJSON(w, status, body)
			return
		}
		r.Body = http.MaxBytesReader(w, r.Body, maxForm)
		if err := r.ParseForm(); err != nil {
			status, body := apiError(http.StatusBadRequest, "", "The request body is not a form: "+err.Error())
			writeJSON(w, status, body)
			return
		}
		// Held for the whole call (the calls are quick, in memory): two
		// requests with one key get one object.
		h.mu.Lock()
		defer h.mu.Unlock()
		ikey := r.Header.Get("Idempotency-Key")
		if r.Method != http.MethodPost || ikey == "" {
			status, body := f(r)
			writeJSON(w, status, body)
			return
		}
		request := r.Method + " " + r.URL.Path + "?" + r.PostForm.Encode()
		if prev, ok := h.idem[ikey]; ok {
			if prev.request != request {
				var e errorBody
				e.Error.Type = "idempotency_error"
				e.Error.Message = "Keys for idempotent requests can only be used with the same parameters they were first used with."
				writeJSON(w, http.StatusBadRequest, e)
				return
			}
			w.Header().Set("Idempotent-Replayed", "true")
			writeRaw(w, prev.status, prev.body)
			return
		}
		status, v := f(r)
		body, _ := json.Marshal(v)
		h.idem[ikey] = idemAnswer{request: request, status: status, body: body}
		writeRaw(w, status, body)
	}
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	b, _ := json.Marshal(v)
	writeRaw(w, status, b)
}

func writeRaw(w http.ResponseWriter, status int, b []byte) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	w.Write(b)
}

// bracketed collects the form's prefix[key] values: metadata[user_id].
func bracketed(f url.Values, prefix string) map[string]string {
	out := map[string]string{}
	for k, v := range f {
		if inner, ok := strings.CutPrefix(k, prefix+"["); ok {
			if name, ok := strings.CutSuffix(inner, "]"); ok && !strings.ContainsAny(name, "[]") && len(v) > 0 {
				out[name] = v[0]
			}
		}
	}
	return out
}

type customerJSON struct {
	ID       string            `json:"id"`
	Object   string            `json:"object"`
	Created  int64             `json:"created"`
	Email    *string           `json:"email"`
	Livemode bool              `json:"livemode"`
	Metadata map[string]string `json:"metadata"`
	Name     *string           `json:"name"`
}

// createCustomer is POST /v1/customers (h.mu held). Customers are not kept: a
// checkout may name any cus_ id, so the ids the server saved before a
// restart still work.
func (h *Handler) createCustomer(r *http.Request) (int, any) {
	c := customerJSON{ID: newID("cus_dev_"), Object: "customer", Created: h.opts.Now().Unix(), Metadata: bracketed(r.PostForm, "metadata")}
	if r.PostForm.Has("email") {
		c.Email = stripe.String(r.PostForm.Get("email"))
	}
	if r.PostForm.Has("name") {
		c.Name = stripe.String(r.PostForm.Get("name"))
	}
	return http.StatusOK, c
}

// sessionJSON is a Checkout Session in Stripe's shape (the fields the
// server and stripe-go read, and a few more).
type sessionJSON struct {
	ID                string            `json:"id"`
	Object            string            `json:"object"`
	AmountSubtotal    int64             `json:"amount_subtotal"`
	AmountTotal       int64             `json:"amount_total"`
	CancelURL         string            `json:"cancel_url"`
	ClientReferenceID string            `json:"client_reference_id"`
	Created           int64             `json:"created"`
	Currency          string            `json:"currency"`
	Customer          *string           `json:"customer"`
	ExpiresAt         int64             `json:"expires_at"`
	Livemode          bool              `json:"livemode"`
	Metadata          map[string]string `json:"metadata"`
	Mode              string            `json:"mode"`
	PaymentIntent     *string           `json:"payment_intent"`
	PaymentStatus     string            `json:"payment_status"`
	Status            string            `json:"status"`
	SuccessURL        string            `json:"success_url"`
	URL               *string           `json:"url"`
}

func (h *Handler) pageURL(id string) string { return h.opts.BaseURL + "/_stripe/checkout/" + id }

// sessionJSON is s as Stripe shows it (h.mu held).
func (h *Handler) sessionJSON(s *session) sessionJSON {
	j := sessionJSON{ID: s.id, Object: "checkout.session", AmountSubtotal: s.amount(), AmountTotal: s.amount(), CancelURL: s.cancelURL,
		ClientReferenceID: s.clientReferenceID, Created: s.created.Unix(), Currency: Currency, ExpiresAt: s.created.Add(24 * time.Hour).Unix(),
		Metadata: s.metadata, Mode: "payment", PaymentStatus: s.paymentStatus, Status: s.status, SuccessURL: s.successURL}
	if s.customer != "" {
		j.Customer = stripe.String(s.customer)
	}
	if s.paymentIntent != "" {
		j.PaymentIntent = stripe.String(s.paymentIntent)
	}
	if s.status == "open" {
		j.URL = stripe.String(h.pageURL(s.id))
	}
	return j
}

// createSession is POST /v1/checkout/sessions (h.mu held): checked as far as the
// server's use goes (a one-time payment of one line item, the two URLs,
// the user), kept, and answered open and unpaid with its page's URL.
func (h *Handler) createSession(r *http.Request) (int, any) {
	f := r.PostForm
	if f.Get("mode") != "payment" {
		return apiError(http.StatusBadRequest, "mode", "The built-in checkout takes only mode=payment.")
	}
	for k := range f {
		if strings.HasPrefix(k, "line_items[") && k != "line_items[0][price]" && k != "line_items[0][quantity]" {
			return apiError(http.StatusBadRequest, "line_items", "The built-in checkout takes exactly one line item, with a price and a quantity; "+k+" is not supported.")
		}
	}
	price := f.Get("line_items[0][price]")
	if !strings.HasPrefix(price, "price_") {
		return apiError(http.StatusBadRequest, "line_items[0][price]", "A line item needs a price (price_…).")
	}
	qty, err := strconv.ParseInt(f.Get("line_items[0][quantity]"), 10, 64)
	if err != nil || qty < 1 || qty > 999 {
		return apiError(http.StatusBadRequest, "line_items[0][quantity]", "A line item needs a quantity from 1 to 999.")
	}
	for _, p := range []string{"success_url", "cancel_url"} {
		u, err := url.Parse(f.Get(p))
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return apiError(http.StatusBadRequest, p, "Not a valid URL: "+p+" must be an absolute http(s) URL.")
		}
	}
	if f.Get("client_reference_id") == "" {
		return apiError(http.StatusBadRequest, "client_reference_id", "The built-in checkout needs a client_reference_id: the server's user id.")
	}
	if c := f.Get("customer"); f.Has("customer") && !strings.HasPrefix(c, "cus_") {
		return apiError(http.StatusBadRequest, "customer", "No such customer: '"+c+"'")
	}
	h.seq++
	s := &session{seq: h.seq, id: newID("cs_test_dev_"), created: h.opts.Now(), customer: f.Get("customer"), clientReferenceID: f.Get("client_reference_id"),
		metadata: bracketed(f, "metadata"), paymentMetadata: bracketed(f, "payment_intent_data[metadata]"), priceID: price, quantity: qty,
		successURL: f.Get("success_url"), cancelURL: f.Get("cancel_url"), status: "open", paymentStatus: "unpaid"}
	h.sessions[s.id] = s
	h.opts.Logger.InfoContext(r.Context(), "stripe (built-in): checkout page created", "session", s.id, "pack", s.metadata["pack_id"], "url", h.pageURL(s.id))
	return http.StatusOK, h.sessionJSON(s)
}

// ---- Events -----------------------------------------------------------

// event is a webhook event in Stripe's wire format.
type event struct {
	ID         string `json:"id"`
	Object     string `json:"object"`
	APIVersion string `json:"api_version"`
	Created    int64  `json:"created"`
	Data       struct {
		Object any `json:"object"`
	} `json:"data"`
	Livemode        bool `json:"livemode"`
	PendingWebhooks int  `json:"pending_webhooks"`
	Request         struct {
		ID             *string `json:"id"`
		IdempotencyKey *string `json:"idempotency_key"`
	} `json:"request"`
	Type string `json:"type"`
}

type chargeJSON struct {
	ID             string            `json:"id"`
	Object         string            `json:"object"`
	Amount         int64             `json:"amount"`
	AmountCaptured int64             `json:"amount_captured"`
	AmountRefunded int64             `json:"amount_refunded"`
	Captured       bool              `json:"captured"`
	Created        int64             `json:"created"`
	Currency       string            `json:"currency"`
	Customer       *string           `json:"customer"`
	Livemode       bool              `json:"livemode"`
	Metadata       map[string]string `json:"metadata"`
	Paid           bool              `json:"paid"`
	PaymentIntent  string            `json:"payment_intent"`
	Refunded       bool              `json:"refunded"`
	Status         string            `json:"status"`
}

// deliver signs an event around obj and sends it; ok is a 2xx answer, and
// problem says what went wrong otherwise.
func (h *Handler) deliver(ctx context.Context, typ, objectID string, obj any) (ok bool, problem string) {
	now := h.opts.Now()
	ev := event{ID: newID("evt_dev_"), Object: "event", APIVersion: stripe.APIVersion, Created: now.Unix(), PendingWebhooks: 1, Type: typ}
	ev.Data.Object = obj
	body, err := json.Marshal(ev)
	if err != nil {
		return false, err.Error()
	}
	if h.opts.Deliver == nil {
		return false, "no webhook endpoint is configured"
	}
	signed := webhook.GenerateTestSignedPayload(&webhook.UnsignedPayload{Payload: body, Secret: h.opts.WebhookSecret, Timestamp: now})
	status, err := h.opts.Deliver(ctx, body, signed.Header)
	switch {
	case err != nil:
		problem = "the delivery failed: " + err.Error()
	case status < 200 || status > 299:
		problem = fmt.Sprintf("the webhook answered %d %s", status, http.StatusText(status))
	}
	if problem != "" {
		h.opts.Logger.WarnContext(ctx, "stripe (built-in): event not delivered", "type", typ, "event", ev.ID, "object", objectID, "problem", problem, "url", h.DashboardURL())
		return false, problem
	}
	h.opts.Logger.InfoContext(ctx, "stripe (built-in): event delivered", "type", typ, "event", ev.ID, "object", objectID, "status", status, "url", h.DashboardURL())
	return true, ""
}

// ---- Pages ------------------------------------------------------------

// find returns the session of the path's id (h.mu held), or answers 404.
func (h *Handler) find(w http.ResponseWriter, r *http.Request) *session {
	s := h.sessions[r.PathValue("id")]
	if s == nil {
		h.page(w, http.StatusNotFound, "No such checkout session", "This stand-in keeps its sessions in memory: a restart of make dev forgets them. Start a new checkout from the app.")
	}
	return s
}

func (h *Handler) checkoutPage(w http.ResponseWriter, r *http.Request) {
	h.mu.Lock()
	s := h.find(w, r)
	var v checkoutView
	if s != nil {
		v = h.view(s)
	}
	h.mu.Unlock()
	if s == nil {
		return
	}
	render(w, http.StatusOK, checkoutTmpl, v)
}

// pay is the "Pay" button: the session is completed and paid, and
// checkout.session.completed delivered; the browser goes to success_url.
// A failed delivery undoes the payment, so Pay can be pressed again.
func (h *Handler) pay(w http.ResponseWriter, r *http.Request) {
	h.mu.Lock()
	s := h.find(w, r)
	if s == nil {
		h.mu.Unlock()
		return
	}
	if s.status != "open" {
		h.mu.Unlock()
		h.page(w, http.StatusConflict, "Already paid", "This checkout session is "+s.status+" and "+s.paymentStatus+": a session is paid once. Start a new checkout from the app.")
		return
	}
	s.status, s.paymentStatus, s.paymentIntent, s.paidAt = "complete", "paid", newID("pi_dev_"), h.opts.Now()
	obj := h.sessionJSON(s)
	success := strings.ReplaceAll(s.successURL, "{CHECKOUT_SESSION_ID}", s.id)
	h.mu.Unlock()

	ok, problem := h.deliver(r.Context(), "checkout.session.completed", s.id, obj)
	h.mu.Lock()
	s.lastEvent, s.lastEventError = "checkout.session.completed", problem
	if !ok {
		s.status, s.paymentStatus, s.paymentIntent, s.paidAt = "open", "unpaid", "", time.Time{}
	}
	h.mu.Unlock()
	if !ok {
		h.page(w, http.StatusBadGateway, "The webhook did not take the payment",
			"checkout.session.completed could not be delivered to the server: "+problem+". Nothing was paid; the server's log says why. Go back and press Pay again.")
		return
	}
	http.Redirect(w, r, success, http.StatusSeeOther)
}

// cancel is the "Cancel" button: back to cancel_url; the session stays
// open, as at Stripe.
func (h *Handler) cancel(w http.ResponseWriter, r *http.Request) {
	h.mu.Lock()
	s := h.find(w, r)
	var to string
	if s != nil {
		to = s.cancelURL
	}
	h.mu.Unlock()
	if s != nil {
		http.Redirect(w, r, to, http.StatusSeeOther)
	}
}

// refund is the dashboard's "Refund" button: the whole payment, delivered
// as charge.refunded, as a refund made in Stripe's dashboard would be.
func (h *Handler) refund(w http.ResponseWriter, r *http.Request) {
	h.mu.Lock()
	s := h.find(w, r)
	if s == nil {
		h.mu.Unlock()
		return
	}
	if s.paymentStatus != "paid" || s.refunded {
		h.mu.Unlock()
		h.page(w, http.StatusConflict, "Nothing to refund", "Only a paid session that was not refunded yet can be refunded.")
		return
	}
	s.refunded = true
	if s.chargeID == "" {
		s.chargeID = newID("ch_dev_")
	}
	ch := chargeJSON{ID: s.chargeID, Object: "charge", Amount: s.amount(), AmountCaptured: s.amount(), AmountRefunded: s.amount(), Captured: true,
		Created: s.paidAt.Unix(), Currency: Currency, Metadata: s.paymentMetadata, Paid: true, PaymentIntent: s.paymentIntent, Refunded: true, Status: "succeeded"}
	if s.customer != "" {
		ch.Customer = stripe.String(s.customer)
	}
	h.mu.Unlock()

	ok, problem := h.deliver(r.Context(), "charge.refunded", ch.ID, ch)
	h.mu.Lock()
	s.lastEvent, s.lastEventError = "charge.refunded", problem
	if !ok {
		s.refunded = false
	}
	h.mu.Unlock()
	if !ok {
		h.page(w, http.StatusBadGateway, "The webhook did not take the refund",
			"charge.refunded could not be delivered to the server: "+problem+". Nothing was refunded; the server's log says why.")
		return
	}
	http.Redirect(w, r, "/_stripe/", http.StatusSeeOther)
}

func (h *Handler) dashboard(w http.ResponseWriter, r *http.Request) {
	h.mu.Lock()
	list := make([]*session, 0, len(h.sessions))
	for _, s := range h.sessions {
		list = append(list, s)
	}
	slices.SortFunc(list, func(a, b *session) int { return b.seq - a.seq })
	views := make([]checkoutView, 0, len(list))
	for _, s := range list {
		views = append(views, h.view(s))
	}
	h.mu.Unlock()
	render(w, http.StatusOK, dashboardTmpl, views)
}

// checkoutView is what the pages show of a session.
type checkoutView struct {
	ID, Pack, PriceID, Customer, User string
	Quantity                          int64
	Amount                            string
	Created                           string
	Status, PaymentStatus             string
	PaymentIntent                     string
	Refunded                          bool
	LastEvent, LastEventError         string
}

func (h *Handler) view(s *session) checkoutView {
	return checkoutView{ID: s.id, Pack: s.metadata["pack_id"], PriceID: s.priceID, Customer: s.customer, User: s.clientReferenceID,
		Quantity: s.quantity, Amount: money(s.amount()), Created: s.created.UTC().Format("2006-01-02 15:04:05 UTC"),
		Status: s.status, PaymentStatus: s.paymentStatus, PaymentIntent: s.paymentIntent, Refunded: s.refunded,
		LastEvent: s.lastEvent, LastEventError: s.lastEventError}
}

func money(minor int64) string { return fmt.Sprintf("$%d.%02d", minor/100, minor%100) }
