package stack_test

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"
	"github.com/aws/jsii-runtime-go"

	"adstudio/infra/stack"
	"adstudio/internal/devtools/testenv"
	"adstudio/internal/routes"
)

// needNode skips (or fails under CI) when there is no node at all: jsii
// cannot run. Which node runs is fixed when the test binary starts (jsii
// prepares its process during package initialisation), so the Makefile puts
// infra's pinned Node 22 first on PATH; any other node still works, with a
// banner.
func needNode(t *testing.T) {
	t.Helper()
	testenv.Program(t, "node", "the CDK (jsii) needs Node >= 22: run `npm ci` in infra/ and put infra/node_modules/.bin on PATH, as make test-go does")
}

// dummyAssets is an asset root with a placeholder bootstrap per function.
func dummyAssets(t *testing.T) string {
	root := t.TempDir()
	for _, fn := range routes.Functions() {
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

func logicalID(s *stack.Stack, fn routes.Function) string {
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

// only returns the one resource of a resources() result.
func only(t *testing.T, rs map[string]obj) obj {
	t.Helper()
	if len(rs) != 1 {
		t.Fatalf("%d resources, want 1", len(rs))
	}
	for _, r := range rs {
		return r
	}
	return nil
}

// routeSettings reads a stage's RouteSettings as throttles.
func routeSettings(t *testing.T, stage obj) map[string]stack.Throttle {
	t.Helper()
	out := map[string]stack.Throttle{}
	rs, _ := stage["RouteSettings"].(obj)
	for key, v := range rs {
		v := v.(obj)
		if len(v) != 2 {
			t.Errorf("route settings for %s: %v (want exactly the two throttling limits)", key, v)
		}
		rate, _ := v["ThrottlingRateLimit"].(float64)
		burst, _ := v["ThrottlingBurstLimit"].(float64)
		out[key] = stack.Throttle{Rate: rate, Burst: burst}
	}
	return out
}

// noCycle reports a dependency cycle among the template's resources
// (Ref, Fn::GetAtt and DependsOn), which CloudFormation would refuse.
func noCycle(d obj) error {
	res := d["Resources"].(obj)
	edges := map[string][]string{}
	var walk func(from string, v any)
	walk = func(from string, v any) {
		switch v := v.(type) {
		case obj:
			if ref, ok := v["Ref"].(string); ok && res[ref] != nil {
				edges[from] = append(edges[from], ref)
			}
			if g, ok := v["Fn::GetAtt"].([]any); ok && res[fmt.Sprint(g[0])] != nil {
				edges[from] = append(edges[from], fmt.Sprint(g[0]))
			}
			for _, x := range v {
				walk(from, x)
			}
		case []any:
			for _, x := range v {
				walk(from, x)
			}
		}
	}
	for id, r := range res {
		walk(id, r.(obj)["Properties"])
		for _, dep := range list(r.(obj)["DependsOn"]) {
			if dep != nil {
				edges[id] = append(edges[id], fmt.Sprint(dep))
			}
		}
	}
	state := map[string]int{} // 1 visiting, 2 done
	var visit func(id string, path []string) error
	visit = func(id string, path []string) error {
		switch state[id] {
		case 1:
			return fmt.Errorf("dependency cycle: %v", append(path, id))
		case 2:
			return nil
		}
		state[id] = 1
		for _, next := range edges[id] {
			if err := visit(next, append(path, id)); err != nil {
				return err
			}
		}
		state[id] = 2
		return nil
	}
	for id := range res {
		if err := visit(id, nil); err != nil {
			return err
		}
	}
	return nil
}

var secretVars = []string{"BETTER_AUTH_SECRET", "TURSO_AUTH_TOKEN", "R2_ACCESS_KEY_ID", "R2_SECRET_ACCESS_KEY", "QWEN_API_KEY", "GOOGLE_CLIENT_SECRET", "GITHUB_CLIENT_SECRET",
	"SMTP_URL", "STRIPE_SECRET_KEY", "STRIPE_WEBHOOK_SECRET"}

// One test function: an assertions failure panics and ends the binary
// (docs/platform.md §4), and jsii starts once.
func TestStack(t *testing.T) {
	for _, fn := range routes.Functions() {
		if _, ok := stack.Specs()[fn]; !ok {
			t.Fatalf("function %q has no stack.Specs entry", fn)
		}
	}

	needNode(t)
	defer jsii.Close()
	assets := dummyAssets(t)

	// Every environment variable has an owner (envowners_test.go).
	t.Run("EnvironmentOwners", func(t *testing.T) { checkEnvironmentOwners(t, assets) })
	// Mail: SES's grant and SMTP's secret, for auth alone (mail_test.go).
	t.Run("Mail", func(t *testing.T) { checkMail(t, assets) })
	// Billing: the packs and Stripe's secrets, for history alone and only
	// with billingPacks (billing_test.go).
	t.Run("Billing", func(t *testing.T) { checkBilling(t, assets) })
	// Access log, failed-event queue, alarms, dashboard (monitoring_test.go).
	t.Run("Monitoring", func(t *testing.T) { checkMonitoring(t, assets) })

	// A stack built from context, with every setting and a custom domain.
	ctx := map[string]any{
		"assetRoot":        assets,
		"databaseUrl":      "libsql://adstudio-org.turso.io",
		"trustedOrigins":   "https://app.example.com",
		"frontendUrl":      "https://app.example.com",
		"cookieDomain":     "example.com",
		"r2AccountId":      "0123456789abcdef",
		"r2Bucket":         "adstudio-generations",
		"qwenRegion":       "sg",
		"qwenTimeoutMs":    45000, // numbers from cdk.json arrive as numbers
		"githubClientId":   "Iv1.abc",
		"ipAddressHeaders": "x-viewer-ip",
		"authSchema":       "", // empty: left out
		"domainName":       "api.example.com",
		"certificateArn":   "arn:aws:acm:eu-west-1:123456789012:certificate/abc",
		"alarmEmail":       "ops@example.com",
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
	tpl.ResourceCountIs(jsii.String("AWS::Lambda::Function"), jsii.Number(len(routes.Functions())))
	fnByID := map[string]routes.Function{}
	for _, fn := range routes.Functions() {
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
	if spec := stack.Specs()[routes.Generate]; spec.TimeoutSeconds < 105 || stack.Specs()[routes.Auth].TimeoutSeconds > 29 {
		t.Errorf("timeouts: generate %v s (needs >= 105 for a continuation), auth %v s (API-facing, <= 29)", spec.TimeoutSeconds, stack.Specs()[routes.Auth].TimeoutSeconds)
	}
	// One per function, and the API's access log.
	tpl.ResourceCountIs(jsii.String("AWS::Logs::LogGroup"), jsii.Number(len(routes.Functions())+1))
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
			"R2_ACCOUNT_ID":      "0123456789abcdef",
			"R2_BUCKET":          "adstudio-generations",
			"QWEN_REGION":        "sg",
			"QWEN_TIMEOUT_MS":    "45000",
			"IP_ADDRESS_HEADERS": "x-viewer-ip",
			"BETTER_AUTH_URL":    "https://api.example.com",
		} {
			if env[k] != want {
				t.Errorf("%s: %s = %q, want %q", fn, k, env[k], want)
			}
		}
		// A client id goes where its secret goes: only to auth.
		if id, ok := env["GITHUB_CLIENT_ID"]; fn == routes.Auth && id != "Iv1.abc" || fn != routes.Auth && ok {
			t.Errorf("%s: GITHUB_CLIENT_ID = %q (set: %t), want it in auth only", fn, id, ok)
		}
		// No SameSite is forced: the function decides it from the deployment.
		for _, k := range []string{"AUTH_SCHEMA", "COOKIE_PREFIX", "COOKIE_SAMESITE", "COOKIE_PARTITIONED", "QWEN_IMAGE_MODEL", "GOOGLE_CLIENT_ID", "BILLING_PACKS"} {
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
		if fn == routes.Auth { // githubClientId is set, googleClientId is not
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
		if fn == routes.Generate {
			if env[stack.GenerateFunctionNameEnv] != generateName || props(r)["FunctionName"] != generateName {
				t.Errorf("generate: %s=%q FunctionName=%v, want both %q", stack.GenerateFunctionNameEnv, env[stack.GenerateFunctionNameEnv], props(r)["FunctionName"], generateName)
			}
		} else if _, ok := env[stack.GenerateFunctionNameEnv]; ok {
			t.Errorf("%s has %s", fn, stack.GenerateFunctionNameEnv)
		}
	}
	wantSecrets := map[routes.Function][]string{
		routes.Auth:       {"/adstudio/better-auth-secret", "/adstudio/github-client-secret", "/adstudio/r2-access-key-id", "/adstudio/r2-secret-access-key", "/adstudio/turso-auth-token"},
		routes.History:    {"/adstudio/better-auth-secret", "/adstudio/r2-access-key-id", "/adstudio/r2-secret-access-key", "/adstudio/turso-auth-token"},
		routes.ImageProxy: {"/adstudio/better-auth-secret", "/adstudio/r2-access-key-id", "/adstudio/r2-secret-access-key", "/adstudio/turso-auth-token"},
		routes.Generate:   {"/adstudio/better-auth-secret", "/adstudio/qwen-api-key", "/adstudio/r2-access-key-id", "/adstudio/r2-secret-access-key", "/adstudio/turso-auth-token"},
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
	tpl.ResourceCountIs(jsii.String("AWS::ApiGatewayV2::Integration"), jsii.Number(len(routes.Functions())))
	tpl.AllResourcesProperties(jsii.String("AWS::ApiGatewayV2::Integration"), obj{
		"IntegrationType":      "AWS_PROXY",
		"PayloadFormatVersion": "2.0",
	})
	integFor := map[routes.Function]string{}
	for id, r := range resources(d, "AWS::ApiGatewayV2::Integration") {
		uri := props(r)["IntegrationUri"].(obj)["Fn::GetAtt"].([]any)
		fn, ok := fnByID[uri[0].(string)]
		if !ok || uri[1] != "Arn" {
			t.Fatalf("integration %s targets %v", id, uri)
		}
		integFor[fn] = id
	}
	target := func(fn routes.Function) obj {
		return obj{"Fn::Join": []any{"", []any{"integrations/", obj{"Ref": integFor[fn]}}}}
	}
	// Walk the route table itself: a new route without its API route (or
	// with the wrong function) fails here.
	for _, r := range routes.Table() {
		key, err := r.GatewayKey()
		if err != nil {
			t.Fatal(err)
		}
		tpl.HasResourceProperties(jsii.String("AWS::ApiGatewayV2::Route"), obj{"RouteKey": key, "Target": target(r.Function)})
	}
	tpl.HasResourceProperties(jsii.String("AWS::ApiGatewayV2::Route"), obj{"RouteKey": "OPTIONS /{proxy+}", "Target": target(routes.Auth)})
	tpl.HasResourceProperties(jsii.String("AWS::ApiGatewayV2::Route"), obj{"RouteKey": "ANY /api/workflows/{proxy+}", "Target": target(routes.Generate)})
	tpl.HasResourceProperties(jsii.String("AWS::ApiGatewayV2::Route"), obj{"RouteKey": "GET /api/history/{id}", "Target": target(routes.History)})
	tpl.ResourceCountIs(jsii.String("AWS::ApiGatewayV2::Route"), jsii.Number(len(routes.Table())+1))
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

	// Route throttles, from the route table: every POST of the generate
	// function (the workflows, and the uploads that precede one) and the
	// workflows' ANY subtree, the scrypt routes, history deletes and image
	// bytes get their own setting; nothing else does.
	stage := props(only(t, resources(d, "AWS::ApiGatewayV2::Stage")))
	wantRS := map[string]stack.Throttle{}
	workflowPosts := 0
	for _, r := range routes.Table() {
		key, _ := r.GatewayKey()
		switch {
		case r.Function == routes.Generate && (r.Method == "POST" || r.Method == ""):
			wantRS[key] = stack.Throttle{Rate: stack.DefaultWorkflowThrottleRate, Burst: stack.DefaultWorkflowThrottleBurst}
			if r.Method == "POST" && strings.HasPrefix(r.Path, "/api/workflows/") {
				workflowPosts++
			}
		case r.Method == "DELETE" && strings.HasPrefix(r.Path, "/api/history/"):
			wantRS[key] = stack.Throttle{Rate: stack.DefaultHistoryDeleteThrottleRate, Burst: stack.DefaultHistoryDeleteThrottleBurst}
		case r.Function == routes.ImageProxy:
			wantRS[key] = stack.Throttle{Rate: stack.DefaultAssetThrottleRate, Burst: stack.DefaultAssetThrottleBurst}
		}
	}
	for _, key := range []string{"POST /api/auth/sign-in/email", "POST /api/auth/sign-up/email", "POST /api/auth/change-password", "POST /api/auth/delete-user"} {
		wantRS[key] = stack.Throttle{Rate: stack.DefaultPasswordThrottleRate, Burst: stack.DefaultPasswordThrottleBurst}
	}
	if workflowPosts < 3 || wantRS["GET /api/history/{id}/asset"].Rate == 0 || wantRS["DELETE /api/history/{id}"].Rate == 0 {
		t.Fatalf("route table lacks the routes this test expects: %v", wantRS)
	}
	if got := routeSettings(t, stage); !reflect.DeepEqual(got, wantRS) {
		t.Errorf("stage RouteSettings\n  got  %v\n  want %v", got, wantRS)
	}
	// The throttles tighten the stage default, never loosen it.
	for key, th := range wantRS {
		if th.Rate > stack.DefaultThrottleRate || th.Burst > stack.DefaultThrottleBurst {
			t.Errorf("%s: route throttle %v above the stage default", key, th)
		}
	}
	// API Gateway refuses settings for a route it does not know yet, so the
	// stage must depend on every route it names.
	routeID := map[string]string{}
	for id, r := range resources(d, "AWS::ApiGatewayV2::Route") {
		routeID[props(r)["RouteKey"].(string)] = id
	}
	deps := map[string]bool{}
	for _, id := range list(only(t, resources(d, "AWS::ApiGatewayV2::Stage"))["DependsOn"]) {
		deps[fmt.Sprint(id)] = true
	}
	for key := range wantRS {
		if !deps[routeID[key]] {
			t.Errorf("stage does not depend on route %s (%s)", key, routeID[key])
		}
	}
	// A workflow route added later is covered without touching the stack.
	if c := stack.ClassifyRoute(routes.GatewayRoute{Key: "POST /api/workflows/banner-from-text", Function: routes.Generate}); c != stack.Workflow {
		t.Errorf("a new workflow POST is classified %q, want %q", c, stack.Workflow)
	}
	if c := stack.ClassifyRoute(routes.GatewayRoute{Key: "GET /api/history", Function: routes.History}); c != "" {
		t.Errorf("GET /api/history is classified %q", c)
	}
	if err := noCycle(d); err != nil {
		t.Error(err)
	}

	// Reserved concurrency: generate only, the default.
	for id, r := range resources(d, "AWS::Lambda::Function") {
		got, want := props(r)["ReservedConcurrentExecutions"], any(nil)
		if fnByID[id] == routes.Generate {
			want = float64(stack.DefaultGenerateReservedConcurrency)
		}
		if got != want {
			t.Errorf("%s: ReservedConcurrentExecutions %v, want %v", fnByID[id], got, want)
		}
	}

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
	genID := logicalID(s, routes.Generate)
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
	// plus for generate lambda:InvokeFunction on itself and CDK's send grant
	// on its failed-event queue (the on-failure destination); no wildcards.
	arn := "arn:${AWS::Partition}:%s:${AWS::Region}:${AWS::AccountId}:%s"
	got := iamGrants(t, d, fnByID)
	for _, fn := range routes.Functions() {
		var want []string
		for _, n := range wantSecrets[fn] {
			want = append(want, "ssm:GetParameters "+fmt.Sprintf(arn, "ssm", "parameter"+n))
		}
		if fn == routes.Generate {
			want = append(want, "lambda:InvokeFunction "+fmt.Sprintf(arn, "lambda", "function:"+generateName))
			queue := "${" + *s.GetLogicalId(s.GenerateFailedEvents.Node().DefaultChild().(awscdk.CfnElement)) + ".Arn}"
			for _, act := range []string{"sqs:SendMessage", "sqs:GetQueueAttributes", "sqs:GetQueueUrl"} {
				want = append(want, act+" "+queue)
			}
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
	// With a domain, the execute-api endpoint is off and no output offers it.
	tpl.HasResourceProperties(jsii.String("AWS::ApiGatewayV2::Api"), obj{"DisableExecuteApiEndpoint": true})
	tpl.HasOutput(jsii.String("ApiUrl"), obj{"Value": "https://api.example.com"})
	tpl.HasOutput(jsii.String("CustomDomainCnameTarget"), obj{})
	if outs, _ := json.Marshal(d["Outputs"]); strings.Contains(string(outs), "ApiEndpoint") {
		t.Errorf("outputs offer the disabled execute-api endpoint: %s", outs)
	}
	// Cookies: app.example.com and api.example.com are one site.
	tpl.HasOutput(jsii.String("CookieShape"), obj{"Value": "SameSite=Lax; Secure (one site: every trusted origin is on the same site as https://api.example.com)"})
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
	// Without a domain the execute-api endpoint is the API: enabled, and
	// ApiUrl names it.
	if v, ok := props(only(t, resources(d2, "AWS::ApiGatewayV2::Api")))["DisableExecuteApiEndpoint"]; ok && v != false {
		t.Errorf("bare: DisableExecuteApiEndpoint = %v", v)
	}
	tpl2.HasOutput(jsii.String("ApiUrl"), obj{"Value": obj{"Fn::GetAtt": []any{apiID, "ApiEndpoint"}}})
	// BETTER_AUTH_URL is unknown at synth: the shape is decided at run time.
	tpl2.HasOutput(jsii.String("CookieShape"), obj{"Value": assertions.Match_StringLikeRegexp(jsii.String(`^SameSite=Lax; Secure \(decided at run time`))})
	tpl2.HasResourceProperties(jsii.String("AWS::Lambda::Function"), obj{"FunctionName": "Bare-generate", "ReservedConcurrentExecutions": stack.DefaultGenerateReservedConcurrency})

	// Context overrides: route throttles (never above the stage's), no
	// reservation, and a SameSite that contradicts a two-site deployment.
	a4 := awscdk.NewApp(&awscdk.AppProps{Context: &map[string]any{
		"assetRoot":                   assets,
		"trustedOrigins":              "https://app.other.net",
		"cookieSameSite":              "lax",
		"domainName":                  "api.example.com",
		"certificateArn":              "arn:aws:acm:eu-west-1:123456789012:certificate/abc",
		"throttleRate":                20,
		"workflowThrottleRate":        "3",
		"workflowThrottleBurst":       7,
		"assetThrottleRate":           40, // above the stage's 20: capped
		"generateReservedConcurrency": "0",
	}})
	p4, err := stack.FromContext(a4)
	if err != nil {
		t.Fatal(err)
	}
	s4 := stack.New(a4, "Overrides", p4)
	d4 := doc(t, assertions.Template_FromStack(s4.Stack, nil))
	rs4 := routeSettings(t, props(only(t, resources(d4, "AWS::ApiGatewayV2::Stage"))))
	for key, want := range map[string]stack.Throttle{
		"POST /api/workflows/image-from-text": {Rate: 3, Burst: 7},
		"ANY /api/workflows/{proxy+}":         {Rate: 3, Burst: 7},
		"GET /api/history/{id}/asset":         {Rate: 20, Burst: stack.DefaultAssetThrottleBurst},
		"POST /api/auth/sign-in/email":        {Rate: stack.DefaultPasswordThrottleRate, Burst: stack.DefaultPasswordThrottleBurst},
	} {
		if rs4[key] != want {
			t.Errorf("overrides: %s throttle %v, want %v", key, rs4[key], want)
		}
	}
	for _, r := range resources(d4, "AWS::Lambda::Function") {
		if v, ok := props(r)["ReservedConcurrentExecutions"]; ok {
			t.Errorf("generateReservedConcurrency=0: %v reserves %v", props(r)["Description"], v)
		}
	}
	assertions.Annotations_FromStack(s4.Stack).HasWarning(jsii.String("/Overrides"), assertions.Match_StringLikeRegexp(jsii.String("cookieSameSite=lax but trusted origin https://app.other.net is cross-site")))
	if want := "SameSite=Lax; Secure (cookieSameSite=lax set explicitly; the default would be SameSite=None; Secure; Partitioned: two sites: trusted origin https://app.other.net is on another site than https://api.example.com)"; s4.CookieShape != want {
		t.Errorf("overrides: CookieShape\n  got  %q\n  want %q", s4.CookieShape, want)
	}
	// The same two sites without an explicit SameSite: the default fits, no
	// warning; a reservation of one's own.
	s5 := stack.New(awscdk.NewApp(nil), "TwoSites", &stack.Props{AssetRoot: assets, GenerateReservedConcurrency: 7, Settings: map[string]string{
		"BETTER_AUTH_URL": "https://api.other.net/", "TRUSTED_ORIGINS": "https://app.example.com, https://admin.example.com",
	}})
	tpl5 := assertions.Template_FromStack(s5.Stack, nil)
	tpl5.HasOutput(jsii.String("CookieShape"), obj{"Value": "SameSite=None; Secure; Partitioned (two sites: trusted origin https://app.example.com is on another site than https://api.other.net)"})
	tpl5.HasResourceProperties(jsii.String("AWS::Lambda::Function"), obj{"FunctionName": "TwoSites-generate", "ReservedConcurrentExecutions": 7})
	assertions.Annotations_FromStack(s5.Stack).HasNoWarning(jsii.String("*"), assertions.Match_StringLikeRegexp(jsii.String("cookieSameSite")))
	// With a domain the execute-api endpoint is off: a betterAuthUrl that
	// names it is a mistake worth a warning.
	s6 := stack.New(awscdk.NewApp(nil), "StaleUrl", &stack.Props{AssetRoot: assets, DomainName: "api.example.com",
		CertificateArn: "arn:aws:acm:eu-west-1:123456789012:certificate/abc",
		Settings:       map[string]string{"BETTER_AUTH_URL": "https://abc123.execute-api.eu-west-1.amazonaws.com"}})
	assertions.Annotations_FromStack(s6.Stack).HasWarning(jsii.String("/StaleUrl"), assertions.Match_StringLikeRegexp(jsii.String("betterAuthUrl names the execute-api endpoint")))
	// Malformed numbers (and addresses) stop the synth with the key's name.
	for k, v := range map[string]any{
		"generateReservedConcurrency": "-1", "workflowThrottleBurst": 2.5, "passwordThrottleRate": "0", "historyDeleteThrottleBurst": "many",
		"alarmEmail": "Ops <ops@example.com>",
	} {
		if _, err := stack.FromContext(awscdk.NewApp(&awscdk.AppProps{Context: &map[string]any{k: v}})); err == nil || !strings.Contains(err.Error(), k) {
			t.Errorf("context %s=%v: error %v", k, v, err)
		}
	}

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
	// the asset directory holds the bootstrap (docs/platform.md §3).
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
	if len(fns) != len(routes.Functions()) {
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

// iamGrants lists each function's grants as "action resource", failing the
// test on a wildcard, a Deny or a policy on no function's role.
func iamGrants(t *testing.T, d obj, fnByID map[string]routes.Function) map[routes.Function][]string {
	t.Helper()
	roleOf := map[string]routes.Function{}
	for id, r := range resources(d, "AWS::Lambda::Function") {
		roleOf[props(r)["Role"].(obj)["Fn::GetAtt"].([]any)[0].(string)] = fnByID[id]
	}
	got := map[routes.Function][]string{}
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
	return got
}
