// Package billing builds the billing API the history function serves. It
// is a package of its own so that what imports the history function's
// other parts (the image proxy shares its asset handler) does not link
// Stripe's library.
package billing

import (
	"adstudio/internal/billing/billingapi"
	"adstudio/internal/billing/billingdb"
	"adstudio/internal/server"
)

// New builds the billing API on c: Stripe's client only when a secret key
// is configured.
func New(c *server.Core) *billingapi.API {
	b := &billingapi.API{
		Guard: c.Guard, Store: &billingdb.Store{DB: c.DB, UserTable: c.Auth.UserTable()}, Billing: c.Config.Billing,
		Now: c.Now, Metrics: c.Metrics, Logger: c.Log,
	}
	if c.Config.Billing.SecretKey != "" {
		b.Stripe = billingapi.NewStripe(c.Config.Billing.SecretKey, c.Config.Billing.APIBase, nil)
	}
	return b
}
