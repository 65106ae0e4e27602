package localgateway

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stripe/stripe-go/v85/webhook"

	"adstudio/internal/devtools/stripemocktest"
	"adstudio/internal/devtools/testenv"
)

// TestBillingThroughPackagedHistory buys a pack through the packaged
// history function under RIE: the checkout reaches stripe-mock, and a
// webhook delivery signed as Stripe signs it crosses API Gateway's event
// and the Lambda adapter byte for byte (indented JSON with non-ASCII text:
// a re-encoded body would fail the signature), and so does its
// Stripe-Signature header, whose commas the adapter splits into several
// values; the grant shows in /api/me, served by auth. A tampered delivery
// is refused.
func TestBillingThroughPackagedHistory(t *testing.T) {
	rie := needRIE(t)
	dist := lambdaDist(t)
	mock := stripemocktest.Start(t, testenv.Tool(t, stripemocktest.BinEnv, stripemocktest.BinHow))
	const secret = "whsec_localgateway_billing"
	s := startServer(t, rie, dist, map[string]string{
		"BILLING_PACKS":         `[{"id":"starter","name":"Starter","priceId":"price_starter","credits":{"image-from-text":20,"image-from-reference":10},"paid":true}]`,
		"STRIPE_SECRET_KEY":     stripemocktest.APIKey,
		"STRIPE_WEBHOOK_SECRET": secret,
		"STRIPE_API_BASE":       mock,
	})
	c := newClient(t, s.URL)
	c.signUp("buyer@example.com")
	uid := c.json("GET", "/api/me", nil, 200)["user"].(map[string]any)["id"].(string)
	out := c.json("POST", "/api/billing/checkout", map[string]string{"packId": "starter", "successUrl": spaOrigin + "/ok", "cancelUrl": spaOrigin + "/no"}, 200)
	cs, _ := out["sessionId"].(string)
	if !strings.HasPrefix(cs, "cs_") {
		t.Fatalf("checkout: %v", out)
	}

	body, err := json.MarshalIndent(map[string]any{
		"id": "evt_lg_1", "object": "event", "api_version": "2026-03-25.dahlia", "created": time.Now().Unix(), "type": "checkout.session.completed",
		"data": map[string]any{"object": map[string]any{
			"id": cs, "object": "checkout.session", "mode": "payment", "payment_status": "paid", "status": "complete",
			"client_reference_id": uid, "metadata": map[string]string{"user_id": uid, "pack_id": "starter", "note": "Café – 東京"},
			"payment_intent": "pi_lg_1", "amount_total": 900, "currency": "eur",
		}},
	}, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	deliver := func(b []byte, header string) (int, string) {
		t.Helper()
		req, _ := http.NewRequest("POST", s.URL+"/api/billing/webhook", bytes.NewReader(b))
		req.Header.Set("Content-Type", "application/json; charset=utf-8")
		req.Header.Set("Stripe-Signature", header)
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		text, _ := io.ReadAll(res.Body)
		return res.StatusCode, string(text)
	}
	// The functions run on the real clock: signed now.
	signed := webhook.GenerateTestSignedPayload(&webhook.UnsignedPayload{Payload: body, Secret: secret, Timestamp: time.Now()})
	if status, text := deliver(bytes.Replace(body, []byte(`"amount_total": 900`), []byte(`"amount_total": 1`), 1), signed.Header); status != 400 || !strings.Contains(text, "INVALID_SIGNATURE") {
		t.Fatalf("tampered delivery: %d %s", status, text)
	}
	if status, text := deliver(body, signed.Header); status != 200 || text != `{"received":true}` {
		t.Fatalf("delivery: %d %s", status, text)
	}
	prof := c.json("GET", "/api/me", nil, 200)["profile"].(map[string]any)
	if prof["accountType"] != "paid" || prof["creditsProductShoots"] != 21.0 || prof["creditsAdGraphics"] != 11.0 {
		t.Fatalf("profile after the purchase: %v", prof)
	}
}
