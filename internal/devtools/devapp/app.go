// Package devapp runs all four functions in one process over one database:
// make dev's server and the subject of the end-to-end API tests (this
// package's _test.go files). It builds each function exactly as its Lambda
// does (internal/functions/...), so what it serves is what ships; it only
// adds what a single long-running process needs: the built-in image
// generator when there is no DashScope key, the built-in checkout when
// there is no Stripe key, migrations, and hooks for the tests.
package devapp

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"

	"adstudio/internal/auth/password"
	"adstudio/internal/auth/session"
	"adstudio/internal/awsenv"
	"adstudio/internal/billing/billingapi"
	"adstudio/internal/config"
	"adstudio/internal/database"
	"adstudio/internal/devtools/imagegen"
	"adstudio/internal/devtools/stripedev"
	"adstudio/internal/functions/auth"
	"adstudio/internal/functions/billing"
	"adstudio/internal/functions/generate"
	"adstudio/internal/functions/history"
	"adstudio/internal/functions/imageproxy"
	"adstudio/internal/generation/engine"
	"adstudio/internal/generation/gendb"
	"adstudio/internal/historyapi"
	"adstudio/internal/lambdaentry"
	"adstudio/internal/metrics"
	"adstudio/internal/objectstore"
	"adstudio/internal/qwen"
	"adstudio/internal/routes"
	"adstudio/internal/server"
)

// App is the assembled service.
type App struct {
	Config   config.Config
	DB       *database.DB
	Sessions *session.Manager
	Hasher   *password.Hasher
	// Generations is the generation store (sweeps, tests).
	Generations *gendb.Store
	// Storage is the object store, nil when no bucket is configured.
	Storage objectstore.Store

	// uploads is the local bucket's upload endpoint (make dev), nil with a
	// real bucket.
	uploads http.Handler
	// checkout is the built-in stand-in for Stripe (make dev without a
	// Stripe key), nil otherwise; webhook is the API handler its events
	// are delivered to, built at the first delivery.
	checkout    *stripedev.Handler
	webhookOnce sync.Once
	webhook     http.Handler

	core     *server.Core
	auth     *auth.Function
	generate *generate.Function
	history  *historyapi.API
	billing  *billingapi.API
}

// New opens the database and builds every function. It does no network
// I/O. now is the clock (nil: time.Now); tests move it to cross expiries.
func New(cfg config.Config, now func() time.Time) (*App, error) {
	c, err := server.New(cfg, now)
	if err != nil {
		return nil, err
	}
	var opts generate.Options
	if cfg.Local {
		// make dev works offline: a real PNG drawn from the prompt.
		opts.Fallback = imagegen.Local{}
	}
	// A developer trying SES from make dev signs with their shell's
	// credentials.
	shellAWS := func() (aws.Config, error) { return awsenv.Config(os.Getenv) }
	mailer, err := auth.Mailer(cfg, os.Getenv, shellAWS, slog.Default())
	if err != nil {
		return nil, err
	}
	a := &App{
		Config: cfg, DB: c.DB, Sessions: c.Sessions, Generations: c.Generations, Storage: c.Objects,
		core: c, auth: auth.New(c, auth.Options{Mail: mailer}), generate: generate.New(c, opts), history: history.New(c), billing: billing.New(c),
	}
	a.Hasher = a.auth.API.Hasher
	if local, ok := c.Objects.(*objectstore.Local); ok && cfg.Local && len(cfg.Secrets) > 0 {
		// make dev's bucket is a folder; it takes the browser's direct
		// uploads itself, at BaseURL + LocalObjectsPath, as R2 would at its
		// presigned URLs. Its key is derived from the auth secret, so no
		// signature it makes means anything elsewhere.
		mac := hmac.New(sha256.New, []byte(cfg.Secrets[0]))
		mac.Write([]byte("adstudio local bucket uploads"))
		if err := local.ServePresigned(cfg.BaseURL, mac.Sum(nil), now); err != nil {
			return nil, err
		}
		a.uploads = local.Handler()
	}
	if cfg.BuiltinCheckout() {
		// make dev sells without a Stripe account: the stand-in answers the
		// billing API's two calls, in process (cfg.Billing.APIBase, the dev
		// server's own /v1/, need not be reachable from here, as in the
		// tests), and delivers its events to the webhook route in process.
		a.checkout = stripedev.New(stripedev.Options{
			BaseURL: cfg.BaseURL, WebhookSecret: cfg.Billing.WebhookSecret, Deliver: a.deliverWebhook, Now: c.Now, Logger: slog.Default(),
		})
		a.SetStripeHTTPClient(&http.Client{Transport: inProcess{a.checkout}, Timeout: 8 * time.Second})
	}
	return a, nil
}

// deliverWebhook hands a signed event from the built-in checkout to the
// app's webhook route, as Stripe's POST would arrive, and returns its
// status.
func (a *App) deliverWebhook(ctx context.Context, body []byte, signature string) (int, error) {
	a.webhookOnce.Do(func() { a.webhook = a.Handler() })
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, a.Config.BaseURL+"/api/billing/webhook", bytes.NewReader(body))
	if err != nil {
		return 0, err
	}
	req.Header.Set("Content-Type", "application/json; charset=utf-8")
	req.Header.Set("User-Agent", "Stripe/1.0 (+https://stripe.com/docs/webhooks)")
	req.Header.Set("Stripe-Signature", signature)
	req.RequestURI = req.URL.RequestURI()
	req.RemoteAddr = "127.0.0.1:0"
	rec := httptest.NewRecorder()
	a.webhook.ServeHTTP(rec, req)
	return rec.Code, nil
}

// inProcess is an http.RoundTripper that serves each request with h, in
// this process.
type inProcess struct{ h http.Handler }

func (t inProcess) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.Body != nil {
		defer req.Body.Close()
	}
	if err := req.Context().Err(); err != nil {
		return nil, err
	}
	r := req.Clone(req.Context())
	if r.Body == nil {
		r.Body = http.NoBody
	}
	r.RequestURI = r.URL.RequestURI()
	r.RemoteAddr = "127.0.0.1:0"
	rec := httptest.NewRecorder()
	t.h.ServeHTTP(rec, r)
	res := rec.Result()
	res.Request = req
	return res, nil
}

// DevHandler is what make dev serves: every function, as Handler, plus
// the local bucket's upload endpoint (objectstore.LocalObjectsPath), which
// stands for R2, and the built-in checkout (/v1/ and /_stripe/), which
// stands for Stripe; both sit outside the API's middleware: the bucket
// answers CORS as a bucket with a CORS rule does.
func (a *App) DevHandler() http.Handler {
	api := a.Handler()
	if a.uploads == nil && a.checkout == nil {
		return api
	}
	mux := http.NewServeMux()
	if a.uploads != nil {
		mux.Handle(objectstore.LocalObjectsPath, a.uploads)
	}
	if a.checkout != nil {
		mux.Handle("/v1/", a.checkout)
		mux.Handle("/_stripe/", a.checkout)
	}
	mux.Handle("/", api)
	return mux
}

// parts are the functions' contributions, keyed by function.
func (a *App) parts() map[routes.Function]server.Part {
	return map[routes.Function]server.Part{
		routes.Auth:       a.auth.Part(),
		routes.Generate:   a.generate.Part(),
		routes.History:    history.Part(a.history, a.billing),
		routes.ImageProxy: imageproxy.Part(a.history),
	}
}

// Handler serves the routes of fns (every function when fns is empty), as
// the functions' Lambdas do.
func (a *App) Handler(fns ...routes.Function) http.Handler {
	if len(fns) == 0 {
		fns = routes.Functions()
	}
	all := a.parts()
	var parts []server.Part
	for _, fn := range fns {
		parts = append(parts, all[fn])
	}
	h, err := a.core.Handler(parts...)
	if err != nil {
		// The route table and the functions' bindings disagree: a bug that
		// every test would hit at once.
		panic(fmt.Sprintf("devapp: %v", err))
	}
	return h
}

// HandlerWith is Handler for every function with extra routes mounted
// behind the same middleware (benchmarks compare a trivial handler with
// the real ones).
func (a *App) HandlerWith(extra map[string]http.Handler) http.Handler {
	all := a.parts()
	var parts []server.Part
	for _, fn := range routes.Functions() {
		parts = append(parts, all[fn])
	}
	mux, err := a.core.Mux(parts...)
	if err != nil {
		panic(fmt.Sprintf("devapp: %v", err))
	}
	for pattern, h := range extra {
		mux.Handle(pattern, h)
	}
	return a.core.Chain(mux, parts...)
}

// Function is fn as its Lambda entry point serves it (events included).
func (a *App) Function(fn routes.Function) lambdaentry.Function {
	f := lambdaentry.Function{Handler: a.Handler(fn)}
	if fn == routes.Generate {
		f.Events = lambdaentry.GenerateEvents(a.core.Sweep, a.generate.Runner.Continue)
	}
	return f
}

// InjectFaults makes the generation runner and the history delete fail (or
// wait) at the named steps (tests).
func (a *App) InjectFaults(f func(step string) error) {
	a.generate.Runner.Inject = f
	a.history.Inject = f
}

// SetDispatcher hands generations past their sync budget to d (on Lambda:
// an asynchronous invocation of the generate function itself).
func (a *App) SetDispatcher(d engine.Dispatcher) { a.generate.Runner.Dispatcher = d }

// Continue finishes a handed-off generation from its stored row.
func (a *App) Continue(ctx context.Context, generationID string) error {
	return a.generate.Runner.Continue(ctx, generationID)
}

// SetAccessLog sends the access log (a line per request) to l, for the
// handlers built after the call (tests read it, or discard it).
func (a *App) SetAccessLog(l *slog.Logger) { a.core.Log = l }

// SetMetrics sends every function's metrics to e, for the handlers and
// jobs that run after the call (tests read them). make dev emits none:
// there is no CloudWatch to read them, and an EMF line per sign-in and
// generation would bury the access log on the developer's terminal.
func (a *App) SetMetrics(e *metrics.Emitter) {
	a.core.UseMetrics(e)
	a.generate.Runner.Metrics = e
	a.auth.API.Metrics = e
	a.billing.Metrics = e
}

// SetStripeHTTPClient sends the billing API's Stripe calls through hc
// (tests: a client whose transport fails, to act out Stripe being down).
func (a *App) SetStripeHTTPClient(hc *http.Client) {
	b := a.Config.Billing
	a.billing.Stripe = billingapi.NewStripe(b.SecretKey, b.APIBase, hc)
}

// SetSyncBudget changes how long workflow requests wait before answering
// 202 (tests use a short one to exercise the slow-provider path).
func (a *App) SetSyncBudget(d time.Duration) { a.generate.API.SyncBudget = d }

// SetGenerationDelay makes the built-in generator (imagegen.Local, used
// when no DashScope key is configured) wait d before each image, so make
// dev can act out a slow provider (cmd/dev's DEV_GENERATION_DELAY_MS). A
// real provider is left alone. Call it before serving: it replaces the
// runner's Provider, which requests read unguarded.
func (a *App) SetGenerationDelay(d time.Duration) {
	resolve := a.generate.Runner.Provider
	a.generate.Runner.Provider = func() (qwen.Generator, *qwen.ConfigError) {
		g, ce := resolve()
		if _, ok := g.(imagegen.Local); ok {
			g = imagegen.Local{Delay: d}
		}
		return g, ce
	}
}

// SetSyncTimer replaces the timer of the sync budget (nil: time.After).
// Tests pass one that fires only when they say so; one that returns a nil
// channel never fires, so every request waits for its job.
func (a *App) SetSyncTimer(after func(time.Duration) <-chan time.Time) { a.generate.API.After = after }

// WaitJobs blocks until every generation job started by a request has
// returned, including those still running after their request answered.
func (a *App) WaitJobs() { a.generate.Runner.Wait() }

// Sweep is the scheduled sweep (server.Core.Sweep).
func (a *App) Sweep(ctx context.Context) ([]string, error) { return a.core.Sweep(ctx) }

// Migrate applies pending migrations for the configured layout.
func (a *App) Migrate(ctx context.Context) ([]string, error) {
	return a.DB.Migrate(ctx, string(a.Config.AuthSchema))
}

// Close releases the database.
func (a *App) Close() error { return a.core.Close() }
