// Package history is the history function: the signed-in user's list of
// generations, one generation's detail, and its delete; and the credit
// packs sold through Stripe (catalog, checkout, purchases, webhook).
package history

import (
	"net/http"

	"adstudio/internal/historyapi"
	"adstudio/internal/httpapi"
	"adstudio/internal/routes"
	"adstudio/internal/server"
)

// New builds the history API on c (the image proxy shares it for its one
// route).
func New(c *server.Core) *historyapi.API {
	return &historyapi.API{
		Guard: c.Guard, Generations: c.Generations, Storage: c.Objects, BaseURL: c.Config.BaseURL, Now: c.Now, Links: c.Links,
		MaxInline: c.MaxInline(), StaleAfter: c.StaleAfter(),
	}
}

// Billing is the billing API's handlers (internal/functions/billing
// builds it), named here by what they do so that this package, which the
// image proxy imports too, does not link Stripe's library.
type Billing interface {
	Packs(w http.ResponseWriter, r *http.Request) error
	Checkout(w http.ResponseWriter, r *http.Request) error
	Purchases(w http.ResponseWriter, r *http.Request) error
	Webhook(w http.ResponseWriter, r *http.Request) error
}

// Part binds the history function's routes of the route table.
func Part(a *historyapi.API, b Billing) server.Part {
	return server.Part{Function: routes.History, Handlers: map[string]http.Handler{
		"GET /api/history":           httpapi.Handler(a.List),
		"GET /api/history/{id}":      httpapi.Handler(a.Detail),
		"DELETE /api/history/{id}":   httpapi.Handler(a.Delete),
		"GET /api/billing/packs":     httpapi.Handler(b.Packs),
		"POST /api/billing/checkout": httpapi.Handler(b.Checkout),
		"GET /api/billing/purchases": httpapi.Handler(b.Purchases),
		"POST /api/billing/webhook":  httpapi.Handler(b.Webhook),
	}}
}
