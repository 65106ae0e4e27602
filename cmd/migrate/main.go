// Command migrate applies the embedded migrations to the database named by
// TURSO_DATABASE_URL (and TURSO_AUTH_TOKEN) for AUTH_SCHEMA: `make migrate`.
package main

import (
	"context"
	"fmt"
	"os"
	"strings"
	"time"

	"adstudio/internal/config"
	"adstudio/internal/database"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "migrate:", err)
		os.Exit(1)
	}
}

func run() error {
	// Local-mode loading: migrating needs only the database settings, and
	// with none set it prepares the development database under .data/.
	cfg, err := config.Load(os.Getenv, true)
	if err != nil {
		return err
	}
	if strings.HasPrefix(cfg.DatabaseURL, "file:.data/") {
		if err := os.MkdirAll(".data", 0o755); err != nil {
			return err
		}
	}
	db, err := database.Open(cfg.DatabaseURL, cfg.DatabaseToken)
	if err != nil {
		return err
	}
	defer db.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	applied, err := db.Migrate(ctx, string(cfg.AuthSchema))
	if err != nil {
		return err
	}
	if len(applied) == 0 {
		fmt.Println("migrate: up to date")
		return nil
	}
	fmt.Println("migrate: applied", strings.Join(applied, ", "))
	return nil
}
