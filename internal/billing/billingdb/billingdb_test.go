package billingdb_test

import (
	"context"
	"fmt"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"adstudio/internal/audit"
	"adstudio/internal/billing/billingdb"
	"adstudio/internal/database"
	"adstudio/internal/generation/gendb"
)

var t0 = time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)

// env is a migrated SQLite file with one user on the free tier (1/1).
type env struct {
	db    *database.DB
	store *billingdb.Store
	gens  *gendb.Store
	user  string
}

func newEnv(t *testing.T) env {
	t.Helper()
	db, err := database.Open("file:"+filepath.Join(t.TempDir(), "billing.db"), "")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if _, err := db.Migrate(t.Context(), "users"); err != nil {
		t.Fatal(err)
	}
	e := env{db: db, store: &billingdb.Store{DB: db, UserTable: "users"}, gens: &gendb.Store{DB: db}, user: "user-1"}
	// A user whose profile does not exist yet: the grant creates it.
	if err := db.Exec(t.Context(), `INSERT INTO "users" ("id", "email", "name") VALUES (?, 'a@example.com', 'A')`, e.user); err != nil {
		t.Fatal(err)
	}
	return e
}

// checkout records a session for the env's user: 20 text and 10 reference
// credits, making the account paid.
func (e env) checkout(t *testing.T, id string) billingdb.Checkout {
	t.Helper()
	c := billingdb.Checkout{ID: id, UserID: e.user, PackID: "pro", PackName: "Pro", PriceID: "price_pro", ProductShoots: 20, AdGraphics: 10, MakesPaid: true, CustomerID: "cus_1"}
	if err := e.store.CreateCheckout(t.Context(), c, t0); err != nil {
		t.Fatal(err)
	}
	return c
}

// invariant asserts balance = opening grant (1/1) + ledger, never negative,
// and returns the balance.
func (e env) invariant(t *testing.T) gendb.Balance {
	t.Helper()
	b, err := e.gens.Balance(t.Context(), e.user)
	if err != nil {
		t.Fatal(err)
	}
	sum, err := e.gens.LedgerSum(t.Context(), e.user)
	if err != nil {
		t.Fatal(err)
	}
	if b.ProductShoots != 1+sum.ProductShoots || b.AdGraphics != 1+sum.AdGraphics || b.ProductShoots < 0 || b.AdGraphics < 0 {
		t.Fatalf("credit invariant broken: balance %+v, ledger %+v", b, sum)
	}
	return b
}

func event(id, typ, object string) billingdb.Event {
	return billingdb.Event{ID: id, Type: typ, ObjectID: object, At: t0}
}

func (e env) grant(t *testing.T, c billingdb.Checkout, eventID string) bool {
	t.Helper()
	won, err := e.store.Grant(t.Context(), c, billingdb.Payment{PaymentIntentID: "pi_" + c.ID, AmountTotal: 1000, Currency: "usd"}, event(eventID, "checkout.session.completed", c.ID),
		audit.Event{Event: audit.Purchase, UserID: e.user, Outcome: audit.Success, At: t0})
	if err != nil {
		t.Fatal(err)
	}
	return won
}

func (e env) refund(t *testing.T, c billingdb.Checkout, eventID string, total int64) string {
	t.Helper()
	out, err := e.store.ApplyRefund(t.Context(), billingdb.Refund{PaymentIntentID: "pi_" + c.ID, ChargeID: "ch_" + c.ID, Amount: 1000, AmountRefunded: total},
		event(eventID, "charge.refunded", "ch_"+c.ID), audit.Event{Event: audit.PurchaseRefund, Outcome: audit.Success, At: t0})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func (e env) accountType(t *testing.T) string {
	t.Helper()
	var typ string
	if err := e.db.QueryRow(t.Context(), `SELECT "account_type" FROM "user_profile" WHERE "user_id" = ?`, e.user).Scan(&typ); err != nil {
		t.Fatal(err)
	}
	return typ
}

// TestGrantOnceUnderConcurrency: ten deliveries at once, half of them the
// same event id and half redeliveries under new ids, grant the pack once.
func TestGrantOnceUnderConcurrency(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	c := e.checkout(t, "cs_1")
	var wg sync.WaitGroup
	wins := make(chan bool, 10)
	for i := range 10 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			won, err := e.store.Grant(context.Background(), c, billingdb.Payment{PaymentIntentID: "pi_cs_1", AmountTotal: 1000, Currency: "usd"},
				event(fmt.Sprintf("evt_%d", i%5), "checkout.session.completed", c.ID))
			if err != nil {
				t.Error(err)
			}
			wins <- won
		}()
	}
	wg.Wait()
	close(wins)
	n := 0
	for w := range wins {
		if w {
			n++
		}
	}
	if n != 1 {
		t.Fatalf("%d deliveries granted, want 1", n)
	}
	if b := e.invariant(t); b.ProductShoots != 21 || b.AdGraphics != 11 {
		t.Fatalf("balance %+v, want 21/11", b)
	}
	if got := e.accountType(t); got != "paid" {
		t.Errorf("account type %q", got)
	}
	var events, granted int
	e.db.QueryRow(t.Context(), `SELECT count(*), count(*) FILTER (WHERE "outcome" = 'granted') FROM "billing_event"`).Scan(&events, &granted)
	if events != 5 || granted != 1 {
		t.Errorf("%d events recorded (%d granted), want 5 (1)", events, granted)
	}
	// A later event of another type for the same session changes nothing.
	if e.grant(t, c, "evt_async") {
		t.Error("async_payment_succeeded after completed granted again")
	}
	e.invariant(t)
}

// TestRefunds: a half refund takes half the pack back; the rest, after
// credits were spent, takes only what is left and records what it asked
// for; an older or repeated refund event changes nothing.
func TestRefunds(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	c := e.checkout(t, "cs_2")
	e.grant(t, c, "evt_1")
	if out := e.refund(t, c, "evt_r1", 500); out != billingdb.OutcomeRefundApplied {
		t.Fatalf("half refund: %s", out)
	}
	if b := e.invariant(t); b.ProductShoots != 11 || b.AdGraphics != 6 {
		t.Fatalf("after a half refund %+v, want 11/6", b)
	}
	// Spend all but 3 product shoots and 1 ad graphic.
	if _, _, err := e.gens.Grant(t.Context(), e.user, "image-from-text", -8, "admin_grant", "spend-1", t0); err != nil {
		t.Fatal(err)
	}
	if _, _, err := e.gens.Grant(t.Context(), e.user, "image-from-reference", -5, "admin_grant", "spend-2", t0); err != nil {
		t.Fatal(err)
	}
	if out := e.refund(t, c, "evt_r2", 1000); out != billingdb.OutcomeRefundApplied {
		t.Fatalf("full refund: %s", out)
	}
	if b := e.invariant(t); b.ProductShoots != 0 || b.AdGraphics != 0 {
		t.Fatalf("after the full refund %+v, want 0/0", b)
	}
	var delta, requested int64
	e.db.QueryRow(t.Context(), `SELECT "delta", "requested" FROM "credit_ledger" WHERE "id" = 'cs_2:refund:1000:image-from-text'`).Scan(&delta, &requested)
	if delta != -3 || requested != -10 {
		t.Errorf("full refund's row: delta %d requested %d, want -3 asked 10", delta, requested)
	}
	for _, total := range []int64{500, 1000} {
		if out := e.refund(t, c, fmt.Sprintf("evt_old_%d", total), total); out != billingdb.OutcomeRefundNoChange {
			t.Errorf("refund total %d again: %s", total, out)
		}
	}
	e.invariant(t)
	list, err := e.store.Purchases(t.Context(), e.user, 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != 3 || list[0].Kind != billingdb.ReasonRefund || list[0].RefundedTotal != 1000 || list[0].Moved != (gendb.Balance{ProductShoots: -3, AdGraphics: -1}) ||
		list[0].Requested != (gendb.Balance{ProductShoots: -10, AdGraphics: -5}) ||
		list[1].RefundedTotal != 500 || list[2].Kind != billingdb.ReasonPurchase || list[2].Moved != (gendb.Balance{ProductShoots: 20, AdGraphics: 10}) {
		t.Errorf("purchases %+v", list)
	}
}

// TestRefundBeforeGrant: Stripe may deliver the refund first. It is kept,
// and the grant that follows applies it in the same batch.
func TestRefundBeforeGrant(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	c := e.checkout(t, "cs_3")
	if out := e.refund(t, c, "evt_r", 1000); out != billingdb.OutcomeRefundRecorded {
		t.Fatalf("early refund: %s", out)
	}
	if !e.grant(t, c, "evt_g") {
		t.Fatal("not granted")
	}
	if b := e.invariant(t); b.ProductShoots != 1 || b.AdGraphics != 1 {
		t.Fatalf("balance %+v, want the free 1/1 back", b)
	}
}

// TestConcurrentRefunds: ten deliveries of one refund move credits once.
func TestConcurrentRefunds(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	c := e.checkout(t, "cs_4")
	e.grant(t, c, "evt_g")
	var wg sync.WaitGroup
	for i := range 10 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := e.store.ApplyRefund(context.Background(), billingdb.Refund{PaymentIntentID: "pi_cs_4", ChargeID: "ch_4", Amount: 1000, AmountRefunded: 250},
				event(fmt.Sprintf("evt_%d", i), "charge.refunded", "ch_4"), audit.Event{Event: audit.PurchaseRefund, Outcome: audit.Success, At: t0})
			if err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	if b := e.invariant(t); b.ProductShoots != 16 || b.AdGraphics != 9 {
		t.Fatalf("balance %+v, want 21-5 / 11-2", b)
	}
	var rows int
	e.db.QueryRow(t.Context(), `SELECT count(*) FROM "audit_log" WHERE "event" = 'purchase_refund' AND "user_id" = ?`, e.user).Scan(&rows)
	if rows != 1 {
		t.Errorf("%d refund audit rows, want 1", rows)
	}
}

// TestCheckoutBelongsToItsUser: a replayed session id stays its creator's.
func TestCheckoutBelongsToItsUser(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	c := e.checkout(t, "cs_5")
	if err := e.store.CreateCheckout(t.Context(), c, t0); err != nil {
		t.Fatalf("replay: %v", err)
	}
	c.UserID = "someone-else"
	if err := e.store.CreateCheckout(t.Context(), c, t0); err != billingdb.ErrOtherUser {
		t.Fatalf("another user's replay: %v", err)
	}
	first, err := e.store.SaveCustomer(t.Context(), e.user, "test", "cus_a", t0)
	if err != nil {
		t.Fatal(err)
	}
	second, err := e.store.SaveCustomer(t.Context(), e.user, "test", "cus_b", t0)
	if err != nil || first != "cus_a" || second != "cus_a" {
		t.Fatalf("customers %q %q %v, want cus_a kept", first, second, err)
	}
	// Going live: the test-mode customer is not reused.
	if _, err := e.store.Customer(t.Context(), e.user, "live"); err != billingdb.ErrNotFound {
		t.Fatalf("live customer before any live checkout: %v", err)
	}
	if live, err := e.store.SaveCustomer(t.Context(), e.user, "live", "cus_live", t0); err != nil || live != "cus_live" {
		t.Fatalf("live customer %q %v", live, err)
	}
}

// TestDeletedUser: a payment or refund for an account deleted since its
// checkout is recorded and moves nothing (its ledger is gone with it), and
// never fails the delivery, which Stripe would retry for days.
func TestDeletedUser(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	c := e.checkout(t, "cs_6")
	gone := func() {
		t.Helper()
		for _, q := range []string{`DELETE FROM "user_profile"`, `DELETE FROM "credit_ledger"`, `DELETE FROM "users"`} {
			if err := e.db.Exec(t.Context(), q); err != nil {
				t.Fatal(err)
			}
		}
	}
	e.grant(t, c, "evt_g")
	gone()
	if out := e.refund(t, c, "evt_r", 1000); out != billingdb.OutcomeRefundApplied {
		t.Errorf("refund for a deleted user: %s", out)
	}
	c2 := billingdb.Checkout{ID: "cs_7", UserID: e.user, PackID: "pro", PackName: "Pro", PriceID: "price_pro", ProductShoots: 1, CustomerID: "cus_1"}
	if err := e.store.CreateCheckout(t.Context(), c2, t0); err != nil {
		t.Fatal(err)
	}
	if !e.grant(t, c2, "evt_g2") {
		t.Error("the checkout was not closed")
	}
	var n int
	e.db.QueryRow(t.Context(), `SELECT (SELECT count(*) FROM "credit_ledger") + (SELECT count(*) FROM "user_profile")`).Scan(&n)
	if n != 0 {
		t.Errorf("%d ledger or profile rows for a deleted user", n)
	}
}
