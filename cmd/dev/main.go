// Command dev runs the whole API on one local port with the same handlers
// the Lambdas use: `make dev`. With no configuration it uses a SQLite file
// under .data/, a generated secret kept beside it, and the SPA's usual
// development origins.
//
// One variable only make dev reads, never a Lambda:
//
//	DEV_GENERATION_DELAY_MS  milliseconds the built-in generator (no
//	                         DashScope key) waits before each image, to act
//	                         out a slow provider; with a delay past
//	                         WORKFLOW_SYNC_BUDGET_MS a workflow answers 202
//	                         and the SPA polls its statusUrl. Default 0.
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
	"strconv"
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

// generationDelay parses DEV_GENERATION_DELAY_MS; empty is no delay.
func generationDelay(v string) (time.Duration, error) {
	if v == "" {
		return 0, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 0 {
		return 0, fmt.Errorf("DEV_GENERATION_DELAY_MS=%q: expected whole milliseconds, 0 or more", v)
	}
	return time.Duration(n) * time.Millisecond, nil
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
	delay, err := generationDelay(os.Getenv("DEV_GENERATION_DELAY_MS"))
	if err != nil {
		return err
	}
	a, err := devapp.New(cfg, nil)
	if err != nil {
		return err
	}
	defer a.Close()
	if delay > 0 {
		a.SetGenerationDelay(delay)
	}
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
	if delay > 0 {
		fmt.Printf("built-in generator waits %v per image (DEV_GENERATION_DELAY_MS)\n", delay)
	}

	ln, err := net.Listen("tcp", "127.0.0.1:"+cfg.Port)
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: a.DevHandler(), ReadHeaderTimeout: 10 * time.Second}
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
