// Package app builds the whole service from a Config. The Lambda entry
// points, the local development server and the end-to-end tests all call
// New, so they cannot drift apart.
package app

import (
	"context"
	"errors"
	"net/http"
	"path"
	"strings"
	"time"

	"adstudio/internal/auth/authapi"
	"adstudio/internal/auth/authdb"
	"adstudio/internal/auth/cookie"
	"adstudio/internal/auth/oauth"
	"adstudio/internal/auth/password"
	"adstudio/internal/auth/session"
	"adstudio/internal/config"
	"adstudio/internal/database"
	"adstudio/internal/devtools/imagegen"
	"adstudio/internal/generation/gendb"
	"adstudio/internal/generation/workflowapi"
	"adstudio/internal/historyapi"
	"adstudio/internal/httpapi"
	"adstudio/internal/objectstore"
	"adstudio/internal/origin"
	"adstudio/internal/profile"
	"adstudio/internal/qwen"
	"adstudio/internal/ratelimit"
	"adstudio/internal/safefetch"
)

// App is the assembled service.
type App struct {
	Config   config.Config
	DB       *database.DB
	Sessions *session.Manager
	Hasher   *password.Hasher

	auth      *authapi.API
	profile   *profile.API
	workflows *workflowapi.API
	history   *historyapi.API
	// Generations is the generation store (sweeps, tests).
	Generations *gendb.Store
	// Storage is the object store, nil when no bucket is configured.
	Storage objectstore.Store
}

// New opens the database and builds every handler. It does no network I/O:
// a remote database is first contacted by the first request that needs it.
// now is the clock (nil: time.Now); tests move it to cross expiries.
func New(cfg config.Config, now func() time.Time) (*App, error) {
	if now == nil {
		now = time.Now
	}
	db, err := database.Open(cfg.DatabaseURL, cfg.DatabaseToken)
	if err != nil {
		return nil, err
	}
	auths := authdb.New(db, cfg.AuthSchema)
	trusted := origin.New(cfg.BaseURL, cfg.TrustedOrigins)
	sessions := &session.Manager{
		Store: auths,
		Cookies: cookie.Settings{
			Prefix: cfg.CookiePrefix, Secure: cfg.CookieSecure, SameSite: cfg.CookieSameSite,
			Domain: cfg.CookieDomain, Partitioned: cfg.CookiePartitioned,
		},
		Signer:         cookie.NewSigner(cfg.Secrets),
		Now:            now,
		AbsoluteMaxAge: cfg.SessionAbsoluteMaxAge,
	}
	limiter := &ratelimit.Limiter{DB: db, Headers: cfg.IPAddressHeaders, Now: now}
	hasher := password.NewHasher(2)
	guard := &httpapi.Guard{Sessions: sessions, Origins: trusted}
	if cfg.RateLimitEnabled {
		guard.Limiter = limiter
	}

	var objects objectstore.Store
	switch {
	case cfg.S3On:
		s3, err := objectstore.NewS3(context.Background(), cfg.S3)
		if err != nil {
			return nil, err
		}
		objects = s3
	case cfg.ObjectsDir != "":
		local, err := objectstore.NewLocal(cfg.ObjectsDir)
		if err != nil {
			return nil, err
		}
		objects = local
	}
	gens := &gendb.Store{DB: db}
	client := qwen.NewClient(cfg.Qwen, nil)
	provider := func() (qwen.Generator, *qwen.ConfigError) {
		var ce *qwen.ConfigError
		if errors.As(cfg.QwenErr, &ce) {
			return nil, ce
		}
		if err := cfg.Qwen.Validate(); err != nil {
			if cfg.Local {
				// make dev works offline: a real PNG drawn from the prompt.
				return imagegen.Local{}, nil
			}
			errors.As(err, &ce)
			return nil, ce
		}
		return client, nil
	}
	jobTimeout := cfg.Qwen.Timeout + 60*time.Second
	a := &App{
		Config:      cfg,
		DB:          db,
		Sessions:    sessions,
		Hasher:      hasher,
		Generations: gens,
		Storage:     objects,
		profile:     &profile.API{Guard: guard, Profiles: &profile.Store{DB: db, UserTable: `"` + auths.UserTable() + `"`}, Now: now},
		workflows: &workflowapi.API{
			Guard: guard, Generations: gens, Provider: provider, Now: now,
			SyncBudget: cfg.SyncBudget, JobTimeout: jobTimeout,
			Runner: &workflowapi.Runner{
				Generations: gens, Storage: objects, BaseURL: cfg.BaseURL, Now: now, CopyAttempts: 3,
				Fetcher:    safefetch.New(safefetch.Options{MaxBytes: 32 << 20, Timeout: 60 * time.Second, AllowHosts: cfg.FetchAllowHosts}),
				RefFetcher: safefetch.New(safefetch.Options{MaxBytes: workflowapi.MaxReference, Timeout: 15 * time.Second, MaxRedirects: 3, AllowHosts: cfg.FetchAllowHosts}),
			},
		},
		history: &historyapi.API{Guard: guard, Generations: gens, Storage: objects, BaseURL: cfg.BaseURL, Now: now,
			MaxInline: maxInline(cfg), StaleAfter: jobTimeout + staleMargin},
	}
	a.auth = &authapi.API{
		Store: auths, Sessions: sessions, Hasher: hasher, Origins: trusted,
		Limiter: limiter, Limits: cfg.RateLimitEnabled, FrontendURL: cfg.FrontendURL, Now: now,
		BeforeDeleteUser: a.deleteUserObjects,
		Social:           socialConfig(cfg),
	}
	return a, nil
}

// maxInline is the largest image the asset route returns itself: on Lambda
// a response stops at 6 MB of JSON, so about 4 MB of base64-encoded bytes.
func maxInline(cfg config.Config) int64 {
	if cfg.Local {
		return 0
	}
	return 4 << 20
}

// deleteUserObjects removes every stored object of a user who deletes their
// account, before the rows go (a failure keeps the account, so it can be
// retried instead of leaving unreachable images behind).
func (a *App) deleteUserObjects(ctx context.Context, userID string) error {
	if a.Storage == nil {
		return nil
	}
	return a.Storage.DeletePrefix(ctx, "users/"+userID+"/")
}

// InjectFaults makes the generation runner and the history delete fail (or
// wait) at the named steps (tests).
func (a *App) InjectFaults(f func(step string) error) {
	a.workflows.Runner.Inject = f
	a.history.Inject = f
}

// SetDispatcher hands generations past their sync budget to d (on Lambda:
// an asynchronous invocation of the generate function itself).
func (a *App) SetDispatcher(d workflowapi.Dispatcher) { a.workflows.Dispatcher = d }

// Continue finishes a handed-off generation from its stored row.
func (a *App) Continue(ctx context.Context, generationID string) error {
	return a.workflows.Continue(ctx, generationID)
}

// SetSyncBudget changes how long workflow requests wait before answering
// 202 (tests use a short one to exercise the slow-provider path).
func (a *App) SetSyncBudget(d time.Duration) { a.workflows.SyncBudget = d }

// SetSyncTimer replaces the timer of the sync budget (nil: time.After).
// Tests pass one that fires only when they say so; one that returns a nil
// channel never fires, so every request waits for its job.
func (a *App) SetSyncTimer(after func(time.Duration) <-chan time.Time) { a.workflows.After = after }

// WaitJobs blocks until every generation job started by a request has
// returned, including those still running after their request answered.
func (a *App) WaitJobs() { a.workflows.Wait() }

// staleMargin is added to the job time limit before a pending generation
// counts as lost, so a sweep can never race a job that is still running.
const staleMargin = 5 * time.Minute

// Sweep fails (and refunds) generations left pending longer than any
// generation can take (a request that died, or work lost with a frozen
// Lambda), and drops idle rate-limit counters. make dev runs it every minute; the stack schedules it; and an
// owner's history read sweeps their own stale items on sight.
func (a *App) Sweep(ctx context.Context) ([]string, error) {
	now := a.auth.Now()
	if err := a.auth.Limiter.Purge(ctx, time.Hour); err != nil {
		return nil, err
	}
	// Abandoned OAuth states and unredeemed one-time tokens.
	if err := a.auth.Store.PurgeVerifications(ctx, now); err != nil {
		return nil, err
	}
	return a.Generations.Sweep(ctx, now.Add(-a.workflows.JobTimeout-staleMargin), now)
}

// Migrate applies pending migrations for the configured layout.
func (a *App) Migrate(ctx context.Context) ([]string, error) {
	return a.DB.Migrate(ctx, string(a.Config.AuthSchema))
}

// Close releases the database.
func (a *App) Close() error { return a.DB.Close() }

// Handler serves the routes owned by fns (every route when fns is empty),
// plus the health check, behind the shared middleware.
func (a *App) Handler(fns ...Function) http.Handler {
	owned := map[Function]bool{}
	for _, f := range fns {
		owned[f] = true
	}
	mux := http.NewServeMux()
	for _, r := range Routes() {
		if len(fns) == 0 || owned[r.Function] || r.Path == "/api/health" {
			mux.Handle(r.Pattern(), r.handler(a))
		}
	}
	// Unknown paths and methods outside the table's subtrees (below
	// /api/auth the table's own catch-all answers as better-auth does).
	mux.Handle("/", httpapi.Handler(notFound))

	var h http.Handler = mux
	h = prefixed(authapi.BasePath+"/", a.auth.RateLimit(exactMethods(h)), h)
	h = strictPaths(h)
	h = httpapi.CORS(origin.New(a.Config.BaseURL, a.Config.TrustedOrigins), h)
	return httpapi.Recover(h)
}

func notFound(w http.ResponseWriter, r *http.Request) error {
	return &httpapi.PlainError{Status: http.StatusNotFound, Message: "Not found"}
}

// prefixed sends paths below prefix to in, everything else to out.
func prefixed(prefix string, in, out http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasPrefix(r.URL.Path, prefix) {
			in.ServeHTTP(w, r)
			return
		}
		out.ServeHTTP(w, r)
	})
}

// exactMethods refuses HEAD below /api/auth: better-auth's router matches
// methods exactly, while ServeMux would run GET handlers for it.
func exactMethods(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodHead {
			w.WriteHeader(http.StatusNotFound)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// strictPaths answers 404 for paths that are not already clean ("//",
// "/./", "/../"): ServeMux would otherwise redirect them, and neither
// better-auth nor the app API does.
func strictPaths(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p := r.URL.Path
		if p != "/" && path.Clean(p) != strings.TrimSuffix(p, "/") || strings.Contains(p, "//") {
			if strings.HasPrefix(p, authapi.BasePath+"/") {
				w.WriteHeader(http.StatusNotFound)
				return
			}
			httpapi.WriteError(w, r, &httpapi.PlainError{Status: http.StatusNotFound, Message: "Not found"})
			return
		}
		next.ServeHTTP(w, r)
	})
}

// socialConfig builds the configured OAuth providers. Their HTTP client has
// a timeout of its own: a provider that hangs must not hold a Lambda until
// its deadline.
func socialConfig(cfg config.Config) authapi.Social {
	hc := &http.Client{Timeout: 10 * time.Second}
	providers := map[string]*oauth.Provider{}
	if c, ok := cfg.OAuth["google"]; ok {
		providers["google"] = oauth.NewGoogle(c.ClientID, c.ClientSecret, oauth.Endpoints{AuthURL: c.AuthURL, TokenURL: c.TokenURL}, hc)
	}
	if c, ok := cfg.OAuth["github"]; ok {
		ep := oauth.Endpoints{AuthURL: c.AuthURL, TokenURL: c.TokenURL}
		if c.APIURL != "" {
			ep.UserURL, ep.EmailsURL = c.APIURL+"/user", c.APIURL+"/user/emails"
		}
		providers["github"] = oauth.NewGitHub(c.ClientID, c.ClientSecret, ep, hc)
	}
	return authapi.Social{Providers: providers, Tokens: oauth.NewTokenCipher(cfg.Secrets), BaseURL: cfg.BaseURL, TrustedProviders: cfg.TrustedProviders}
}
