// Package config reads the service configuration from the environment once
// per cold start, applies defaults in one place and validates every value.
//
// It imports no other package of the project (a test holds it to that), so
// every binary and the CDK stack can read settings without linking what
// uses them. The decisions that need another package's knowledge are made
// there, from the values read here: the cookie attributes in
// internal/auth/cookie (Resolve), the image provider's checks in
// internal/qwen (NewConfig), the S3 client in internal/objectstore.
package config

import (
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// Schema names the physical layout of better-auth's core tables.
type Schema string

const (
	// SchemaUsers is layout B ("seed 003", docs/auth-wire.md §10.2): table
	// `users`, dates as TEXT.
	SchemaUsers Schema = "users"
	// SchemaUser is layout A ("addreams", docs/auth-wire.md §10.2): table
	// `user`, dates as unix seconds.
	SchemaUser Schema = "user"
)

// Config is the whole service configuration.
type Config struct {
	// Local is true for `make dev`: migrations at start, generated secret.
	Local bool

	// Secrets sign cookies with the first entry and accept every entry.
	Secrets        []string
	BaseURL        string // public base URL of the API (origin, no path)
	TrustedOrigins []string
	FrontendURL    string

	DatabaseURL   string
	DatabaseToken string
	Port          string

	AuthSchema   Schema
	CookiePrefix string
	CookieDomain string
	// CookieOverrides are the cookie attributes set explicitly. The
	// attributes in force are decided from BaseURL and TrustedOrigins by
	// internal/auth/cookie (Resolve), where these win.
	CookieOverrides CookieOverrides

	IPAddressHeaders []string
	RateLimitEnabled bool
	// OAuth holds the configured social providers by id ("google",
	// "github"); a provider without credentials is absent.
	OAuth map[string]OAuthClient
	// TrustedProviders may link to an account by email without vouching
	// for the email (better-auth's accountLinking.trustedProviders).
	TrustedProviders []string
	// SessionAbsoluteMaxAge ends a session this long after it was created,
	// however often it is refreshed (SESSION_ABSOLUTE_MAX_AGE, seconds).
	SessionAbsoluteMaxAge time.Duration
	// AuditRetention is how long the sweep keeps audit_log rows
	// (AUDIT_RETENTION_DAYS, 1 to 3650; default 90 days).
	AuditRetention time.Duration
	// SyncBudget is how long a workflow request waits for its generation
	// before answering 202 pending (WORKFLOW_SYNC_BUDGET_MS, default 25 s:
	// under API Gateway's 30 s cut-off).
	SyncBudget time.Duration
	// AssetLinkTTL is how long a signed asset or thumbnail link opens
	// without a cookie (ASSET_LINK_TTL, seconds; default 1 hour).
	AssetLinkTTL time.Duration
	// UploadMaxBytes caps one direct upload of a reference image
	// (UPLOAD_MAX_BYTES; default and most 10 MB, the provider's limit on a
	// reference: a larger upload could never be used).
	UploadMaxBytes int64

	// Qwen is the image provider's settings. A problem in them other than
	// an unreadable QWEN_TIMEOUT_MS is not a start-up error: qwen.NewConfig
	// reports it, and the generate path answers it per request as
	// BACKEND_MISCONFIGURED (docs/app-api.md §2), since only generate needs
	// the provider.
	Qwen Qwen

	// S3 is R2 (or another S3-compatible store) when S3On; otherwise local
	// mode keeps images in ObjectsDir and other modes have no bucket.
	S3         S3
	S3On       bool
	ObjectsDir string

	// Mail is the mail transport (password reset, verification).
	Mail Mail
	// Billing is the credit packs on sale and the Stripe account that
	// sells them.
	Billing Billing

	// FetchAllowHosts are host:port pairs the server may download from even
	// though they are private addresses: local fakes in tests and demos.
	FetchAllowHosts []string
}

// Getenv is the lookup function Load reads from; os.Getenv in production,
// a map in tests.
type Getenv func(string) string

// Error is a configuration problem, phrased as one line naming the variable.
type Error struct {
	Var  string
	What string
}

func (e *Error) Error() string { return e.Var + ": " + e.What }

// Load builds a Config from the environment. In local mode every value has a
// working default; elsewhere the secret and the public URL are required.
func Load(getenv Getenv, local bool) (Config, error) {
	c := Config{Local: local}
	get := func(k string) string { return strings.TrimSpace(getenv(k)) }

	c.Port = get("PORT")
	if c.Port == "" {
		c.Port = "8787"
	}
	if n, err := strconv.Atoi(c.Port); err != nil || n < 1 || n > 65535 {
		return c, &Error{"PORT", "expected a TCP port number"}
	}

	c.DatabaseURL = get("TURSO_DATABASE_URL")
	c.DatabaseToken = get("TURSO_AUTH_TOKEN")
	if c.DatabaseURL == "" {
		if !local {
			return c, &Error{"TURSO_DATABASE_URL", "required (libsql://, https://, http://, ws(s):// or file: URL)"}
		}
		c.DatabaseURL = "file:.data/dev.db"
	}
	if err := checkDatabaseURL(c.DatabaseURL); err != nil {
		return c, err
	}

	c.BaseURL = strings.TrimRight(get("BETTER_AUTH_URL"), "/")
	if c.BaseURL == "" {
		if !local {
			return c, &Error{"BETTER_AUTH_URL", "required: the public base URL of the API, e.g. https://api.example.com"}
		}
		c.BaseURL = "http://127.0.0.1:" + c.Port
	}
	u, err := url.Parse(c.BaseURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || (u.Path != "" && u.Path != "/") {
		return c, &Error{"BETTER_AUTH_URL", "expected an http(s) origin such as https://api.example.com"}
	}

	if raw := get("BETTER_AUTH_SECRET"); raw != "" {
		for _, s := range strings.Split(raw, ",") {
			if s = strings.TrimSpace(s); s != "" {
				c.Secrets = append(c.Secrets, s)
			}
		}
	}
	if len(c.Secrets) == 0 && !local {
		return c, &Error{"BETTER_AUTH_SECRET", "required: at least 32 characters (a comma-separated list rotates: the first signs, all verify)"}
	}
	for _, s := range c.Secrets {
		if len(s) < 32 {
			return c, &Error{"BETTER_AUTH_SECRET", "every secret must be at least 32 characters"}
		}
	}

	c.TrustedOrigins = SplitList(get("TRUSTED_ORIGINS"))
	for _, o := range c.TrustedOrigins {
		if err := checkTrustedOrigin(o); err != nil {
			return c, &Error{"TRUSTED_ORIGINS", err.Error()}
		}
	}
	if len(c.TrustedOrigins) == 0 && local {
		c.TrustedOrigins = []string{"http://localhost:5173", "http://127.0.0.1:5173"}
	}
	c.FrontendURL = get("FRONTEND_URL")
	if c.FrontendURL != "" {
		if fu, err := url.Parse(c.FrontendURL); err != nil || (fu.Scheme != "http" && fu.Scheme != "https") || fu.Host == "" {
			return c, &Error{"FRONTEND_URL", "expected an absolute http(s) URL"}
		}
	}

	switch s := Schema(get("AUTH_SCHEMA")); s {
	case "":
		c.AuthSchema = SchemaUsers
	case SchemaUsers, SchemaUser:
		c.AuthSchema = s
	default:
		return c, &Error{"AUTH_SCHEMA", `expected "users" (seed 003 layout) or "user" (addreams layout)`}
	}

	c.CookiePrefix = get("COOKIE_PREFIX")
	if c.CookiePrefix == "" {
		c.CookiePrefix = "better-auth"
	}
	if strings.ContainsAny(c.CookiePrefix, " ;,=\t\"") {
		return c, &Error{"COOKIE_PREFIX", "must not contain spaces, ';', ',', '=' or quotes"}
	}
	if c.CookieOverrides, err = LoadCookieOverrides(getenv); err != nil {
		return c, err
	}
	c.CookieDomain = get("COOKIE_DOMAIN")

	for _, h := range SplitList(get("IP_ADDRESS_HEADERS")) {
		c.IPAddressHeaders = append(c.IPAddressHeaders, strings.ToLower(h))
	}
	c.Qwen = loadQwen(getenv)
	// Whatever the key, a timeout that does not parse is refused at
	// start: it would otherwise surface only when a user generates.
	if get("QWEN_TIMEOUT_MS") != "" && c.Qwen.Timeout <= 0 {
		return c, &Error{"QWEN_TIMEOUT_MS", "expected whole milliseconds greater than 0, e.g. 45000"}
	}
	if c.S3, c.S3On, err = loadS3(getenv); err != nil {
		return c, err
	}
	c.ObjectsDir = get("OBJECTS_DIR")
	if c.ObjectsDir == "" && local && !c.S3On {
		c.ObjectsDir = filepath.Join(".data", "objects")
		if p, ok := strings.CutPrefix(c.DatabaseURL, "file:"); ok {
			p, _, _ = strings.Cut(p, "?")
			c.ObjectsDir = filepath.Join(filepath.Dir(p), "objects")
		}
	}
	c.FetchAllowHosts = SplitList(get("FETCH_ALLOW_HOSTS"))
	if c.Mail, err = loadMail(get, local, c.DatabaseURL); err != nil {
		return c, err
	}
	if c.Billing, err = loadBilling(get); err != nil {
		return c, err
	}
	if local && c.Billing.SecretKey == "" {
		c.Billing = builtinBilling(c.Billing, c.BaseURL)
	}

	c.RateLimitEnabled = true
	if v := get("RATE_LIMIT_ENABLED"); v != "" {
		if c.RateLimitEnabled, err = strconv.ParseBool(v); err != nil {
			return c, &Error{"RATE_LIMIT_ENABLED", "expected true or false"}
		}
	}
	if c.OAuth, err = loadOAuth(get); err != nil {
		return c, err
	}
	for _, p := range SplitList(get("TRUSTED_PROVIDERS")) {
		if p != "google" && p != "github" {
			return c, &Error{"TRUSTED_PROVIDERS", `expected a comma-separated list of "google" and "github"`}
		}
		c.TrustedProviders = append(c.TrustedProviders, p)
	}
	c.SessionAbsoluteMaxAge = 30 * 24 * time.Hour
	if v := get("SESSION_ABSOLUTE_MAX_AGE"); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n < 300 || n > 10*365*24*3600 {
			return c, &Error{"SESSION_ABSOLUTE_MAX_AGE", "expected whole seconds between 300 and 315360000 (default 2592000, 30 days)"}
		}
		c.SessionAbsoluteMaxAge = time.Duration(n) * time.Second
	}
	c.AuditRetention = 90 * 24 * time.Hour
	if v := get("AUDIT_RETENTION_DAYS"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 3650 {
			return c, &Error{"AUDIT_RETENTION_DAYS", "expected whole days between 1 and 3650 (default 90)"}
		}
		c.AuditRetention = time.Duration(n) * 24 * time.Hour
	}
	c.SyncBudget = 25 * time.Second
	if v := get("WORKFLOW_SYNC_BUDGET_MS"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 28000 {
			return c, &Error{"WORKFLOW_SYNC_BUDGET_MS", "expected milliseconds between 1 and 28000 (API Gateway cuts requests at 30 s)"}
		}
		c.SyncBudget = time.Duration(n) * time.Millisecond
	}
	c.AssetLinkTTL = time.Hour
	if v := get("ASSET_LINK_TTL"); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n < 60 || n > 7*24*3600 {
			return c, &Error{"ASSET_LINK_TTL", "expected whole seconds between 60 and 604800 (default 3600, one hour)"}
		}
		c.AssetLinkTTL = time.Duration(n) * time.Second
	}
	c.UploadMaxBytes = 10 << 20
	if v := get("UPLOAD_MAX_BYTES"); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n < 1024 || n > 10<<20 {
			return c, &Error{"UPLOAD_MAX_BYTES", "expected bytes between 1024 and 10485760 (the default: the provider's 10 MB limit on a reference image)"}
		}
		c.UploadMaxBytes = n
	}
	return c, nil
}

// LoadLocal is Load in local mode, plus the development secret: generated on
// first use and kept beside a file database so sessions survive restarts.
func LoadLocal(getenv Getenv) (Config, error) {
	c, err := Load(getenv, true)
	if err != nil || len(c.Secrets) > 0 {
		return c, err
	}
	path := filepath.Join(".data", "dev-secret")
	if p, ok := strings.CutPrefix(c.DatabaseURL, "file:"); ok {
		p, _, _ = strings.Cut(p, "?")
		path = filepath.Join(filepath.Dir(p), "dev-secret")
	}
	secret, err := readOrCreateSecret(path)
	if err != nil {
		return c, &Error{"BETTER_AUTH_SECRET", "unset, and the development secret could not be kept at " + path + ": " + err.Error()}
	}
	c.Secrets = []string{secret}
	return c, nil
}

func readOrCreateSecret(path string) (string, error) {
	if b, err := os.ReadFile(path); err == nil {
		if s := strings.TrimSpace(string(b)); len(s) >= 32 {
			return s, nil
		}
	} else if !errors.Is(err, os.ErrNotExist) {
		return "", err
	}
	buf := make([]byte, 32)
	rand.Read(buf)
	s := base64.RawURLEncoding.EncodeToString(buf)
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return "", err
	}
	return s, os.WriteFile(path, []byte(s+"\n"), 0o600)
}

func checkDatabaseURL(raw string) error {
	for _, p := range []string{"libsql://", "https://", "http://", "wss://", "ws://", "file:"} {
		if strings.HasPrefix(raw, p) {
			if p == "file:" && strings.HasPrefix(raw, "file://") && !strings.HasPrefix(raw, "file:///") {
				return &Error{"TURSO_DATABASE_URL", "a file URL is file:relative/path.db or file:/abs/path.db"}
			}
			return nil
		}
	}
	return &Error{"TURSO_DATABASE_URL", "expected a libsql://, https://, http://, ws(s):// or file: URL"}
}

// SplitList splits a comma-separated setting into its trimmed, non-empty
// items, as every list variable is read (the CDK stack reads them so too).
func SplitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// Summary describes the configuration for the start-up log, without secrets.
// Two lines report decisions config leaves to other packages, so the caller
// passes them in: cookies describes the cookie attributes in force and why
// (cookie.Shape's String, from cookie.Resolve), and qwenErr is
// qwen.NewConfig's error for c.Qwen.
func (c Config) Summary(cookies string, qwenErr error) string {
	var b strings.Builder
	fmt.Fprintf(&b, "database=%s schema=%s base_url=%s trusted_origins=%s\n", redactURL(c.DatabaseURL), c.AuthSchema, c.BaseURL, strings.Join(c.TrustedOrigins, ","))
	fmt.Fprintf(&b, "cookies: prefix=%s domain=%q %s\n", c.CookiePrefix, c.CookieDomain, cookies)
	fmt.Fprintf(&b, "rate_limit=%t; secrets=%d (values hidden)\n", c.RateLimitEnabled, len(c.Secrets))
	switch {
	case qwenErr != nil:
		fmt.Fprintf(&b, "images: provider misconfigured (%v)", qwenErr)
	case c.Qwen.APIKey == "" && c.Local:
		b.WriteString("images: built-in generator (no QWEN_API_KEY)")
	case c.Qwen.APIKey == "":
		b.WriteString("images: QWEN_API_KEY missing, workflows answer BACKEND_MISCONFIGURED")
	default:
		fmt.Fprintf(&b, "images: qwen %s / %s at %s", c.Qwen.ImageModel, c.Qwen.EditModel, c.Qwen.BaseURL)
	}
	switch {
	case c.S3On:
		fmt.Fprintf(&b, "; storage: s3 bucket %s at %s", c.S3.Bucket, c.S3.Endpoint)
	case c.ObjectsDir != "":
		fmt.Fprintf(&b, "; storage: folder %s", c.ObjectsDir)
	default:
		b.WriteString("; storage: none (GENERATIONS_BUCKET is not configured)")
	}
	switch c.Mail.Transport {
	case "":
		b.WriteString("\nmail: none (password reset and verification are off)")
	case MailOutbox:
		fmt.Fprintf(&b, "\nmail: outbox %s (links in this log)", c.Mail.OutboxDir)
	default:
		fmt.Fprintf(&b, "\nmail: %s from %s", c.Mail.Transport, c.Mail.From)
	}
	if c.BuiltinCheckout() {
		fmt.Fprintf(&b, "\nbilling: %d pack(s); built-in checkout at %s/_stripe/ (no STRIPE_SECRET_KEY)", len(c.Billing.Packs), c.BaseURL)
	} else {
		fmt.Fprintf(&b, "\nbilling: %d pack(s); stripe key %s, webhook secret %s, api %s", len(c.Billing.Packs),
			setOrNot(c.Billing.SecretKey), setOrNot(c.Billing.WebhookSecret), c.Billing.APIBase)
	}
	return b.String()
}

// BuiltinStripeKey is the secret key make dev uses when STRIPE_SECRET_KEY
// is unset: it selects the built-in checkout (BuiltinCheckout), which
// ignores the key's value.
const BuiltinStripeKey = "sk_test_builtin"

// BuiltinCheckout reports whether make dev sells through its built-in
// stand-in for Stripe (internal/devtools/stripedev) rather than a Stripe
// account: local mode without STRIPE_SECRET_KEY. Its API and pages are
// served by the dev server itself, at BaseURL + "/v1/" and "/_stripe/".
func (c Config) BuiltinCheckout() bool {
	return c.Local && c.Billing.SecretKey == BuiltinStripeKey
}

// builtinBilling is local mode's billing without a Stripe key: the
// built-in checkout on the dev server itself, its webhook secret random
// per load (make dev loads its configuration once, signs and verifies its
// own events, and the stand-in keeps its sessions in memory only), and, unless BILLING_PACKS
// says otherwise, a demo catalog whose price ids the stand-in accepts like
// any other.
func builtinBilling(b Billing, baseURL string) Billing {
	b.SecretKey = BuiltinStripeKey
	b.WebhookSecret = "whsec_builtin_" + rand.Text()
	b.APIBase = baseURL
	if b.Packs == nil {
		b.Packs = []Pack{
			{ID: "starter", Name: "Starter (demo)", PriceID: "price_dev_starter", Credits: PackCredits{ImageFromText: 20, ImageFromReference: 10}, Paid: true},
			{ID: "refill", Name: "Text refill (demo)", PriceID: "price_dev_refill", Credits: PackCredits{ImageFromText: 5}},
		}
	}
	return b
}

// setOrNot says whether a secret is set, never what it is.
func setOrNot(secret string) string {
	if secret == "" {
		return "not set"
	}
	return "set"
}

// CookieOverrides are the cookie attributes the operator set explicitly.
// Only what is set here overrides the attributes the deployment's shape
// calls for (internal/auth/cookie decides those, and applies these).
type CookieOverrides struct {
	SameSite    string // COOKIE_SAMESITE lower-cased: "lax", "strict", "none", or "" when unset
	Secure      *bool  // COOKIE_SECURE; nil when unset
	Partitioned *bool  // COOKIE_PARTITIONED; nil when unset
}

// LoadCookieOverrides reads COOKIE_SAMESITE, COOKIE_SECURE and
// COOKIE_PARTITIONED. Load reads them with it, and so does the CDK stack
// (from its settings) to report the cookies the functions will choose.
func LoadCookieOverrides(getenv Getenv) (CookieOverrides, error) {
	get := func(k string) string { return strings.TrimSpace(getenv(k)) }
	flag := func(k string) (*bool, error) {
		v := get(k)
		if v == "" {
			return nil, nil
		}
		b, err := strconv.ParseBool(v)
		if err != nil {
			return nil, &Error{k, "expected true or false"}
		}
		return &b, nil
	}
	var o CookieOverrides
	var err error
	switch o.SameSite = strings.ToLower(get("COOKIE_SAMESITE")); o.SameSite {
	case "", "lax", "strict", "none":
	default:
		return o, &Error{"COOKIE_SAMESITE", "expected lax, strict or none"}
	}
	if o.Secure, err = flag("COOKIE_SECURE"); err != nil {
		return o, err
	}
	if o.Partitioned, err = flag("COOKIE_PARTITIONED"); err != nil {
		return o, err
	}
	return o, nil
}

func redactURL(raw string) string {
	base, _, _ := strings.Cut(raw, "?")
	return base
}

// OAuthClient is one social provider's registration. The endpoint URLs are
// empty for the real provider; tests (and GitHub Enterprise) set them.
type OAuthClient struct {
	ClientID     string
	ClientSecret string
	AuthURL      string // <P>_AUTH_URL
	TokenURL     string // <P>_TOKEN_URL
	APIURL       string // GITHUB_API_URL: /user and /user/emails live below it
}

// loadOAuth reads GOOGLE_* and GITHUB_*: an id without its secret (or the
// reverse) is an error, neither leaves the provider out.
func loadOAuth(get func(string) string) (map[string]OAuthClient, error) {
	out := map[string]OAuthClient{}
	for _, p := range []struct{ id, env string }{{"google", "GOOGLE"}, {"github", "GITHUB"}} {
		c := OAuthClient{
			ClientID: get(p.env + "_CLIENT_ID"), ClientSecret: get(p.env + "_CLIENT_SECRET"),
			AuthURL: get(p.env + "_AUTH_URL"), TokenURL: get(p.env + "_TOKEN_URL"),
		}
		if p.id == "github" {
			c.APIURL = strings.TrimRight(get("GITHUB_API_URL"), "/")
		}
		if c.ClientID == "" && c.ClientSecret == "" {
			continue
		}
		if c.ClientID == "" || c.ClientSecret == "" {
			return nil, &Error{p.env + "_CLIENT_SECRET", p.env + "_CLIENT_ID and " + p.env + "_CLIENT_SECRET go together"}
		}
		for k, v := range map[string]string{"_AUTH_URL": c.AuthURL, "_TOKEN_URL": c.TokenURL, "_API_URL": c.APIURL} {
			if v == "" {
				continue
			}
			if u, err := url.Parse(v); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
				return nil, &Error{p.env + k, "expected an absolute http(s) URL"}
			}
		}
		out[p.id] = c
	}
	return out, nil
}
