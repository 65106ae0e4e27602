// Command admin is the operator's tool for accounts and credits, against
// the database the environment names (TURSO_DATABASE_URL, AUTH_SCHEMA):
//
//	admin grant <email> <image-from-text|image-from-reference> <n>   add (or, negative, take) credits
//	admin paid <email>                                               make the account paid (10 + 10)
//	admin show <email>                                               balances and ledger total
//	admin user <email>                                               account, sessions, balances, latest ledger and generations
//	admin audit <email>                                              the user's security trail, newest first
//	admin revoke <email>                                             end every session of the user
//	admin purchases <email>                                          Stripe checkouts, purchases and refunds
//
// Every change is a ledger row or an audit row (or both, in one batch);
// `make admin ARGS="…"` runs it.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"

	"adstudio/internal/audit"
	"adstudio/internal/auth/authdb"
	"adstudio/internal/billing/billingdb"
	"adstudio/internal/config"
	"adstudio/internal/database"
	"adstudio/internal/generation/gendb"
)

func main() {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := run(ctx, os.Args[1:], os.Getenv, os.Stdout, time.Now); err != nil {
		fmt.Fprintln(os.Stderr, "admin:", err)
		os.Exit(1)
	}
}

const usage = "usage: admin grant <email> <image-from-text|image-from-reference> <n> | admin paid <email> | admin show <email> | admin user <email> | admin audit <email> | admin revoke <email> | admin purchases <email>"

// operatorAgent is the user agent of the trail's rows this tool writes:
// it has no request, and no client address.
const operatorAgent = "adstudio-admin"

// Rows shown by user and audit.
const (
	shownLedger      = 10
	shownGenerations = 5
	shownAudit       = 50
	shownPurchases   = 20
)

func run(ctx context.Context, args []string, getenv func(string) string, out io.Writer, clock func() time.Time) error {
	if len(args) < 2 {
		return errors.New(usage)
	}
	cfg, err := config.Load(getenv, true)
	if err != nil {
		return err
	}
	db, err := database.Open(cfg.DatabaseURL, cfg.DatabaseToken)
	if err != nil {
		return err
	}
	defer db.Close()
	users := authdb.New(db, cfg.AuthSchema)
	u, err := users.UserByEmail(ctx, strings.ToLower(args[1]))
	if errors.Is(err, authdb.ErrNotFound) {
		return fmt.Errorf("no user with email %q", args[1])
	}
	if err != nil {
		return err
	}
	gens := &gendb.Store{DB: db}
	now := clock()
	event := func(name string, detail map[string]any) audit.Event {
		return audit.Event{Event: name, UserID: u.ID, UserAgent: operatorAgent, Outcome: audit.Success, Detail: detail, At: now}
	}
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
		b, applied, err = gens.Grant(ctx, u.ID, args[2], n, "admin_grant", uuid.NewString(), now,
			event(audit.OperatorGrant, map[string]any{"workflow": args[2], "requested": n}))
		if err != nil {
			return err
		}
		if applied != n {
			fmt.Fprintf(out, "applied %+d of %+d: balances stay between 0 and %d\n", applied, n, gendb.MaxBalance)
		}
	case args[0] == "paid" && len(args) == 2:
		if b, err = gens.MakePaid(ctx, u.ID, uuid.NewString, now, event(audit.AccountTypeChange, map[string]any{"to": "paid"})); err != nil {
			return err
		}
	case args[0] == "show" && len(args) == 2:
		if b, err = gens.Balance(ctx, u.ID); err != nil {
			return err
		}
	case args[0] == "user" && len(args) == 2:
		return showUser(ctx, out, users, gens, u, now)
	case args[0] == "audit" && len(args) == 2:
		return showAudit(ctx, out, db, u)
	case args[0] == "purchases" && len(args) == 2:
		return showPurchases(ctx, out, &billingdb.Store{DB: db, UserTable: users.UserTable()}, cfg.Billing.Mode(), u)
	case args[0] == "revoke" && len(args) == 2:
		live, err := users.ListSessions(ctx, u.ID, now)
		if err != nil {
			return err
		}
		if err := users.DeleteUserSessions(ctx, u.ID, "", event(audit.SessionRevoke, map[string]any{"scope": "all", "by": "operator"})); err != nil {
			return err
		}
		fmt.Fprintf(out, "%s: ended %d live session(s)\n", u.Email, len(live))
		return nil
	default:
		return errors.New(usage)
	}
	sum, err := gens.LedgerSum(ctx, u.ID)
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "%s: productShoots=%d adGraphics=%d (ledger total %+d / %+d)\n", u.Email, b.ProductShoots, b.AdGraphics, sum.ProductShoots, sum.AdGraphics)
	return nil
}

const stamp = "2006-01-02 15:04:05Z"

// showUser prints what an operator asks first about an account. Session
// tokens are never printed: only their ids.
func showUser(ctx context.Context, out io.Writer, users *authdb.Store, gens *gendb.Store, u authdb.User, now time.Time) error {
	fmt.Fprintf(out, "user %s <%s> verified=%t created %s\n", u.ID, u.Email, u.EmailVerified, u.CreatedAt.UTC().Format(stamp))
	b, err := gens.Balance(ctx, u.ID)
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "balances: productShoots=%d adGraphics=%d freeWithheld=%t\n", b.ProductShoots, b.AdGraphics, b.FreeWithheld)
	sessions, err := users.ListSessions(ctx, u.ID, now)
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "sessions (%d live):\n", len(sessions))
	for _, s := range sessions {
		fmt.Fprintf(out, "  %s created %s expires %s ip=%s agent=%q\n", s.ID, s.CreatedAt.UTC().Format(stamp), s.ExpiresAt.UTC().Format(stamp), s.IPAddress, s.UserAgent)
	}
	ledger, err := gens.Ledger(ctx, u.ID, shownLedger)
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "ledger (latest %d):\n", shownLedger)
	for _, l := range ledger {
		fmt.Fprintf(out, "  %s %s %+d %s %s\n", l.CreatedAt.Format(stamp), l.Workflow, l.Delta, l.Reason, l.GenerationID)
	}
	list, _, err := gens.List(ctx, u.ID, gendb.Filter{}, shownGenerations, 0)
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "generations (latest %d):\n", shownGenerations)
	for _, g := range list {
		fmt.Fprintf(out, "  %s %s %s %s %s\n", g.CreatedAt.UTC().Format(stamp), g.ID, g.Workflow, g.Status, g.ErrorCode)
	}
	return nil
}

// showAudit prints the user's trail, newest first.
func showAudit(ctx context.Context, out io.Writer, db *database.DB, u authdb.User) error {
	rows, err := audit.ForUser(ctx, db, u.ID, shownAudit)
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "audit trail of %s <%s> (latest %d):\n", u.ID, u.Email, shownAudit)
	for _, r := range rows {
		fmt.Fprintf(out, "  %s %-20s %-8s ip=%s agent=%q %s\n", r.CreatedAt.Format(stamp), r.Event, r.Outcome, r.IP, r.UserAgent, r.Detail)
	}
	return nil
}

// showPurchases prints the user's Stripe checkouts (every status, with the
// Stripe ids to look up in the dashboard) and the purchases and refunds
// they wrote to the ledger.
func showPurchases(ctx context.Context, out io.Writer, store *billingdb.Store, mode string, u authdb.User) error {
	checkouts, err := store.Checkouts(ctx, u.ID, shownPurchases)
	if err != nil {
		return err
	}
	customer, err := store.Customer(ctx, u.ID, mode)
	if errors.Is(err, billingdb.ErrNotFound) {
		customer = "none"
	} else if err != nil {
		return err
	}
	fmt.Fprintf(out, "checkouts of %s <%s> (Stripe %s-mode customer %s, latest %d):\n", u.ID, u.Email, mode, customer, shownPurchases)
	for _, c := range checkouts {
		fmt.Fprintf(out, "  %s %-8s %s pack=%s credits=%d/%d paid=%t payment=%s amount=%d %s refunded=%d\n",
			c.CreatedAt.Format(stamp), c.Status, c.ID, c.PackID, c.ProductShoots, c.AdGraphics, c.MakesPaid, orNone(c.PaymentIntentID), c.AmountTotal, c.Currency, c.RefundedAmount)
	}
	entries, err := store.Purchases(ctx, u.ID, shownPurchases)
	if err != nil {
		return err
	}
	fmt.Fprintln(out, "ledger:")
	for _, e := range entries {
		fmt.Fprintf(out, "  %s %-15s %s moved=%+d/%+d requested=%+d/%+d ref=%s\n",
			e.CreatedAt.Format(stamp), e.Kind, e.ID, e.Moved.ProductShoots, e.Moved.AdGraphics, e.Requested.ProductShoots, e.Requested.AdGraphics, e.ExternalRef)
	}
	return nil
}

func orNone(s string) string {
	if s == "" {
		return "none"
	}
	return s
}
