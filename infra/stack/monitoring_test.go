package stack_test

import (
	"encoding/json"
	"fmt"
	"os"
	"reflect"
	"strings"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"

	"adstudio/infra/stack"
	"adstudio/internal/metrics"
	"adstudio/internal/routes"
)

// checkMonitoring: the API's access log, generate's failed-event queue,
// every alarm with its threshold and its topic, the email subscription only
// with alarmEmail, and the dashboard.
func checkMonitoring(t *testing.T, assets string) {
	s := stack.New(awscdk.NewApp(nil), "Ops", &stack.Props{AssetRoot: assets, AlarmEmail: "ops@example.com"})
	tpl := assertions.Template_FromStack(s.Stack, nil)
	d := doc(t, tpl)
	id := func(c constructs.IConstruct) string {
		return *s.GetLogicalId(c.Node().DefaultChild().(awscdk.CfnElement))
	}
	if err := noCycle(d); err != nil {
		t.Error(err)
	}

	// Access log: a group of its own, with the functions' retention, and a
	// JSON line whose requestId is the functions' apiRequestId.
	als, _ := props(only(t, resources(d, "AWS::ApiGatewayV2::Stage")))["AccessLogSettings"].(obj)
	if got, want := flat(als["DestinationArn"]), "${"+id(s.AccessLogs)+".Arn}"; got != want {
		t.Errorf("access log destination %s, want %s", got, want)
	}
	if rd := props(resources(d, "AWS::Logs::LogGroup")[id(s.AccessLogs)])["RetentionInDays"]; rd != float64(stack.DefaultLogRetentionDay) {
		t.Errorf("access log retention %v, want %d", rd, stack.DefaultLogRetentionDay)
	}
	raw, _ := als["Format"].(string)
	var format map[string]string
	if err := json.Unmarshal([]byte(raw), &format); err != nil {
		t.Fatalf("access log format is not a JSON object: %q: %v", raw, err)
	}
	for _, v := range []string{"$context.requestId", "$context.routeKey", "$context.status", "$context.responseLatency",
		"$context.integrationLatency", "$context.integrationErrorMessage", "$context.identity.sourceIp", "$context.requestTime",
		"$context.protocol", "$context.responseLength", "$context.integration.requestId"} {
		found := false
		for _, got := range format {
			found = found || got == v
		}
		if !found {
			t.Errorf("access log format lacks %s: %s", v, raw)
		}
	}
	if format["requestId"] != "$context.requestId" {
		t.Errorf("access log requestId = %q: the runbook joins it to the functions' apiRequestId", format["requestId"])
	}
	if strings.Contains(raw, "$context.path") {
		t.Errorf("access log logs the raw path (ids, signed links): %s", raw)
	}

	// Generate's asynchronous events: failures go to an encrypted queue
	// kept 14 days; no other function has an invoke config.
	queueID := id(s.GenerateFailedEvents)
	tpl.HasResourceProperties(jsii.String("AWS::SQS::Queue"), obj{
		"MessageRetentionPeriod": stack.FailedEventRetentionDays * 24 * 3600,
		"SqsManagedSseEnabled":   true,
	})
	eic := props(only(t, resources(d, "AWS::Lambda::EventInvokeConfig")))
	if got := flat(eic["FunctionName"]); got != "${"+logicalID(s, routes.Generate)+"}" {
		t.Errorf("event invoke config on %s, want generate only", got)
	}
	dest, _ := eic["DestinationConfig"].(obj)
	if got := flat(dest["OnFailure"].(obj)["Destination"]); got != "${"+queueID+".Arn}" || dest["OnSuccess"] != nil {
		t.Errorf("generate's destinations %v, want on failure the queue %s", dest, queueID)
	}
	if eic["MaximumEventAgeInSeconds"] != float64(900) {
		t.Errorf("generate's maximum event age %v, want 900", eic["MaximumEventAgeInSeconds"])
	}

	// Alarms: each one to the topic, on ALARM and on OK, quiet without
	// data, and citing its runbook section.
	topic := obj{"Ref": id(s.AlarmTopic)}
	alarms := map[string]obj{}
	for _, r := range resources(d, "AWS::CloudWatch::Alarm") {
		p := props(r)
		name := p["AlarmName"].(string)
		alarms[name] = p
		if !reflect.DeepEqual(p["AlarmActions"], []any{topic}) || !reflect.DeepEqual(p["OKActions"], []any{topic}) {
			t.Errorf("%s: actions %v, OK actions %v, want the topic %v", name, p["AlarmActions"], p["OKActions"], topic)
		}
		if p["TreatMissingData"] != "notBreaching" || p["EvaluationPeriods"] != float64(1) || p["ComparisonOperator"] != "GreaterThanThreshold" {
			t.Errorf("%s: %v missing data, %v periods, %v", name, p["TreatMissingData"], p["EvaluationPeriods"], p["ComparisonOperator"])
		}
		if !strings.Contains(fmt.Sprint(p["AlarmDescription"]), "docs/operations.md §2.") {
			t.Errorf("%s: description %q cites no runbook section", name, p["AlarmDescription"])
		}
	}
	type metric struct {
		namespace, name, stat, dim, dimValue string
		threshold                            float64
	}
	want := map[string]metric{}
	for _, fn := range routes.Functions() {
		ref := "${" + logicalID(s, fn) + "}"
		want["Ops-"+string(fn)+"-errors"] = metric{"AWS/Lambda", "Errors", "Sum", "FunctionName", ref, 0}
		want["Ops-"+string(fn)+"-throttles"] = metric{"AWS/Lambda", "Throttles", "Sum", "FunctionName", ref, 0}
		// 80% of the timeout, in milliseconds: 8 s for a 10 s function.
		want["Ops-"+string(fn)+"-duration"] = metric{"AWS/Lambda", "Duration", "p99", "FunctionName", ref, fn.Size().Timeout.Seconds() * 800}
	}
	want["Ops-generate-failed-events"] = metric{"AWS/SQS", "ApproximateNumberOfMessagesVisible", "Maximum", "QueueName", "${" + queueID + ".QueueName}", 0}
	if want["Ops-auth-duration"].threshold != 8000 || want["Ops-generate-duration"].threshold != 96000 {
		t.Errorf("duration thresholds: auth %v, generate %v (timeouts changed? update this test)", want["Ops-auth-duration"].threshold, want["Ops-generate-duration"].threshold)
	}
	// The application's own metrics (EMF, internal/metrics): their
	// dimensionless totals.
	appWant := map[string]struct {
		name      string
		threshold float64
		period    float64
	}{
		"Ops-swept-generations": {metrics.SweptGenerations, 0, stack.SweptPeriodMinutes * 60},
		"Ops-sign-in-failures":  {metrics.SignInFailures, stack.SignInFailureSpike, 300},
	}
	if appWant["Ops-sign-in-failures"].threshold != 50 || appWant["Ops-swept-generations"].period != 900 {
		t.Errorf("app alarm thresholds changed: update docs/operations.md §2.7 and §2.8, then this test")
	}
	for name, w := range appWant {
		p, ok := alarms[name]
		if !ok {
			t.Errorf("no alarm %s", name)
			continue
		}
		if p["Namespace"] != "Adstudio" || p["MetricName"] != w.name || p["Statistic"] != "Sum" || p["Dimensions"] != nil ||
			p["Threshold"] != w.threshold || p["Period"] != w.period {
			t.Errorf("%s: %v %v %v dims %v > %v over %v s, want Adstudio %s Sum > %v over %v s",
				name, p["Namespace"], p["MetricName"], p["Statistic"], p["Dimensions"], p["Threshold"], p["Period"], w.name, w.threshold, w.period)
		}
	}
	for name, w := range want {
		p, ok := alarms[name]
		if !ok {
			t.Errorf("no alarm %s", name)
			continue
		}
		stat := p["Statistic"]
		if stat == nil {
			stat = p["ExtendedStatistic"]
		}
		dims := list(p["Dimensions"])
		got := metric{fmt.Sprint(p["Namespace"]), fmt.Sprint(p["MetricName"]), fmt.Sprint(stat), "", "", p["Threshold"].(float64)}
		if len(dims) == 1 {
			got.dim, got.dimValue = fmt.Sprint(dims[0].(obj)["Name"]), flat(dims[0].(obj)["Value"])
		}
		if got != w || p["Period"] != float64(300) {
			t.Errorf("%s: %+v over %v s, want %+v over 300 s", name, got, p["Period"], w)
		}
	}
	// The API's 5xx rate: 5xx / Count in percent, over 5 minutes, only
	// past a minimum count.
	rate, ok := alarms["Ops-api-5xx-rate"]
	if !ok {
		t.Fatal("no alarm Ops-api-5xx-rate")
	}
	if rate["Threshold"] != float64(stack.API5xxRatePercent) {
		t.Errorf("5xx rate threshold %v, want %d", rate["Threshold"], stack.API5xxRatePercent)
	}
	apiRef := "${" + id(s.Api) + "}"
	var expr string
	used := map[string]string{}
	for _, m := range list(rate["Metrics"]) {
		m := m.(obj)
		if e, ok := m["Expression"].(string); ok {
			expr = e
			continue
		}
		ms := m["MetricStat"].(obj)
		mm := ms["Metric"].(obj)
		dim := list(mm["Dimensions"])[0].(obj)
		if mm["Namespace"] != "AWS/ApiGateway" || dim["Name"] != "ApiId" || flat(dim["Value"]) != apiRef || ms["Stat"] != "Sum" || ms["Period"] != float64(300) {
			t.Errorf("5xx rate input %v", m)
		}
		used[m["Id"].(string)] = mm["MetricName"].(string)
	}
	if wantExpr := fmt.Sprintf("IF(requests >= %d, 100 * FILL(errors, 0) / requests, 0)", stack.API5xxMinRequests); expr != wantExpr ||
		!reflect.DeepEqual(used, map[string]string{"errors": "5xx", "requests": "Count"}) {
		t.Errorf("5xx rate: %q over %v, want %q over 5xx and Count", expr, used, wantExpr)
	}
	// The provider's error rate: ProviderErrors / Generations in percent,
	// over 5 minutes, only past a minimum of generations.
	perr, ok := alarms["Ops-provider-error-rate"]
	if !ok {
		t.Fatal("no alarm Ops-provider-error-rate")
	}
	if perr["Threshold"] != float64(stack.ProviderErrorRatePercent) || stack.ProviderErrorRatePercent != 20 || stack.ProviderErrorMinGenerations != 10 {
		t.Errorf("provider error rate threshold %v (constants changed? update docs/operations.md §2.6 and this test)", perr["Threshold"])
	}
	expr = ""
	used = map[string]string{}
	for _, m := range list(perr["Metrics"]) {
		m := m.(obj)
		if e, ok := m["Expression"].(string); ok {
			expr = e
			continue
		}
		ms := m["MetricStat"].(obj)
		mm := ms["Metric"].(obj)
		if mm["Namespace"] != "Adstudio" || mm["Dimensions"] != nil || ms["Stat"] != "Sum" || ms["Period"] != float64(300) {
			t.Errorf("provider error rate input %v", m)
		}
		used[m["Id"].(string)] = mm["MetricName"].(string)
	}
	if wantExpr := "IF(generations >= 10, 100 * FILL(errors, 0) / generations, 0)"; expr != wantExpr ||
		!reflect.DeepEqual(used, map[string]string{"errors": metrics.ProviderErrors, "generations": metrics.Generations}) {
		t.Errorf("provider error rate: %q over %v, want %q over ProviderErrors and Generations", expr, used, wantExpr)
	}
	// The built-in alarms, the API's 5xx rate, and the three on the
	// application's metrics.
	if n := len(want) + 1 + 1 + len(appWant); len(alarms) != n || n != 4*3+1+1+1+2 {
		t.Errorf("%d alarms, want %d: %v", len(alarms), n, alarms)
	}

	// One topic, one email subscription, from alarmEmail.
	tpl.ResourceCountIs(jsii.String("AWS::SNS::Topic"), jsii.Number(1))
	tpl.ResourceCountIs(jsii.String("AWS::SNS::Subscription"), jsii.Number(1))
	tpl.HasResourceProperties(jsii.String("AWS::SNS::Subscription"), obj{"Protocol": "email", "Endpoint": "ops@example.com", "TopicArn": topic})
	assertions.Annotations_FromStack(s.Stack).HasNoWarning(jsii.String("*"), assertions.Match_StringLikeRegexp(jsii.String("alarmEmail")))

	// The dashboard: the alarms, the API, each function, generate's
	// concurrency and failed events.
	dash := props(only(t, resources(d, "AWS::CloudWatch::Dashboard")))
	body := flat(dash["DashboardBody"])
	for _, part := range []string{`"AWS/ApiGateway","Count"`, `"AWS/ApiGateway","4xx"`, `"AWS/ApiGateway","5xx"`, `"AWS/ApiGateway","Latency"`,
		`"ConcurrentExecutions"`, `"AWS/SQS","ApproximateNumberOfMessagesVisible"`, "${" + id(s.Alarms["api-5xx-rate"]) + ".Arn}"} {
		if !strings.Contains(body, part) {
			t.Errorf("dashboard lacks %s", part)
		}
	}
	// ...and the application's metrics.
	for _, part := range []string{
		`{Adstudio,Workflow,Outcome} MetricName=\"Generations\"`, `"Adstudio","ProviderLatency"`, `"stat":"p50"`, `"stat":"p99"`,
		`{Adstudio,Code} MetricName=\"ProviderErrors\"`, `"Adstudio","ResultCopyFailures"`, `"Adstudio","SweptGenerations"`,
		`"Adstudio","SignIns"`, `"Adstudio","SignInFailures"`, `{Adstudio,Scope} MetricName=\"RateLimited\"`,
	} {
		if !strings.Contains(body, part) {
			t.Errorf("dashboard lacks %s", part)
		}
	}
	for _, fn := range routes.Functions() {
		for _, m := range []string{"Invocations", "Errors", "Throttles", "Duration"} {
			if !strings.Contains(body, fmt.Sprintf(`"AWS/Lambda","%s","FunctionName","${%s}"`, m, logicalID(s, fn))) {
				t.Errorf("dashboard lacks %s of %s", m, fn)
			}
		}
	}
	tpl.HasOutput(jsii.String("ApiAccessLogGroup"), obj{"Value": obj{"Ref": id(s.AccessLogs)}})
	tpl.HasOutput(jsii.String("GenerateFailedEventsQueue"), obj{"Value": obj{"Ref": queueID}})

	// Without alarmEmail: the same alarms and topic, no subscription, and a
	// warning.
	s2 := stack.New(awscdk.NewApp(nil), "Quiet", &stack.Props{AssetRoot: assets})
	tpl2 := assertions.Template_FromStack(s2.Stack, nil)
	tpl2.ResourceCountIs(jsii.String("AWS::SNS::Subscription"), jsii.Number(0))
	tpl2.ResourceCountIs(jsii.String("AWS::CloudWatch::Alarm"), jsii.Number(len(alarms)))
	assertions.Annotations_FromStack(s2.Stack).HasWarning(jsii.String("/Quiet"), assertions.Match_StringLikeRegexp(jsii.String("context alarmEmail is not set")))
}

// TestContextKeysDocumented: every context key the app reads is in
// infra/README.md. ContextKeys is the whole list: FromContext panics on a
// key it leaves out.
func TestContextKeysDocumented(t *testing.T) {
	readme, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range stack.ContextKeys() {
		if !strings.Contains(string(readme), "`"+k+"`") {
			t.Errorf("context key %s is not documented in infra/README.md", k)
		}
	}
}
