// Package lambdaentry is the shared body of the four Lambda mains: read the
// secrets and the configuration once per cold start, build the function,
// and serve API Gateway v2 events through the net/http adapter, plus the
// generate function's own events (sweeps and continuations). It calls AWS
// through internal/awsenv, not the SDK's service clients, whose package
// initialisation alone would add milliseconds to every cold start.
package lambdaentry

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"sync"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/awslabs/aws-lambda-go-api-proxy/core"
	"github.com/awslabs/aws-lambda-go-api-proxy/httpadapter"

	"adstudio/internal/accesslog"
	"adstudio/internal/awsenv"
	"adstudio/internal/config"
	"adstudio/internal/metrics"
	"adstudio/internal/routes"
	"adstudio/internal/secrets"
	"adstudio/internal/server"
)

// Function is what one Lambda serves.
type Function struct {
	Handler http.Handler
	// Events takes the function's own events ({"adstudio": …}); nil
	// refuses them.
	Events func(ctx context.Context, ev Event) (any, error)
}

// Env is the Lambda environment a function is built in.
type Env struct {
	AWS    aws.Config
	Getenv func(string) string
}

// Build makes a function from the shared core.
type Build func(c *server.Core, env Env) (Function, error)

// Run serves fn until the runtime stops the process; a bad configuration
// ends it with one line on stderr and a non-zero status (Lambda then
// reports the failed init).
func Run(fn routes.Function, build Build) {
	if err := run(fn, build); err != nil {
		fmt.Fprintf(os.Stderr, "%s: %v\n", fn, err)
		os.Exit(1)
	}
}

func run(fn routes.Function, build Build) error {
	start := time.Now()
	// CloudWatch takes JSON lines as structured records (the stack sets the
	// functions' log format to JSON).
	slog.SetDefault(slog.New(slog.NewJSONHandler(os.Stderr, nil)))
	env := Env{Getenv: os.Getenv}
	getenv := os.Getenv
	if wanted := secrets.Wanted(os.Environ()); len(wanted) > 0 {
		var err error
		if env.AWS, err = awsenv.Config(os.Getenv); err != nil {
			return err
		}
		// Init is billed and limited to 10 s: bound the one network call.
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		endpoint := awsenv.Endpoint(os.Getenv, "ssm")
		getenv, err = secrets.Overlay(ctx, wanted, os.Getenv, func(ctx context.Context, names []string) (map[string]string, []string, error) {
			return awsenv.GetParameters(ctx, env.AWS, endpoint, names)
		})
		if err != nil {
			return err
		}
	}
	cfg, err := config.Load(getenv, false)
	if err != nil {
		return err
	}
	c, err := server.New(cfg, nil)
	if err != nil {
		return err
	}
	c.RequestIDs = requestIDs
	// EMF lines on stdout: the function's log group turns them into
	// metrics, with no API call (internal/metrics). The slog lines go to
	// stderr, so the two never share a write.
	c.UseMetrics(&metrics.Emitter{W: os.Stdout, Function: string(fn)})
	f, err := build(c, env)
	if err != nil {
		return err
	}
	lambda.Start(ColdStart(c.Metrics, fn, time.Since(start), Handler(f)))
	return nil
}

// ColdStart reports the process's cold start, with init (the time it took
// to build the function), at its first invocation (a provisioned or
// restored environment may wait long between the two), then passes every
// invocation to h.
func ColdStart(m *metrics.Emitter, fn routes.Function, init time.Duration, h func(context.Context, json.RawMessage) (any, error)) func(context.Context, json.RawMessage) (any, error) {
	var once sync.Once
	return func(ctx context.Context, raw json.RawMessage) (any, error) {
		once.Do(func() {
			dim := metrics.Dim{Name: metrics.DimFunction, Value: string(fn)}
			m.Count(ctx, metrics.ColdStarts, 1, dim)
			m.Duration(ctx, metrics.InitDuration, init, dim)
		})
		return h(ctx, raw)
	}
}

// requestIDs are the ids of the invocation behind r: API Gateway's (which
// its access log and the client's error answers carry) and Lambda's.
func requestIDs(r *http.Request) accesslog.IDs {
	var ids accesslog.IDs
	if gw, ok := core.GetAPIGatewayV2ContextFromContext(r.Context()); ok {
		ids.Gateway = gw.RequestID
	}
	if lc, ok := core.GetRuntimeContextFromContextV2(r.Context()); ok && lc != nil {
		ids.Lambda = lc.AwsRequestID
	}
	return ids
}

// Event is the generate function's own event: {"adstudio":"sweep"} from the
// schedule, {"adstudio":"continue","generationId":…} from a hand-off.
type Event struct {
	Adstudio     string `json:"adstudio"`
	GenerationID string `json:"generationId"`
}

// Handler takes every event the function receives. API Gateway v2 events go
// through the net/http adapter, whose ProxyWithContext hands the
// invocation context (and its deadline) to every handler.
func Handler(f Function) func(context.Context, json.RawMessage) (any, error) {
	proxy := httpadapter.NewV2(rawHeaders(f.Handler))
	return func(ctx context.Context, raw json.RawMessage) (any, error) {
		var ev Event
		if json.Unmarshal(raw, &ev) == nil && ev.Adstudio != "" {
			if f.Events == nil {
				return nil, fmt.Errorf("unexpected adstudio event %q", ev.Adstudio)
			}
			return f.Events(ctx, ev)
		}
		var req events.APIGatewayV2HTTPRequest
		if err := json.Unmarshal(raw, &req); err != nil {
			return nil, err
		}
		return proxy.ProxyWithContext(context.WithValue(ctx, eventHeadersKey{}, req.Headers), req)
	}
}

type eventHeadersKey struct{}

// rawHeaders gives h each header as API Gateway delivered it. The adapter
// splits every header string at its commas into several values, which cuts
// a User-Agent ("(KHTML, like Gecko)"), a Stripe-Signature ("t=…,v1=…") or
// an If-None-Match list down to its first piece for Header.Get; API
// Gateway has already joined a repeated header with commas, so one value
// per name is what a server behind no adapter would see for one header
// line. Cookies come in the event's own list and are left to the adapter.
func rawHeaders(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if raw, ok := r.Context().Value(eventHeadersKey{}).(map[string]string); ok {
			for k, v := range raw {
				if k = http.CanonicalHeaderKey(k); k != "Cookie" {
					r.Header[k] = []string{v}
				}
			}
		}
		h.ServeHTTP(w, r)
	})
}

// SelfInvoker continues a generation in an asynchronous invocation of this
// same function (InvocationType Event: Lambda queues it and retries it on
// failure; a continuation ignores a generation that is no longer pending).
type SelfInvoker struct {
	aws      aws.Config
	endpoint string
	name     string
}

// SelfInvoker is the generate function's dispatcher. The stack sets
// GENERATE_FUNCTION_NAME; Lambda's own name is the fallback.
// AWS_ENDPOINT_URL_LAMBDA lets the local gateway receive the invocation
// instead of AWS.
func (e Env) SelfInvoker() (*SelfInvoker, error) {
	cfg, err := e.AWSConfig()
	if err != nil {
		return nil, err
	}
	name := e.Getenv("GENERATE_FUNCTION_NAME")
	if name == "" {
		name = e.Getenv("AWS_LAMBDA_FUNCTION_NAME")
	}
	return &SelfInvoker{aws: cfg, endpoint: awsenv.Endpoint(e.Getenv, "lambda"), name: name}, nil
}

// AWSConfig is the function's AWS configuration (its role's credentials),
// read from the environment if the secrets did not need it already.
func (e Env) AWSConfig() (aws.Config, error) {
	if e.AWS.Credentials != nil {
		return e.AWS, nil
	}
	return awsenv.Config(e.Getenv)
}

// Dispatch queues the continuation of generationID.
func (s *SelfInvoker) Dispatch(ctx context.Context, generationID string) error {
	payload, err := json.Marshal(Event{Adstudio: "continue", GenerationID: generationID})
	if err != nil {
		return err
	}
	return awsenv.InvokeAsync(ctx, s.aws, s.endpoint, s.name, payload)
}

// GenerateEvents answers the generate function's own events: the
// scheduled sweep and the continuation of a handed-off generation.
func GenerateEvents(sweep func(context.Context) ([]string, error), cont func(ctx context.Context, generationID string) error) func(context.Context, Event) (any, error) {
	return func(ctx context.Context, ev Event) (any, error) {
		switch ev.Adstudio {
		case "sweep":
			ids, err := sweep(ctx)
			return map[string]any{"swept": len(ids)}, err
		case "continue":
			return map[string]string{"continued": ev.GenerationID}, cont(ctx, ev.GenerationID)
		}
		return nil, fmt.Errorf("unknown adstudio event %q", ev.Adstudio)
	}
}
