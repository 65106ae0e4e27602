// Command admin is the operator's tool for accounts and credits, against
// the database the environment names (TURSO_DATABASE_URL, AUTH_SCHEMA):
//
//	admin grant <email> <image-from-text|image-from-reference> <n>   add (or, negative, take) credits
//	admin paid <email>                                               make the account paid (10 + 10)
//	admin show <email>                                               balances and ledger total
//
// Every change is a ledger row; `make admin ARGS="…"` runs it.
package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strconv"
	"time"

	"github.com/google/uuid"

	"adstudio/internal/auth/authdb"
	"adstudio/internal/config"
	"adstudio/internal/database"
	"adstudio/internal/generation/gendb"
)

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "admin:", err)
		os.Exit(1)
	}
}

const usage = "usage: admin grant <email> <image-from-text|image-from-reference> <n> | admin paid <email> | admin show <email>"

func run(args []string) error {
	if len(args) < 2 {
		return errors.New(usage)
	}
	cfg, err := config.Load(os.Getenv, true)
	if err != nil {
		return err
	}
	db, err := database.Open(cfg.DatabaseURL, cfg.DatabaseToken)
	if err != nil {
		return err
	}
	defer db.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	users := authdb.New(db, cfg.AuthSchema)
	u, _, err := users.UserWithPassword(ctx, args[1])
	if errors.Is(err, authdb.ErrNotFound) {
		return fmt.Errorf("no user with email %q", args[1])
	}
	if err != nil {
		return err
	}
	gens := &gendb.Store{DB: db}
	now := time.Now()
	var b gendb.Balance
	switch {
	case args[0] == "grant" && len(args) == 4:
		if args[2] != "image-from-text" && args[2] != "image-from-reference" {
			return errors.New(usage)
		}
		n, err := strconv.ParseInt(args[3], 10, 64)
		if err != nil || n == 0 || n > gendb.MaxGrant || n < -gendb.MaxGrant {
			return gendb.ErrGrantOutOfRange
		}
		var applied int64
		b, applied, err = gens.Grant(ctx, u.ID, args[2], n, "admin_grant", uuid.NewString(), now)
		if err != nil {
			return err
		}
		if applied != n {
			fmt.Printf("applied %+d of %+d: balances stay between 0 and %d\n", applied, n, gendb.MaxBalance)
		}
	case args[0] == "paid" && len(args) == 2:
		if b, err = gens.MakePaid(ctx, u.ID, uuid.NewString, now); err != nil {
			return err
		}
	case args[0] == "show" && len(args) == 2:
		if b, err = gens.Balance(ctx, u.ID); err != nil {
			return err
		}
	default:
		return errors.New(usage)
	}
	sum, err := gens.LedgerSum(ctx, u.ID)
	if err != nil {
		return err
	}
	fmt.Printf("%s: productShoots=%d adGraphics=%d (ledger total %+d / %+d)\n", u.Email, b.ProductShoots, b.AdGraphics, sum.ProductShoots, sum.AdGraphics)
	return nil
}
