// Command oauthfake serves the fake Google and GitHub of internal/devtools/oauthfake on 127.0.0.1, for
// test harnesses outside Go. It prints one line, "oauthfake: listening on http://127.0.0.1:<port>",
// once it accepts connections, and serves until SIGTERM or SIGINT.
//
// Flags win over the environment: -port ($PORT, 0 = a free port), -interactive,
// -google-client-id ($GOOGLE_CLIENT_ID), -google-client-secret ($GOOGLE_CLIENT_SECRET),
// -github-client-id ($GITHUB_CLIENT_ID), -github-client-secret ($GITHUB_CLIENT_SECRET).
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strconv"
	"syscall"
	"time"

	"adstudio/internal/devtools/oauthfake"
)

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "oauthfake:", err)
		os.Exit(1)
	}
}

func run(args []string) error {
	env := func(name, def string) string {
		if v := os.Getenv(name); v != "" {
			return v
		}
		return def
	}
	fs := flag.NewFlagSet("oauthfake", flag.ContinueOnError)
	port := fs.String("port", env("PORT", "0"), "port on 127.0.0.1; 0 picks a free one")
	interactive := fs.Bool("interactive", false, "show a consent page instead of redirecting at once")
	var opts oauthfake.Options
	fs.StringVar(&opts.GoogleClientID, "google-client-id", env("GOOGLE_CLIENT_ID", oauthfake.DefaultGoogleClientID), "Google client id")
	fs.StringVar(&opts.GoogleClientSecret, "google-client-secret", env("GOOGLE_CLIENT_SECRET", oauthfake.DefaultGoogleClientSecret), "Google client secret")
	fs.StringVar(&opts.GitHubClientID, "github-client-id", env("GITHUB_CLIENT_ID", oauthfake.DefaultGitHubClientID), "GitHub client id")
	fs.StringVar(&opts.GitHubClientSecret, "github-client-secret", env("GITHUB_CLIENT_SECRET", oauthfake.DefaultGitHubClientSecret), "GitHub client secret")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if n, err := strconv.Atoi(*port); err != nil || n < 0 || n > 65535 {
		return fmt.Errorf("bad port %q", *port)
	}
	opts.Interactive = *interactive

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	ln, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", *port))
	if err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	srv := &http.Server{Handler: oauthfake.New(opts), ReadHeaderTimeout: 10 * time.Second}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	// The listener already accepts connections, so harnesses may connect as soon as they read this.
	fmt.Printf("oauthfake: listening on http://%s\n", ln.Addr())

	select {
	case err := <-errc:
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("shutdown: %w", err)
	}
	return nil
}
