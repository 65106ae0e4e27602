// Package lambdaentry is the shared body of the four Lambda mains: read the
// configuration once per cold start, build the app, serve API Gateway v2
// events through the net/http adapter.
package lambdaentry

import (
	"fmt"
	"os"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/awslabs/aws-lambda-go-api-proxy/httpadapter"

	"adstudio/pkg/app"
	"adstudio/pkg/config"
)

// Run serves fn's routes until the runtime stops the process; a bad
// configuration ends it with one line on stderr and a non-zero status.
func Run(fn app.Function) {
	if err := run(fn); err != nil {
		fmt.Fprintf(os.Stderr, "%s: %v\n", fn, err)
		os.Exit(1)
	}
}

func run(fn app.Function) error {
	cfg, err := config.Load(os.Getenv, false)
	if err != nil {
		return err
	}
	a, err := app.New(cfg, nil)
	if err != nil {
		return err
	}
	// ProxyWithContext hands the invocation context, and with it the Lambda
	// deadline, to every handler as r.Context().
	lambda.Start(httpadapter.NewV2(a.Handler(fn)).ProxyWithContext)
	return nil
}
