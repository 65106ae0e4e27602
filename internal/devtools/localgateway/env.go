package localgateway

import (
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"adstudio/internal/config"
	"adstudio/internal/routes"
)

// EnvInput is what a function's environment is made of.
type EnvInput struct {
	// Config is the gateway's resolved local configuration (LoadLocal).
	Config config.Config
	// Environ is the gateway's own environment, passed on for settings the
	// gateway does not resolve itself (QWEN_TIMEOUT_MS, R2_*, S3_*, …).
	Environ []string
	// GatewayURL receives the functions' Lambda Invoke API calls.
	GatewayURL string
	// Dir is the function's code directory (LAMBDA_TASK_ROOT).
	Dir string
	// QwenKey and QwenURL, when set, point generation at a DashScope fake.
	QwenKey, QwenURL string
}

// FunctionEnv is the environment of one function's RIE (RIE hands its own
// environment to the bootstrap). The functions read it with
// config.Load(getenv, false), the deployed mode, which defaults nothing
// that matters: every value LoadLocal resolved (the generated secret, the
// base URL, the database, the objects folder, the trusted origins) is
// written out explicitly, as the stack does.
//
// From the gateway's environment it drops AWS_* (the functions get dummy
// credentials, a region, and no instance-metadata lookups), *_SSM names
// (there is no Parameter Store here), PORT (a Lambda has none) and the
// gateway's own settings.
func FunctionEnv(fn routes.Function, in EnvInput) []string {
	c := in.Config
	set := map[string]string{}
	for _, kv := range in.Environ {
		k, v, ok := strings.Cut(kv, "=")
		if !ok || dropped(k) {
			continue
		}
		set[k] = v
	}
	put := func(k, v string) {
		if v == "" {
			delete(set, k)
			return
		}
		set[k] = v
	}

	put("TURSO_DATABASE_URL", absDatabaseURL(c.DatabaseURL))
	put("TURSO_AUTH_TOKEN", c.DatabaseToken)
	put("BETTER_AUTH_URL", c.BaseURL)
	put("BETTER_AUTH_SECRET", strings.Join(c.Secrets, ","))
	put("TRUSTED_ORIGINS", strings.Join(c.TrustedOrigins, ","))
	put("FRONTEND_URL", c.FrontendURL)
	put("AUTH_SCHEMA", string(c.AuthSchema))
	put("COOKIE_PREFIX", c.CookiePrefix)
	// COOKIE_SAMESITE, COOKIE_SECURE and COOKIE_PARTITIONED pass through
	// only when set: otherwise each function decides the cookie shape from
	// BETTER_AUTH_URL and TRUSTED_ORIGINS itself, as a deployed one does
	// (and says why in the summary below).
	put("COOKIE_DOMAIN", c.CookieDomain)
	put("IP_ADDRESS_HEADERS", strings.Join(c.IPAddressHeaders, ","))
	put("RATE_LIMIT_ENABLED", strconv.FormatBool(c.RateLimitEnabled))
	put("WORKFLOW_SYNC_BUDGET_MS", strconv.FormatInt(c.SyncBudget.Milliseconds(), 10))
	if !c.S3On && c.ObjectsDir != "" {
		dir, err := filepath.Abs(c.ObjectsDir)
		if err != nil {
			dir = c.ObjectsDir
		}
		put("OBJECTS_DIR", dir)
	}
	allow := c.FetchAllowHosts
	if in.QwenKey != "" {
		put("QWEN_API_KEY", in.QwenKey)
		put("QWEN_BASE_URL", in.QwenURL)
		// The fake serves its result images on loopback, which the SSRF
		// guard refuses unless told.
		if host := strings.TrimPrefix(strings.TrimPrefix(in.QwenURL, "http://"), "https://"); host != "" {
			allow = append(allow[:len(allow):len(allow)], host)
		}
	}
	put("FETCH_ALLOW_HOSTS", strings.Join(allow, ","))

	// What Lambda itself provides, or what stands in for it.
	put("AWS_LAMBDA_FUNCTION_NAME", string(fn))
	put("AWS_LAMBDA_FUNCTION_TIMEOUT", strconv.Itoa(int(fn.Size().Timeout.Seconds())))
	put("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", strconv.Itoa(fn.Size().MemoryMB))
	put("AWS_REGION", "us-east-1")
	put("AWS_DEFAULT_REGION", "us-east-1")
	put("AWS_ACCESS_KEY_ID", "AKIDLOCALGATEWAY")
	put("AWS_SECRET_ACCESS_KEY", "local-gateway-dummy-secret")
	put("AWS_EC2_METADATA_DISABLED", "true")
	put("LAMBDA_TASK_ROOT", in.Dir)
	put("TZ", ":UTC")
	if fn == routes.Generate {
		// The continuation is an asynchronous self-invocation through the
		// SDK, which reads AWS_ENDPOINT_URL_LAMBDA: the gateway answers it.
		put("GENERATE_FUNCTION_NAME", string(routes.Generate))
		put("AWS_ENDPOINT_URL_LAMBDA", in.GatewayURL)
	}

	out := make([]string, 0, len(set))
	for k, v := range set {
		out = append(out, k+"="+v)
	}
	sort.Strings(out)
	return out
}

func dropped(k string) bool {
	switch {
	case strings.HasPrefix(k, "AWS_"), strings.HasSuffix(k, "_SSM"), strings.HasPrefix(k, "LOCALGATEWAY_"):
		return true
	}
	return k == "PORT" || k == "RIE_BIN" || k == "LAMBDA_DIST"
}

// absDatabaseURL makes a relative file: URL absolute, so the functions,
// which run in their own code directory, open the same database.
func absDatabaseURL(u string) string {
	p, ok := strings.CutPrefix(u, "file:")
	if !ok || strings.HasPrefix(p, "/") {
		return u
	}
	path, query, _ := strings.Cut(p, "?")
	abs, err := filepath.Abs(path)
	if err != nil {
		return u
	}
	if query != "" {
		return "file:" + abs + "?" + query
	}
	return "file:" + abs
}
