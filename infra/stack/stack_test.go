package stack_test

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"
	"github.com/aws/jsii-runtime-go"

	"adstudio/infra/stack"
	"adstudio/pkg/app"
)

// needNode skips when there is no node at all: jsii cannot run. Which node
// runs is fixed when the test binary starts (jsii prepares its process
// during package initialisation), so the Makefile puts infra's pinned Node 22
// first on PATH (platform.md §4.4); any other node still works, with a banner.
func needNode(t *testing.T) {
	if _, err := exec.LookPath("node"); err != nil {
		t.Skip("stack test skipped: no `node` on PATH; the CDK (jsii) needs Node >= 22: run `npm ci` in infra/")
	}
}

// dummyAssets is an asset root with a placeholder bootstrap per function.
func dummyAssets(t *testing.T) string {
	root := t.TempDir()
	for _, fn := range app.Functions() {
		os.MkdirAll(filepath.Join(root, string(fn)), 0o755)
		if err := os.WriteFile(filepath.Join(root, string(fn), "bootstrap"), []byte("#!/bin/sh\n# "+string(fn)+"\n"), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	return root
}

type obj = map[string]any

// doc is the template as plain JSON values.
func doc(t *testing.T, tpl assertions.Template) obj {
	raw, err := json.Marshal(tpl.ToJSON())
	if err != nil {
		t.Fatal(err)
	}
	var d obj
	if err := json.Unmarshal(raw, &d); err != nil {
		t.Fatal(err)
	}
	return d
}

// flat renders an ARN-ish value: a string, or Fn::Join with {"Ref": X}
// parts written as ${X}.
func flat(v any) string {
	switch v := v.(type) {
	case string:
		return v
	case obj:
		if ref, ok := v["Ref"].(string); ok {
			return "${" + ref + "}"
		}
		if j, ok := v["Fn::Join"].([]any); ok && len(j) == 2 {
			var parts []string
			for _, p := range j[1].([]any) {
				parts = append(parts, flat(p))
			}
			return strings.Join(parts, j[0].(string))
		}
		if g, ok := v["Fn::GetAtt"].([]any); ok {
			return fmt.Sprintf("${%v.%v}", g[0], g[1])
		}
	}
	b, _ := json.Marshal(v)
	return string(b)
}

func list(v any) []any {
	if l, ok := v.([]any); ok {
		return l
	}
	return []any{v}
}

func logicalID(s *stack.Stack, fn app.Function) string {
	return *s.GetLogicalId(s.Functions[fn].Node().DefaultChild().(awscdk.CfnElement))
}

func resources(d obj, typ string) map[string]obj {
	out := map[string]obj{}
	for id, r := range d["Resources"].(obj) {
		if r.(obj)["Type"] == typ {
			out[id] = r.(obj)
		}
	}
	return out
}

func props(r obj) obj { return r["Properties"].(obj) }

var secretVars = []string{"BETTER_AUTH_SECRET", "TURSO_AUTH_TOKEN", "R2_ACCESS_KEY_ID", "R2_SECRET_ACCESS_KEY", "QWEN_API_KEY", "GOOGLE_CLIENT_SECRET", "GITHUB_CLIENT_SECRET"}

// One test function: an assertions failure panics and ends the binary
// (platform.md §4.3), and jsii starts once.
func TestStack(t *testing.T) {
	for _, fn := range app.Functions() {
		if _, ok := stack.Specs()[fn]; !ok {
			t.Fatalf("function %q has no stack.Specs entry", fn)
		}
	}

	needNode(t)
	defer jsii.Close()
	assets := dummyAssets(t)

	// A stack built from context, with every setting and a custom domain.
	ctx := map[string]any{
		"assetRoot":      assets,
		"databaseUrl":    "libsql://adstudio-org.turso.io",
		"trustedOrigins": "https://app.example.com",
		"frontendUrl":    "https://app.example.com",
		"cookieDomain":   "example.com",
		"cookieSameSite": "lax",
		"r2AccountId":    "0123456789abcdef",
		"r2Bucket":       "adstudio-generations",
		"qwenRegion":     "sg",
		"qwenTimeoutMs":  45000, // numbers from cdk.json arrive as numbers
		"githubClientId": "Iv1.abc",
		"authSchema":     "", // empty: left out
		"domainName":     "api.example.com",
		"certificateArn": "arn:aws:acm:eu-west-1:123456789012:certificate/abc",
	}
	a := awscdk.NewApp(&awscdk.AppProps{Context: &ctx})
	p, err := stack.FromContext(a)
	if err != nil {
		t.Fatal(err)
	}
	s := stack.New(a, "TestStack", p)
	tpl := assertions.Template_FromStack(s.Stack, nil)
	d := doc(t, tpl)

	// Functions.
	tpl.ResourceCountIs(jsii.String("AWS::Lambda::Function"), jsii.Number(len(app.Functions())))
	fnByID := map[string]app.Function{}
	for _, fn := range app.Functions() {
		spec := stack.Specs()[fn]
		id := logicalID(s, fn)
		fnByID[id] = fn
		tpl.HasResource(jsii.String("AWS::Lambda::Function"), obj{
			"Properties": obj{
				"Runtime":       "provided.al2023",
				"Architectures": []string{"arm64"},
				"Handler":       "bootstrap",
				"MemorySize":    spec.MemoryMB,
				"Timeout":       spec.TimeoutSeconds,
				"Description":   assertions.Match_StringLikeRegexp(jsii.String("^adstudio " + string(fn) + ":")),
				"LoggingConfig": obj{"LogFormat": "JSON", "LogGroup": obj{"Ref": assertions.Match_AnyValue()}},
			},
		})
		r := resources(d, "AWS::Lambda::Function")[id]
		lg := props(r)["LoggingConfig"].(obj)["LogGroup"].(obj)["Ref"].(string)
		if rd := props(resources(d, "AWS::Logs::LogGroup")[lg])["RetentionInDays"]; rd != float64(30) {
			t.Errorf("%s: log group %s retention %v, want 30", fn, lg, rd)
		}
	}
	if spec := stack.Specs()[app.Generate]; spec.TimeoutSeconds < 105 || stack.Specs()[app.Auth].TimeoutSeconds > 29 {
		t.Errorf("timeouts: generate %v s (needs >= 105 for a continuation), auth %v s (API-facing, <= 29)", spec.TimeoutSeconds, stack.Specs()[app.Auth].TimeoutSeconds)
	}
	tpl.ResourceCountIs(jsii.String("AWS::Logs::LogGroup"), jsii.Number(len(app.Functions())))
	tpl.AllResourcesProperties(jsii.String("AWS::Logs::LogGroup"), obj{"RetentionInDays": 30})
	// No LogRetention custom resource.
	tpl.ResourceCountIs(jsii.String("Custom::LogRetention"), jsii.Number(0))

	// Environment: plain settings, <VAR>_SSM names, never a secret itself.
	generateName := "TestStack-generate"
	for id, r := range resources(d, "AWS::Lambda::Function") {
		fn := fnByID[id]
		env := map[string]string{}
		for k, v := range props(r)["Environment"].(obj)["Variables"].(obj) {
			env[k] = flat(v)
		}
		for k, want := range map[string]string{
			"TURSO_DATABASE_URL": "libsql://adstudio-org.turso.io",
			"TRUSTED_ORIGINS":    "https://app.example.com",
			"FRONTEND_URL":       "https://app.example.com",
			"COOKIE_DOMAIN":      "example.com",
			"COOKIE_SAMESITE":    "lax",
			"R2_ACCOUNT_ID":      "0123456789abcdef",
			"R2_BUCKET":          "adstudio-generations",
			"QWEN_REGION":        "sg",
			"QWEN_TIMEOUT_MS":    "45000",
			"GITHUB_CLIENT_ID":   "Iv1.abc",
			"BETTER_AUTH_URL":    "https://api.example.com",
		} {
			if env[k] != want {
				t.Errorf("%s: %s = %q, want %q", fn, k, env[k], want)
			}
		}
		for _, k := range []string{"AUTH_SCHEMA", "COOKIE_PREFIX", "COOKIE_PARTITIONED", "QWEN_IMAGE_MODEL", "GOOGLE_CLIENT_ID"} {
			if _, ok := env[k]; ok {
				t.Errorf("%s: unset setting %s is in the environment", fn, k)
			}
		}
		var ssm []string
		for k := range env {
			if strings.HasSuffix(k, "_SSM") {
				ssm = append(ssm, k+"="+env[k])
			}
		}
		var want []string
		for _, sec := range stack.Specs()[fn].Secrets {
			want = append(want, sec.Env+"_SSM=/adstudio/"+sec.Param)
		}
		if fn == app.Auth { // githubClientId is set, googleClientId is not
			want = append(want, "GITHUB_CLIENT_SECRET_SSM=/adstudio/github-client-secret")
		}
		sort.Strings(ssm)
		sort.Strings(want)
		if !reflect.DeepEqual(ssm, want) {
			t.Errorf("%s: SSM names %v, want %v", fn, ssm, want)
		}
		for _, k := range secretVars {
			if _, ok := env[k]; ok {
				t.Errorf("%s: secret %s is in the environment (only %s_SSM may be)", fn, k, k)
			}
		}
		if fn == app.Generate {
			if env[stack.GenerateFunctionNameEnv] != generateName || props(r)["FunctionName"] != generateName {
				t.Errorf("generate: %s=%q FunctionName=%v, want both %q", stack.GenerateFunctionNameEnv, env[stack.GenerateFunctionNameEnv], props(r)["FunctionName"], generateName)
			}
		} else if _, ok := env[stack.GenerateFunctionNameEnv]; ok {
			t.Errorf("%s has %s", fn, stack.GenerateFunctionNameEnv)
		}
	}
	wantSecrets := map[app.Function][]string{
		app.Auth:       {"/adstudio/better-auth-secret", "/adstudio/github-client-secret", "/adstudio/r2-access-key-id", "/adstudio/r2-secret-access-key", "/adstudio/turso-auth-token"},
		app.History:    {"/adstudio/better-auth-secret", "/adstudio/r2-access-key-id", "/adstudio/r2-secret-access-key", "/adstudio/turso-auth-token"},
		app.ImageProxy: {"/adstudio/better-auth-secret", "/adstudio/r2-access-key-id", "/adstudio/r2-secret-access-key", "/adstudio/turso-auth-token"},
		app.Generate:   {"/adstudio/better-auth-secret", "/adstudio/qwen-api-key", "/adstudio/r2-access-key-id", "/adstudio/r2-secret-access-key", "/adstudio/turso-auth-token"},
	}
	if !reflect.DeepEqual(s.ParameterNames, wantSecrets) {
		t.Errorf("parameter names %v, want %v", s.ParameterNames, wantSecrets)
	}
	raw, _ := json.Marshal(d)
	for _, k := range secretVars {
		if strings.Contains(string(raw), `"`+k+`"`) {
			t.Errorf("template has the key %q (a secret must only appear as %s_SSM)", k, k)
		}
	}

	// API: HTTP, no CORS configuration, explicit routes only.
	tpl.ResourceCountIs(jsii.String("AWS::ApiGatewayV2::Api"), jsii.Number(1))
	tpl.HasResourceProperties(jsii.String("AWS::ApiGatewayV2::Api"), obj{
		"ProtocolType":      "HTTP",
		"CorsConfiguration": assertions.Match_Absent(),
	})
	tpl.ResourceCountIs(jsii.String("AWS::ApiGatewayV2::Integration"), jsii.Number(len(app.Functions())))
	tpl.AllResourcesProperties(jsii.String("AWS::ApiGatewayV2::Integration"), obj{
		"IntegrationType":      "AWS_PROXY",
		"PayloadFormatVersion": "2.0",
	})
	integFor := map[app.Function]string{}
	for id, r := range resources(d, "AWS::ApiGatewayV2::Integration") {
		uri := props(r)["IntegrationUri"].(obj)["Fn::GetAtt"].([]any)
		fn, ok := fnByID[uri[0].(string)]
		if !ok || uri[1] != "Arn" {
			t.Fatalf("integration %s targets %v", id, uri)
		}
		integFor[fn] = id
	}
	target := func(fn app.Function) obj {
		return obj{"Fn::Join": []any{"", []any{"integrations/", obj{"Ref": integFor[fn]}}}}
	}
	// Walk the route table itself: a new route without its API route (or
	// with the wrong function) fails here.
	for _, r := range app.Routes() {
		key, err := r.GatewayKey()
		if err != nil {
			t.Fatal(err)
		}
		tpl.HasResourceProperties(jsii.String("AWS::ApiGatewayV2::Route"), obj{"RouteKey": key, "Target": target(r.Function)})
	}
	tpl.HasResourceProperties(jsii.String("AWS::ApiGatewayV2::Route"), obj{"RouteKey": "OPTIONS /{proxy+}", "Target": target(app.Auth)})
	tpl.HasResourceProperties(jsii.String("AWS::ApiGatewayV2::Route"), obj{"RouteKey": "ANY /api/workflows/{proxy+}", "Target": target(app.Generate)})
	tpl.HasResourceProperties(jsii.String("AWS::ApiGatewayV2::Route"), obj{"RouteKey": "GET /api/history/{id}", "Target": target(app.History)})
	tpl.ResourceCountIs(jsii.String("AWS::ApiGatewayV2::Route"), jsii.Number(len(app.Routes())+1))
	tpl.ResourcePropertiesCountIs(jsii.String("AWS::ApiGatewayV2::Route"), obj{"RouteKey": "$default"}, jsii.Number(0))

	// Stage throttling.
	tpl.ResourceCountIs(jsii.String("AWS::ApiGatewayV2::Stage"), jsii.Number(1))
	tpl.HasResourceProperties(jsii.String("AWS::ApiGatewayV2::Stage"), obj{
		"StageName":  "$default",
		"AutoDeploy": true,
		"DefaultRouteSettings": obj{
			"ThrottlingRateLimit":  stack.DefaultThrottleRate,
			"ThrottlingBurstLimit": stack.DefaultThrottleBurst,
		},
	})

	// Invoke permissions: API Gateway for every function (one each, not
	// one per route), EventBridge for generate only.
	perms := map[string][]string{}
	for _, r := range resources(d, "AWS::Lambda::Permission") {
		pr := props(r)
		fn := fnByID[pr["FunctionName"].(obj)["Fn::GetAtt"].([]any)[0].(string)]
		if pr["Action"] != "lambda:InvokeFunction" {
			t.Errorf("permission for %s: action %v", fn, pr["Action"])
		}
		perms[string(fn)] = append(perms[string(fn)], pr["Principal"].(string))
	}
	wantPerms := map[string][]string{
		"auth":       {"apigateway.amazonaws.com"},
		"generate":   {"apigateway.amazonaws.com", "events.amazonaws.com"},
		"history":    {"apigateway.amazonaws.com"},
		"imageproxy": {"apigateway.amazonaws.com"},
	}
	for k := range perms {
		sort.Strings(perms[k])
	}
	if !reflect.DeepEqual(perms, wantPerms) {
		t.Errorf("invoke permissions %v, want %v", perms, wantPerms)
	}

	// The sweep schedule.
	genID := logicalID(s, app.Generate)
	tpl.ResourceCountIs(jsii.String("AWS::Events::Rule"), jsii.Number(1))
	tpl.HasResourceProperties(jsii.String("AWS::Events::Rule"), obj{
		"ScheduleExpression": "rate(5 minutes)",
		"State":              "ENABLED",
		"Targets": []any{obj{
			"Arn":   obj{"Fn::GetAtt": []any{genID, "Arn"}},
			"Input": `{"adstudio":"sweep"}`,
		}},
	})

	// IAM: per function, exactly its own parameters with ssm:GetParameters,
	// plus lambda:InvokeFunction on itself for generate; no wildcards.
	roleOf := map[string]app.Function{}
	for id, r := range resources(d, "AWS::Lambda::Function") {
		roleOf[props(r)["Role"].(obj)["Fn::GetAtt"].([]any)[0].(string)] = fnByID[id]
	}
	arn := "arn:${AWS::Partition}:%s:${AWS::Region}:${AWS::AccountId}:%s"
	got := map[app.Function][]string{}
	for id, r := range resources(d, "AWS::IAM::Policy") {
		pr := props(r)
		roles := list(pr["Roles"])
		if len(roles) != 1 {
			t.Fatalf("policy %s has roles %v", id, roles)
		}
		fn, ok := roleOf[roles[0].(obj)["Ref"].(string)]
		if !ok {
			t.Fatalf("policy %s is not on a function role", id)
		}
		for _, st := range list(pr["PolicyDocument"].(obj)["Statement"]) {
			st := st.(obj)
			if st["Effect"] != "Allow" {
				t.Errorf("%s: statement %v", fn, st)
			}
			for _, act := range list(st["Action"]) {
				if strings.Contains(act.(string), "*") {
					t.Errorf("%s: wildcard action %v", fn, act)
				}
				for _, res := range list(st["Resource"]) {
					if strings.Contains(flat(res), "*") {
						t.Errorf("%s: wildcard resource %v", fn, flat(res))
					}
					got[fn] = append(got[fn], act.(string)+" "+flat(res))
				}
			}
		}
	}
	for _, fn := range app.Functions() {
		var want []string
		for _, n := range wantSecrets[fn] {
			want = append(want, "ssm:GetParameters "+fmt.Sprintf(arn, "ssm", "parameter"+n))
		}
		if fn == app.Generate {
			want = append(want, "lambda:InvokeFunction "+fmt.Sprintf(arn, "lambda", "function:"+generateName))
		}
		sort.Strings(want)
		sort.Strings(got[fn])
		if !reflect.DeepEqual(got[fn], want) {
			t.Errorf("%s: IAM grants\n  got  %q\n  want %q", fn, got[fn], want)
		}
	}

	// Custom domain and outputs.
	tpl.HasResourceProperties(jsii.String("AWS::ApiGatewayV2::DomainName"), obj{
		"DomainName": "api.example.com",
		"DomainNameConfigurations": []any{obj{
			"CertificateArn": "arn:aws:acm:eu-west-1:123456789012:certificate/abc",
			"EndpointType":   "REGIONAL",
		}},
	})
	stageID := *s.GetLogicalId(s.Stage.Node().DefaultChild().(awscdk.CfnElement))
	// The mapping names the stage and waits for it.
	tpl.HasResource(jsii.String("AWS::ApiGatewayV2::ApiMapping"), obj{
		"Properties": obj{"Stage": "$default"},
		"DependsOn":  assertions.Match_ArrayWith(&[]any{stageID}),
	})
	tpl.HasOutput(jsii.String("ApiUrl"), obj{})
	tpl.HasOutput(jsii.String("CustomDomainCnameTarget"), obj{})
	tpl.HasOutput(jsii.String("SecretParameters"), obj{
		"Value": "/adstudio/better-auth-secret,/adstudio/github-client-secret,/adstudio/qwen-api-key,/adstudio/r2-access-key-id,/adstudio/r2-secret-access-key,/adstudio/turso-auth-token",
	})
	assertions.Annotations_FromStack(s.Stack).HasNoWarning(jsii.String("*"), assertions.Match_StringLikeRegexp(jsii.String("context ")))

	// A bare stack: defaults, no domain, BETTER_AUTH_URL = the execute-api
	// endpoint, another prefix, warnings for what a deploy needs.
	a2 := awscdk.NewApp(nil)
	s2 := stack.New(a2, "Bare", &stack.Props{AssetRoot: assets, ParameterPrefix: "prod/adstudio"})
	tpl2 := assertions.Template_FromStack(s2.Stack, nil)
	d2 := doc(t, tpl2)
	tpl2.ResourceCountIs(jsii.String("AWS::ApiGatewayV2::DomainName"), jsii.Number(0))
	tpl2.ResourceCountIs(jsii.String("AWS::ApiGatewayV2::ApiMapping"), jsii.Number(0))
	apiID := *s2.GetLogicalId(s2.Api.Node().DefaultChild().(awscdk.CfnElement))
	for _, r := range resources(d2, "AWS::Lambda::Function") {
		env := props(r)["Environment"].(obj)["Variables"].(obj)
		if u := flat(env["BETTER_AUTH_URL"]); u != "${"+apiID+".ApiEndpoint}" {
			t.Errorf("bare: BETTER_AUTH_URL = %s", u)
		}
		if v := env["BETTER_AUTH_SECRET_SSM"]; v != "/prod/adstudio/better-auth-secret" {
			t.Errorf("bare: BETTER_AUTH_SECRET_SSM = %v", v)
		}
	}
	ann := assertions.Annotations_FromStack(s2.Stack)
	ann.HasWarning(jsii.String("/Bare"), assertions.Match_StringLikeRegexp(jsii.String("databaseUrl")))
	ann.HasWarning(jsii.String("/Bare"), assertions.Match_StringLikeRegexp(jsii.String("trustedOrigins")))

	// A secret can never be passed as a plain setting.
	func() {
		defer func() {
			if recover() == nil {
				t.Error("New accepted BETTER_AUTH_SECRET as a plain setting")
			}
		}()
		stack.New(awscdk.NewApp(nil), "Bad", &stack.Props{AssetRoot: assets, Settings: map[string]string{"BETTER_AUTH_SECRET": "x"}})
	}()
	// Missing packages are reported before synth.
	if err := stack.CheckAssets(t.TempDir()); err == nil || !strings.Contains(err.Error(), "make build") {
		t.Errorf("CheckAssets on an empty dir: %v", err)
	}
	// What `sam local start-api -t cdk.out/<stack>.template.json` needs: the
	// CLI's synth writes each function's asset path into its metadata, and
	// the asset directory holds the bootstrap (platform.md §3.3).
	out := t.TempDir()
	a3 := awscdk.NewApp(&awscdk.AppProps{Outdir: jsii.String(out), Context: &map[string]any{
		// What the CLI sets on every synth.
		"aws:cdk:enable-asset-metadata": true, "aws:cdk:enable-path-metadata": true,
	}})
	stack.New(a3, "Sam", &stack.Props{AssetRoot: assets})
	a3.Synth(nil)
	raw, err = os.ReadFile(filepath.Join(out, "Sam.template.json"))
	if err != nil {
		t.Fatal(err)
	}
	var d3 obj
	if err := json.Unmarshal(raw, &d3); err != nil {
		t.Fatal(err)
	}
	fns := resources(d3, "AWS::Lambda::Function")
	if len(fns) != len(app.Functions()) {
		t.Fatalf("synthesised %d functions", len(fns))
	}
	for id, r := range fns {
		md, _ := r["Metadata"].(obj)
		p, _ := md["aws:asset:path"].(string)
		if md["aws:asset:property"] != "Code" || p == "" {
			t.Errorf("%s: metadata %v lacks the asset path SAM reads", id, md)
			continue
		}
		// Sam/Generate/Resource holds dummyAssets' generate bootstrap.
		_, rest, _ := strings.Cut(fmt.Sprint(md["aws:cdk:path"]), "/")
		fn, _, _ := strings.Cut(strings.ToLower(rest), "/")
		b, err := os.ReadFile(filepath.Join(out, p, "bootstrap"))
		if err != nil || string(b) != "#!/bin/sh\n# "+fn+"\n" {
			t.Errorf("%s: asset %s does not hold the %s bootstrap: %q, %v", id, p, fn, b, err)
		}
	}
}
