package devapp_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stripe/stripe-go/v85/webhook"

	"adstudio/internal/devtools/stripemocktest"
	"adstudio/internal/devtools/testenv"
	"adstudio/internal/metrics"
)

const (
	stripeWebhook = "/api/billing/webhook"
	webhookSecret = "whsec_test_secret"
	billingPacks  = `[{"id":"starter","name":"Starter","priceId":"price_starter","credits":{"image-from-text":20,"image-from-reference":10},"paid":true},` +
		`{"id":"refill","name":"Refill","priceId":"price_refill","credits":{"image-from-text":5,"image-from-reference":0},"paid":false}]`
)

// stripeRecorder stands between the app and stripe-mock and keeps each
// request's path, form and Idempotency-Key, since stripe-mock keeps
// nothing.
type stripeRecorder struct {
	mu   sync.Mutex
	reqs []stripeRequest
}

type stripeRequest struct {
	path, key string
	form      url.Values
}

func (s *stripeRecorder) take() []stripeRequest {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := s.reqs
	s.reqs = nil
	return out
}

// billingServer is the app selling billingPacks through stripe-mock, with
// the webhook secret webhookSecret.
func billingServer(t *testing.T, env map[string]string) (*testServer, *stripeRecorder) {
	t.Helper()
	mock, err := url.Parse(stripemocktest.Start(t, testenv.Tool(t, stripemocktest.BinEnv, stripemocktest.BinHow)))
	if err != nil {
		t.Fatal(err)
	}
	rec := &stripeRecorder{}
	proxy := httputil.NewSingleHostReverseProxy(mock)
	front := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		form, _ := url.ParseQuery(string(body))
		rec.mu.Lock()
		rec.reqs = append(rec.reqs, stripeRequest{r.URL.Path, r.Header.Get("Idempotency-Key"), form})
		rec.mu.Unlock()
		r.Body = io.NopCloser(bytes.NewReader(body))
		proxy.ServeHTTP(w, r)
	}))
	t.Cleanup(front.Close)
	vars := map[string]string{
		"BILLING_PACKS":         billingPacks,
		"STRIPE_SECRET_KEY":     stripemocktest.APIKey,
		"STRIPE_WEBHOOK_SECRET": webhookSecret,
		"STRIPE_API_BASE":       front.URL,
	}
	for k, v := range env {
		vars[k] = v
	}
	ts, _ := newGenServer(t, vars) // a provider, so the tests can spend credits
	return ts, rec
}

// checkout buys pack as b and returns the session id.
func (b *browser) checkout(t *testing.T, pack string) string {
	t.Helper()
	r := b.do(t, "POST", "/api/billing/checkout", map[string]any{"packId": pack, "successUrl": spaOrigin + "/billing/done", "cancelUrl": spaOrigin + "/billing"}, nil)
	if r.StatusCode != 200 {
		t.Fatalf("checkout: %d %s", r.StatusCode, r.body)
	}
	m := r.json(t)
	id, _ := m["sessionId"].(string)
	if !strings.HasPrefix(id, "cs_") || !strings.HasPrefix(m["url"].(string), "https://checkout.stripe.com/") {
		t.Fatalf("checkout answer %s", r.body)
	}
	return id
}

// stripeEvent is an event as Stripe sends it, around obj.
func stripeEvent(id, typ string, obj map[string]any) []byte {
	b, _ := json.Marshal(map[string]any{
		"id": id, "object": "event", "api_version": "2026-03-25.dahlia", "created": 1764000000, "livemode": false,
		"pending_webhooks": 1, "type": typ, "data": map[string]any{"object": obj},
	})
	return b
}

// paidSession is a completed Checkout Session for user's session id.
func paidSession(id, user, pack, pi string) map[string]any {
	return map[string]any{
		"id": id, "object": "checkout.session", "mode": "payment", "status": "complete", "payment_status": "paid",
		"client_reference_id": user, "metadata": map[string]string{"user_id": user, "pack_id": pack},
		"payment_intent": pi, "amount_total": 1000, "currency": "usd", "customer": "cus_x",
	}
}

func refundedCharge(id, pi string, refunded int64) map[string]any {
	return map[string]any{"id": id, "object": "charge", "amount": 1000, "amount_refunded": refunded, "refunded": refunded == 1000, "payment_intent": pi, "currency": "usd"}
}

// deliver posts body to the webhook signed at `at` with secret, exactly as
// Stripe signs (stripe-go's own signer).
func (ts *testServer) deliver(t *testing.T, body []byte, secret string, at time.Time) resp {
	t.Helper()
	signed := webhook.GenerateTestSignedPayload(&webhook.UnsignedPayload{Payload: body, Secret: secret, Timestamp: at})
	req, _ := http.NewRequest("POST", ts.srv.URL+"/api/billing/webhook", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json; charset=utf-8")
	req.Header.Set("Stripe-Signature", signed.Header)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return resp{res, b}
}

func (ts *testServer) deliverOK(t *testing.T, body []byte) {
	t.Helper()
	if r := ts.deliver(t, body, webhookSecret, ts.clock.Now()); r.StatusCode != 200 || string(r.body) != `{"received":true}` {
		t.Fatalf("delivery: %d %s", r.StatusCode, r.body)
	}
}

// me is the caller's account type and balances.
func (b *browser) me(t *testing.T) (string, int, int) {
	t.Helper()
	prof := b.do(t, "GET", "/api/me", nil, nil).json(t)["profile"].(map[string]any)
	return prof["accountType"].(string), int(prof["creditsProductShoots"].(float64)), int(prof["creditsAdGraphics"].(float64))
}

func wantMe(t *testing.T, b *browser, typ string, ps, ag int) {
	t.Helper()
	if gt, gp, ga := b.me(t); gt != typ || gp != ps || ga != ag {
		t.Fatalf("/api/me: %s %d/%d, want %s %d/%d", gt, gp, ga, typ, ps, ag)
	}
}

// TestBillingPurchase: the catalog, a checkout against stripe-mock, the
// webhook's grant seen at once in /api/me, and the purchase history.
func TestBillingPurchase(t *testing.T) {
	t.Parallel()
	ts, rec := billingServer(t, nil)

	// The catalog: public, cacheable, no Stripe call.
	r := ts.browser().do(t, "GET", "/api/billing/packs", nil, nil)
	if r.StatusCode != 200 || r.Header.Get("Cache-Control") != "public, max-age=300" ||
		string(r.body) != `{"packs":[{"id":"starter","name":"Starter","credits":{"productShoots":20,"adGraphics":10},"paid":true},{"id":"refill","name":"Refill","credits":{"productShoots":5,"adGraphics":0},"paid":false}]}` {
		t.Fatalf("packs: %d %v %s", r.StatusCode, r.Header, r.body)
	}
	if n := len(rec.take()); n != 0 {
		t.Fatalf("the catalog called Stripe %d times", n)
	}

	b := ts.browser()
	b.signUp(t, "buyer@example.com", "password123")
	uid := userID(t, ts, "buyer@example.com")
	cs := b.checkout(t, "starter")
	reqs := rec.take()
	if len(reqs) != 2 || reqs[0].path != "/v1/customers" || reqs[1].path != "/v1/checkout/sessions" {
		t.Fatalf("Stripe calls %+v", reqs)
	}
	if f := reqs[0].form; f.Get("email") != "buyer@example.com" || f.Get("metadata[user_id]") != uid || reqs[0].key != "customer:"+uid {
		t.Errorf("customer request %v key %q", f, reqs[0].key)
	}
	f := reqs[1].form
	for k, want := range map[string]string{
		"mode": "payment", "line_items[0][price]": "price_starter", "line_items[0][quantity]": "1", "client_reference_id": uid,
		"metadata[user_id]": uid, "metadata[pack_id]": "starter", "payment_intent_data[metadata][user_id]": uid,
		"success_url": spaOrigin + "/billing/done", "cancel_url": spaOrigin + "/billing",
	} {
		if f.Get(k) != want {
			t.Errorf("checkout session %s = %q, want %q", k, f.Get(k), want)
		}
	}
	if !strings.HasPrefix(f.Get("customer"), "cus_") {
		t.Errorf("checkout session customer %q", f.Get("customer"))
	}
	// The customer is made once and kept; the client's Idempotency-Key
	// reaches Stripe scoped to the user.
	b.do(t, "POST", "/api/billing/checkout", map[string]any{"packId": "refill", "successUrl": spaOrigin + "/ok", "cancelUrl": spaOrigin + "/no"}, header{"Idempotency-Key": "k-1"})
	if reqs := rec.take(); len(reqs) != 1 || reqs[0].path != "/v1/checkout/sessions" || reqs[0].key != "checkout:"+uid+":k-1" || reqs[0].form.Get("customer") != f.Get("customer") {
		t.Errorf("second checkout's Stripe calls %+v", reqs)
	}

	// Returning to the success URL grants nothing: only the webhook does.
	wantMe(t, b, "free", 1, 1)
	ts.deliverOK(t, stripeEvent("evt_1", "checkout.session.completed", paidSession(cs, uid, "starter", "pi_1")))
	wantMe(t, b, "paid", 21, 11)
	checkLedger(t, ts, uid)

	list := b.do(t, "GET", "/api/billing/purchases", nil, nil)
	var got struct {
		Purchases []map[string]any `json:"purchases"`
	}
	if err := json.Unmarshal(list.body, &got); err != nil || len(got.Purchases) != 1 {
		t.Fatalf("purchases: %s", list.body)
	}
	p := got.Purchases[0]
	if p["kind"] != "purchase" || p["checkoutSessionId"] != cs || p["packId"] != "starter" || p["packName"] != "Starter" || p["amount"] != 1000.0 || p["currency"] != "usd" ||
		fmt.Sprint(p["credits"]) != "map[adGraphics:10 productShoots:20]" || p["createdAt"] != "2026-11-24T12:00:00.000Z" {
		t.Errorf("purchase entry %v", p)
	}
	// The audit trail has the purchase and the account type's change.
	rows := auditRows(t, ts, "")
	var events []string
	for _, r := range rows[1:] { // after the sign-up
		events = append(events, r.Event+" "+r.UserID+" "+r.Detail)
	}
	want := []string{"purchase " + uid + ` {"checkoutSession":"` + cs + `","pack":"starter"}`, "account_type_change " + uid + ` {"by":"purchase","to":"paid"}`}
	if fmt.Sprint(events) != fmt.Sprint(want) {
		t.Errorf("audit rows %q, want %q", events, want)
	}
	// Another user sees none of it.
	o := ts.browser()
	o.signUp(t, "other@example.com", "password123")
	if r := o.do(t, "GET", "/api/billing/purchases", nil, nil); string(r.body) != `{"purchases":[]}` {
		t.Errorf("another user's purchases: %s", r.body)
	}
}

// TestBillingWebhookDeliveries: every way a delivery can go wrong leaves
// exactly one grant, or none, and the credit invariant after each.
func TestBillingWebhookDeliveries(t *testing.T) {
	t.Parallel()
	ts, _ := billingServer(t, nil)
	b := ts.browser()
	b.signUp(t, "hooks@example.com", "password123")
	uid := userID(t, ts, "hooks@example.com")
	cs := b.checkout(t, "starter")
	paid := stripeEvent("evt_paid", "checkout.session.completed", paidSession(cs, uid, "starter", "pi_h"))

	// Bad signatures change nothing: another secret, a tampered body, a
	// timestamp past the tolerance, none at all.
	refused := []resp{
		ts.deliver(t, paid, "whsec_someone_else", ts.clock.Now()),
		ts.deliver(t, paid, webhookSecret, ts.clock.Now().Add(-6*time.Minute)),
		ts.deliver(t, paid, webhookSecret, ts.clock.Now().Add(6*time.Minute)),
	}
	tampered := bytes.Replace(paid, []byte(`"amount_total":1000`), []byte(`"amount_total":1`), 1)
	signed := webhook.GenerateTestSignedPayload(&webhook.UnsignedPayload{Payload: paid, Secret: webhookSecret, Timestamp: ts.clock.Now()})
	req, _ := http.NewRequest("POST", ts.srv.URL+"/api/billing/webhook", bytes.NewReader(tampered))
	req.Header.Set("Stripe-Signature", signed.Header)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	refused = append(refused, resp{res, body})
	res, err = http.Post(ts.srv.URL+"/api/billing/webhook", "application/json", bytes.NewReader(paid))
	if err != nil {
		t.Fatal(err)
	}
	body, _ = io.ReadAll(res.Body)
	res.Body.Close()
	refused = append(refused, resp{res, body})
	for i, r := range refused {
		if r.StatusCode != 400 || !strings.Contains(string(r.body), `"code":"INVALID_SIGNATURE"`) {
			t.Errorf("refused delivery %d: %d %s", i, r.StatusCode, r.body)
		}
	}
	wantMe(t, b, "free", 1, 1)

	// Not paid yet (a bank debit): nothing; then the async success grants.
	pending := paidSession(cs, uid, "starter", "pi_h")
	pending["payment_status"] = "unpaid"
	ts.deliverOK(t, stripeEvent("evt_pending", "checkout.session.completed", pending))
	wantMe(t, b, "free", 1, 1)

	// Ten at once: the same event five times, and five redeliveries under
	// their own ids, the async success among them.
	var wg sync.WaitGroup
	for i := range 10 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ev := paid
			if i%2 == 1 {
				ev = stripeEvent(fmt.Sprintf("evt_again_%d", i), "checkout.session.async_payment_succeeded", paidSession(cs, uid, "starter", "pi_h"))
			}
			if r := ts.deliver(t, ev, webhookSecret, ts.clock.Now()); r.StatusCode != 200 {
				t.Errorf("concurrent delivery %d: %d %s", i, r.StatusCode, r.body)
			}
		}()
	}
	wg.Wait()
	wantMe(t, b, "paid", 21, 11)
	checkLedger(t, ts, uid)
	// And later redeliveries, in any order.
	ts.deliverOK(t, paid)
	ts.deliverOK(t, stripeEvent("evt_late", "checkout.session.completed", paidSession(cs, uid, "starter", "pi_h")))
	wantMe(t, b, "paid", 21, 11)

	// An event for a session this service never created, and one whose
	// user is not the session's, grant nothing to anyone.
	eve := ts.browser()
	eve.signUp(t, "eve@example.com", "password123")
	eveID := userID(t, ts, "eve@example.com")
	ts.deliverOK(t, stripeEvent("evt_foreign", "checkout.session.completed", paidSession("cs_test_never_created", eveID, "starter", "pi_f")))
	cs2 := b.checkout(t, "refill")
	ts.deliverOK(t, stripeEvent("evt_swap", "checkout.session.completed", paidSession(cs2, eveID, "refill", "pi_s")))
	wantMe(t, eve, "free", 1, 1)
	wantMe(t, b, "paid", 21, 11)
	// An event type the service does not handle: 200, nothing.
	ts.deliverOK(t, stripeEvent("evt_other", "invoice.paid", map[string]any{"id": "in_1", "object": "invoice"}))

	// A refund after credits were spent takes back only what is left.
	for range 19 {
		if r := b.do(t, "POST", "/api/workflows/image-from-text", spaTextPayload("a mug"), nil); r.StatusCode != 200 {
			t.Fatalf("generate: %d %s", r.StatusCode, r.body)
		}
	}
	ts.app.WaitJobs()
	wantMe(t, b, "paid", 2, 11)
	ts.deliverOK(t, stripeEvent("evt_refund", "charge.refunded", refundedCharge("ch_h", "pi_h", 1000)))
	wantMe(t, b, "paid", 0, 1)
	checkLedger(t, ts, uid)
	var delta, requested int
	if err := ts.app.DB.QueryRow(t.Context(), `SELECT "delta", "requested" FROM "credit_ledger" WHERE "reason" = 'purchase_refund' AND "workflow" = 'image-from-text'`).Scan(&delta, &requested); err != nil || delta != -2 || requested != -20 {
		t.Errorf("refund ledger row: delta %d requested %d (%v), want -2 of -20", delta, requested, err)
	}
	// The same refund again, and an older partial one, change nothing.
	ts.deliverOK(t, stripeEvent("evt_refund_2", "charge.refunded", refundedCharge("ch_h", "pi_h", 1000)))
	ts.deliverOK(t, stripeEvent("evt_refund_old", "charge.refunded", refundedCharge("ch_h", "pi_h", 500)))
	wantMe(t, b, "paid", 0, 1)
	checkLedger(t, ts, uid)
	list := b.do(t, "GET", "/api/billing/purchases", nil, nil)
	if !strings.Contains(string(list.body), `"kind":"refund"`) || !strings.Contains(string(list.body), `"refundedAmount":1000,"credits":{"productShoots":-2,"adGraphics":-10},"requested":{"productShoots":-20,"adGraphics":-10}`) {
		t.Errorf("purchases after the refund: %s", list.body)
	}
}

// TestBillingRefundBeforeGrant: Stripe does not promise order. A refund
// that arrives before its payment's grant is kept, and the grant applies it.
func TestBillingRefundBeforeGrant(t *testing.T) {
	t.Parallel()
	ts, _ := billingServer(t, nil)
	b := ts.browser()
	b.signUp(t, "order@example.com", "password123")
	uid := userID(t, ts, "order@example.com")
	cs := b.checkout(t, "starter")
	ts.deliverOK(t, stripeEvent("evt_r", "charge.refunded", refundedCharge("ch_o", "pi_o", 500)))
	ts.deliverOK(t, stripeEvent("evt_g", "checkout.session.completed", paidSession(cs, uid, "starter", "pi_o")))
	wantMe(t, b, "paid", 11, 6)
	checkLedger(t, ts, uid)
}

// TestBillingCheckoutRefusals: each refusal is a 4xx in the app API's
// shape, or the upstream shape when Stripe is down, and none creates
// anything.
func TestBillingCheckoutRefusals(t *testing.T) {
	t.Parallel()
	ts, rec := billingServer(t, nil)
	b := ts.browser()
	wantAppError(t, b.do(t, "POST", "/api/billing/checkout", map[string]any{"packId": "starter", "successUrl": spaOrigin, "cancelUrl": spaOrigin}, nil), 401, "UNAUTHORIZED")
	b.signUp(t, "refused@example.com", "password123")
	for _, c := range []struct {
		body   any
		status int
		code   string
	}{
		{map[string]any{"packId": "gold", "successUrl": spaOrigin + "/a", "cancelUrl": spaOrigin + "/b"}, 400, "INVALID_REQUEST"},
		{map[string]any{"packId": "starter", "successUrl": spaOrigin + "/a"}, 400, "INVALID_REQUEST"},
		{map[string]any{"packId": 5, "successUrl": spaOrigin + "/a", "cancelUrl": spaOrigin + "/b"}, 400, "INVALID_REQUEST"},
		{map[string]any{"packId": "starter", "successUrl": "https://evil.example/a", "cancelUrl": spaOrigin + "/b"}, 403, "INVALID_REDIRECT_URL"},
		{map[string]any{"packId": "starter", "successUrl": spaOrigin + "/a", "cancelUrl": "/billing"}, 403, "INVALID_REDIRECT_URL"},
		{map[string]any{"packId": "starter", "successUrl": "javascript:alert(1)", "cancelUrl": spaOrigin + "/b"}, 403, "INVALID_REDIRECT_URL"},
		{map[string]any{"packId": "starter", "successUrl": "http://localhost:5173@evil.example/", "cancelUrl": spaOrigin + "/b"}, 403, "INVALID_REDIRECT_URL"},
	} {
		wantAppError(t, b.do(t, "POST", "/api/billing/checkout", c.body, nil), c.status, c.code)
	}
	if n := len(rec.take()); n != 0 {
		t.Errorf("refused checkouts called Stripe %d times", n)
	}

	// Stripe down: the upstream shape, nothing recorded.
	ts.app.SetStripeHTTPClient(&http.Client{Transport: roundTripFunc(func(*http.Request) (*http.Response, error) { return nil, fmt.Errorf("connection refused") })})
	r := b.do(t, "POST", "/api/billing/checkout", map[string]any{"packId": "starter", "successUrl": spaOrigin + "/a", "cancelUrl": spaOrigin + "/b"}, nil)
	wantAppError(t, r, 502, "UPSTREAM_UNAVAILABLE")
	var n int
	ts.app.DB.QueryRow(t.Context(), `SELECT (SELECT count(*) FROM "billing_checkout") + (SELECT count(*) FROM "billing_customer")`).Scan(&n)
	if n != 0 {
		t.Errorf("%d billing rows after Stripe failed", n)
	}

	// Without a key, checkout says so; the catalog still answers.
	bare := newServer(t, map[string]string{"BILLING_PACKS": billingPacks})
	nb := bare.browser()
	nb.signUp(t, "bare@example.com", "password123")
	wantAppError(t, nb.do(t, "POST", "/api/billing/checkout", map[string]any{"packId": "starter", "successUrl": spaOrigin + "/a", "cancelUrl": spaOrigin + "/b"}, nil), 500, "BACKEND_MISCONFIGURED")
	if r := nb.do(t, "GET", "/api/billing/packs", nil, nil); r.StatusCode != 200 {
		t.Errorf("packs without Stripe: %d", r.StatusCode)
	}
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// TestBillingRoundTrips pins the database round trips of the billing
// routes (README, "Database round trips per request"), with rate limits
// on as in production, and the metrics a purchase emits.
func TestBillingRoundTrips(t *testing.T) {
	t.Parallel()
	ts, _ := billingServer(t, map[string]string{"RATE_LIMIT_ENABLED": "true"})
	lines := &metricLines{}
	ts.app.SetMetrics(&metrics.Emitter{W: lines, Function: "dev", Now: ts.clock.Now})
	b := ts.browser()
	b.signUp(t, "rt@example.com", "password123")
	uid := userID(t, ts, "rt@example.com")
	count := func(name string, want int64, f func() resp) resp {
		t.Helper()
		before := ts.app.DB.RoundTrips()
		r := f()
		if got := ts.app.DB.RoundTrips() - before; got != want {
			t.Errorf("%s: %d round trips, want %d (%d %s)", name, got, want, r.StatusCode, r.body)
		}
		return r
	}
	count("packs", 0, func() resp { return ts.browser().do(t, "GET", "/api/billing/packs", nil, nil) })
	buy := map[string]any{"packId": "starter", "successUrl": spaOrigin + "/ok", "cancelUrl": spaOrigin + "/no"}
	// Session, per-user limit, customer read, customer save, checkout row.
	r := count("first checkout", 5, func() resp { return b.do(t, "POST", "/api/billing/checkout", buy, nil) })
	cs := r.json(t)["sessionId"].(string)
	count("checkout", 4, func() resp { return b.do(t, "POST", "/api/billing/checkout", buy, nil) })
	lines.take(t)
	// Seen, the grant's batch, and the read of who won it.
	paid := stripeEvent("evt_rt", "checkout.session.completed", paidSession(cs, uid, "starter", "pi_rt"))
	count("webhook grant", 4, func() resp { return ts.deliver(t, paid, webhookSecret, ts.clock.Now()) })
	count("webhook redelivery", 1, func() resp { return ts.deliver(t, paid, webhookSecret, ts.clock.Now()) })
	count("webhook refund", 3, func() resp {
		return ts.deliver(t, stripeEvent("evt_rt_r", "charge.refunded", refundedCharge("ch_rt", "pi_rt", 1000)), webhookSecret, ts.clock.Now())
	})
	count("webhook bad signature", 0, func() resp { return ts.deliver(t, paid, "whsec_wrong", ts.clock.Now()) })
	// The session from the signed cookie cache, then one query.
	count("purchases", 1, func() resp { return b.do(t, "GET", "/api/billing/purchases", nil, nil) })
	want := []metric{
		{metrics.Purchases, 1, "Pack=starter", true},
		{metrics.BillingEvents, 1, "Outcome=granted", true},
		{metrics.BillingEvents, 1, "Outcome=duplicate", true},
		{metrics.PurchaseRefunds, 1, "", false},
		{metrics.BillingEvents, 1, "Outcome=refund_applied", true},
		{metrics.BillingEvents, 1, "Outcome=invalid_signature", true},
	}
	if got := lines.take(t); !reflect.DeepEqual(got, want) {
		t.Errorf("metrics %+v, want %+v", got, want)
	}
}
