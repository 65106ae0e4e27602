package stack

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/aws/aws-cdk-go/awscdk/v2/awslogs"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"

	"adstudio/pkg/app"
)

// Setting is one plain (non-secret) function setting, read from CDK context
// (`-c key=value` or cdk.json) and passed to every function as an
// environment variable. An empty value is left out of the environment, so
// the function's own default applies (README.md, "Configuration").
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
	}
}

// Secret is one secret setting: the function gets <Env>_SSM = the name of an
// SSM SecureString parameter (ParameterPrefix + Param), never the value;
// pkg/secrets reads it once per cold start.
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
	// Only the auth function signs in with Google and GitHub. A provider
	// whose client id is unset is not offered, and its secret not read.
	SecretGoogle = Secret{"GOOGLE_CLIENT_SECRET", "google-client-secret"}
	SecretGitHub = Secret{"GITHUB_CLIENT_SECRET", "github-client-secret"}
)

// Spec is what differs between the functions.
type Spec struct {
	MemoryMB       float64
	TimeoutSeconds float64
	Secrets        []Secret
	Description    string
}

// Specs gives every function of app.Functions() its size and secrets. New
// refuses a function without a spec.
func Specs() map[app.Function]Spec {
	common := []Secret{SecretAuth, SecretDBToken, SecretR2KeyID, SecretR2Secret}
	return map[app.Function]Spec{
		// Sign-up, sign-in and change-password run scrypt (N=16384, r=16: 32 MB,
		// CPU-bound); Lambda's CPU share grows with memory. User deletion removes
		// the user's images, hence the R2 keys.
		app.Auth: {512, 10, common, "better-auth endpoints, /api/me, /api/health, CORS preflights"},
		// API Gateway cuts a request at 30 s, and the request path hands a slow
		// generation off at its 25 s sync budget (docs/generation.md), so an
		// API-facing invocation never uses more than ~29 s. The same function
		// also runs the asynchronous continuation of a handed-off generation
		// (an async self-invocation) and the scheduled sweep; a continuation runs
		// the whole job, whose limit is QWEN_TIMEOUT_MS (45 s) + 60 s = 105 s.
		// 120 s covers that with a margin; the 25 s budget keeps the API path short.
		app.Generate: {512, 120, append(common[:len(common):len(common)], SecretQwenKey), "image workflows, their async continuations, the stuck-generation sweep"},
		app.History:  {256, 10, common, "history list, detail, delete"},
		// Serves image bytes up to 4 MB from R2 (bigger ones get a presigned redirect).
		app.ImageProxy: {512, 10, common, "history image bytes (ETag, Range, presigned redirect)"},
	}
}

// Defaults of the props that have one.
const (
	DefaultStackName       = "AdstudioStack"
	DefaultAssetRoot       = "../dist"
	DefaultParameterPrefix = "/adstudio/"
	DefaultThrottleRate    = 50  // requests per second, steady state, whole stage
	DefaultThrottleBurst   = 100 // bucket size
	DefaultLogRetentionDay = 30
)

// FromContext reads the stack props from CDK context: every Settings key,
// plus assetRoot, ssmPrefix, domainName, certificateArn, throttleRate,
// throttleBurst, logRetentionDays and generateFunctionName. Unset keys keep
// their defaults.
func FromContext(scope constructs.Construct) (*Props, error) {
	get := func(k string) string {
		v := scope.Node().TryGetContext(jsii.String(k))
		if v == nil {
			return ""
		}
		return strings.TrimSpace(fmt.Sprint(v))
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
	p := &Props{
		AssetRoot:            get("assetRoot"),
		ParameterPrefix:      get("ssmPrefix"),
		DomainName:           get("domainName"),
		CertificateArn:       get("certificateArn"),
		GenerateFunctionName: get("generateFunctionName"),
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
	if p.ThrottleBurst, err = num("throttleBurst", DefaultThrottleBurst); err != nil {
		return nil, err
	}
	days, err := num("logRetentionDays", DefaultLogRetentionDay)
	if err != nil {
		return nil, err
	}
	if p.LogRetention, err = RetentionFromDays(days); err != nil {
		return nil, err
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
