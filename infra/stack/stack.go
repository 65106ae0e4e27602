// Package stack is the adstudio CDK stack: one HTTP API whose routes come
// from the project's route table (internal/routes), the four Lambda functions
// that own them, their log groups, the 5-minute sweep schedule, an
// optional custom domain, and what an operator watches: the API's access
// log, generate's failed-event queue, alarms into one SNS topic and a
// dashboard (monitoring.go). Secrets stay in SSM Parameter Store: the
// functions get parameter names only.
package stack

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsapigatewayv2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsapigatewayv2integrations"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscertificatemanager"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscloudwatch"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsevents"
	"github.com/aws/aws-cdk-go/awscdk/v2/awseventstargets"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambda"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambdadestinations"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslogs"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssns"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssqs"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"

	"adstudio/internal/routes"
)

// Props configures the stack. FromContext fills it from CDK context.
type Props struct {
	awscdk.StackProps

	// AssetRoot holds <function>/bootstrap for every function (make build
	// writes dist/<function>/bootstrap). Tests point it at a temp dir.
	AssetRoot string
	// ParameterPrefix is prepended to every Secret.Param; default /adstudio/.
	ParameterPrefix string
	// Settings maps a plain setting's environment variable (one of
	// Settings[].Env) to its value; empty values are left out.
	Settings map[string]string
	// DomainName + CertificateArn (ACM, same region) add a custom domain.
	DomainName     string
	CertificateArn string
	// GenerateFunctionName is the generate function's fixed name; default
	// <stack name>-generate.
	GenerateFunctionName string
	// The stage's default route throttle, for every route without a route
	// throttle of its own; defaults 50 requests/s, burst 100.
	ThrottleRate  float64
	ThrottleBurst float64
	// RouteThrottles tighten the default for the expensive routes
	// (ClassifyRoute); a missing class or a zero field takes
	// DefaultRouteThrottles.
	RouteThrottles map[RouteClass]Throttle
	// GenerateReservedConcurrency reserves, and caps, the generate function's
	// concurrency: 0 means DefaultGenerateReservedConcurrency,
	// NoReservedConcurrency no reservation.
	GenerateReservedConcurrency int
	// LogRetention of every function's log group and of the API's access
	// log; default one month.
	LogRetention awslogs.RetentionDays
	// AlarmEmail, when set, is subscribed to the alarm topic (SNS asks the
	// address to confirm).
	AlarmEmail string
}

// Stack is the synthesised stack and the constructs tests look at.
type Stack struct {
	awscdk.Stack
	Api          awsapigatewayv2.HttpApi
	Stage        awsapigatewayv2.HttpStage
	Functions    map[routes.Function]awslambda.Function
	Integrations map[routes.Function]awsapigatewayv2integrations.HttpLambdaIntegration
	// ParameterNames are the full SSM parameter names, per function.
	ParameterNames map[routes.Function][]string
	// CookieShape is what the CookieShape output says.
	CookieShape string

	// LogGroups are the functions' log groups; AccessLogs the API's.
	LogGroups  map[routes.Function]awslogs.LogGroup
	AccessLogs awslogs.LogGroup
	// GenerateFailedEvents is generate's on-failure destination for its
	// asynchronous events.
	GenerateFailedEvents awssqs.Queue
	// AlarmTopic receives every alarm (AddAlarm), by name in Alarms.
	AlarmTopic awssns.Topic
	Alarms     map[string]awscloudwatch.Alarm
	Dashboard  awscloudwatch.Dashboard
}

// GenerateFunctionNameEnv tells the generate function its own name, for the
// asynchronous self-invocation that continues a slow generation.
const GenerateFunctionNameEnv = "GENERATE_FUNCTION_NAME"

// SweepEvent is what the schedule sends to the generate function.
func SweepEvent() map[string]any { return map[string]any{"adstudio": "sweep"} }

// CheckAssets reports a missing dist/<function>/bootstrap, which would
// otherwise deploy a function that cannot start.
func CheckAssets(root string) error {
	var errs []error
	for _, fn := range routes.Functions() {
		p := filepath.Join(root, string(fn), "bootstrap")
		if st, err := os.Stat(p); err != nil || st.IsDir() {
			errs = append(errs, fmt.Errorf("missing %s", p))
		}
	}
	if len(errs) > 0 {
		abs, _ := filepath.Abs(root)
		return fmt.Errorf("Lambda packages not built in %s (run `make build` in the repository root first): %w", abs, errors.Join(errs...))
	}
	return nil
}

var functionNameRE = regexp.MustCompile(`^[A-Za-z0-9_-]{1,64}$`)

// New builds the stack. It panics on a configuration error, as constructs do.
func New(scope constructs.Construct, id string, props *Props) *Stack {
	if props == nil {
		props = &Props{}
	}
	if props.AssetRoot == "" {
		panic("stack: Props.AssetRoot is required")
	}
	if err := CheckAssets(props.AssetRoot); err != nil {
		panic(err)
	}
	gatewayRoutes, err := routes.GatewayRoutes()
	if err != nil {
		panic(err)
	}
	known := map[string]bool{}
	for _, s := range Settings() {
		known[s.Env] = true
	}
	for k := range props.Settings {
		if !known[k] {
			panic(fmt.Sprintf("stack: %s is not a plain setting (secrets go through SSM, see Secret)", k))
		}
	}
	prefix := normalizePrefix(props.ParameterPrefix)
	rate, burst := props.ThrottleRate, props.ThrottleBurst
	if rate == 0 {
		rate = DefaultThrottleRate
	}
	if burst == 0 {
		burst = DefaultThrottleBurst
	}
	throttles, err := routeThrottles(gatewayRoutes, props.RouteThrottles, Throttle{rate, burst})
	if err != nil {
		panic(err)
	}
	reserved := props.GenerateReservedConcurrency
	if reserved == 0 {
		reserved = DefaultGenerateReservedConcurrency
	}
	retention := props.LogRetention
	if retention == "" {
		retention = awslogs.RetentionDays_ONE_MONTH
	}

	st := awscdk.NewStack(scope, jsii.String(id), &props.StackProps)
	s := &Stack{
		Stack:          st,
		Functions:      map[routes.Function]awslambda.Function{},
		Integrations:   map[routes.Function]awsapigatewayv2integrations.HttpLambdaIntegration{},
		ParameterNames: map[routes.Function][]string{},
		LogGroups:      map[routes.Function]awslogs.LogGroup{},
		Alarms:         map[string]awscloudwatch.Alarm{},
	}

	generateName := props.GenerateFunctionName
	if generateName == "" {
		generateName = *st.StackName() + "-generate"
	}
	if !functionNameRE.MatchString(generateName) {
		panic(fmt.Sprintf("stack: generate function name %q is not a valid Lambda name (letters, digits, - and _, at most 64); set generateFunctionName", generateName))
	}

	// The API comes first: BETTER_AUTH_URL defaults to its endpoint. That
	// reference (function → Api) makes no cycle: only routes, integrations
	// and permissions point at the functions, never the Api resource itself.
	// No CorsPreflight: with a CorsConfiguration, API Gateway answers
	// preflights itself and drops the functions' Access-Control-* headers
	// (docs/platform.md §1.3); the functions' middleware does CORS instead.
	apiProps := &awsapigatewayv2.HttpApiProps{
		ApiName:            jsii.String(id),
		Description:        jsii.String("adstudio API: routes from internal/routes"),
		CreateDefaultStage: jsii.Bool(false),
	}
	if props.DomainName != "" {
		// One public origin: BETTER_AUTH_URL, the cookies and the origin
		// checks all name the domain, so a second address for the same API
		// could only confuse them (and would skip anything put in front of
		// the domain, such as CloudFront with AWS WAF).
		apiProps.DisableExecuteApiEndpoint = jsii.Bool(true)
	}
	s.Api = awsapigatewayv2.NewHttpApi(st, jsii.String("HttpApi"), apiProps)
	// The $default stage is created here rather than by HttpApi, because only
	// HttpStage takes throttling (DefaultRouteSettings).
	s.Stage = awsapigatewayv2.NewHttpStage(st, jsii.String("DefaultStage"), &awsapigatewayv2.HttpStageProps{
		HttpApi:    s.Api,
		StageName:  jsii.String("$default"),
		AutoDeploy: jsii.Bool(true),
		Throttle:   &awsapigatewayv2.ThrottleSettings{RateLimit: jsii.Number(rate), BurstLimit: jsii.Number(burst)},
	})
	if len(throttles) > 0 {
		// HttpStage has no per-route throttle; the L1 property is a JSON map
		// from route key to settings, passed through verbatim, hence the
		// CloudFormation spelling of the keys.
		settings := map[string]any{}
		for key, t := range throttles {
			settings[key] = map[string]any{"ThrottlingRateLimit": t.Rate, "ThrottlingBurstLimit": t.Burst}
		}
		s.Stage.Node().DefaultChild().(awsapigatewayv2.CfnStage).SetRouteSettings(settings)
	}
	s.accessLog(retention)
	s.GenerateFailedEvents = s.failedEventQueue()

	plain := map[string]*string{}
	for k, v := range props.Settings {
		if v = strings.TrimSpace(v); v != "" {
			plain[k] = jsii.String(v)
		}
	}
	if plain["BETTER_AUTH_URL"] == nil {
		if props.DomainName != "" {
			plain["BETTER_AUTH_URL"] = jsii.String("https://" + props.DomainName)
		} else {
			plain["BETTER_AUTH_URL"] = s.Api.ApiEndpoint()
		}
	}
	warn := func(key, msg string) {
		awscdk.Annotations_Of(st).AddWarningV2(jsii.String("adstudio:"+key), jsii.String(msg))
	}
	if plain["TURSO_DATABASE_URL"] == nil {
		warn("databaseUrl", "context databaseUrl (TURSO_DATABASE_URL) is not set: every function will fail its cold start")
	}
	if plain["TRUSTED_ORIGINS"] == nil {
		warn("trustedOrigins", "context trustedOrigins (TRUSTED_ORIGINS) is not set: no browser origin will be allowed")
	}
	if u := plain["BETTER_AUTH_URL"]; props.DomainName != "" && strings.Contains(*u, ".execute-api.") {
		warn("betterAuthUrl", "betterAuthUrl names the execute-api endpoint, which is disabled with domainName: use https://"+props.DomainName)
	}
	if plain["R2_ACCOUNT_ID"] == nil || plain["R2_BUCKET"] == nil {
		warn("r2", "context r2AccountId / r2Bucket not set: generations cannot be stored")
	}
	transport := ""
	if v := plain["EMAIL_TRANSPORT"]; v != nil {
		transport = strings.ToLower(*v)
	}
	switch transport {
	case "", "ses", "smtp":
	default:
		panic(fmt.Sprintf("stack: emailTransport %q: a deployment sends with ses or smtp (outbox is for make dev)", transport))
	}
	var sesIdentities []string
	if transport == "ses" {
		if sesIdentities = SESIdentities(props.Settings["EMAIL_FROM"]); sesIdentities == nil {
			panic("stack: emailTransport ses needs emailFrom, an address on an SES identity")
		}
	}

	// Billing: the catalog must at least be a JSON array; history checks
	// the packs themselves at its cold start.
	billing := plain["BILLING_PACKS"] != nil
	if billing {
		var packs []json.RawMessage
		if err := json.Unmarshal([]byte(*plain["BILLING_PACKS"]), &packs); err != nil {
			panic(fmt.Sprintf("stack: billingPacks: expected a JSON array of packs (docs/billing.md): %v", err))
		}
	}

	plainKeys := make([]string, 0, len(plain))
	for k := range plain {
		plainKeys = append(plainKeys, k)
	}
	sort.Strings(plainKeys)
	for _, fn := range routes.Functions() {
		spec, ok := Specs()[fn]
		if !ok {
			panic(fmt.Sprintf("stack: function %q has no entry in Specs", fn))
		}
		name := string(fn)
		title := strings.ToUpper(name[:1]) + name[1:]

		env := map[string]*string{}
		secrets := spec.Secrets
		for _, k := range plainKeys { // sorted: the secrets' order is the policy's
			sec, social := SocialClients()[k]
			switch {
			case AuthOnly()[k]:
				if fn == routes.Auth {
					env[k] = plain[k]
				}
			case HistoryOnly()[k]:
				if fn == routes.History {
					env[k] = plain[k]
				}
			case !social:
				env[k] = plain[k]
			case fn == routes.Auth:
				// Social sign-in: each provider given a client id, with its
				// secret.
				env[k] = plain[k]
				secrets = append(secrets[:len(secrets):len(secrets)], sec)
			}
		}
		if fn == routes.Auth && transport == "smtp" {
			secrets = append(secrets[:len(secrets):len(secrets)], SecretSMTP)
		}
		if fn == routes.History && billing {
			// Credit packs: the Stripe key for checkout, the signing
			// secret for the webhook (BillingSecrets). Read, and granted
			// below, only with a catalog.
			secrets = append(secrets[:len(secrets):len(secrets)], BillingSecrets()...)
		}
		var paramArns []*string
		for _, sec := range secrets {
			full := prefix + sec.Param
			env[sec.Env+"_SSM"] = jsii.String(full)
			s.ParameterNames[fn] = append(s.ParameterNames[fn], full)
			paramArns = append(paramArns, st.FormatArn(&awscdk.ArnComponents{
				Service:      jsii.String("ssm"),
				Resource:     jsii.String("parameter"),
				ResourceName: jsii.String(strings.TrimPrefix(full, "/")),
				ArnFormat:    awscdk.ArnFormat_SLASH_RESOURCE_NAME,
			}))
		}
		sort.Strings(s.ParameterNames[fn])
		if fn == routes.Generate {
			env[GenerateFunctionNameEnv] = jsii.String(generateName) // see FunctionName below
		}

		// A LogGroup of our own, not the deprecated LogRetention (which adds
		// a custom resource).
		logs := awslogs.NewLogGroup(st, jsii.String(title+"Logs"), &awslogs.LogGroupProps{Retention: retention})
		s.LogGroups[fn] = logs
		fprops := &awslambda.FunctionProps{
			Description:   jsii.String("adstudio " + name + ": " + spec.Description),
			Runtime:       awslambda.Runtime_PROVIDED_AL2023(),
			Architecture:  awslambda.Architecture_ARM_64(),
			Handler:       jsii.String("bootstrap"), // ignored by OS-only runtimes, required by CDK
			Code:          awslambda.Code_FromAsset(jsii.String(filepath.Join(props.AssetRoot, name)), nil),
			MemorySize:    jsii.Number(spec.MemoryMB),
			Timeout:       awscdk.Duration_Seconds(jsii.Number(spec.TimeoutSeconds)),
			Environment:   &env,
			LogGroup:      logs,
			LoggingFormat: awslambda.LoggingFormat_JSON,
		}
		if fn == routes.Generate {
			// Self-invocation: a function cannot put its own name token
			// (Ref) in its own environment (the function would depend on
			// itself), nor can its role policy name its own ARN through
			// GetAtt (function → role policy → function). A fixed name,
			// derived from the stack name, breaks both cycles: the
			// environment and the policy use the same literal. (Lambda's
			// own AWS_LAMBDA_FUNCTION_NAME holds the same value at run time;
			// GENERATE_FUNCTION_NAME makes the target explicit and lets a
			// local runner point somewhere else.)
			fprops.FunctionName = jsii.String(generateName)
			// A continuation that waited longer than this is pointless: the
			// sweeper fails and refunds a generation pending for more than
			// JobTimeout + 5 min (about 7 min), and Continue then ignores it.
			fprops.MaxEventAge = awscdk.Duration_Minutes(jsii.Number(15))
			// An event that failed every retry or expired is kept, and
			// alarmed on, instead of dropped (docs/operations.md §2.5).
			fprops.OnFailure = awslambdadestinations.NewSqsDestination(s.GenerateFailedEvents)
			// A burst of generations then waits for its own instances
			// instead of taking the account's whole pool from auth, history
			// and imageproxy. Past the reservation, an API request is
			// refused by Lambda (API Gateway answers 500), and a
			// continuation or sweep event waits in the async queue, retried
			// for up to MaxEventAge.
			if reserved > 0 {
				fprops.ReservedConcurrentExecutions = jsii.Number(reserved)
			}
		}
		f := awslambda.NewFunction(st, jsii.String(title), fprops)
		s.Functions[fn] = f

		if len(paramArns) > 0 {
			// Exactly the parameters this function reads, and only the one
			// action internal/secrets calls. SecureStrings under the AWS-managed
			// aws/ssm key need no kms:Decrypt grant (the key policy allows
			// SSM use within the account).
			f.AddToRolePolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
				Sid:       jsii.String("ReadOwnSecrets"),
				Actions:   jsii.Strings("ssm:GetParameters"),
				Resources: &paramArns,
			}))
		}
		if fn == routes.Auth && sesIdentities != nil {
			// Mail through SES v2: the one action, as EMAIL_FROM's address
			// or domain, whichever identity is verified.
			var arns []*string
			for _, id := range sesIdentities {
				arns = append(arns, st.FormatArn(&awscdk.ArnComponents{
					Service:      jsii.String("ses"),
					Resource:     jsii.String("identity"),
					ResourceName: jsii.String(id),
					ArnFormat:    awscdk.ArnFormat_SLASH_RESOURCE_NAME,
				}))
			}
			f.AddToRolePolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
				Sid:       jsii.String("SendMailAsIdentity"),
				Actions:   jsii.Strings("ses:SendEmail"),
				Resources: &arns,
			}))
		}
		if fn == routes.Generate {
			f.AddToRolePolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
				Sid:     jsii.String("InvokeSelfAsync"),
				Actions: jsii.Strings("lambda:InvokeFunction"),
				Resources: &[]*string{st.FormatArn(&awscdk.ArnComponents{
					Service:      jsii.String("lambda"),
					Resource:     jsii.String("function"),
					ResourceName: jsii.String(generateName),
					ArnFormat:    awscdk.ArnFormat_COLON_RESOURCE_NAME,
				})},
			}))
		}

		s.Integrations[fn] = awsapigatewayv2integrations.NewHttpLambdaIntegration(jsii.String(title+"Integration"), f,
			&awsapigatewayv2integrations.HttpLambdaIntegrationProps{
				PayloadFormatVersion: awsapigatewayv2.PayloadFormatVersion_VERSION_2_0(),
				// One invoke permission per function instead of one per route.
				ScopePermissionToRoute: jsii.Bool(false),
			})
	}

	// Explicit routes only, no $default route: a request that matches no
	// route gets API Gateway's 404 without invoking anything.
	for _, r := range gatewayRoutes {
		method, path, _ := strings.Cut(r.Key, " ")
		added := s.Api.AddRoutes(&awsapigatewayv2.AddRoutesOptions{
			Path:        jsii.String(path),
			Methods:     &[]awsapigatewayv2.HttpMethod{awsapigatewayv2.HttpMethod(method)},
			Integration: s.Integrations[r.Function],
		})
		if _, ok := throttles[r.Key]; ok {
			// API Gateway refuses route settings for a route that does not
			// exist yet ("Unable to find Route by key"), so the stage waits.
			for _, rt := range *added {
				s.Stage.Node().AddDependency(rt)
			}
		}
	}

	s.monitor(props.AlarmEmail, reserved)

	// The sweep: fail and refund generations stuck in pending.
	awsevents.NewRule(st, jsii.String("SweepSchedule"), &awsevents.RuleProps{
		Description: jsii.String("adstudio: sweep stuck generations every 5 minutes"),
		Schedule:    awsevents.Schedule_Rate(awscdk.Duration_Minutes(jsii.Number(5))),
		Targets: &[]awsevents.IRuleTarget{awseventstargets.NewLambdaFunction(s.Functions[routes.Generate], &awseventstargets.LambdaFunctionProps{
			Event: awsevents.RuleTargetInput_FromObject(SweepEvent()),
		})},
	})

	if props.DomainName == "" {
		awscdk.NewCfnOutput(st, jsii.String("ApiUrl"), &awscdk.CfnOutputProps{
			Description: jsii.String("The API's execute-api URL"),
			Value:       s.Api.ApiEndpoint(),
		})
	} else {
		awscdk.NewCfnOutput(st, jsii.String("ApiUrl"), &awscdk.CfnOutputProps{
			Description: jsii.String("The API's URL: the custom domain (the execute-api endpoint is disabled)"),
			Value:       jsii.String("https://" + props.DomainName),
		})
	}
	shape, conflict, err := cookieShape(plain)
	if err != nil {
		// Every function would refuse it at its cold start.
		panic(fmt.Sprintf("stack: cookie settings (cookieSameSite, cookiePartitioned): %v", err))
	}
	s.CookieShape = shape
	if conflict != "" {
		warn("cookieSameSite", conflict)
	}
	awscdk.Annotations_Of(st).AddInfo(jsii.String("cookies: " + s.CookieShape))
	awscdk.NewCfnOutput(st, jsii.String("CookieShape"), &awscdk.CfnOutputProps{
		Description: jsii.String("The session cookies' attributes the functions choose, and why"),
		Value:       jsii.String(s.CookieShape),
	})
	if props.DomainName != "" {
		if props.CertificateArn == "" {
			panic("stack: DomainName needs CertificateArn (an ACM certificate in the stack's region)")
		}
		dn := awsapigatewayv2.NewDomainName(st, jsii.String("CustomDomain"), &awsapigatewayv2.DomainNameProps{
			DomainName:  jsii.String(props.DomainName),
			Certificate: awscertificatemanager.Certificate_FromCertificateArn(st, jsii.String("Certificate"), jsii.String(props.CertificateArn)),
		})
		awsapigatewayv2.NewApiMapping(st, jsii.String("CustomDomainMapping"), &awsapigatewayv2.ApiMappingProps{
			Api:        s.Api,
			DomainName: dn,
			Stage:      s.Stage,
		})
		awscdk.NewCfnOutput(st, jsii.String("CustomDomainCnameTarget"), &awscdk.CfnOutputProps{
			Description: jsii.String("Create DNS: " + props.DomainName + " CNAME <this value>"),
			Value:       dn.RegionalDomainName(),
		})
	} else if props.CertificateArn != "" {
		panic("stack: CertificateArn without DomainName")
	}
	var all []string
	seen := map[string]bool{}
	for _, fn := range routes.Functions() {
		for _, n := range s.ParameterNames[fn] {
			if !seen[n] {
				seen[n] = true
				all = append(all, n)
			}
		}
	}
	sort.Strings(all)
	awscdk.NewCfnOutput(st, jsii.String("SecretParameters"), &awscdk.CfnOutputProps{
		Description: jsii.String("SSM SecureString parameters the functions read (create them before the first request)"),
		Value:       jsii.String(strings.Join(all, ",")),
	})
	return s
}
