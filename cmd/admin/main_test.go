package main

import (
	"bytes"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"adstudio/internal/audit"
	"adstudio/internal/auth/authdb"
	"adstudio/internal/billing/billingdb"
	"adstudio/internal/config"
	"adstudio/internal/database"
)

// adminEnv is a migrated database with one user who has two sessions, and
// the environment that names it.
func adminEnv(t *testing.T, now time.Time) (func(string) string, *database.DB, string) {
	t.Helper()
	vars := map[string]string{
		"TURSO_DATABASE_URL": "file:" + filepath.Join(t.TempDir(), "admin.db"),
		"BETTER_AUTH_SECRET": "test-secret-0123456789-abcdefghijklmnopqrstuvwxyz",
		"BETTER_AUTH_URL":    "http://127.0.0.1:1",
		"TRUSTED_ORIGINS":    "http://localhost:5173",
	}
	get := func(k string) string { return vars[k] }
	cfg, err := config.Load(get, true)
	if err != nil {
		t.Fatal(err)
	}
	db, err := database.Open(cfg.DatabaseURL, cfg.DatabaseToken)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if _, err := db.Migrate(t.Context(), string(cfg.AuthSchema)); err != nil {
		t.Fatal(err)
	}
	users := authdb.New(db, cfg.AuthSchema)
	u := authdb.User{ID: "u-ann", Name: "Ann", Email: "ann@example.com", CreatedAt: now, UpdatedAt: now}
	session := func(id string) *authdb.Session {
		return &authdb.Session{ID: id, Token: "token-" + id, UserID: u.ID, ExpiresAt: now.Add(time.Hour), CreatedAt: now, UpdatedAt: now, IPAddress: "192.0.2.1", UserAgent: "test"}
	}
	if err := users.SignUp(t.Context(), u, "acc-ann", "hash", session("s1")); err != nil {
		t.Fatal(err)
	}
	if err := users.CreateSession(t.Context(), *session("s2")); err != nil {
		t.Fatal(err)
	}
	return get, db, u.ID
}

func runAdmin(t *testing.T, get func(string) string, now time.Time, args ...string) string {
	t.Helper()
	var out bytes.Buffer
	if err := run(t.Context(), args, get, &out, func() time.Time { return now }); err != nil {
		t.Fatalf("admin %v: %v", args, err)
	}
	return out.String()
}

// TestAdminTrail: grant, paid and revoke write their audit rows, audit
// shows them, user shows the account without its session tokens.
func TestAdminTrail(t *testing.T) {
	now := time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)
	get, db, id := adminEnv(t, now)

	runAdmin(t, get, now, "grant", "ANN@example.com", "image-from-text", "5")
	runAdmin(t, get, now, "paid", "ann@example.com")
	if out := runAdmin(t, get, now, "revoke", "ann@example.com"); !strings.Contains(out, "ended 2 live session(s)") {
		t.Errorf("revoke: %q", out)
	}
	var left int
	if err := db.QueryRow(t.Context(), `SELECT count(*) FROM "session" WHERE "user_id" = ?`, id).Scan(&left); err != nil || left != 0 {
		t.Fatalf("sessions left after revoke: %d (%v)", left, err)
	}

	rows, err := audit.ForUser(t.Context(), db, id, 10)
	if err != nil {
		t.Fatal(err)
	}
	want := []struct{ event, detail string }{
		{audit.SessionRevoke, `{"by":"operator","scope":"all","revoked":2}`},
		{audit.AccountTypeChange, `{"to":"paid"}`},
		{audit.OperatorGrant, `{"requested":5,"workflow":"image-from-text","applied":5}`},
	}
	if len(rows) != len(want) {
		t.Fatalf("%d rows, want %d: %+v", len(rows), len(want), rows)
	}
	for i, w := range want {
		r := rows[i]
		if r.Event != w.event || r.Detail != w.detail || r.Outcome != audit.Success || r.UserAgent != operatorAgent || r.IP != "" {
			t.Errorf("row %d: %+v, want %s %s", i, r, w.event, w.detail)
		}
	}

	out := runAdmin(t, get, now, "audit", "ann@example.com")
	for _, s := range []string{"session_revoke", "account_type_change", "operator_grant"} {
		if !strings.Contains(out, s) {
			t.Errorf("audit output lacks %s:\n%s", s, out)
		}
	}
	out = runAdmin(t, get, now, "user", "ann@example.com")
	for _, s := range []string{"user u-ann <ann@example.com>", "sessions (0 live)", "admin_grant", "account_upgrade"} {
		if !strings.Contains(out, s) {
			t.Errorf("user output lacks %q:\n%s", s, out)
		}
	}
}

// TestAdminUserShowsSessionsNotTokens: user lists live sessions by id.
func TestAdminUserShowsSessionsNotTokens(t *testing.T) {
	now := time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)
	get, _, _ := adminEnv(t, now)
	out := runAdmin(t, get, now, "user", "ann@example.com")
	if !strings.Contains(out, "sessions (2 live)") || !strings.Contains(out, "s1 created") || strings.Contains(out, "token-") {
		t.Errorf("user output:\n%s", out)
	}
}

func TestAdminUnknownUser(t *testing.T) {
	now := time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)
	get, _, _ := adminEnv(t, now)
	var out bytes.Buffer
	err := run(t.Context(), []string{"audit", "nobody@example.com"}, get, &out, func() time.Time { return now })
	if err == nil || !strings.Contains(err.Error(), "no user") {
		t.Fatalf("err = %v", err)
	}
}

// TestAdminPurchases: the user's checkouts in every status, and the
// purchase and refund the webhook wrote to the ledger.
func TestAdminPurchases(t *testing.T) {
	now := time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)
	get, db, uid := adminEnv(t, now)
	store := &billingdb.Store{DB: db, UserTable: "users"}
	if _, err := store.SaveCustomer(t.Context(), uid, "test", "cus_ann", now); err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{"cs_paid", "cs_open"} {
		c := billingdb.Checkout{ID: id, UserID: uid, PackID: "starter", PackName: "Starter", PriceID: "price_s", ProductShoots: 20, AdGraphics: 10, CustomerID: "cus_ann"}
		if err := store.CreateCheckout(t.Context(), c, now); err != nil {
			t.Fatal(err)
		}
	}
	c, err := store.Checkout(t.Context(), "cs_paid")
	if err != nil {
		t.Fatal(err)
	}
	ev := func(id string) billingdb.Event { return billingdb.Event{ID: id, Type: "test", At: now} }
	if _, err := store.Grant(t.Context(), c, billingdb.Payment{PaymentIntentID: "pi_ann", AmountTotal: 900, Currency: "eur"}, ev("evt_1")); err != nil {
		t.Fatal(err)
	}
	if _, err := store.ApplyRefund(t.Context(), billingdb.Refund{PaymentIntentID: "pi_ann", ChargeID: "ch_ann", Amount: 900, AmountRefunded: 900}, ev("evt_2"), audit.Event{Event: audit.PurchaseRefund, Outcome: audit.Success, At: now}); err != nil {
		t.Fatal(err)
	}
	out := runAdmin(t, get, now, "purchases", "ann@example.com")
	for _, want := range []string{
		"Stripe test-mode customer cus_ann",
		"granted  cs_paid pack=starter credits=20/10 paid=false payment=pi_ann amount=900 eur refunded=900",
		"open     cs_open pack=starter credits=20/10 paid=false payment=none",
		"purchase_refund cs_paid:refund:900 moved=-20/-10 requested=-20/-10 ref=ch_ann",
		"purchase        cs_paid:purchase moved=+20/+10 requested=+20/+10 ref=pi_ann",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("purchases output lacks %q:\n%s", want, out)
		}
	}
}
