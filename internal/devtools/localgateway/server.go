// Package localgateway runs the packaged Lambda functions the way they are
// deployed, on one machine without Docker: each function's bootstrap under
// the AWS Lambda Runtime Interface Emulator (aws-lambda-rie), behind a
// local stand-in for API Gateway's HTTP API that routes with the stack's
// route keys and speaks payload format 2.0, plus Lambda's Invoke API for
// the generate function's asynchronous self-invocation.
//
// cmd/localgateway is its binary; docs/local-lambda.md says what it proves
// and what it does not.
package localgateway

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"adstudio/internal/auth/cookie"
	"adstudio/internal/config"
	"adstudio/internal/database"
	"adstudio/internal/devtools/qwenfake"
	"adstudio/internal/qwen"
	"adstudio/internal/routes"
)

// Options configures Start.
type Options struct {
	// Getenv and Environ are the gateway's environment (os.Getenv,
	// os.Environ()): the same variables cmd/dev reads.
	Getenv  func(string) string
	Environ []string
	// Dist holds <function>/bootstrap (LAMBDA_DIST, default dist/local).
	Dist string
	// RIE is the aws-lambda-rie binary (RIE_BIN, or found on PATH).
	RIE string
	// Stdout gets the start-up summary; Stderr the functions' logs.
	Stdout, Stderr io.Writer
	// Verbose (LOCALGATEWAY_VERBOSE=1) keeps RIE's per-invocation lines and
	// logs every request.
	Verbose bool
}

// Server is a running gateway with its functions.
type Server struct {
	Config    config.Config
	URL       string // http://127.0.0.1:PORT
	Gateway   *Gateway
	Functions map[routes.Function]*Function
	// Fake is the DashScope stand-in when no QWEN_API_KEY was set.
	Fake *qwenfake.Server

	srv  *http.Server
	done chan error
}

// OptionsFromEnv reads the gateway's own settings from the environment.
func OptionsFromEnv(getenv func(string) string, environ []string) (Options, error) {
	o := Options{Getenv: getenv, Environ: environ, Dist: getenv("LAMBDA_DIST"), RIE: getenv("RIE_BIN"),
		Stdout: os.Stdout, Stderr: os.Stderr, Verbose: getenv("LOCALGATEWAY_VERBOSE") == "1"}
	// Test harnesses start the binary from their own directories with a
	// trimmed environment, so the defaults also look beside the binary:
	// bin/adstudio-localgateway, bin/aws-lambda-rie, dist/local.
	var besides string
	if exe, err := os.Executable(); err == nil {
		besides = filepath.Dir(exe)
	}
	if o.Dist == "" {
		o.Dist = filepath.Join("dist", "local")
		if _, err := os.Stat(o.Dist); err != nil && besides != "" {
			o.Dist = filepath.Join(besides, "..", "dist", "local")
		}
	}
	if o.RIE == "" {
		p, err := exec.LookPath("aws-lambda-rie")
		if err != nil && besides != "" {
			p, err = exec.LookPath(filepath.Join(besides, "aws-lambda-rie"))
		}
		if err != nil {
			return o, errors.New("aws-lambda-rie not found: set RIE_BIN or put it on PATH (tests/lambda/rie.sh installs it)")
		}
		o.RIE = p
	}
	return o, nil
}

// Start resolves the local configuration as `make dev` does, migrates the
// database (the functions never do), starts one RIE per function and
// serves the gateway on 127.0.0.1:PORT.
func Start(ctx context.Context, o Options) (s *Server, err error) {
	if o.Stdout == nil {
		o.Stdout = io.Discard
	}
	if o.Stderr == nil {
		o.Stderr = io.Discard
	}
	if u := o.Getenv("TURSO_DATABASE_URL"); u == "" || strings.HasPrefix(u, "file:") {
		dir := ".data"
		if u != "" {
			p, _, _ := strings.Cut(strings.TrimPrefix(u, "file:"), "?")
			dir = filepath.Dir(p)
		}
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return nil, err
		}
	}
	cfg, err := config.LoadLocal(o.Getenv)
	if err != nil {
		return nil, err
	}
	if err := migrate(ctx, cfg, o.Stdout); err != nil {
		return nil, err
	}
	dist, err := filepath.Abs(o.Dist)
	if err != nil {
		return nil, err
	}

	ln, err := net.Listen("tcp", "127.0.0.1:"+cfg.Port)
	if err != nil {
		return nil, err
	}
	s = &Server{Config: cfg, URL: "http://127.0.0.1:" + cfg.Port, Functions: map[routes.Function]*Function{}, done: make(chan error, 1)}
	defer func() {
		if err != nil {
			ln.Close()
			s.closeFunctions()
			if s.Fake != nil {
				s.Fake.Close()
			}
			s = nil
		}
	}()

	env := EnvInput{Config: cfg, Environ: o.Environ, GatewayURL: s.URL}
	images := "images: DashScope at " + cfg.Qwen.BaseURL
	if cfg.Qwen.APIKey == "" {
		// Deployed mode has no built-in generator (only make dev's
		// devapp injects it): without a key the workflows would answer
		// BACKEND_MISCONFIGURED. A fake DashScope draws real PNGs instead.
		s.Fake = qwenfake.Start()
		env.QwenKey, env.QwenURL = s.Fake.APIKey(), s.Fake.URL()
		images = "images: DashScope fake at " + s.Fake.URL() + " (no QWEN_API_KEY)"
	}
	for _, fn := range routes.Functions() {
		dir := filepath.Join(dist, string(fn))
		env.Dir = dir
		fenv := FunctionEnv(fn, env)
		if fn == routes.Auth {
			// What every function will read, checked (and shown) here
			// rather than as four failed inits.
			fcfg, err := config.Load(lookup(fenv), false)
			if err != nil {
				return s, fmt.Errorf("the functions' environment: %w", err)
			}
			_, shape, err := cookie.Resolve(fcfg)
			if err != nil {
				return s, fmt.Errorf("the functions' environment: %w", err)
			}
			_, qwenErr := qwen.NewConfig(fcfg.Qwen)
			fmt.Fprintln(o.Stdout, fcfg.Summary(shape.String(), qwenErr))
			fmt.Fprintf(o.Stdout, "local-lambda: %s; functions from %s under %s\n", images, dist, o.RIE)
		}
		f, err := StartFunction(fn, InstanceConfig{
			Name: string(fn), RIE: o.RIE, Bootstrap: filepath.Join(dir, "bootstrap"), Dir: dir,
			Env: fenv, Log: o.Stderr, Verbose: o.Verbose,
		})
		if err != nil {
			return s, err
		}
		s.Functions[fn] = f
	}

	level := slog.LevelInfo
	if o.Verbose {
		level = slog.LevelDebug
	}
	invokers := map[routes.Function]Invoker{}
	for fn, f := range s.Functions {
		invokers[fn] = f
	}
	s.Gateway, err = NewGateway(invokers, cfg.Port, slog.New(slog.NewTextHandler(o.Stderr, &slog.HandlerOptions{Level: level})).With("component", "localgateway"))
	if err != nil {
		return s, err
	}
	s.srv = &http.Server{Handler: s.Gateway, ReadHeaderTimeout: 10 * time.Second}
	go func() { s.done <- s.srv.Serve(ln) }()
	return s, nil
}

// Done reports the HTTP server's end (an error other than a shutdown).
func (s *Server) Done() <-chan error { return s.done }

// Close stops serving, ends background invocations and stops every RIE.
func (s *Server) Close() error {
	// Functions first: their RIEs end running invocations, so the
	// server's shutdown does not wait for a slow generation.
	s.closeFunctions()
	var err error
	if s.srv != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		err = s.srv.Shutdown(ctx)
	}
	if s.Gateway != nil {
		s.Gateway.Shutdown()
	}
	if s.Fake != nil {
		s.Fake.Close()
	}
	return err
}

func (s *Server) closeFunctions() {
	for _, f := range s.Functions {
		f.Close()
	}
}

// migrate applies the migrations once, here: the functions never migrate.
func migrate(ctx context.Context, cfg config.Config, out io.Writer) error {
	db, err := database.Open(cfg.DatabaseURL, cfg.DatabaseToken)
	if err != nil {
		return err
	}
	defer db.Close()
	applied, err := db.Migrate(ctx, string(cfg.AuthSchema))
	if err != nil {
		return err
	}
	if len(applied) > 0 {
		fmt.Fprintln(out, "migrations applied:", strings.Join(applied, ", "))
	}
	return nil
}

// lookup reads an environment list as Getenv would.
func lookup(environ []string) func(string) string {
	m := make(map[string]string, len(environ))
	for _, kv := range environ {
		if k, v, ok := strings.Cut(kv, "="); ok {
			m[k] = v
		}
	}
	return func(k string) string { return m[k] }
}
