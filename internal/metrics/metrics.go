// Package metrics writes the application's metrics as CloudWatch Embedded
// Metric Format (EMF) lines: one JSON object per event on the function's
// stdout, which CloudWatch Logs turns into metrics of the Namespace
// namespace. A function makes no metrics API call of its own, so a metric
// costs no latency and no permission, and the line stays in the log for
// Logs Insights.
package metrics

import (
	"context"
	"encoding/json"
	"io"
	"sync"
	"time"
)

// Namespace is the CloudWatch namespace of every metric here (the stack's
// alarms and dashboard read it).
const Namespace = "Adstudio"

// The metrics, with the dimensions each is emitted with. Every metric is
// also published without any dimension (an empty dimension set in the same
// line), so an alarm or a graph reads the total without a SEARCH over the
// dimension values. Dimension values are low-cardinality by construction:
// workflow names, outcomes, error codes, methods, scopes; never a user id,
// email, request id or anything a client can make up.
const (
	// Generations counts generations this process finished (the runner
	// recorded their outcome), by DimWorkflow and DimOutcome.
	Generations = "Generations"
	// ProviderLatency is the image provider call's duration in
	// milliseconds, by DimWorkflow, failed calls included.
	ProviderLatency = "ProviderLatency"
	// ProviderErrors counts failed provider calls, by DimCode (the API's
	// error code: UPSTREAM_TIMEOUT, UPSTREAM_UNAVAILABLE, …).
	ProviderErrors = "ProviderErrors"
	// ResultCopyFailures counts result images that could not be downloaded,
	// checked or stored (the generation fails and is refunded).
	ResultCopyFailures = "ResultCopyFailures"
	// Refunds counts generations failed and refunded by the runner, by
	// DimWorkflow. The sweep's refunds are SweptGenerations.
	Refunds = "Refunds"
	// SweptGenerations counts generations the scheduled sweep failed and
	// refunded because they stayed pending longer than any job can run.
	SweptGenerations = "SweptGenerations"
	// SignIns counts successful sign-ins, by DimMethod.
	SignIns = "SignIns"
	// SignInFailures counts refused sign-ins, by DimMethod and DimReason.
	SignInFailures = "SignInFailures"
	// RateLimited counts requests refused by a rate limit, by DimScope.
	RateLimited = "RateLimited"
	// ColdStarts counts processes at their first invocation, by
	// DimFunction.
	ColdStarts = "ColdStarts"
	// InitDuration is a cold start's own initialisation (configuration,
	// secrets, building the function) in milliseconds, by DimFunction.
	InitDuration = "InitDuration"
	// Purchases counts credit packs granted by a Stripe payment, by DimPack.
	Purchases = "Purchases"
	// PurchaseRefunds counts Stripe refunds that took purchased credits
	// back (no dimension).
	PurchaseRefunds = "PurchaseRefunds"
	// BillingEvents counts Stripe webhook deliveries, by DimOutcome (the
	// store's outcome, or "invalid_signature"): an operator sees events
	// for sessions nobody created, mismatches and refusals at a glance.
	BillingEvents = "BillingEvents"
)

// Dimension names.
const (
	DimWorkflow = "Workflow" // image-from-text, image-from-reference, …
	DimOutcome  = "Outcome"  // OutcomeSucceeded, OutcomeFailed
	DimCode     = "Code"     // the app API's error code
	DimMethod   = "Method"   // MethodEmail, or a social provider id (google, github)
	DimReason   = "Reason"   // why a sign-in was refused
	DimScope    = "Scope"    // which rate limit refused
	DimFunction = "Function" // the Lambda function (routes.Function)
	DimPack     = "Pack"     // a credit pack's id (BILLING_PACKS: a handful)
)

// Values of DimOutcome and DimMethod.
const (
	OutcomeSucceeded = "succeeded"
	OutcomeFailed    = "failed"
	MethodEmail      = "email"
)

// Units of the metrics (EMF's, which are CloudWatch's).
const (
	unitCount        = "Count"
	unitMilliseconds = "Milliseconds"
)

// Dim is one dimension of a metric event.
type Dim struct{ Name, Value string }

// Emitter writes metric events to W, one EMF line each. A nil *Emitter
// does nothing, so code and tests that do not care about metrics pass nil.
// It is safe for concurrent use: a line is written with one Write, under
// a lock, so lines never interleave.
type Emitter struct {
	// W receives the lines: stdout on Lambda, where the function's log
	// group picks them up.
	W io.Writer
	// Function is written on every line as the "function" property (not a
	// dimension: it would multiply every metric by four).
	Function string
	// Now stamps the lines (nil: time.Now).
	Now func() time.Time

	mu sync.Mutex
}

// Count emits n of metric name with dims.
func (e *Emitter) Count(ctx context.Context, name string, n int64, dims ...Dim) {
	e.emit(ctx, name, unitCount, n, dims)
}

// Duration emits d, in milliseconds, as metric name with dims.
func (e *Emitter) Duration(ctx context.Context, name string, d time.Duration, dims ...Dim) {
	e.emit(ctx, name, unitMilliseconds, float64(d)/float64(time.Millisecond), dims)
}

// directive is the "_aws" member of an EMF line.
type directive struct {
	Timestamp         int64       `json:"Timestamp"`
	CloudWatchMetrics []metricSet `json:"CloudWatchMetrics"`
}

type metricSet struct {
	Namespace  string       `json:"Namespace"`
	Dimensions [][]string   `json:"Dimensions"`
	Metrics    []metricName `json:"Metrics"`
}

type metricName struct {
	Name string `json:"Name"`
	Unit string `json:"Unit"`
}

// emit writes one line. ctx is the caller's, as for every write that
// leaves the process; a line is small and stdout does not block, so it is
// not consulted. A failed write is dropped: a metric must never fail the
// request it describes.
func (e *Emitter) emit(_ context.Context, name, unit string, value any, dims []Dim) {
	if e == nil || e.W == nil {
		return
	}
	now := time.Now
	if e.Now != nil {
		now = e.Now
	}
	names := make([]string, 0, len(dims))
	line := make(map[string]any, len(dims)+3)
	for _, d := range dims {
		if d.Value == "" {
			// CloudWatch rejects the whole line for an empty dimension
			// value.
			d.Value = "unknown"
		}
		names = append(names, d.Name)
		line[d.Name] = d.Value
	}
	sets := [][]string{names}
	if len(names) > 0 {
		// The same event without dimensions: the total alarms watch.
		sets = append(sets, []string{})
	}
	line["_aws"] = directive{
		Timestamp: now().UnixMilli(),
		CloudWatchMetrics: []metricSet{{
			Namespace: Namespace, Dimensions: sets, Metrics: []metricName{{Name: name, Unit: unit}},
		}},
	}
	line[name] = value
	if e.Function != "" {
		line["function"] = e.Function
	}
	b, err := json.Marshal(line)
	if err != nil {
		return
	}
	b = append(b, '\n')
	e.mu.Lock()
	defer e.mu.Unlock()
	e.W.Write(b)
}
