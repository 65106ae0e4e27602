// Package generate is the generate function: the image workflows, the
// asynchronous continuation of a generation handed off past its sync
// budget, and the scheduled sweep. The generation itself runs in
// internal/generation/engine; this package only assembles it.
package generate

import (
	"errors"
	"net/http"
	"time"

	"adstudio/internal/generation/engine"
	"adstudio/internal/generation/workflowapi"
	"adstudio/internal/httpapi"
	"adstudio/internal/qwen"
	"adstudio/internal/routes"
	"adstudio/internal/safefetch"
	"adstudio/internal/server"
)

// Options are what differs between a Lambda and the local server.
type Options struct {
	// Fallback generates when no DashScope key is configured (make dev's
	// built-in generator); nil answers the configuration error instead.
	Fallback qwen.Generator
	// Dispatcher continues a generation past its sync budget elsewhere (on
	// Lambda: an asynchronous invocation of this function); nil lets the
	// job run on in this process.
	Dispatcher engine.Dispatcher
}

// Function is the generate function's handlers and engine.
type Function struct {
	Runner  *engine.Runner
	API     *workflowapi.API
	Uploads *workflowapi.Uploads
}

// New builds the generate function on c.
func New(c *server.Core, o Options) *Function {
	cfg := c.Config
	qcfg, qerr := qwen.NewConfig(cfg.Qwen)
	client := qwen.NewClient(qcfg, nil)
	provider := func() (qwen.Generator, *qwen.ConfigError) {
		var ce *qwen.ConfigError
		if errors.As(qerr, &ce) {
			return nil, ce
		}
		if err := qcfg.Validate(); err != nil {
			if o.Fallback != nil {
				return o.Fallback, nil
			}
			errors.As(err, &ce)
			return nil, ce
		}
		return client, nil
	}
	rn := &engine.Runner{
		Generations: c.Generations, Provider: provider, Storage: c.Objects, BaseURL: cfg.BaseURL, Links: c.Links, Now: c.Now,
		CopyAttempts: 3, JobTimeout: c.JobTimeout(), Dispatcher: o.Dispatcher, Metrics: c.Metrics,
		Fetcher:    safefetch.New(safefetch.Options{MaxBytes: 32 << 20, Timeout: 60 * time.Second, AllowHosts: cfg.FetchAllowHosts}),
		RefFetcher: safefetch.New(safefetch.Options{MaxBytes: engine.MaxReference, Timeout: 15 * time.Second, MaxRedirects: 3, AllowHosts: cfg.FetchAllowHosts}),
	}
	return &Function{
		Runner: rn,
		API:    &workflowapi.API{Guard: c.Guard, Generations: c.Generations, Runner: rn, Now: c.Now, SyncBudget: cfg.SyncBudget},
		Uploads: &workflowapi.Uploads{
			Guard: c.Guard, Storage: c.Objects, Runner: rn, MaxBytes: cfg.UploadMaxBytes, Now: c.Now,
		},
	}
}

// Part binds the workflow routes of the route table.
func (f *Function) Part() server.Part {
	a := f.API
	return server.Part{Function: routes.Generate, Handlers: map[string]http.Handler{
		"POST /api/workflows/image-from-text":      httpapi.Handler(a.ImageFromText),
		"POST /api/workflows/image-from-reference": httpapi.Handler(a.ImageFromReference),
		"POST /api/workflows/video-from-reference": httpapi.Handler(a.VideoFromReference),
		"/api/workflows/":                          httpapi.Handler(a.NotFound),
		"POST /api/uploads":                        httpapi.Handler(f.Uploads.Create),
	}}
}
