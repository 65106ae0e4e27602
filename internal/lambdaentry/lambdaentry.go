// Package lambdaentry is the shared body of the four Lambda mains: read the
// secrets and the configuration once per cold start, build the app, and
// serve API Gateway v2 events through the net/http adapter, plus the
// generate function's own events (sweeps and continuations).
package lambdaentry

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/aws"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	lambdasvc "github.com/aws/aws-sdk-go-v2/service/lambda"
	lambdatypes "github.com/aws/aws-sdk-go-v2/service/lambda/types"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	"github.com/awslabs/aws-lambda-go-api-proxy/httpadapter"

	"adstudio/internal/app"
	"adstudio/internal/config"
	"adstudio/internal/secrets"
)

// Run serves fn until the runtime stops the process; a bad configuration
// ends it with one line on stderr and a non-zero status (Lambda then
// reports the failed init).
func Run(fn app.Function) {
	if err := run(fn); err != nil {
		fmt.Fprintf(os.Stderr, "%s: %v\n", fn, err)
		os.Exit(1)
	}
}

func run(fn app.Function) error {
	// Init is billed and limited to 10 s: bound the one network call.
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	awsCfg, err := awsconfig.LoadDefaultConfig(ctx)
	if err != nil {
		return err
	}
	getenv, err := secrets.Overlay(ctx, secrets.Wanted(os.Environ()), os.Getenv, ssm.NewFromConfig(awsCfg))
	if err != nil {
		return err
	}
	cfg, err := config.Load(getenv, false)
	if err != nil {
		return err
	}
	a, err := app.New(cfg, nil)
	if err != nil {
		return err
	}
	if fn == app.Generate {
		// The stack sets GENERATE_FUNCTION_NAME; Lambda's own name is the
		// fallback. AWS_ENDPOINT_URL_LAMBDA (read by the SDK) lets the local
		// gateway receive the invocation instead of AWS.
		name := os.Getenv("GENERATE_FUNCTION_NAME")
		if name == "" {
			name = os.Getenv("AWS_LAMBDA_FUNCTION_NAME")
		}
		a.SetDispatcher(&selfInvoker{client: lambdasvc.NewFromConfig(awsCfg), name: name})
	}
	lambda.Start(Handler(a, fn))
	return nil
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
func Handler(a *app.App, fn app.Function) func(context.Context, json.RawMessage) (any, error) {
	proxy := httpadapter.NewV2(a.Handler(fn))
	return func(ctx context.Context, raw json.RawMessage) (any, error) {
		var ev Event
		if json.Unmarshal(raw, &ev) == nil && ev.Adstudio != "" {
			switch ev.Adstudio {
			case "sweep":
				ids, err := a.Sweep(ctx)
				return map[string]any{"swept": len(ids)}, err
			case "continue":
				return map[string]string{"continued": ev.GenerationID}, a.Continue(ctx, ev.GenerationID)
			}
			return nil, fmt.Errorf("unknown adstudio event %q", ev.Adstudio)
		}
		var req events.APIGatewayV2HTTPRequest
		if err := json.Unmarshal(raw, &req); err != nil {
			return nil, err
		}
		return proxy.ProxyWithContext(ctx, req)
	}
}

// selfInvoker continues a generation in an asynchronous invocation of this
// same function (InvocationType Event: Lambda queues it and retries it on
// failure; Continue ignores a generation that is no longer pending).
type selfInvoker struct {
	client *lambdasvc.Client
	name   string
}

func (s *selfInvoker) Dispatch(ctx context.Context, generationID string) error {
	payload, _ := json.Marshal(Event{Adstudio: "continue", GenerationID: generationID})
	_, err := s.client.Invoke(ctx, &lambdasvc.InvokeInput{
		FunctionName: aws.String(s.name), InvocationType: lambdatypes.InvocationTypeEvent, Payload: payload,
	})
	return err
}
