package devapp_test

import (
	"net/url"
	"regexp"
	"strings"
	"testing"
)

// TestBuiltinCheckout: make dev with no Stripe settings sells its demo
// packs through the built-in checkout, end to end: the catalog, a
// checkout whose page is on the dev server, Pay (a signed event delivered
// to the webhook in process), the credits in /api/me, and the dashboard's
// Refund taking them back.
func TestBuiltinCheckout(t *testing.T) {
	t.Parallel()
	ts := newLocalServer(t, nil)

	r := ts.browser().do(t, "GET", "/api/billing/packs", nil, nil)
	if r.StatusCode != 200 || string(r.body) != `{"packs":[{"id":"starter","name":"Starter (demo)","credits":{"productShoots":20,"adGraphics":10},"paid":true},`+
		`{"id":"refill","name":"Text refill (demo)","credits":{"productShoots":5,"adGraphics":0},"paid":false}]}` {
		t.Fatalf("packs: %d %s", r.StatusCode, r.body)
	}

	b := ts.browser()
	b.signUp(t, "builtin@example.com", "password123")
	success := spaOrigin + "/billing/done?session={CHECKOUT_SESSION_ID}"
	r = b.do(t, "POST", "/api/billing/checkout", map[string]any{"packId": "starter", "successUrl": success, "cancelUrl": spaOrigin + "/billing"}, nil)
	if r.StatusCode != 200 {
		t.Fatalf("checkout: %d %s", r.StatusCode, r.body)
	}
	m := r.json(t)
	id, _ := m["sessionId"].(string)
	pageURL, _ := m["url"].(string)
	u, err := url.Parse(pageURL)
	if !strings.HasPrefix(id, "cs_test_dev_") || err != nil || pageURL != ts.app.Config.BaseURL+"/_stripe/checkout/"+id {
		t.Fatalf("checkout answer %s", r.body)
	}

	// The page, on the dev server; its Pay form.
	page := b.do(t, "GET", u.Path, nil, nil)
	if page.StatusCode != 200 || !strings.Contains(string(page.body), "Built-in checkout (make dev)") {
		t.Fatalf("page: %d %s", page.StatusCode, page.body)
	}
	action := regexp.MustCompile(`action="([^"]+)"><button type="submit" id="pay"`).FindSubmatch(page.body)
	if action == nil {
		t.Fatalf("no pay form:\n%s", page.body)
	}
	wantMe(t, b, "free", 1, 1)
	r = b.do(t, "POST", string(action[1]), nil, nil)
	if r.StatusCode != 303 || r.Header.Get("Location") != spaOrigin+"/billing/done?session="+id {
		t.Fatalf("pay: %d %s %s", r.StatusCode, r.Header.Get("Location"), r.body)
	}
	// The webhook granted before the redirect.
	wantMe(t, b, "paid", 21, 11)
	list := b.do(t, "GET", "/api/billing/purchases", nil, nil)
	if !strings.Contains(string(list.body), `"checkoutSessionId":"`+id+`"`) || !strings.Contains(string(list.body), `"amount":900,"currency":"usd"`) {
		t.Errorf("purchases: %s", list.body)
	}
	if r := b.do(t, "POST", string(action[1]), nil, nil); r.StatusCode != 409 {
		t.Errorf("second pay: %d", r.StatusCode)
	}

	// The dashboard's Refund takes the pack back (the account stays paid).
	dash := b.do(t, "GET", "/_stripe/", nil, nil)
	refund := `/_stripe/refund/` + id
	if dash.StatusCode != 200 || !strings.Contains(string(dash.body), `action="`+refund+`"`) {
		t.Fatalf("dashboard: %d %s", dash.StatusCode, dash.body)
	}
	r = b.do(t, "POST", refund, nil, nil)
	if r.StatusCode != 303 || r.Header.Get("Location") != "/_stripe/" {
		t.Fatalf("refund: %d %s %s", r.StatusCode, r.Header.Get("Location"), r.body)
	}
	wantMe(t, b, "paid", 1, 1)
	checkLedger(t, ts, userID(t, ts, "builtin@example.com"))

	// Stripe's API answers only for the built-in key's calls; the rest of
	// /v1/ is not Stripe's.
	if r := b.do(t, "POST", "/v1/customers", nil, nil); r.StatusCode != 401 {
		t.Errorf("/v1/customers without a key: %d", r.StatusCode)
	}
}

// TestBuiltinCheckoutOnlyLocal: a Stripe key, or a deployment, turns the
// stand-in off.
func TestBuiltinCheckoutOnlyLocal(t *testing.T) {
	t.Parallel()
	for name, ts := range map[string]*testServer{
		"local with a key": newLocalServer(t, map[string]string{"STRIPE_SECRET_KEY": "sk_test_x"}),
		"deployed":         newServer(t, nil),
	} {
		if ts.app.Config.BuiltinCheckout() {
			t.Errorf("%s: built-in checkout on", name)
		}
		if r := ts.browser().do(t, "GET", "/_stripe/", nil, nil); r.StatusCode != 404 {
			t.Errorf("%s: /_stripe/ answers %d", name, r.StatusCode)
		}
		if r := ts.browser().do(t, "GET", "/api/billing/packs", nil, nil); string(r.body) != `{"packs":[]}` {
			t.Errorf("%s: packs %s", name, r.body)
		}
	}
}

// TestBuiltinCheckoutConfig: BILLING_PACKS replaces the demo catalog, and
// the start-up summary names the built-in checkout without its secrets.
func TestBuiltinCheckoutConfig(t *testing.T) {
	t.Parallel()
	ts := newLocalServer(t, map[string]string{"BILLING_PACKS": billingPacks, "STRIPE_WEBHOOK_SECRET": "whsec_ignored"})
	cfg := ts.app.Config
	if !cfg.BuiltinCheckout() || len(cfg.Billing.Packs) != 2 || cfg.Billing.Packs[0].PriceID != "price_starter" ||
		cfg.Billing.APIBase != cfg.BaseURL || !strings.HasPrefix(cfg.Billing.WebhookSecret, "whsec_") || cfg.Billing.WebhookSecret == "whsec_ignored" {
		t.Fatalf("billing %+v", cfg.Billing)
	}
	s := cfg.Summary("", nil)
	if !strings.Contains(s, "\nbilling: 2 pack(s); built-in checkout at http://127.0.0.1:1/_stripe/ (no STRIPE_SECRET_KEY)") ||
		strings.Contains(s, cfg.Billing.WebhookSecret) || strings.Contains(s, cfg.Billing.SecretKey) {
		t.Errorf("summary:\n%s", s)
	}
}
