// Command localgateway runs the packaged Lambda functions (dist/local,
// `make build-local`) under the AWS Lambda Runtime Interface Emulator,
// behind a local API Gateway HTTP API: `make local-lambda`. It reads the
// same environment as cmd/dev, so it stands in for it in the test suites
// (SERVER_BIN). See docs/local-lambda.md.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"adstudio/internal/devtools/localgateway"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "local-lambda:", err)
		os.Exit(1)
	}
}

func run() error {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	opts, err := localgateway.OptionsFromEnv(os.Getenv, os.Environ())
	if err != nil {
		return err
	}
	s, err := localgateway.Start(ctx, opts)
	if err != nil {
		return err
	}
	fmt.Printf("adstudio local-lambda: listening on %s\n", s.URL)
	select {
	case err = <-s.Done():
	case <-ctx.Done():
	}
	if cerr := s.Close(); err == nil {
		err = cerr
	}
	return err
}
