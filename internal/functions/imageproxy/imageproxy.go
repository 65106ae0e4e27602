// Package imageproxy is the image proxy function: a generation's image
// bytes, for their owner only. It shares the history API's asset handler
// and links neither the provider client nor the fetcher.
package imageproxy

import (
	"net/http"

	"adstudio/internal/historyapi"
	"adstudio/internal/httpapi"
	"adstudio/internal/routes"
	"adstudio/internal/server"
)

// Part binds the image proxy's route of the route table.
func Part(a *historyapi.API) server.Part {
	return server.Part{Function: routes.ImageProxy, Handlers: map[string]http.Handler{
		"GET /api/history/{id}/asset": httpapi.Handler(a.Asset),
	}}
}
