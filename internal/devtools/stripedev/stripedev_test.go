package stripedev_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"

	stripe "github.com/stripe/stripe-go/v85"
	"github.com/stripe/stripe-go/v85/webhook"

	"adstudio/internal/devtools/stripedev"
)

const secret = "whsec_stripedev_test"

// delivery is one event the stand-in sent.
type delivery struct {
	body []byte
	sig  string
}

// endpoint is the webhook the stand-in delivers to: it keeps what it gets
// and answers status (or fails with err).
type endpoint struct {
	mu     sync.Mutex
	got    []delivery
	status int
	err    error
}

func (e *endpoint) deliver(_ context.Context, body []byte, sig string) (int, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.got = append(e.got, delivery{body, sig})
	return e.status, e.err
}

func (e *endpoint) take(t *testing.T) delivery {
	t.Helper()
	e.mu.Lock()
	defer e.mu.Unlock()
	if len(e.got) != 1 {
		t.Fatalf("%d deliveries, want 1", len(e.got))
	}
	d := e.got[0]
	e.got = nil
	return d
}

func (e *endpoint) set(status int, err error) {
	e.mu.Lock()
	e.status, e.err = status, err
	e.mu.Unlock()
}

// syncBuffer is a log sink safe for the handler's goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func start(t *testing.T) (*httptest.Server, *endpoint, *syncBuffer) {
	t.Helper()
	ep := &endpoint{status: 200}
	logs := &syncBuffer{}
	var h http.Handler
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { h.ServeHTTP(w, r) }))
	t.Cleanup(srv.Close)
	h = stripedev.New(stripedev.Options{BaseURL: srv.URL, WebhookSecret: secret, Deliver: ep.deliver, Logger: slog.New(slog.NewTextHandler(logs, nil))})
	return srv, ep, logs
}

// client is stripe-go's own client against the stand-in, as the billing
// API builds it.
func client(srv *httptest.Server) *stripe.Client {
	backends := stripe.NewBackendsWithConfig(&stripe.BackendConfig{
		URL: stripe.String(srv.URL), HTTPClient: srv.Client(), LeveledLogger: &stripe.LeveledLogger{Level: stripe.LevelNull},
	})
	return stripe.NewClient("sk_test_builtin", stripe.WithBackends(backends))
}

func sessionParams(customer, key string) *stripe.CheckoutSessionCreateParams {
	meta := map[string]string{"user_id": "user-1", "pack_id": "starter"}
	p := &stripe.CheckoutSessionCreateParams{
		Mode:              stripe.String(string(stripe.CheckoutSessionModePayment)),
		LineItems:         []*stripe.CheckoutSessionCreateLineItemParams{{Price: stripe.String("price_dev_starter"), Quantity: stripe.Int64(1)}},
		Customer:          stripe.String(customer),
		ClientReferenceID: stripe.String("user-1"),
		Metadata:          meta,
		PaymentIntentData: &stripe.CheckoutSessionCreatePaymentIntentDataParams{Metadata: meta},
		SuccessURL:        stripe.String("http://localhost:5173/billing/done?session={CHECKOUT_SESSION_ID}"),
		CancelURL:         stripe.String("http://localhost:5173/billing"),
	}
	if key != "" {
		p.SetIdempotencyKey(key)
	}
	return p
}

// noRedirects is a client that shows redirects instead of following them.
var noRedirects = &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}

func post(t *testing.T, u string) (*http.Response, string) {
	t.Helper()
	res, err := noRedirects.Post(u, "application/x-www-form-urlencoded", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res, string(b)
}

func get(t *testing.T, u string) (*http.Response, string) {
	t.Helper()
	res, err := noRedirects.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res, string(b)
}

// verified checks a delivery as the server's webhook would (stripe-go's
// own verification) and returns its event.
func verified(t *testing.T, d delivery, typ string) stripe.Event {
	t.Helper()
	ev, err := webhook.ConstructEventWithOptions(d.body, d.sig, secret, webhook.ConstructEventOptions{IgnoreAPIVersionMismatch: true})
	if err != nil {
		t.Fatalf("delivery does not verify: %v\n%s", err, d.body)
	}
	if string(ev.Type) != typ || !strings.HasPrefix(ev.ID, "evt_") || ev.APIVersion != stripe.APIVersion || ev.Livemode {
		t.Fatalf("event %s %s %s", ev.Type, ev.ID, ev.APIVersion)
	}
	var raw map[string]any
	json.Unmarshal(d.body, &raw)
	if raw["object"] != "event" || raw["pending_webhooks"] != 1.0 {
		t.Errorf("event envelope %s", d.body)
	}
	return ev
}

// TestCheckoutFlow: a customer and a session through stripe-go's client,
// then Pay delivers a verifiable checkout.session.completed and sends the
// browser to success_url; a session is paid once; Cancel goes back; the
// dashboard's Refund delivers a verifiable charge.refunded.
func TestCheckoutFlow(t *testing.T) {
	t.Parallel()
	srv, ep, logs := start(t)
	sc := client(srv)
	ctx := context.Background()

	cus, err := sc.V1Customers.Create(ctx, &stripe.CustomerCreateParams{Email: stripe.String("buyer@example.com"), Name: stripe.String("Buyer"), Metadata: map[string]string{"user_id": "user-1"}})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(cus.ID, "cus_dev_") || cus.Email != "buyer@example.com" || cus.Name != "Buyer" || cus.Metadata["user_id"] != "user-1" {
		t.Fatalf("customer %+v", cus)
	}

	cs, err := sc.V1CheckoutSessions.Create(ctx, sessionParams(cus.ID, "checkout:user-1:k1"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(cs.ID, "cs_test_dev_") || cs.URL != srv.URL+"/_stripe/checkout/"+cs.ID || cs.Status != stripe.CheckoutSessionStatusOpen ||
		cs.PaymentStatus != stripe.CheckoutSessionPaymentStatusUnpaid || cs.Mode != stripe.CheckoutSessionModePayment || cs.ClientReferenceID != "user-1" ||
		cs.Metadata["pack_id"] != "starter" || cs.Customer == nil || cs.Customer.ID != cus.ID || cs.AmountTotal != stripedev.Amount || cs.Currency != "usd" {
		t.Fatalf("session %+v", cs)
	}
	// The same key is the same session; another key another one.
	again, err := sc.V1CheckoutSessions.Create(ctx, sessionParams(cus.ID, "checkout:user-1:k1"))
	if err != nil || again.ID != cs.ID {
		t.Fatalf("same idempotency key: %v %v, want %s", again, err, cs.ID)
	}
	other, err := sc.V1CheckoutSessions.Create(ctx, sessionParams(cus.ID, "checkout:user-1:k2"))
	if err != nil || other.ID == cs.ID {
		t.Fatalf("another idempotency key: %v %v", other, err)
	}
	if !strings.Contains(logs.String(), cs.URL) {
		t.Errorf("the page's URL is not logged:\n%s", logs)
	}

	// The page: the pack, the price, the amount, the two buttons.
	res, page := get(t, cs.URL)
	for _, want := range []string{"<title>Built-in checkout (make dev)</title>", "starter", "price_dev_starter", "$9.00", `id="pay"`, `id="cancel"`} {
		if res.StatusCode != 200 || !strings.Contains(page, want) {
			t.Fatalf("page %d lacks %q:\n%s", res.StatusCode, want, page)
		}
	}
	action := regexp.MustCompile(`action="([^"]+)"><button type="submit" id="pay"`).FindStringSubmatch(page)
	if action == nil || action[1] != "/_stripe/checkout/"+cs.ID+"/pay" {
		t.Fatalf("pay form %v", action)
	}

	// Cancel: back to cancel_url, the session still open.
	if res, _ := post(t, cs.URL+"/cancel"); res.StatusCode != 303 || res.Header.Get("Location") != "http://localhost:5173/billing" {
		t.Fatalf("cancel: %d %s", res.StatusCode, res.Header.Get("Location"))
	}

	// Pay.
	res, _ = post(t, srv.URL+action[1])
	if res.StatusCode != 303 || res.Header.Get("Location") != "http://localhost:5173/billing/done?session="+cs.ID {
		t.Fatalf("pay: %d %s", res.StatusCode, res.Header.Get("Location"))
	}
	d := ep.take(t)
	ev := verified(t, d, "checkout.session.completed")
	var paid stripe.CheckoutSession
	if err := json.Unmarshal(ev.Data.Raw, &paid); err != nil {
		t.Fatal(err)
	}
	if paid.ID != cs.ID || paid.PaymentStatus != stripe.CheckoutSessionPaymentStatusPaid || paid.Status != stripe.CheckoutSessionStatusComplete ||
		paid.Mode != stripe.CheckoutSessionModePayment || paid.ClientReferenceID != "user-1" || paid.Metadata["user_id"] != "user-1" ||
		paid.Metadata["pack_id"] != "starter" || paid.PaymentIntent == nil || !strings.HasPrefix(paid.PaymentIntent.ID, "pi_dev_") ||
		paid.AmountTotal != stripedev.Amount || paid.Currency != "usd" || paid.Customer == nil || paid.Customer.ID != cus.ID {
		t.Fatalf("paid session %s", ev.Data.Raw)
	}
	// Paid once.
	if res, body := post(t, srv.URL+action[1]); res.StatusCode != 409 || !strings.Contains(body, "Already paid") {
		t.Fatalf("second pay: %d %s", res.StatusCode, body)
	}
	if _, page := get(t, cs.URL); strings.Contains(page, `id="pay"`) {
		t.Error("a paid session's page still offers Pay")
	}

	// The dashboard: newest first, Refund on the paid one only.
	_, dash := get(t, srv.URL+"/_stripe/")
	if i, j := strings.Index(dash, other.ID), strings.Index(dash, cs.ID); i < 0 || j < 0 || i > j {
		t.Errorf("dashboard order: %s at %d, %s at %d", other.ID, i, cs.ID, j)
	}
	if !strings.Contains(dash, `action="/_stripe/refund/`+cs.ID+`"`) || strings.Contains(dash, `action="/_stripe/refund/`+other.ID+`"`) {
		t.Fatalf("dashboard refund buttons:\n%s", dash)
	}
	res, _ = post(t, srv.URL+"/_stripe/refund/"+cs.ID)
	if res.StatusCode != 303 || res.Header.Get("Location") != "/_stripe/" {
		t.Fatalf("refund: %d %s", res.StatusCode, res.Header.Get("Location"))
	}
	ev = verified(t, ep.take(t), "charge.refunded")
	var ch stripe.Charge
	if err := json.Unmarshal(ev.Data.Raw, &ch); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(ch.ID, "ch_dev_") || ch.Amount != stripedev.Amount || ch.AmountRefunded != stripedev.Amount || !ch.Refunded ||
		ch.PaymentIntent == nil || ch.PaymentIntent.ID != paid.PaymentIntent.ID || ch.Metadata["user_id"] != "user-1" {
		t.Fatalf("refunded charge %s", ev.Data.Raw)
	}
	if res, _ := post(t, srv.URL+"/_stripe/refund/"+cs.ID); res.StatusCode != 409 {
		t.Fatalf("second refund: %d", res.StatusCode)
	}
	if res, _ := post(t, srv.URL+"/_stripe/refund/"+other.ID); res.StatusCode != 409 {
		t.Fatalf("refund of an unpaid session: %d", res.StatusCode)
	}

	// Neither the secret nor a signature is ever logged; each delivery is.
	if l := logs.String(); strings.Contains(l, secret) || strings.Contains(l, "v1=") || strings.Count(l, "event delivered") != 2 {
		t.Errorf("logs:\n%s", l)
	}
}

// TestDeliveryFails: a webhook that fails leaves the session unpaid, with
// a 502 page, and Pay works again once it answers.
func TestDeliveryFails(t *testing.T) {
	t.Parallel()
	srv, ep, _ := start(t)
	cs, err := client(srv).V1CheckoutSessions.Create(context.Background(), sessionParams("cus_saved_before_a_restart", ""))
	if err != nil {
		t.Fatal(err)
	}
	for _, fail := range []struct {
		status int
		err    error
	}{{500, nil}, {0, errors.New("connection refused")}} {
		ep.set(fail.status, fail.err)
		if res, body := post(t, cs.URL+"/pay"); res.StatusCode != 502 || !strings.Contains(body, "did not take the payment") {
			t.Fatalf("pay, webhook failing: %d %s", res.StatusCode, body)
		}
		ep.take(t)
		if _, page := get(t, cs.URL); !strings.Contains(page, `id="pay"`) {
			t.Fatal("the session is no longer open after a failed delivery")
		}
	}
	ep.set(200, nil)
	if res, _ := post(t, cs.URL+"/pay"); res.StatusCode != 303 {
		t.Fatalf("pay once the webhook answers: %d", res.StatusCode)
	}
	verified(t, ep.take(t), "checkout.session.completed")
	ep.set(400, nil)
	if res, _ := post(t, srv.URL+"/_stripe/refund/"+cs.ID); res.StatusCode != 502 {
		t.Fatalf("refund, webhook failing: %d", res.StatusCode)
	}
	ep.take(t)
	ep.set(200, nil)
	if res, _ := post(t, srv.URL+"/_stripe/refund/"+cs.ID); res.StatusCode != 303 {
		t.Fatalf("refund once the webhook answers: %d", res.StatusCode)
	}
}

// TestRefused: what the stand-in refuses, in Stripe's error shape, and
// unknown sessions.
func TestRefused(t *testing.T) {
	t.Parallel()
	srv, _, _ := start(t)
	sc := client(srv)
	ctx := context.Background()
	bad := []func(p *stripe.CheckoutSessionCreateParams){
		func(p *stripe.CheckoutSessionCreateParams) { p.Mode = stripe.String("subscription") },
		func(p *stripe.CheckoutSessionCreateParams) { p.LineItems = nil },
		func(p *stripe.CheckoutSessionCreateParams) { p.LineItems = append(p.LineItems, p.LineItems[0]) },
		func(p *stripe.CheckoutSessionCreateParams) { p.LineItems[0].Quantity = nil },
		func(p *stripe.CheckoutSessionCreateParams) { p.SuccessURL = nil },
		func(p *stripe.CheckoutSessionCreateParams) { p.CancelURL = stripe.String("/relative") },
		func(p *stripe.CheckoutSessionCreateParams) { p.ClientReferenceID = nil },
	}
	for i, f := range bad {
		p := sessionParams("cus_1", "")
		f(p)
		_, err := sc.V1CheckoutSessions.Create(ctx, p)
		var se *stripe.Error
		if !errors.As(err, &se) || se.HTTPStatusCode != 400 || se.Type != stripe.ErrorTypeInvalidRequest || se.Msg == "" || !strings.HasPrefix(se.RequestID, "req_") {
			t.Errorf("bad session %d: %v", i, err)
		}
	}
	// The same key with other parameters is refused.
	if _, err := sc.V1CheckoutSessions.Create(ctx, sessionParams("cus_1", "k")); err != nil {
		t.Fatal(err)
	}
	p := sessionParams("cus_1", "k")
	p.ClientReferenceID = stripe.String("user-2")
	if _, err := sc.V1CheckoutSessions.Create(ctx, p); err == nil {
		t.Error("a reused idempotency key with other parameters was accepted")
	}

	// No key: 401 in Stripe's shape.
	res, err := http.PostForm(srv.URL+"/v1/customers", url.Values{"email": {"a@example.com"}})
	if err != nil {
		t.Fatal(err)
	}
	var e struct {
		Error struct{ Type, Message string } `json:"error"`
	}
	json.NewDecoder(res.Body).Decode(&e)
	res.Body.Close()
	if res.StatusCode != 401 || e.Error.Type != "invalid_request_error" || e.Error.Message == "" {
		t.Errorf("no key: %d %+v", res.StatusCode, e)
	}

	// Unknown sessions and routes.
	for _, c := range []struct{ method, path string }{
		{"GET", "/_stripe/checkout/cs_test_nope"}, {"POST", "/_stripe/checkout/cs_test_nope/pay"}, {"POST", "/_stripe/checkout/cs_test_nope/cancel"},
		{"POST", "/_stripe/refund/cs_test_nope"}, {"GET", "/_stripe/elsewhere"},
	} {
		req, _ := http.NewRequest(c.method, srv.URL+c.path, nil)
		res, err := noRedirects.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != 404 {
			t.Errorf("%s %s: %d", c.method, c.path, res.StatusCode)
		}
	}
	req, _ := http.NewRequest("GET", srv.URL+"/v1/charges", nil)
	req.Header.Set("Authorization", "Bearer sk_test_x")
	res, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != 404 || res.Header.Get("Content-Type") != "application/json" {
		t.Errorf("unknown API route: %d %s", res.StatusCode, res.Header.Get("Content-Type"))
	}
}

// TestEscaped: what the server sent is shown escaped.
func TestEscaped(t *testing.T) {
	t.Parallel()
	srv, _, _ := start(t)
	p := sessionParams("cus_1", "")
	p.Metadata = map[string]string{"user_id": "user-1", "pack_id": `<script>alert(1)</script>`}
	cs, err := client(srv).V1CheckoutSessions.Create(context.Background(), p)
	if err != nil {
		t.Fatal(err)
	}
	for _, u := range []string{cs.URL, srv.URL + "/_stripe/"} {
		if _, page := get(t, u); strings.Contains(page, "<script>") || !strings.Contains(page, "&lt;script&gt;") {
			t.Errorf("%s not escaped:\n%s", u, page)
		}
	}
}
