// Package history is the history function: the signed-in user's list of
// generations, one generation's detail, and its delete.
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

// Part binds the history routes of the route table.
func Part(a *historyapi.API) server.Part {
	return server.Part{Function: routes.History, Handlers: map[string]http.Handler{
		"GET /api/history":         httpapi.Handler(a.List),
		"GET /api/history/{id}":    httpapi.Handler(a.Detail),
		"DELETE /api/history/{id}": httpapi.Handler(a.Delete),
	}}
}
