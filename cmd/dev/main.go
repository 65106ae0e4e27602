// Command dev runs the whole API on one local port with the same handlers
// the Lambdas use: `make dev`. With no configuration it uses a SQLite file
// under .data/, a generated secret kept beside it, and the SPA's usual
// development origins.
package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"adstudio/internal/auth/cookie"
	"adstudio/internal/config"
	"adstudio/internal/devtools/devapp"
	"adstudio/internal/qwen"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "dev:", err)
		os.Exit(1)
	}
}

// sweep fails and refunds generations stuck in pending, once a minute, as
// the deployed stack's schedule does.
func sweep(ctx context.Context, a *devapp.App) {
	t := time.NewTicker(time.Minute)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if ids, err := a.Sweep(ctx); err != nil {
				fmt.Fprintln(os.Stderr, "dev: sweep:", err)
			} else if len(ids) > 0 {
				fmt.Printf("dev: swept %d stuck generations\n", len(ids))
			}
		}
	}
}

func run() error {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	if u := os.Getenv("TURSO_DATABASE_URL"); u == "" || strings.HasPrefix(u, "file:") {
		dir := ".data"
		if u != "" {
			p, _, _ := strings.Cut(strings.TrimPrefix(u, "file:"), "?")
			dir = filepath.Dir(p)
		}
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return err
		}
	}
	cfg, err := config.LoadLocal(os.Getenv)
	if err != nil {
		return err
	}
	a, err := devapp.New(cfg, nil)
	if err != nil {
		return err
	}
	defer a.Close()
	applied, err := a.Migrate(ctx)
	if err != nil {
		return err
	}
	// devapp.New has resolved the cookies and refused a contradiction;
	// resolved again here only to say which shape, and why.
	_, shape, err := cookie.Resolve(cfg)
	if err != nil {
		return err
	}
	_, qwenErr := qwen.NewConfig(cfg.Qwen)
	fmt.Println(cfg.Summary(shape.String(), qwenErr))
	if len(applied) > 0 {
		fmt.Println("migrations applied:", strings.Join(applied, ", "))
	}

	ln, err := net.Listen("tcp", "127.0.0.1:"+cfg.Port)
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: a.Handler(), ReadHeaderTimeout: 10 * time.Second}
	fmt.Printf("adstudio dev: listening on http://127.0.0.1:%s\n", cfg.Port)
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	go sweep(ctx, a)
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
		shutdown, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := srv.Shutdown(shutdown); err != nil && !errors.Is(err, http.ErrServerClosed) {
			return err
		}
		return nil
	}
}
