// Package server holds what every function shares: the database, the
// sessions, the origin checks, the object store, and the middleware chain
// that turns one function's handlers into its http.Handler. Each function
// (internal/functions/...) adds only its own handlers, so a Lambda links
// only what its routes need.
package server

import (
	"adstudio/internal/audit"
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"adstudio/internal/accesslog"
	"adstudio/internal/assetlink"
	"adstudio/internal/auth/authdb"
	"adstudio/internal/auth/cookie"
	"adstudio/internal/auth/session"
	"adstudio/internal/config"
	"adstudio/internal/database"
	"adstudio/internal/generation/gendb"
	"adstudio/internal/httpapi"
	"adstudio/internal/metrics"
	"adstudio/internal/objectstore"
	"adstudio/internal/origin"
	"adstudio/internal/ratelimit"
)

// Core is the shared part of every function.
type Core struct {
	Config   config.Config
	Now      func() time.Time
	DB       *database.DB
	Auth     *authdb.Store
	Sessions *session.Manager
	Origins  origin.List
	Guard    *httpapi.Guard
	// Limiter is the one rate limiter of this process: the database
	// counts the limits that must hold across instances, its in-process
	// window the general per-IP limit (so one Limiter per process). The
	// guard gets it only when rate limits are on.
	Limiter *ratelimit.Limiter
	// Objects is the object store, nil when no bucket is configured.
	Objects objectstore.Store
	// Generations are the generation rows and their credits.
	Generations *gendb.Store
	// Links signs the image links handed out, and checks them.
	Links *assetlink.Signer
	// Log receives the access log, a line per request (nil: slog's
	// default). RequestIDs reads the platform's ids of a request for it
	// (set by internal/lambdaentry on Lambda; nil locally).
	Log        *slog.Logger
	RequestIDs func(*http.Request) accesslog.IDs
	// Metrics is the process's one metric emitter (set by
	// internal/lambdaentry on Lambda, writing EMF lines to stdout; nil
	// locally: no metrics). Set it with UseMetrics, before the functions
	// are built: they copy it.
	Metrics *metrics.Emitter
}

// UseMetrics makes e the emitter of c and of what c built itself (the
// guard's per-user limits).
func (c *Core) UseMetrics(e *metrics.Emitter) {
	c.Metrics = e
	c.Guard.Metrics = e
}

// New opens the database and the object store. It does no network I/O: a
// remote database or bucket is first contacted by the first request that
// needs it. now is the clock (nil: time.Now); tests move it to cross
// expiries.
func New(cfg config.Config, now func() time.Time) (*Core, error) {
	if now == nil {
		now = time.Now
	}
	// The cookie attributes follow the deployment (a contradiction in the
	// COOKIE_* settings fails the start here, as a bad variable does).
	cookies, _, err := cookie.Resolve(cfg)
	if err != nil {
		return nil, err
	}
	db, err := database.Open(cfg.DatabaseURL, cfg.DatabaseToken)
	if err != nil {
		return nil, err
	}
	auths := authdb.New(db, cfg.AuthSchema)
	auths.WithholdFreeCredits = cfg.Mail.FreeCreditsNeedVerifiedEmail
	trusted := origin.New(cfg.BaseURL, cfg.TrustedOrigins)
	sessions := &session.Manager{
		Store:          auths,
		Cookies:        cookies,
		Signer:         cookie.NewSigner(cfg.Secrets),
		Now:            now,
		AbsoluteMaxAge: cfg.SessionAbsoluteMaxAge,
	}
	limiter := &ratelimit.Limiter{DB: db, Headers: cfg.IPAddressHeaders, Now: now}
	guard := &httpapi.Guard{Sessions: sessions, Origins: trusted}
	if cfg.RateLimitEnabled {
		guard.Limiter = limiter
	}
	c := &Core{
		Config: cfg, Now: now, DB: db, Auth: auths, Sessions: sessions, Origins: trusted,
		Guard: guard, Limiter: limiter, Generations: &gendb.Store{DB: db},
		Links: assetlink.New(cfg.Secrets, cfg.AssetLinkTTL, now),
	}
	switch {
	case cfg.S3On:
		if c.Objects, err = objectstore.NewS3(context.Background(), cfg.S3); err != nil {
			return nil, err
		}
	case cfg.ObjectsDir != "":
		if c.Objects, err = objectstore.NewLocal(cfg.ObjectsDir); err != nil {
			return nil, err
		}
	}
	return c, nil
}

// Close releases the database.
func (c *Core) Close() error { return c.DB.Close() }

// Health is GET /api/health, served by every function. It touches nothing.
func (c *Core) Health(w http.ResponseWriter, r *http.Request) error {
	httpapi.WriteJSON(w, http.StatusOK, map[string]string{
		"status": "ok", "service": "addreams-api", "timestamp": authdb.FormatTime(c.Now()),
	})
	return nil
}

// JobTimeout bounds one generation job: the provider's own time limit plus
// a minute for the download and the copy.
func (c *Core) JobTimeout() time.Duration { return c.Config.Qwen.Timeout + 60*time.Second }

// StaleAfter is how long a generation may stay pending before it counts as
// lost: the job limit plus a margin, so a sweep can never race a job that
// is still running.
func (c *Core) StaleAfter() time.Duration { return c.JobTimeout() + 5*time.Minute }

// MaxInline is the largest image the asset route returns itself: on Lambda
// a response stops at 6 MB of JSON, so about 4 MB of base64-encoded bytes;
// larger ones get a presigned redirect. Locally there is no limit (0).
func (c *Core) MaxInline() int64 {
	if c.Config.Local {
		return 0
	}
	return 4 << 20
}

// UploadLifetime is how long an uploaded reference image is kept: a day
// to use it (and retry with it), then the sweep deletes it.
const UploadLifetime = 24 * time.Hour

// Sweep fails (and refunds) generations left pending longer than any
// generation can take (a request that died, or work lost with a frozen
// Lambda), drops idle rate-limit counters, abandoned OAuth states,
// unredeemed one-time tokens and audit rows older than
// AUDIT_RETENTION_DAYS, and deletes uploads older than UploadLifetime.
// make dev runs it every minute; the stack schedules it
// on the generate function; and an owner's history read sweeps their own
// stale items on sight.
func (c *Core) Sweep(ctx context.Context) ([]string, error) {
	now := c.Now()
	if err := c.Limiter.Purge(ctx, time.Hour); err != nil {
		return nil, err
	}
	if err := c.Auth.PurgeVerifications(ctx, now); err != nil {
		return nil, err
	}
	if err := audit.Prune(ctx, c.DB, now.Add(-c.Config.AuditRetention)); err != nil {
		return nil, err
	}
	swept, err := c.Generations.Sweep(ctx, now.Add(-c.StaleAfter()), now)
	if len(swept) > 0 {
		// Each one is a job lost (a crash, a frozen Lambda, a hand-off that
		// never ran): the stack alarms on any.
		c.Metrics.Count(ctx, metrics.SweptGenerations, int64(len(swept)))
	}
	if err != nil {
		return swept, err
	}
	if c.Objects != nil {
		if _, err := c.Objects.DeleteOlder(ctx, objectstore.UploadsPrefix, now.Add(-UploadLifetime)); err != nil {
			return swept, fmt.Errorf("sweep uploads: %w", err)
		}
	}
	return swept, nil
}
