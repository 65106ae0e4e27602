package stack

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsapigatewayv2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscloudwatch"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscloudwatchactions"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambda"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslogs"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssns"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssnssubscriptions"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssqs"
	"github.com/aws/aws-cdk-go/awscdk/v2/interfaces/interfacesawscloudwatch"
	"github.com/aws/jsii-runtime-go"

	"adstudio/internal/metrics"
	"adstudio/internal/routes"
)

// What the alarms watch, and when they fire. docs/operations.md §2 says
// what each alarm means and what to do about it.
const (
	// AlarmPeriodMinutes is every built-in alarm's window: one period of
	// five minutes, so an alarm fires within minutes of the first failure
	// and clears once a quiet window passes.
	AlarmPeriodMinutes = 5
	// DurationAlarmPercent of a function's timeout: a p99 above it means
	// invocations are about to be cut off (an API request then gets API
	// Gateway's own 5xx; a continuation is retried, then queued).
	DurationAlarmPercent = 80
	// API5xxRatePercent of the API's requests in one period answered 5xx,
	// counted only once the period has API5xxMinRequests requests: two
	// failures among three requests say little.
	API5xxRatePercent = 5
	API5xxMinRequests = 20
	// FailedEventRetentionDays keeps a failed asynchronous event of the
	// generate function long enough to be read after a holiday (SQS's
	// maximum).
	FailedEventRetentionDays = 14
	// ProviderErrorRatePercent of the generations finished in one period
	// failed at the image provider, counted only once the period has
	// ProviderErrorMinGenerations generations: the provider is down,
	// throttling us, or refusing our key; a few refusals (a prompt its
	// moderation rejects) are routine.
	ProviderErrorRatePercent    = 20
	ProviderErrorMinGenerations = 10
	// SweptPeriodMinutes is the window of the swept-generations alarm: the
	// sweep runs every few minutes, and any generation it finds is a job
	// lost (a crash, a frozen Lambda, a hand-off that never ran).
	SweptPeriodMinutes = 15
	// SignInFailureSpike refused sign-ins in one period: far more than
	// people mistyping passwords, so credential stuffing or a broken
	// sign-in.
	SignInFailureSpike = 50
)

// AccessLogFormat is the HTTP API's access log line: one JSON object per
// request. requestId is the id the functions log as apiRequestId (API
// Gateway hands it to them in the event's requestContext.requestId), so one
// filter finds both sides of a request; integrationRequestId is the Lambda
// invocation's id (the functions' lambdaRequestId). No path: it can carry
// ids and signed links, so the access log names the route, as the
// functions' own lines do (internal/accesslog).
func AccessLogFormat() map[string]string {
	return map[string]string{
		"requestId":               "$context.requestId",
		"requestTime":             "$context.requestTime",
		"routeKey":                "$context.routeKey",
		"method":                  "$context.httpMethod",
		"protocol":                "$context.protocol",
		"status":                  "$context.status",
		"responseLength":          "$context.responseLength",
		"responseLatency":         "$context.responseLatency",
		"integrationLatency":      "$context.integrationLatency",
		"integrationStatus":       "$context.integrationStatus",
		"integrationRequestId":    "$context.integration.requestId",
		"integrationErrorMessage": "$context.integrationErrorMessage",
		"errorMessage":            "$context.error.message",
		"sourceIp":                "$context.identity.sourceIp",
	}
}

// accessLog sends the stage's access log, in AccessLogFormat, to a log
// group of its own with the functions' retention.
func (s *Stack) accessLog(retention awslogs.RetentionDays) {
	s.AccessLogs = awslogs.NewLogGroup(s.Stack, jsii.String("ApiAccessLogs"), &awslogs.LogGroupProps{Retention: retention})
	format, err := json.Marshal(AccessLogFormat()) // keys sorted: a stable template
	if err != nil {
		panic(err)
	}
	// HttpStage takes access log settings only through a jsii interface a
	// Go struct cannot easily implement; the L1 property is plain.
	s.Stage.Node().DefaultChild().(awsapigatewayv2.CfnStage).SetAccessLogSettings(&awsapigatewayv2.CfnStage_AccessLogSettingsProperty{
		DestinationArn: s.AccessLogs.LogGroupArn(),
		Format:         jsii.String(string(format)),
	})
}

// failedEventQueue is the generate function's on-failure destination: an
// asynchronous event (a continuation, the sweep) that failed every attempt
// or outlived the maximum event age lands here instead of vanishing.
func (s *Stack) failedEventQueue() awssqs.Queue {
	return awssqs.NewQueue(s.Stack, jsii.String("GenerateFailedEvents"), &awssqs.QueueProps{
		RetentionPeriod: awscdk.Duration_Days(jsii.Number(FailedEventRetentionDays)),
		Encryption:      awssqs.QueueEncryption_SQS_MANAGED,
		EnforceSSL:      jsii.Bool(true),
	})
}

// AddAlarm creates an alarm whose state changes, into ALARM and back to
// OK, go to AlarmTopic, named <stack>-<name>. Unset fields default to one
// evaluation period and missing data as not breaching (no traffic is no
// failure). Alarms on the application's own metrics go through here too,
// before the dashboard is built (New), so its alarm list shows them.
func (s *Stack) AddAlarm(name string, props awscloudwatch.AlarmProps) awscloudwatch.Alarm {
	if _, dup := s.Alarms[name]; dup {
		panic(fmt.Sprintf("stack: alarm %q added twice", name))
	}
	props.AlarmName = jsii.String(*s.StackName() + "-" + name)
	if props.EvaluationPeriods == nil {
		props.EvaluationPeriods = jsii.Number(1)
	}
	if props.TreatMissingData == "" {
		props.TreatMissingData = awscloudwatch.TreatMissingData_NOT_BREACHING
	}
	a := awscloudwatch.NewAlarm(s.Stack, jsii.String(alarmID(name)), &props)
	action := awscloudwatchactions.NewSnsAction(s.AlarmTopic)
	a.AddAlarmAction(action)
	a.AddOkAction(action)
	s.Alarms[name] = a
	return a
}

// alarmID is a construct id from an alarm name: generate-errors →
// GenerateErrorsAlarm.
func alarmID(name string) string {
	var b strings.Builder
	for _, part := range strings.Split(name, "-") {
		if part != "" {
			b.WriteString(strings.ToUpper(part[:1]) + part[1:])
		}
	}
	return b.String() + "Alarm"
}

// DurationThresholdMs is the p99 duration, in milliseconds, above which
// fn's duration alarm fires: DurationAlarmPercent of its timeout.
func DurationThresholdMs(fn routes.Function) float64 {
	return fn.Size().Timeout.Seconds() * 1000 * DurationAlarmPercent / 100
}

func period() awscdk.Duration { return awscdk.Duration_Minutes(jsii.Number(AlarmPeriodMinutes)) }

func opts(stat string) *awscloudwatch.MetricOptions {
	return &awscloudwatch.MetricOptions{Period: period(), Statistic: jsii.String(stat)}
}

// api5xxRate is the share of the API's requests answered 5xx, in percent,
// 0 below API5xxMinRequests requests.
func (s *Stack) api5xxRate() awscloudwatch.MathExpression {
	return awscloudwatch.NewMathExpression(&awscloudwatch.MathExpressionProps{
		Expression: jsii.String(fmt.Sprintf("IF(requests >= %d, 100 * FILL(errors, 0) / requests, 0)", API5xxMinRequests)),
		UsingMetrics: &map[string]awscloudwatch.IMetric{
			"errors":   s.Api.MetricServerError(opts("Sum")),
			"requests": s.Api.MetricCount(opts("Sum")),
		},
		Label:  jsii.String("5xx % of requests"),
		Period: period(),
	})
}

// appMetric is one of the application's EMF metrics (internal/metrics),
// its dimensionless total. An alarm's passes no label: a labelled metric
// becomes a metric-math query in the template.
func appMetric(name, stat string, minutes float64, label string) awscloudwatch.Metric {
	props := &awscloudwatch.MetricProps{
		Namespace: jsii.String(metrics.Namespace), MetricName: jsii.String(name),
		Statistic: jsii.String(stat), Period: awscdk.Duration_Minutes(jsii.Number(minutes)),
	}
	if label != "" {
		props.Label = jsii.String(label)
	}
	return awscloudwatch.NewMetric(props)
}

// appMetricBy is an application metric graphed per value of its
// dimensions (label "": each series named by its values), whatever values
// were emitted (a SEARCH expression: the
// values, such as error codes, are not known here).
func appMetricBy(name, stat, label string, dims ...string) awscloudwatch.MathExpression {
	schema := metrics.Namespace
	for _, d := range dims {
		schema += "," + d
	}
	props := &awscloudwatch.MathExpressionProps{
		Expression: jsii.String(fmt.Sprintf("SEARCH('{%s} MetricName=\"%s\"', '%s', %d)", schema, name, stat, AlarmPeriodMinutes*60)),
		Period:     period(),
	}
	if label != "" {
		props.Label = jsii.String(label)
	}
	return awscloudwatch.NewMathExpression(props)
}

// providerErrorRate is the share of the generations finished that failed
// at the provider, in percent, 0 below ProviderErrorMinGenerations.
func providerErrorRate() awscloudwatch.MathExpression {
	return awscloudwatch.NewMathExpression(&awscloudwatch.MathExpressionProps{
		Expression: jsii.String(fmt.Sprintf("IF(generations >= %d, 100 * FILL(errors, 0) / generations, 0)", ProviderErrorMinGenerations)),
		UsingMetrics: &map[string]awscloudwatch.IMetric{
			"errors":      appMetric(metrics.ProviderErrors, "Sum", AlarmPeriodMinutes, "provider errors"),
			"generations": appMetric(metrics.Generations, "Sum", AlarmPeriodMinutes, "generations"),
		},
		Label:  jsii.String("provider errors % of generations"),
		Period: period(),
	})
}

// appAlarms are the alarms on the application's own metrics (EMF lines of
// internal/metrics): the provider's error rate, swept generations, and a
// spike of refused sign-ins.
func (s *Stack) appAlarms() {
	gt := awscloudwatch.ComparisonOperator_GREATER_THAN_THRESHOLD
	s.AddAlarm("provider-error-rate", awscloudwatch.AlarmProps{
		AlarmDescription: jsii.String(fmt.Sprintf("generate: more than %d%% of generations failed at the image provider in %d minutes (at least %d generations). docs/operations.md §2.6",
			ProviderErrorRatePercent, AlarmPeriodMinutes, ProviderErrorMinGenerations)),
		Metric:             providerErrorRate(),
		ComparisonOperator: gt,
		Threshold:          jsii.Number(ProviderErrorRatePercent),
	})
	s.AddAlarm("swept-generations", awscloudwatch.AlarmProps{
		AlarmDescription:   jsii.String(fmt.Sprintf("generate: the sweep failed and refunded generations stuck pending (in %d minutes). docs/operations.md §2.7", SweptPeriodMinutes)),
		Metric:             appMetric(metrics.SweptGenerations, "Sum", SweptPeriodMinutes, ""),
		ComparisonOperator: gt,
		Threshold:          jsii.Number(0),
	})
	s.AddAlarm("sign-in-failures", awscloudwatch.AlarmProps{
		AlarmDescription:   jsii.String(fmt.Sprintf("auth: more than %d refused sign-ins in %d minutes. docs/operations.md §2.8", SignInFailureSpike, AlarmPeriodMinutes)),
		Metric:             appMetric(metrics.SignInFailures, "Sum", AlarmPeriodMinutes, ""),
		ComparisonOperator: gt,
		Threshold:          jsii.Number(SignInFailureSpike),
	})
}

// alarms adds the topic, its email subscription when alarmEmail is set,
// and the built-in alarms: per function errors, throttles and duration
// near the timeout; the API's 5xx rate; generate's failed async events.
// Every alarm description cites the runbook section that handles it.
func (s *Stack) alarms(email string) {
	s.AlarmTopic = awssns.NewTopic(s.Stack, jsii.String("Alarms"), &awssns.TopicProps{
		DisplayName: jsii.String(*s.StackName() + " alarms"),
	})
	if email != "" {
		s.AlarmTopic.AddSubscription(awssnssubscriptions.NewEmailSubscription(jsii.String(email), nil))
	} else {
		awscdk.Annotations_Of(s.Stack).AddWarningV2(jsii.String("adstudio:alarmEmail"),
			jsii.String("context alarmEmail is not set: the alarms notify a topic nobody is subscribed to (subscribe to the AlarmTopic output yourself)"))
	}
	gt := awscloudwatch.ComparisonOperator_GREATER_THAN_THRESHOLD
	for _, fn := range routes.Functions() {
		f, name := s.Functions[fn], string(fn)
		s.AddAlarm(name+"-errors", awscloudwatch.AlarmProps{
			AlarmDescription:   jsii.String(name + ": invocations failed (crash, timeout, runtime error), not HTTP error answers. docs/operations.md §2.1"),
			Metric:             f.MetricErrors(opts("Sum")),
			ComparisonOperator: gt,
			Threshold:          jsii.Number(0),
		})
		s.AddAlarm(name+"-throttles", awscloudwatch.AlarmProps{
			AlarmDescription:   jsii.String(name + ": Lambda refused invocations for want of concurrency. docs/operations.md §2.2"),
			Metric:             f.MetricThrottles(opts("Sum")),
			ComparisonOperator: gt,
			Threshold:          jsii.Number(0),
		})
		s.AddAlarm(name+"-duration", awscloudwatch.AlarmProps{
			AlarmDescription: jsii.String(fmt.Sprintf("%s: p99 duration above %d%% of the %v timeout. docs/operations.md §2.3",
				name, DurationAlarmPercent, fn.Size().Timeout)),
			Metric:             f.MetricDuration(opts("p99")),
			ComparisonOperator: gt,
			Threshold:          jsii.Number(DurationThresholdMs(fn)),
		})
	}
	s.AddAlarm("api-5xx-rate", awscloudwatch.AlarmProps{
		AlarmDescription: jsii.String(fmt.Sprintf("API: more than %d%% of requests answered 5xx in %d minutes (at least %d requests). docs/operations.md §2.4",
			API5xxRatePercent, AlarmPeriodMinutes, API5xxMinRequests)),
		Metric:             s.api5xxRate(),
		ComparisonOperator: gt,
		Threshold:          jsii.Number(API5xxRatePercent),
	})
	s.AddAlarm("generate-failed-events", awscloudwatch.AlarmProps{
		AlarmDescription:   jsii.String("generate: an asynchronous event (continuation or sweep) failed every attempt or expired, and waits in the failed-event queue. docs/operations.md §2.5"),
		Metric:             s.GenerateFailedEvents.MetricApproximateNumberOfMessagesVisible(opts("Maximum")),
		ComparisonOperator: gt,
		Threshold:          jsii.Number(0),
	})
	s.appAlarms()
}

// dashboard is the one page an operator opens first: every alarm's state,
// the API's traffic, errors and latency, each function's invocations,
// errors, throttles and duration, and generate's concurrency and
// asynchronous events.
func (s *Stack) dashboard(reserved int) {
	names := make([]string, 0, len(s.Alarms))
	for name := range s.Alarms {
		names = append(names, name)
	}
	sort.Strings(names)
	alarms := make([]interfacesawscloudwatch.IAlarmRef, 0, len(names))
	for _, name := range names {
		alarms = append(alarms, s.Alarms[name])
	}
	graph := func(title string, width float64, left ...awscloudwatch.IMetric) *awscloudwatch.GraphWidgetProps {
		return &awscloudwatch.GraphWidgetProps{Title: jsii.String(title), Width: jsii.Number(width), Left: &left}
	}
	as := func(stat, label string) *awscloudwatch.MetricOptions {
		o := opts(stat)
		o.Label = jsii.String(label)
		return o
	}
	perFunction := func(title, stat string, metric func(f awslambda.Function, o *awscloudwatch.MetricOptions) awscloudwatch.Metric) awscloudwatch.IWidget {
		var ms []awscloudwatch.IMetric
		for _, fn := range routes.Functions() {
			ms = append(ms, metric(s.Functions[fn], as(stat, string(fn))))
		}
		return awscloudwatch.NewGraphWidget(graph(title, 6, ms...))
	}

	api := s.Api
	gen := s.Functions[routes.Generate]
	concurrency := graph("generate: concurrent executions", 8,
		gen.Metric(jsii.String("ConcurrentExecutions"), &awscloudwatch.MetricOptions{
			Period: awscdk.Duration_Minutes(jsii.Number(1)), Statistic: jsii.String("Maximum"), Label: jsii.String("concurrent"),
		}))
	if reserved > 0 {
		concurrency.LeftAnnotations = &[]*awscloudwatch.HorizontalAnnotation{{Value: jsii.Number(float64(reserved)), Label: jsii.String("reserved concurrency")}}
	}
	asyncEvents := graph("generate: async events", 8,
		gen.Metric(jsii.String("AsyncEventsReceived"), as("Sum", "received")),
		gen.Metric(jsii.String("AsyncEventsDropped"), as("Sum", "dropped")))
	asyncEvents.Right = &[]awscloudwatch.IMetric{gen.Metric(jsii.String("AsyncEventAge"), as("Maximum", "oldest event age (ms)"))}

	rows := [][]awscloudwatch.IWidget{
		{awscloudwatch.NewAlarmStatusWidget(&awscloudwatch.AlarmStatusWidgetProps{Title: jsii.String("Alarms"), Alarms: &alarms, Width: jsii.Number(24)})},
		{
			awscloudwatch.NewGraphWidget(graph("API requests, 4xx, 5xx", 8,
				api.MetricCount(as("Sum", "requests")), api.MetricClientError(as("Sum", "4xx")), api.MetricServerError(as("Sum", "5xx")))),
			awscloudwatch.NewAlarmWidget(&awscloudwatch.AlarmWidgetProps{Title: jsii.String("API 5xx rate (%)"), Alarm: s.Alarms["api-5xx-rate"], Width: jsii.Number(8)}),
			awscloudwatch.NewGraphWidget(graph("API latency (ms)", 8,
				api.MetricLatency(as("p50", "latency p50")), api.MetricLatency(as("p99", "latency p99")),
				api.MetricIntegrationLatency(as("p99", "integration p99")))),
		},
		{
			perFunction("Invocations", "Sum", awslambda.Function.MetricInvocations),
			perFunction("Errors", "Sum", awslambda.Function.MetricErrors),
			perFunction("Throttles", "Sum", awslambda.Function.MetricThrottles),
			perFunction("Duration p99 (ms)", "p99", awslambda.Function.MetricDuration),
		},
		{
			awscloudwatch.NewGraphWidget(concurrency),
			awscloudwatch.NewGraphWidget(graph("generate: failed async events (queue depth)", 8,
				s.GenerateFailedEvents.MetricApproximateNumberOfMessagesVisible(as("Maximum", "messages")))),
			awscloudwatch.NewGraphWidget(asyncEvents),
		},
		{
			awscloudwatch.NewGraphWidget(graph("Generations by outcome", 6,
				appMetricBy(metrics.Generations, "Sum", "", metrics.DimWorkflow, metrics.DimOutcome))),
			awscloudwatch.NewGraphWidget(graph("Provider latency (ms)", 6,
				appMetric(metrics.ProviderLatency, "p50", AlarmPeriodMinutes, "p50"),
				appMetric(metrics.ProviderLatency, "p99", AlarmPeriodMinutes, "p99"))),
			awscloudwatch.NewGraphWidget(graph("Provider errors by code, copy failures, swept", 6,
				appMetricBy(metrics.ProviderErrors, "Sum", "", metrics.DimCode),
				appMetric(metrics.ResultCopyFailures, "Sum", AlarmPeriodMinutes, "result copy failures"),
				appMetric(metrics.SweptGenerations, "Sum", AlarmPeriodMinutes, "swept"))),
			awscloudwatch.NewGraphWidget(graph("Sign-ins, refused sign-ins, rate-limited", 6,
				appMetric(metrics.SignIns, "Sum", AlarmPeriodMinutes, "sign-ins"),
				appMetric(metrics.SignInFailures, "Sum", AlarmPeriodMinutes, "refused sign-ins"),
				appMetricBy(metrics.RateLimited, "Sum", "", metrics.DimScope))),
		},
	}
	var widgets []*[]awscloudwatch.IWidget
	for _, r := range rows {
		widgets = append(widgets, &r)
	}
	s.Dashboard = awscloudwatch.NewDashboard(s.Stack, jsii.String("Dashboard"), &awscloudwatch.DashboardProps{
		DashboardName: s.StackName(),
		Widgets:       &widgets,
	})
}

// monitor adds the alarms, the dashboard, and the outputs the runbook
// (docs/operations.md) starts from: the log groups, the failed-event queue
// and the alarm topic.
func (s *Stack) monitor(email string, reserved int) {
	s.alarms(email)
	s.dashboard(reserved)
	out := func(id, description string, value *string) {
		awscdk.NewCfnOutput(s.Stack, jsii.String(id), &awscdk.CfnOutputProps{Description: jsii.String(description), Value: value})
	}
	out("ApiAccessLogGroup", "The API's access log group (JSON lines; requestId = the functions' apiRequestId)", s.AccessLogs.LogGroupName())
	for _, fn := range routes.Functions() {
		name := string(fn)
		out(strings.ToUpper(name[:1])+name[1:]+"LogGroup", "The "+name+" function's log group", s.LogGroups[fn].LogGroupName())
	}
	out("GenerateFailedEventsQueue", "URL of the queue holding generate's failed asynchronous events", s.GenerateFailedEvents.QueueUrl())
	out("AlarmTopic", "ARN of the SNS topic every alarm notifies", s.AlarmTopic.TopicArn())
	out("DashboardName", "The CloudWatch dashboard", s.Dashboard.DashboardName())
}
