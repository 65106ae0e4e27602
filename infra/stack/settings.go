package stack

import (
	"encoding/json"
	"fmt"
	"net/mail"
	"strconv"
	"strings"

	"github.com/aws/aws-cdk-go/awscdk/v2/awslogs"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"

	"adstudio/internal/routes"
)

// Setting is one plain (non-secret) function setting, read from CDK context
// (`-c key=value` or cdk.json) and passed to every function as an
// environment variable (the mail settings and a social client id only to
// auth: AuthOnly, SocialClients; the credit packs only to history:
// HistoryOnly). An empty value is left out of the environment, so the
// function's own default applies (README.md, "Configuration").
type Setting struct {
	Context string // CDK context key
	Env     string // environment variable
}

// Settings lists every plain setting the stack passes through.
func Settings() []Setting {
	return []Setting{
		{"betterAuthUrl", "BETTER_AUTH_URL"}, // default: https://<domainName>, else the execute-api URL
		{"trustedOrigins", "TRUSTED_ORIGINS"},
		{"frontendUrl", "FRONTEND_URL"},
		{"databaseUrl", "TURSO_DATABASE_URL"},
		{"authSchema", "AUTH_SCHEMA"},
		{"cookiePrefix", "COOKIE_PREFIX"},
		{"cookieSameSite", "COOKIE_SAMESITE"},
		{"cookieDomain", "COOKIE_DOMAIN"},
		{"cookiePartitioned", "COOKIE_PARTITIONED"},
		{"r2AccountId", "R2_ACCOUNT_ID"},
		{"r2Bucket", "R2_BUCKET"},
		{"qwenRegion", "QWEN_REGION"},
		{"qwenImageModel", "QWEN_IMAGE_MODEL"},
		{"qwenImageEditModel", "QWEN_IMAGE_EDIT_MODEL"},
		{"qwenTimeoutMs", "QWEN_TIMEOUT_MS"},
		{"googleClientId", "GOOGLE_CLIENT_ID"},
		{"githubClientId", "GITHUB_CLIENT_ID"},
		{"trustedProviders", "TRUSTED_PROVIDERS"},
		{"sessionAbsoluteMaxAge", "SESSION_ABSOLUTE_MAX_AGE"},
		{"assetLinkTtl", "ASSET_LINK_TTL"},
		// The sweep prunes audit_log with it; it runs on the generate
		// function, and every function reads the shared config.
		{"auditRetentionDays", "AUDIT_RETENTION_DAYS"},
		// Mail: auth only (AuthOnly).
		{"emailTransport", "EMAIL_TRANSPORT"},
		{"emailFrom", "EMAIL_FROM"},
		{"appName", "APP_NAME"},
		{"emailVerification", "EMAIL_VERIFICATION"},
		{"freeCreditsRequireVerifiedEmail", "FREE_CREDITS_REQUIRE_VERIFIED_EMAIL"},
		{"uploadMaxBytes", "UPLOAD_MAX_BYTES"},
		// Only behind a proxy that sets the header itself, such as CloudFront
		// with a viewer-request function (docs/deploy.md, "Rate limits and
		// AWS WAF").
		{"ipAddressHeaders", "IP_ADDRESS_HEADERS"},
		// Credit packs sold through Stripe, a JSON array: history only,
		// with the Stripe secrets (HistoryOnly, BillingSecrets).
		{"billingPacks", "BILLING_PACKS"},
	}
}

// Secret is one secret setting: the function gets <Env>_SSM = the name of an
// SSM SecureString parameter (ParameterPrefix + Param), never the value;
// internal/secrets reads it once per cold start.
type Secret struct {
	Env   string
	Param string // parameter name below the prefix
}

// The secrets.
var (
	SecretAuth     = Secret{"BETTER_AUTH_SECRET", "better-auth-secret"}
	SecretDBToken  = Secret{"TURSO_AUTH_TOKEN", "turso-auth-token"}
	SecretR2KeyID  = Secret{"R2_ACCESS_KEY_ID", "r2-access-key-id"}
	SecretR2Secret = Secret{"R2_SECRET_ACCESS_KEY", "r2-secret-access-key"}
	SecretQwenKey  = Secret{"QWEN_API_KEY", "qwen-api-key"}
	// Only the auth function signs in with Google and GitHub
	// (SocialClients).
	SecretGoogle = Secret{"GOOGLE_CLIENT_SECRET", "google-client-secret"}
	SecretGitHub = Secret{"GITHUB_CLIENT_SECRET", "github-client-secret"}
)

// SecretSMTP is the SMTP server's URL with its password: auth gets it when
// emailTransport is smtp.
var SecretSMTP = Secret{"SMTP_URL", "smtp-url"}

// The Stripe account behind the credit packs: history gets both when
// billingPacks is set (BillingSecrets).
var (
	SecretStripeKey     = Secret{"STRIPE_SECRET_KEY", "stripe-secret-key"}
	SecretStripeWebhook = Secret{"STRIPE_WEBHOOK_SECRET", "stripe-webhook-secret"}
)

// AuthOnly lists the plain settings only the auth function gets: only it
// sends mail, and the configuration refuses a transport without its
// sender or server, so another function given EMAIL_TRANSPORT=smtp without
// SMTP_URL would fail its cold start.
func AuthOnly() map[string]bool {
	return map[string]bool{"EMAIL_TRANSPORT": true, "EMAIL_FROM": true, "APP_NAME": true, "EMAIL_VERIFICATION": true,
		"FREE_CREDITS_REQUIRE_VERIFIED_EMAIL": true}
}

// SocialClients maps each social provider's client id, a plain setting, to
// its secret. Only the auth function signs in with Google and GitHub: it
// gets both when the client id is set, and the other functions neither,
// since the configuration refuses a client id without its secret (their
// cold start would fail). A provider whose client id is unset is not
// offered, and its secret not read.
func SocialClients() map[string]Secret {
	return map[string]Secret{"GOOGLE_CLIENT_ID": SecretGoogle, "GITHUB_CLIENT_ID": SecretGitHub}
}

// HistoryOnly lists the plain settings only the history function gets:
// only it serves /api/billing/* (packs, checkout, purchases, the Stripe
// webhook). Every function loads the same configuration, but the others
// have no use for the catalog, nor for the Stripe secrets it brings along
// (BillingSecrets).
func HistoryOnly() map[string]bool {
	return map[string]bool{"BILLING_PACKS": true}
}

// BillingSecrets are the secrets history gets when BILLING_PACKS is set,
// and no function otherwise: billing is optional per deployment, and a
// parameter name whose parameter does not exist fails the cold start (one
// GetParameters call for all of a function's secrets), so a deployment
// without billing must not need them. The other functions never get them
// (HistoryOnly).
func BillingSecrets() []Secret {
	return []Secret{SecretStripeKey, SecretStripeWebhook}
}

// Spec is what differs between the functions. MemoryMB and TimeoutSeconds
// are routes.Function.Size, which says why each number; the local gateway
// runs the packaged functions under the same limits.
type Spec struct {
	MemoryMB       float64
	TimeoutSeconds float64
	Secrets        []Secret
	Description    string
}

// Specs gives every function of routes.Functions() its size and secrets.
// New refuses a function without a spec.
func Specs() map[routes.Function]Spec {
	common := []Secret{SecretAuth, SecretDBToken, SecretR2KeyID, SecretR2Secret}
	spec := func(fn routes.Function, secrets []Secret, description string) Spec {
		size := fn.Size()
		return Spec{MemoryMB: float64(size.MemoryMB), TimeoutSeconds: size.Timeout.Seconds(), Secrets: secrets, Description: description}
	}
	return map[routes.Function]Spec{
		// User deletion removes the user's images, hence the R2 keys.
		routes.Auth: spec(routes.Auth, common, "better-auth endpoints, /api/me, /api/health, CORS preflights"),
		// Only generate calls the image provider.
		routes.Generate:   spec(routes.Generate, append(common[:len(common):len(common)], SecretQwenKey), "image workflows, their async continuations, the stuck-generation sweep"),
		routes.History:    spec(routes.History, common, "history list, detail, delete; credit packs through Stripe (billing)"),
		routes.ImageProxy: spec(routes.ImageProxy, common, "history image bytes (ETag, Range, presigned redirect)"),
	}
}

// Defaults of the props that have one.
const (
	DefaultStackName       = "AdstudioStack"
	DefaultAssetRoot       = "../dist"
	DefaultParameterPrefix = "/adstudio/"
	// The stage's default route throttle: requests per second (steady
	// state) and bucket size. API Gateway applies it to each route that has
	// no route settings of its own, not as one pool for the stage.
	DefaultThrottleRate    = 50
	DefaultThrottleBurst   = 100
	DefaultLogRetentionDay = 30
)

// Route throttles (see RouteClass). Each route of a class gets its own
// bucket of this size, and none more than the stage default.
const (
	// An accepted workflow POST holds a generate instance for up to the 25 s
	// sync budget. At 1 request/s one saturated route keeps at most ~25
	// instances busy, half of DefaultGenerateReservedConcurrency; a burst of
	// 5 lets a few people start a generation in the same second.
	DefaultWorkflowThrottleRate  = 1
	DefaultWorkflowThrottleBurst = 5
	// Every request runs scrypt (N=16384, r=16: 32 MB, CPU-bound). Real
	// sign-ins come far below 10/s; the cap bounds what a credential-stuffing
	// run spread over many addresses can make auth compute, which the app's
	// per-address limit (3 per 10 s) cannot.
	DefaultPasswordThrottleRate  = 10
	DefaultPasswordThrottleBurst = 20
	// A delete removes rows and R2 objects; people delete a few items at a
	// time, and a client that deletes in a loop has no business going faster.
	DefaultHistoryDeleteThrottleRate  = 5
	DefaultHistoryDeleteThrottleBurst = 20
	// Image bytes (up to 4 MB each) stream through the imageproxy function. A
	// history page shows up to 50 images at once, so the burst covers one
	// full page; 25/s keeps scrolling smooth and bounds egress.
	DefaultAssetThrottleRate  = 25
	DefaultAssetThrottleBurst = 50
)

// DefaultGenerateReservedConcurrency is the generate function's reserved
// concurrency: it keeps the rest of the account's pool (1,000 by default)
// for auth, history and imageproxy when generations pile up, and it caps
// generate itself. 50 covers two saturated workflow routes (1/s × 25 s).
// Lambda refuses a reservation that leaves the account less unreserved
// concurrency than its minimum (100 with the usual quota of 1,000; a new
// account whose quota is only 10 cannot reserve anything), so such an
// account needs -c generateReservedConcurrency=0 or a quota increase
// (infra/README.md).
const DefaultGenerateReservedConcurrency = 50

// NoReservedConcurrency in Props.GenerateReservedConcurrency deploys
// generate without a reservation (context generateReservedConcurrency=0).
const NoReservedConcurrency = -1

// ContextKeys lists every CDK context key the app reads: each Settings
// key, then the stack's own (main.go reads stackName). infra/README.md
// documents each one, and a test holds it to that.
func ContextKeys() []string {
	var keys []string
	for _, s := range Settings() {
		keys = append(keys, s.Context)
	}
	keys = append(keys, "assetRoot", "ssmPrefix", "domainName", "certificateArn", "generateFunctionName", "throttleRate", "throttleBurst")
	for _, c := range RouteClasses() {
		keys = append(keys, string(c)+"ThrottleRate", string(c)+"ThrottleBurst")
	}
	return append(keys, "generateReservedConcurrency", "logRetentionDays", "alarmEmail", "stackName")
}

// FromContext reads the stack props from CDK context, every key of
// ContextKeys but stackName. Unset keys keep their defaults.
func FromContext(scope constructs.Construct) (*Props, error) {
	known := map[string]bool{}
	for _, k := range ContextKeys() {
		known[k] = true
	}
	get := func(k string) string {
		if !known[k] {
			panic("stack: context key " + k + " is not in ContextKeys (and so not checked against infra/README.md)")
		}
		switch v := scope.Node().TryGetContext(jsii.String(k)).(type) {
		case nil:
			return ""
		case []any, map[string]any:
			// JSON in cdk.json (billingPacks as the array itself): passed
			// on as JSON text, as `-c billingPacks='[…]'` passes it.
			b, err := json.Marshal(v)
			if err != nil {
				panic(fmt.Sprintf("stack: context %s: %v", k, err))
			}
			return string(b)
		default:
			return strings.TrimSpace(fmt.Sprint(v))
		}
	}
	num := func(k string, def float64) (float64, error) {
		s := get(k)
		if s == "" {
			return def, nil
		}
		n, err := strconv.ParseFloat(s, 64)
		if err != nil || n <= 0 {
			return 0, fmt.Errorf("context %s: expected a positive number, got %q", k, s)
		}
		return n, nil
	}
	// Burst limits are whole requests (CloudFormation: Integer).
	whole := func(k string, def float64) (float64, error) {
		n, err := num(k, def)
		if err == nil && n != float64(int64(n)) {
			err = fmt.Errorf("context %s: expected a whole number, got %q", k, get(k))
		}
		return n, err
	}
	p := &Props{
		AssetRoot:            get("assetRoot"),
		ParameterPrefix:      get("ssmPrefix"),
		DomainName:           get("domainName"),
		CertificateArn:       get("certificateArn"),
		GenerateFunctionName: get("generateFunctionName"),
		AlarmEmail:           get("alarmEmail"),
		Settings:             map[string]string{},
	}
	if p.AssetRoot == "" {
		p.AssetRoot = DefaultAssetRoot
	}
	for _, s := range Settings() {
		if v := get(s.Context); v != "" {
			p.Settings[s.Env] = v
		}
	}
	var err error
	if p.ThrottleRate, err = num("throttleRate", DefaultThrottleRate); err != nil {
		return nil, err
	}
	if p.ThrottleBurst, err = whole("throttleBurst", DefaultThrottleBurst); err != nil {
		return nil, err
	}
	p.RouteThrottles = map[RouteClass]Throttle{}
	for _, c := range RouteClasses() {
		def := DefaultRouteThrottles()[c]
		var t Throttle
		if t.Rate, err = num(string(c)+"ThrottleRate", def.Rate); err != nil {
			return nil, err
		}
		if t.Burst, err = whole(string(c)+"ThrottleBurst", def.Burst); err != nil {
			return nil, err
		}
		p.RouteThrottles[c] = t
	}
	switch s := get("generateReservedConcurrency"); s {
	case "":
	case "0":
		p.GenerateReservedConcurrency = NoReservedConcurrency
	default:
		n, err := strconv.Atoi(s)
		if err != nil || n < 0 {
			return nil, fmt.Errorf("context generateReservedConcurrency: expected a whole number, 0 for no reservation, got %q", s)
		}
		p.GenerateReservedConcurrency = n
	}
	days, err := num("logRetentionDays", DefaultLogRetentionDay)
	if err != nil {
		return nil, err
	}
	if p.LogRetention, err = RetentionFromDays(days); err != nil {
		return nil, err
	}
	if p.AlarmEmail != "" {
		// One bare address: SNS takes nothing else as an email endpoint.
		if a, err := mail.ParseAddress(p.AlarmEmail); err != nil || a.Address != p.AlarmEmail {
			return nil, fmt.Errorf("context alarmEmail: expected one address such as ops@example.com, got %q", p.AlarmEmail)
		}
	}
	if (p.DomainName == "") != (p.CertificateArn == "") {
		return nil, fmt.Errorf("context domainName and certificateArn go together (got domainName=%q certificateArn=%q)", p.DomainName, p.CertificateArn)
	}
	return p, nil
}

var retentionDays = map[float64]awslogs.RetentionDays{
	1: awslogs.RetentionDays_ONE_DAY, 3: awslogs.RetentionDays_THREE_DAYS, 5: awslogs.RetentionDays_FIVE_DAYS,
	7: awslogs.RetentionDays_ONE_WEEK, 14: awslogs.RetentionDays_TWO_WEEKS, 30: awslogs.RetentionDays_ONE_MONTH,
	60: awslogs.RetentionDays_TWO_MONTHS, 90: awslogs.RetentionDays_THREE_MONTHS, 120: awslogs.RetentionDays_FOUR_MONTHS,
	150: awslogs.RetentionDays_FIVE_MONTHS, 180: awslogs.RetentionDays_SIX_MONTHS, 365: awslogs.RetentionDays_ONE_YEAR,
	400: awslogs.RetentionDays_THIRTEEN_MONTHS, 545: awslogs.RetentionDays_EIGHTEEN_MONTHS, 731: awslogs.RetentionDays_TWO_YEARS,
	1096: awslogs.RetentionDays_THREE_YEARS, 1827: awslogs.RetentionDays_FIVE_YEARS, 2192: awslogs.RetentionDays_SIX_YEARS,
	2557: awslogs.RetentionDays_SEVEN_YEARS, 2922: awslogs.RetentionDays_EIGHT_YEARS, 3288: awslogs.RetentionDays_NINE_YEARS,
	3653: awslogs.RetentionDays_TEN_YEARS,
}

// RetentionFromDays maps a number of days to one of the retention periods
// CloudWatch Logs accepts.
func RetentionFromDays(days float64) (awslogs.RetentionDays, error) {
	if r, ok := retentionDays[days]; ok {
		return r, nil
	}
	return "", fmt.Errorf("context logRetentionDays: %v is not a CloudWatch Logs retention (1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653)", days)
}

// SESIdentities are the SES identities a From address may send as: the
// address itself and its domain, whichever of them is verified. Empty when
// from holds no address.
func SESIdentities(from string) []string {
	a, err := mail.ParseAddress(strings.TrimSpace(from))
	if err != nil {
		return nil
	}
	addr := strings.ToLower(a.Address)
	_, domain, ok := strings.Cut(addr, "@")
	if !ok {
		return nil
	}
	return []string{domain, addr}
}

// normalizePrefix makes a parameter path prefix: leading and trailing "/".
func normalizePrefix(p string) string {
	p = strings.Trim(strings.TrimSpace(p), "/")
	if p == "" {
		p = strings.Trim(DefaultParameterPrefix, "/")
	}
	return "/" + p + "/"
}
