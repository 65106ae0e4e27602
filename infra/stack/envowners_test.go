package stack_test

import (
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"

	"adstudio/infra/stack"
	"adstudio/internal/auth/cookie"
	"adstudio/internal/config"
	"adstudio/internal/routes"
)

// unpassed lists every variable the shipped code reads that the stack never
// sets, each with the reason: Lambda sets it itself, or only local runs
// (make dev, the local gateway) and tests do. A name ending in * stands for
// every name with that prefix. checkEnvironmentOwners keeps the list exact:
// an entry nothing reads, or one the stack passes after all, fails it.
func unpassed() map[string]string {
	const lambda = "set by Lambda itself (the function's region, its role's credentials)"
	const oauthFake = "the OAuth fake's endpoints in tests and local runs; a deployment signs in with the real providers"
	const endpoints = "the local gateway takes the functions' SSM and Lambda calls; a deployment uses the regional endpoints"
	return map[string]string{
		"PORT":                    "the listen port of make dev and the local gateway; a Lambda listens on nothing",
		"OBJECTS_DIR":             "images in a local folder (make dev); a deployment keeps them in R2",
		"OUTBOX_DIR":              "make dev's outbox of mail files; a deployment sends with SES or SMTP",
		"FETCH_ALLOW_HOSTS":       "lets local fakes on loopback through the download guard; never wanted in a deployment",
		"S3_ENDPOINT":             "a local S3 stand-in (versitygw); a deployment reaches R2 through R2_ACCOUNT_ID",
		"S3_REGION":               "a local S3 stand-in's region; R2 signs with its default, auto",
		"QWEN_BASE_URL":           "points generation at the DashScope fake; a deployment uses its region's host (QWEN_REGION)",
		"GOOGLE_AUTH_URL":         oauthFake,
		"GOOGLE_TOKEN_URL":        oauthFake,
		"GITHUB_AUTH_URL":         oauthFake,
		"GITHUB_TOKEN_URL":        oauthFake,
		"GITHUB_API_URL":          oauthFake + " (GitHub Enterprise would need a context key of its own)",
		"COOKIE_SECURE":           "Secure follows the https API URL; only a plain-http local setup overrides it",
		"RATE_LIMIT_ENABLED":      "tests switch the limits off; a deployment keeps them on, the default",
		"WORKFLOW_SYNC_BUDGET_MS": "tests shorten it; a deployment keeps the default 25 s, under API Gateway's 30 s",
		"STRIPE_API_BASE":         "points billing at stripe-mock in tests and local runs; a deployment uses Stripe's default, https://api.stripe.com",

		"AWS_REGION":                          lambda,
		"AWS_DEFAULT_REGION":                  lambda,
		"AWS_ACCESS_KEY_ID":                   lambda,
		"AWS_SECRET_ACCESS_KEY":               lambda,
		"AWS_SESSION_TOKEN":                   lambda,
		"AWS_LAMBDA_FUNCTION_NAME":            "set by Lambda; generate's fallback when GENERATE_FUNCTION_NAME is unset",
		"AWS_ENDPOINT_URL":                    endpoints,
		"AWS_ENDPOINT_URL_*":                  endpoints,
		"AWS_IGNORE_CONFIGURED_ENDPOINT_URLS": "the SDK's switch for the endpoint variables, honoured as the SDK does; a deployment sets no endpoint",
	}
}

// sampleSettings is a value for every plain setting (Settings), valid for
// config.Load, so the stack below passes everything it can.
func sampleSettings() map[string]string {
	return map[string]string{
		"BETTER_AUTH_URL":                     "https://api.example.com",
		"TRUSTED_ORIGINS":                     "https://app.example.com",
		"FRONTEND_URL":                        "https://app.example.com",
		"TURSO_DATABASE_URL":                  "libsql://adstudio-org.turso.io",
		"AUTH_SCHEMA":                         "user",
		"COOKIE_PREFIX":                       "adstudio",
		"COOKIE_SAMESITE":                     "lax",
		"COOKIE_DOMAIN":                       "example.com",
		"COOKIE_PARTITIONED":                  "false",
		"R2_ACCOUNT_ID":                       "0123456789abcdef",
		"R2_BUCKET":                           "adstudio-generations",
		"QWEN_REGION":                         "bj",
		"QWEN_IMAGE_MODEL":                    "qwen-image-2.0",
		"QWEN_IMAGE_EDIT_MODEL":               "qwen-image-2.0-pro",
		"QWEN_TIMEOUT_MS":                     "30000",
		"GOOGLE_CLIENT_ID":                    "google-client",
		"GITHUB_CLIENT_ID":                    "Iv1.abc",
		"TRUSTED_PROVIDERS":                   "google,github",
		"SESSION_ABSOLUTE_MAX_AGE":            "86400",
		"ASSET_LINK_TTL":                      "1800",
		"AUDIT_RETENTION_DAYS":                "30",
		"UPLOAD_MAX_BYTES":                    "8388608",
		"IP_ADDRESS_HEADERS":                  "x-viewer-ip",
		"EMAIL_TRANSPORT":                     "smtp",
		"EMAIL_FROM":                          "AdDreams <noreply@example.com>",
		"APP_NAME":                            "AdDreams",
		"EMAIL_VERIFICATION":                  "send",
		"FREE_CREDITS_REQUIRE_VERIFIED_EMAIL": "true",
		"BILLING_PACKS":                       samplePacks,
	}
}

// samplePacks is a valid BILLING_PACKS: one pack of each workflow's
// credits that makes the account paid.
const samplePacks = `[{"id":"starter","name":"Starter","priceId":"price_123","credits":{"image-from-text":20,"image-from-reference":10},"paid":true}]`

// localRun is a local configuration that sets what only local runs and
// tests set, so config.Load reads every branch.
func localRun() map[string]string {
	return map[string]string{
		"PORT": "8788", "TURSO_DATABASE_URL": "file:/tmp/adstudio-envowners/dev.db", "OBJECTS_DIR": "/tmp/adstudio-envowners/objects",
		"FETCH_ALLOW_HOSTS": "127.0.0.1:9000", "S3_ENDPOINT": "http://127.0.0.1:7070", "S3_REGION": "us-east-1",
		"R2_ACCESS_KEY_ID": "key", "R2_SECRET_ACCESS_KEY": "secret", "R2_BUCKET": "images",
		"QWEN_API_KEY": "sk-local", "QWEN_BASE_URL": "http://127.0.0.1:9001",
		"GOOGLE_CLIENT_ID": "g", "GOOGLE_CLIENT_SECRET": "gs", "GOOGLE_AUTH_URL": "http://127.0.0.1:9002/auth", "GOOGLE_TOKEN_URL": "http://127.0.0.1:9002/token",
		"GITHUB_CLIENT_ID": "h", "GITHUB_CLIENT_SECRET": "hs", "GITHUB_AUTH_URL": "http://127.0.0.1:9002/gh", "GITHUB_TOKEN_URL": "http://127.0.0.1:9002/ghtoken", "GITHUB_API_URL": "http://127.0.0.1:9002/api",
		"COOKIE_SECURE": "true", "RATE_LIMIT_ENABLED": "false", "WORKFLOW_SYNC_BUDGET_MS": "1000",
		"BETTER_AUTH_SECRET": strings.Repeat("l", 32),
	}
}

// recorder is a getenv over m that notes every name asked for.
func recorder(m map[string]string, read map[string]bool) config.Getenv {
	return func(k string) string {
		read[k] = true
		return m[k]
	}
}

// checkEnvironmentOwners: every variable the shipped code reads is either
// passed by the stack to a function that reads it (a secret as NAME_SSM) or
// listed in unpassed with its reason, and every variable the stack passes
// is read by the function it is passed to. The reads are config.Load's,
// recorded over each function's synthesized environment and over local
// runs, plus every getenv call with a constant name in the packages each
// function links (lambdaentry, awsenv, …).
func checkEnvironmentOwners(t *testing.T, assets string) {
	for _, s := range stack.Settings() {
		if _, ok := sampleSettings()[s.Env]; !ok {
			t.Fatalf("setting %s has no sample value in sampleSettings", s.Env)
		}
	}
	s := stack.New(awscdk.NewApp(nil), "EnvOwners", &stack.Props{AssetRoot: assets, Settings: sampleSettings()})
	d := doc(t, assertions.Template_FromStack(s.Stack, nil))
	envs := map[routes.Function]map[string]string{}
	for _, fn := range routes.Functions() {
		r := resources(d, "AWS::Lambda::Function")[logicalID(s, fn)]
		envs[fn] = map[string]string{}
		for k, v := range props(r)["Environment"].(obj)["Variables"].(obj) {
			envs[fn][k] = flat(v)
		}
	}

	// config.Load's reads: each function starts with what the stack gives
	// it (its secrets as Overlay would fill them in), and local runs.
	configReads := map[string]bool{}
	for fn, env := range envs {
		values := map[string]string{}
		for k, v := range env {
			if name, ok := strings.CutSuffix(k, "_SSM"); ok {
				values[name] = "secret-value-of-" + name + "-at-least-32-characters"
				switch name { // secrets with a shape of their own
				case "SMTP_URL":
					values[name] = "smtp://mailer:secret-value@mail.example.com:587"
				case "STRIPE_SECRET_KEY":
					values[name] = "sk_test_" + values[name]
				case "STRIPE_WEBHOOK_SECRET":
					values[name] = "whsec_" + values[name]
				}
				continue
			}
			values[k] = v
		}
		cfg, err := config.Load(recorder(values, configReads), false)
		if err == nil {
			_, _, err = cookie.Resolve(cfg)
		}
		if err != nil {
			t.Errorf("%s cannot start with the environment the stack gives it: %v", fn, err)
		}
	}
	for _, env := range []map[string]string{nil, localRun()} {
		if _, err := config.Load(recorder(env, configReads), true); err != nil {
			t.Errorf("local configuration %v: %v", env, err)
		}
	}

	// The reads outside config, and which functions link each package.
	linked, direct := shippedReads(t)
	readers := func(v string) []routes.Function {
		var out []routes.Function
		for _, fn := range routes.Functions() {
			if configReads[v] && linked[fn]["adstudio/internal/config"] {
				out = append(out, fn)
				continue
			}
			for pkg := range direct[v] {
				if linked[fn][pkg] {
					out = append(out, fn)
					break
				}
			}
		}
		return out
	}
	all := map[string]bool{}
	for v := range configReads {
		all[v] = true
	}
	for v := range direct {
		all[v] = true
	}
	passedTo := func(fn routes.Function, v string) bool {
		if prefix, ok := strings.CutSuffix(v, "*"); ok {
			for k := range envs[fn] {
				if strings.HasPrefix(k, prefix) {
					return true
				}
			}
			return false
		}
		_, plain := envs[fn][v]
		_, secret := envs[fn][v+"_SSM"]
		return plain || secret
	}
	var names []string
	for v := range all {
		names = append(names, v)
	}
	sort.Strings(names)
	for _, v := range names {
		var passed []routes.Function
		rs := readers(v)
		for _, fn := range rs {
			if passedTo(fn, v) {
				passed = append(passed, fn)
			}
		}
		why, listed := unpassed()[v]
		switch {
		case len(rs) == 0:
			t.Errorf("%s: read, but by no function (the scan or the recording is broken)", v)
		case len(passed) > 0 && listed:
			t.Errorf("%s: the stack passes it to %v, yet unpassed says %q: drop it from that list", v, passed, why)
		case len(passed) == 0 && !listed:
			t.Errorf("%s: read by %v (%s), but the stack passes it to none of them: add it to stack.Settings or a Secret, or to unpassed with the reason", v, rs, readBy(v, configReads, direct))
		}
	}
	for v := range unpassed() {
		if !all[v] {
			t.Errorf("unpassed lists %s, which no shipped code reads: drop it", v)
		}
	}

	// Nothing passed that the function does not read.
	for fn, env := range envs {
		for k := range env {
			v := strings.TrimSuffix(k, "_SSM")
			read := false
			for _, r := range readers(v) {
				read = read || r == fn
			}
			if !read {
				t.Errorf("%s: the stack passes %s, which it never reads", fn, k)
			}
		}
	}
}

// readBy names who reads v, for the failure message.
func readBy(v string, configReads map[string]bool, direct map[string]map[string]bool) string {
	var who []string
	if configReads[v] {
		who = append(who, "config.Load")
	}
	for pkg := range direct[v] {
		who = append(who, pkg)
	}
	sort.Strings(who)
	return strings.Join(who, ", ")
}

// shippedReads scans the packages each Lambda links, as `make build` builds
// them, for getenv calls with a constant name: any call of a function or
// method named Getenv, getenv, LookupEnv or lookupEnv (os.Getenv, a getenv
// parameter, lambdaentry's Env.Getenv) whose first argument is a string
// literal, a string constant of the package, or "PREFIX" + something (read
// as PREFIX*). linked[fn] is the set of project packages fn links; direct
// maps each name read to the packages that read it.
func shippedReads(t *testing.T) (linked map[routes.Function]map[string]bool, direct map[string]map[string]bool) {
	t.Helper()
	goList := func(args ...string) []string {
		cmd := exec.Command("go", append([]string{"list", "-e", "-tags", "lambda.norpc"}, args...)...)
		cmd.Env = append(os.Environ(), "GOOS=linux", "GOARCH=arm64", "CGO_ENABLED=0")
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("go list %v: %v", args, err)
		}
		return strings.Split(strings.TrimSpace(string(out)), "\n")
	}
	linked = map[routes.Function]map[string]bool{}
	for _, line := range goList("-f", "{{.ImportPath}}\t{{join .Deps \" \"}}", "adstudio/functions/...") {
		path, deps, _ := strings.Cut(line, "\t")
		fn := routes.Function(strings.TrimPrefix(path, "adstudio/functions/"))
		linked[fn] = map[string]bool{path: true}
		for _, dep := range strings.Fields(deps) {
			linked[fn][dep] = true
		}
	}
	for _, fn := range routes.Functions() {
		if !linked[fn]["adstudio/internal/config"] {
			t.Fatalf("functions/%s: no main, or it does not link internal/config", fn)
		}
	}

	direct = map[string]map[string]bool{}
	fset := token.NewFileSet()
	for _, line := range goList("-deps", "-f", "{{.ImportPath}}\t{{.Dir}}\t{{join .GoFiles \" \"}}", "adstudio/functions/...") {
		parts := strings.SplitN(line, "\t", 3)
		if len(parts) != 3 || !strings.HasPrefix(parts[0], "adstudio/") {
			continue
		}
		var files []*ast.File
		for _, name := range strings.Fields(parts[2]) {
			f, err := parser.ParseFile(fset, filepath.Join(parts[1], name), nil, 0)
			if err != nil {
				t.Fatal(err)
			}
			files = append(files, f)
		}
		consts := stringConsts(files)
		for _, f := range files {
			ast.Inspect(f, func(n ast.Node) bool {
				call, ok := n.(*ast.CallExpr)
				if !ok || len(call.Args) == 0 || !isGetenv(call.Fun) {
					return true
				}
				if v, ok := envName(call.Args[0], consts); ok {
					if direct[v] == nil {
						direct[v] = map[string]bool{}
					}
					direct[v][parts[0]] = true
				}
				return true
			})
		}
	}
	return linked, direct
}

func isGetenv(fun ast.Expr) bool {
	var name string
	switch f := fun.(type) {
	case *ast.Ident:
		name = f.Name
	case *ast.SelectorExpr:
		name = f.Sel.Name
	}
	switch name {
	case "Getenv", "getenv", "LookupEnv", "lookupEnv":
		return true
	}
	return false
}

// envName is the variable a getenv argument names: a literal or a
// package constant, or PREFIX* for "PREFIX" + anything. A name computed
// otherwise (a wrapper passing its parameter on) is not a read of its own.
func envName(arg ast.Expr, consts map[string]string) (string, bool) {
	switch a := arg.(type) {
	case *ast.BasicLit:
		if a.Kind == token.STRING {
			s, err := strconv.Unquote(a.Value)
			return s, err == nil
		}
	case *ast.Ident:
		s, ok := consts[a.Name]
		return s, ok
	case *ast.BinaryExpr:
		if a.Op == token.ADD {
			if prefix, ok := envName(a.X, consts); ok {
				return prefix + "*", true
			}
		}
	case *ast.ParenExpr:
		return envName(a.X, consts)
	}
	return "", false
}

// stringConsts are a package's constants with a string literal value.
func stringConsts(files []*ast.File) map[string]string {
	out := map[string]string{}
	for _, f := range files {
		for _, d := range f.Decls {
			g, ok := d.(*ast.GenDecl)
			if !ok || g.Tok != token.CONST {
				continue
			}
			for _, spec := range g.Specs {
				vs := spec.(*ast.ValueSpec)
				for i, name := range vs.Names {
					if i < len(vs.Values) {
						if lit, ok := vs.Values[i].(*ast.BasicLit); ok && lit.Kind == token.STRING {
							if s, err := strconv.Unquote(lit.Value); err == nil {
								out[name.Name] = s
							}
						}
					}
				}
			}
		}
	}
	return out
}
