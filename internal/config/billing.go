package config

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/url"
	"strings"
)

// Billing is how credit packs are sold (docs/billing.md): the catalog and
// the Stripe account behind it.
type Billing struct {
	// Packs is BILLING_PACKS, in the order given: what GET
	// /api/billing/packs lists and what a checkout may name.
	Packs []Pack
	// SecretKey is Stripe's secret API key (STRIPE_SECRET_KEY, from SSM
	// when deployed). Empty: checkout answers BACKEND_MISCONFIGURED.
	SecretKey string
	// WebhookSecret verifies Stripe-Signature (STRIPE_WEBHOOK_SECRET, from
	// SSM). Empty: the webhook answers BACKEND_MISCONFIGURED, so Stripe
	// keeps retrying until it is set.
	WebhookSecret string
	// APIBase is Stripe's API origin (STRIPE_API_BASE): Stripe's own by
	// default, stripe-mock in tests.
	APIBase string
}

// Mode is the Stripe mode of the secret key: "live" for a live key, "test"
// otherwise. Customers are kept per mode.
func (b Billing) Mode() string {
	if strings.HasPrefix(b.SecretKey, "sk_live_") || strings.HasPrefix(b.SecretKey, "rk_live_") {
		return "live"
	}
	return "test"
}

// Pack is one credit pack: its display name, the Stripe price a checkout
// charges, the credits per workflow the purchase grants, and whether it
// makes the account paid.
type Pack struct {
	ID      string      `json:"id"`
	Name    string      `json:"name"`
	PriceID string      `json:"priceId"`
	Credits PackCredits `json:"credits"`
	Paid    bool        `json:"paid"`
}

// PackCredits is what a pack grants, keyed by workflow as BILLING_PACKS
// spells it.
type PackCredits struct {
	ImageFromText      int64 `json:"image-from-text"`
	ImageFromReference int64 `json:"image-from-reference"`
}

// Pack returns the pack with id.
func (b Billing) Pack(id string) (Pack, bool) {
	for _, p := range b.Packs {
		if p.ID == id {
			return p, true
		}
	}
	return Pack{}, false
}

// maxPackCredits bounds one pack's grant per workflow: the same bound as
// an operator's single grant, far above any real pack, and it keeps a
// typo from minting a billion credits.
const maxPackCredits = 1_000_000

func loadBilling(get func(string) string) (Billing, error) {
	b := Billing{SecretKey: get("STRIPE_SECRET_KEY"), WebhookSecret: get("STRIPE_WEBHOOK_SECRET"), APIBase: get("STRIPE_API_BASE")}
	if b.APIBase == "" {
		b.APIBase = "https://api.stripe.com"
	}
	if u, err := url.Parse(b.APIBase); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || (u.Path != "" && u.Path != "/") {
		return b, &Error{"STRIPE_API_BASE", "expected an origin such as https://api.stripe.com"}
	}
	b.APIBase = strings.TrimSuffix(b.APIBase, "/")
	if b.SecretKey != "" && !strings.HasPrefix(b.SecretKey, "sk_") && !strings.HasPrefix(b.SecretKey, "rk_") {
		// The value is not repeated: it is a secret.
		return b, &Error{"STRIPE_SECRET_KEY", "expected a Stripe secret or restricted key (sk_… or rk_…)"}
	}
	if b.WebhookSecret != "" && !strings.HasPrefix(b.WebhookSecret, "whsec_") {
		return b, &Error{"STRIPE_WEBHOOK_SECRET", "expected the endpoint's signing secret (whsec_…)"}
	}
	raw := get("BILLING_PACKS")
	if raw == "" {
		return b, nil
	}
	dec := json.NewDecoder(bytes.NewReader([]byte(raw)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&b.Packs); err != nil || dec.More() {
		return b, &Error{"BILLING_PACKS", `expected a JSON array of {"id","name","priceId","credits":{"image-from-text":N,"image-from-reference":N},"paid":bool}` + errSuffix(err)}
	}
	seen := map[string]bool{}
	for i, p := range b.Packs {
		where := fmt.Sprintf("pack %d", i)
		switch {
		case !packID(p.ID):
			return b, &Error{"BILLING_PACKS", where + `: "id" must be 1-64 letters, digits, "-" or "_"`}
		case seen[p.ID]:
			return b, &Error{"BILLING_PACKS", where + `: "id" ` + p.ID + " appears twice"}
		case strings.TrimSpace(p.Name) == "":
			return b, &Error{"BILLING_PACKS", where + `: "name" is required`}
		case !strings.HasPrefix(p.PriceID, "price_"):
			return b, &Error{"BILLING_PACKS", where + `: "priceId" must be a Stripe price id (price_…)`}
		case p.Credits.ImageFromText < 0 || p.Credits.ImageFromReference < 0 || p.Credits.ImageFromText > maxPackCredits || p.Credits.ImageFromReference > maxPackCredits:
			return b, &Error{"BILLING_PACKS", where + fmt.Sprintf(": credits must be between 0 and %d", maxPackCredits)}
		case p.Credits.ImageFromText+p.Credits.ImageFromReference == 0 && !p.Paid:
			return b, &Error{"BILLING_PACKS", where + ": grants nothing"}
		}
		seen[p.ID] = true
	}
	return b, nil
}

func errSuffix(err error) string {
	if err == nil {
		return ""
	}
	return " (" + err.Error() + ")"
}

// packID: ids travel in URLs, metadata and ledger ids.
func packID(s string) bool {
	if s == "" || len(s) > 64 {
		return false
	}
	for _, c := range s {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}
