// Package billingdb keeps what the service knows of its Stripe sales: each
// user's Stripe customer, each Checkout Session it created, the refunds
// Stripe reported, and the webhook events it handled; and it grants and
// takes back purchased credits in the ledger (migration 0010_billing.sql).
//
// Exactly once, without locks: a purchase is granted by the batch whose
// compare-and-set moves its checkout row to 'granted' and stamps it with
// that batch's random claim; every other statement of the batch is
// conditioned on that claim, so a redelivery, a concurrent duplicate or a
// second event type for the same session finds the row taken and writes
// nothing but its event record. Refunds work the same way on the highest
// refund total Stripe reported for the payment, so they too move each
// credit once whatever the order or number of deliveries.
package billingdb

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/google/uuid"

	"adstudio/internal/audit"
	"adstudio/internal/database"
	"adstudio/internal/generation/gendb"
)

// ErrNotFound: no such checkout (or customer).
var ErrNotFound = errors.New("billing: not found")

// Store reads and writes the billing tables.
type Store struct {
	DB *database.DB
	// UserTable is the auth layout's user table ("users" or "user"): a
	// purchase for an account deleted since its checkout grants nothing.
	UserTable string
}

// Checkout statuses.
const (
	Open    = "open"
	Granted = "granted"
	Expired = "expired"
)

// Ledger reasons of purchased credits.
const (
	ReasonPurchase = "purchase"
	ReasonRefund   = "purchase_refund"
)

// Checkout is one Checkout Session this service created, with the pack it
// sold frozen at creation: a later change of BILLING_PACKS never changes
// what an earlier purchase grants.
type Checkout struct {
	ID                   string // Stripe's cs_… id
	UserID               string
	PackID, PackName     string
	PriceID              string
	ProductShoots        int64 // credits for image-from-text
	AdGraphics           int64 // credits for image-from-reference
	MakesPaid            bool
	CustomerID           string
	Status               string
	PaymentIntentID      string
	AmountTotal          int64
	Currency             string
	RefundedAmount       int64
	CreatedAt, GrantedAt time.Time
}

// Customer returns the user's Stripe customer id in mode ("test" or
// "live", config.Billing.Mode), or ErrNotFound.
func (s *Store) Customer(ctx context.Context, userID, mode string) (string, error) {
	var id string
	err := s.DB.QueryRow(ctx, `SELECT "customer_id" FROM "billing_customer" WHERE "user_id" = ? AND "mode" = ?`, userID, mode).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return "", ErrNotFound
	}
	if err != nil {
		return "", fmt.Errorf("billing customer: %w", err)
	}
	return id, nil
}

// SaveCustomer keeps customerID as the user's in mode, unless one was kept
// first (two first checkouts at once), and returns the one kept.
func (s *Store) SaveCustomer(ctx context.Context, userID, mode, customerID string, now time.Time) (string, error) {
	var id string
	err := s.DB.QueryRow(ctx, `INSERT INTO "billing_customer" ("user_id", "mode", "customer_id", "created_at") VALUES (?, ?, ?, ?)
ON CONFLICT ("user_id", "mode") DO UPDATE SET "user_id" = "user_id" RETURNING "customer_id"`, userID, mode, customerID, now.Unix()).Scan(&id)
	if err != nil {
		return "", fmt.Errorf("save billing customer: %w", err)
	}
	return id, nil
}

// ErrOtherUser: a Checkout Session id already belongs to another user
// (an idempotent replay can only return the caller's own session).
var ErrOtherUser = errors.New("billing: checkout session belongs to another user")

// CreateCheckout records a session just created at Stripe. The same
// session again (an Idempotency-Key replay) is kept as it was.
func (s *Store) CreateCheckout(ctx context.Context, c Checkout, now time.Time) error {
	var owner string
	err := s.DB.QueryRow(ctx, `INSERT INTO "billing_checkout" ("id", "user_id", "pack_id", "pack_name", "price_id",
  "credits_product_shoots", "credits_ad_graphics", "makes_paid", "customer_id", "status", "created_at")
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 'open', ?)
ON CONFLICT ("id") DO UPDATE SET "id" = "id" RETURNING "user_id"`,
		c.ID, c.UserID, c.PackID, c.PackName, c.PriceID, c.ProductShoots, c.AdGraphics, c.MakesPaid, c.CustomerID, now.Unix()).Scan(&owner)
	if err != nil {
		return fmt.Errorf("record checkout: %w", err)
	}
	if owner != c.UserID {
		return ErrOtherUser
	}
	return nil
}

// checkoutColumns are the columns scanCheckout reads, in its order.
const checkoutColumns = `"id", "user_id", "pack_id", "pack_name", "price_id", "credits_product_shoots", "credits_ad_graphics",
  "makes_paid", "customer_id", "status", coalesce("payment_intent_id", ''), coalesce("amount_total", 0), coalesce("currency", ''),
  "refunded_amount", "created_at", "granted_at"`

// scanCheckout reads one row of checkoutColumns.
func scanCheckout(row interface{ Scan(...any) error }) (Checkout, error) {
	var c Checkout
	var created int64
	var granted sql.NullInt64
	err := row.Scan(&c.ID, &c.UserID, &c.PackID, &c.PackName, &c.PriceID, &c.ProductShoots, &c.AdGraphics,
		&c.MakesPaid, &c.CustomerID, &c.Status, &c.PaymentIntentID, &c.AmountTotal, &c.Currency, &c.RefundedAmount, &created, &granted)
	if err != nil {
		return c, err
	}
	c.CreatedAt = time.Unix(created, 0).UTC()
	if granted.Valid {
		c.GrantedAt = time.Unix(granted.Int64, 0).UTC()
	}
	return c, nil
}

// Checkout returns the checkout with Stripe's session id, or ErrNotFound.
func (s *Store) Checkout(ctx context.Context, id string) (Checkout, error) {
	c, err := scanCheckout(s.DB.QueryRow(ctx, `SELECT `+checkoutColumns+` FROM "billing_checkout" WHERE "id" = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return c, ErrNotFound
	}
	if err != nil {
		return c, fmt.Errorf("checkout: %w", err)
	}
	return c, nil
}

// Event is one webhook delivery as the store records it.
type Event struct {
	ID, Type string
	ObjectID string // the session or charge it is about
	At       time.Time
}

// Event outcomes, as billing_event.outcome.
const (
	OutcomeGranted          = "granted"
	OutcomeAlreadyGranted   = "already_granted"
	OutcomeRefundApplied    = "refund_applied"
	OutcomeRefundRecorded   = "refund_recorded" // no granted checkout for the payment (yet)
	OutcomeRefundNoChange   = "refund_no_change"
	OutcomeExpired          = "expired"
	OutcomeUnknownSession   = "unknown_session"
	OutcomeUserMismatch     = "user_mismatch"
	OutcomeNotPaid          = "not_paid"
	OutcomePaymentFailed    = "payment_failed"
	OutcomeIgnored          = "ignored"
	OutcomeNotOurs          = "not_ours" // a payment this service did not sell
	OutcomeUnknownEventType = "unhandled_type"
)

// Seen reports whether an event with this id was handled already.
func (s *Store) Seen(ctx context.Context, eventID string) (bool, error) {
	var n int
	if err := s.DB.QueryRow(ctx, `SELECT count(*) FROM "billing_event" WHERE "id" = ?`, eventID).Scan(&n); err != nil {
		return false, fmt.Errorf("billing event: %w", err)
	}
	return n > 0, nil
}

// Record keeps an event that changes nothing, with why.
func (s *Store) Record(ctx context.Context, e Event, outcome string) error {
	st := recordStmt(e, `?`, outcome)
	if err := s.DB.Exec(ctx, st.SQL, st.Args...); err != nil {
		return fmt.Errorf("record billing event: %w", err)
	}
	return nil
}

// recordStmt records e with the outcome outcomeExpr, an SQL expression
// evaluated in the batch (with outcomeArgs).
func recordStmt(e Event, outcomeExpr string, outcomeArgs ...any) database.Stmt {
	args := append([]any{e.ID, e.Type, e.ObjectID}, outcomeArgs...)
	return database.Stmt{
		SQL:  `INSERT OR IGNORE INTO "billing_event" ("id", "type", "object_id", "outcome", "received_at") SELECT ?, ?, ?, ` + outcomeExpr + `, ?`,
		Args: append(args, e.At.Unix()),
	}
}

// Payment is what a paid Checkout Session tells of its payment.
type Payment struct {
	PaymentIntentID string // "" when nothing was charged (a 100 % discount)
	AmountTotal     int64
	Currency        string
}

// credit is one balance a pack fills.
type credit struct {
	workflow, column, revoked string
	n                         int64
}

func (c Checkout) credits() []credit {
	return []credit{
		{"image-from-text", `"credits_product_shoots"`, `"revoked_product_shoots"`, c.ProductShoots},
		{"image-from-reference", `"credits_ad_graphics"`, `"revoked_ad_graphics"`, c.AdGraphics},
	}
}

// Grant credits checkout c's pack to its user, once: it reports whether
// this call was the one that granted. In the same batch: the ledger rows
// (reason purchase, id "<session>:purchase:<workflow>", the payment's id as
// external_ref; a balance stops at gendb.MaxBalance and the row records
// what moved, with the pack's number as requested), the account type when
// the pack makes it paid, the audit rows, any refund Stripe reported for
// the payment before this event, and the event's record.
func (s *Store) Grant(ctx context.Context, c Checkout, p Payment, e Event, trail ...audit.Event) (bool, error) {
	claim := uuid.NewString()
	now := e.At.Unix()
	var pi any
	if p.PaymentIntentID != "" {
		pi = p.PaymentIntentID
	}
	ref := p.PaymentIntentID
	if ref == "" {
		ref = c.ID
	}
	claimed := `EXISTS (SELECT 1 FROM "billing_checkout" WHERE "id" = ? AND "grant_claim" = ?)`
	owner := `(SELECT "user_id" FROM "billing_checkout" WHERE "id" = ? AND "grant_claim" = ?)`
	stmts := []database.Stmt{
		{SQL: `UPDATE "billing_checkout" SET "status" = 'granted', "grant_claim" = ?, "payment_intent_id" = ?, "amount_total" = ?, "currency" = ?, "granted_at" = ?
WHERE "id" = ? AND "status" <> 'granted'`, Args: []any{claim, pi, p.AmountTotal, p.Currency, now, c.ID}},
		// A user from before profiles existed gets one; a deleted one none.
		{SQL: `INSERT OR IGNORE INTO "user_profile" ("user_id") SELECT "id" FROM "` + s.UserTable + `" WHERE "id" = ` + owner, Args: []any{c.ID, claim}},
	}
	for _, cr := range c.credits() {
		if cr.n <= 0 {
			continue
		}
		id := c.ID + ":purchase:" + cr.workflow
		stmts = append(stmts,
			database.Stmt{SQL: `INSERT INTO "credit_ledger" ("id", "user_id", "workflow", "delta", "reason", "created_at", "external_ref", "requested")
SELECT ?, p."user_id", ?, min(?, ? - p.` + cr.column + `), 'purchase', ?, ?, ?
FROM "user_profile" p WHERE p."user_id" = ` + owner,
				Args: []any{id, cr.workflow, cr.n, gendb.MaxBalance, now, ref, cr.n, c.ID, claim}},
			database.Stmt{SQL: `UPDATE "user_profile" SET ` + cr.column + ` = ` + cr.column + ` + (SELECT "delta" FROM "credit_ledger" WHERE "id" = ?), "updated_at" = ?
WHERE "user_id" = ` + owner + ` AND EXISTS (SELECT 1 FROM "credit_ledger" WHERE "id" = ?)`,
				Args: []any{id, now, c.ID, claim, id}})
	}
	for _, t := range trail {
		if t.Event == audit.AccountTypeChange {
			// Only when the type changes: placed before the update below.
			stmts = append(stmts, t.StmtIf(claimed+` AND EXISTS (SELECT 1 FROM "user_profile" WHERE "user_id" = ? AND "account_type" <> 'paid')`, c.ID, claim, c.UserID))
			continue
		}
		stmts = append(stmts, t.StmtIf(claimed, c.ID, claim))
	}
	if c.MakesPaid {
		stmts = append(stmts, database.Stmt{SQL: `UPDATE "user_profile" SET "account_type" = 'paid', "updated_at" = ? WHERE "user_id" = ` + owner,
			Args: []any{now, c.ID, claim}})
	}
	if p.PaymentIntentID != "" {
		stmts = append(stmts, s.applyRefund(p.PaymentIntentID, uuid.NewString(), e.At)...)
	}
	stmts = append(stmts, recordStmt(e, `CASE WHEN `+claimed+` THEN '`+OutcomeGranted+`' ELSE '`+OutcomeAlreadyGranted+`' END`, c.ID, claim))
	if err := s.DB.Batch(ctx, stmts...); err != nil {
		return false, fmt.Errorf("grant purchase: %w", err)
	}
	var won bool
	if err := s.DB.QueryRow(ctx, `SELECT coalesce("grant_claim" = ?, 0) FROM "billing_checkout" WHERE "id" = ?`, claim, c.ID).Scan(&won); err != nil {
		return false, fmt.Errorf("grant purchase: %w", err)
	}
	return won, nil
}

// Refund is what a charge.refunded event tells: the payment, its charge,
// the amount charged and the total refunded so far (Stripe's running
// total, so a later event supersedes an earlier one).
type Refund struct {
	PaymentIntentID, ChargeID string
	Amount, AmountRefunded    int64
}

// ApplyRefund keeps the refund total Stripe reported for a payment (the
// highest seen) and, when the payment bought a granted pack, takes back
// the share of its credits the total covers, beyond what earlier refunds
// took: floor(credits × refunded ÷ amount) per balance. A balance never
// goes below zero: the ledger row (reason purchase_refund, id
// "<session>:refund:<total>:<workflow>", the charge as external_ref)
// records what was taken, and what the refund asked for as requested
// (both negative). It
// returns the event's outcome. The audit row is written when credits move,
// under the checkout's user.
func (s *Store) ApplyRefund(ctx context.Context, r Refund, e Event, trail audit.Event) (string, error) {
	claim := uuid.NewString()
	stmts := []database.Stmt{{
		SQL: `INSERT INTO "billing_refund" ("payment_intent_id", "charge_id", "amount", "amount_refunded", "updated_at") VALUES (?, ?, ?, ?, ?)
ON CONFLICT ("payment_intent_id") DO UPDATE SET "amount_refunded" = max("amount_refunded", excluded."amount_refunded"),
  "amount" = excluded."amount", "charge_id" = excluded."charge_id", "updated_at" = excluded."updated_at"`,
		Args: []any{r.PaymentIntentID, r.ChargeID, r.Amount, r.AmountRefunded, e.At.Unix()},
	}}
	stmts = append(stmts, s.applyRefund(r.PaymentIntentID, claim, e.At)...)
	stmts = append(stmts, trail.StmtFrom(`"user_id"`, `"billing_checkout" WHERE "payment_intent_id" = ? AND "refund_claim" = ?`, r.PaymentIntentID, claim))
	stmts = append(stmts, recordStmt(e, `CASE
  WHEN EXISTS (SELECT 1 FROM "billing_checkout" WHERE "payment_intent_id" = ? AND "refund_claim" = ?) THEN '`+OutcomeRefundApplied+`'
  WHEN EXISTS (SELECT 1 FROM "billing_checkout" WHERE "payment_intent_id" = ? AND "status" = 'granted') THEN '`+OutcomeRefundNoChange+`'
  ELSE '`+OutcomeRefundRecorded+`' END`, r.PaymentIntentID, claim, r.PaymentIntentID))
	if err := s.DB.Batch(ctx, stmts...); err != nil {
		return "", fmt.Errorf("apply refund: %w", err)
	}
	var outcome string
	err := s.DB.QueryRow(ctx, `SELECT CASE WHEN "refund_claim" = ? THEN ? WHEN "status" = 'granted' THEN ? ELSE ? END FROM "billing_checkout" WHERE "payment_intent_id" = ?`,
		claim, OutcomeRefundApplied, OutcomeRefundNoChange, OutcomeRefundRecorded, r.PaymentIntentID).Scan(&outcome)
	if errors.Is(err, sql.ErrNoRows) {
		return OutcomeRefundRecorded, nil
	}
	if err != nil {
		return "", fmt.Errorf("apply refund: %w", err)
	}
	return outcome, nil
}

// applyRefund takes back what the refund total kept for payment pi covers
// of the granted checkout that payment bought, beyond what was taken
// before, claiming the checkout with claim so it happens once per total.
// Nothing happens when the payment bought nothing of ours, is not granted
// yet (the grant runs this again), or the total was applied already; and
// no ledger row is written for a user deleted since (their ledger went
// with them).
func (s *Store) applyRefund(pi, claim string, at time.Time) []database.Stmt {
	now := at.Unix()
	// The refund level: Stripe's running total, never above the amount.
	level := `(SELECT min("amount_refunded", "amount") FROM "billing_refund" WHERE "payment_intent_id" = ?)`
	stmts := []database.Stmt{{
		SQL: `UPDATE "billing_checkout" SET "refund_claim" = ?
WHERE "payment_intent_id" = ? AND "status" = 'granted' AND "refunded_amount" < coalesce(` + level + `, 0)
  AND (SELECT "amount" FROM "billing_refund" WHERE "payment_intent_id" = ?) > 0`,
		Args: []any{claim, pi, pi, pi},
	}}
	owner := `(SELECT "user_id" FROM "billing_checkout" WHERE "payment_intent_id" = ? AND "refund_claim" = ?)`
	for _, cr := range (Checkout{}).credits() {
		// Ledger id of this level's row for the workflow.
		ledgerID := `(SELECT c."id" || ':refund:' || ` + level + ` || ':` + cr.workflow + `' FROM "billing_checkout" c WHERE c."payment_intent_id" = ? AND c."refund_claim" = ?)`
		stmts = append(stmts,
			database.Stmt{SQL: `INSERT INTO "credit_ledger" ("id", "user_id", "workflow", "delta", "reason", "created_at", "external_ref", "requested")
SELECT "cid" || ':refund:' || "lvl" || ':` + cr.workflow + `', "uid", ?, -min("need", "bal"), 'purchase_refund', ?, "charge", -"need" FROM (
  SELECT c."id" AS "cid", c."user_id" AS "uid", r."charge_id" AS "charge", min(r."amount_refunded", r."amount") AS "lvl",
    c.` + cr.column + ` * min(r."amount_refunded", r."amount") / r."amount" - c.` + cr.revoked + ` AS "need",
    coalesce(p.` + cr.column + `, 0) AS "bal"
  FROM "billing_checkout" c JOIN "billing_refund" r ON r."payment_intent_id" = c."payment_intent_id"
  JOIN "` + s.UserTable + `" u ON u."id" = c."user_id"
  LEFT JOIN "user_profile" p ON p."user_id" = c."user_id"
  WHERE c."payment_intent_id" = ? AND c."refund_claim" = ?
) WHERE "need" > 0`,
				Args: []any{cr.workflow, now, pi, claim}},
			database.Stmt{SQL: `UPDATE "user_profile" SET ` + cr.column + ` = ` + cr.column + ` + (SELECT "delta" FROM "credit_ledger" WHERE "id" = ` + ledgerID + `), "updated_at" = ?
WHERE "user_id" = ` + owner + ` AND EXISTS (SELECT 1 FROM "credit_ledger" WHERE "id" = ` + ledgerID + `)`,
				Args: []any{pi, pi, claim, now, pi, claim, pi, pi, claim}})
	}
	stmts = append(stmts, database.Stmt{SQL: `UPDATE "billing_checkout" SET
  "revoked_product_shoots" = max("revoked_product_shoots", "credits_product_shoots" * ` + level + ` / (SELECT "amount" FROM "billing_refund" WHERE "payment_intent_id" = ?)),
  "revoked_ad_graphics" = max("revoked_ad_graphics", "credits_ad_graphics" * ` + level + ` / (SELECT "amount" FROM "billing_refund" WHERE "payment_intent_id" = ?)),
  "refunded_amount" = ` + level + `
WHERE "payment_intent_id" = ? AND "refund_claim" = ?`, Args: []any{pi, pi, pi, pi, pi, pi, claim}})
	return stmts
}

// Expire marks an abandoned session's checkout expired (it stays out of
// the purchase list) and records the event.
func (s *Store) Expire(ctx context.Context, sessionID string, e Event) error {
	err := s.DB.Batch(ctx,
		database.Stmt{SQL: `UPDATE "billing_checkout" SET "status" = 'expired' WHERE "id" = ? AND "status" = 'open'`, Args: []any{sessionID}},
		recordStmt(e, `?`, OutcomeExpired))
	if err != nil {
		return fmt.Errorf("expire checkout: %w", err)
	}
	return nil
}

// Entry is one line of a user's purchase history: a purchase, or a
// refund's taking back.
type Entry struct {
	Kind          string // ReasonPurchase or ReasonRefund
	ID            string // the ledger ids' common prefix
	CheckoutID    string
	PackID        string
	PackName      string
	AmountTotal   int64 // what the checkout charged, in the currency's minor unit
	Currency      string
	RefundedTotal int64 // a refund: Stripe's running total after it
	Moved         gendb.Balance
	Requested     gendb.Balance
	ExternalRef   string // the payment (purchase) or charge (refund)
	CreatedAt     time.Time
}

// Purchases lists the user's purchases and refunds, newest first, at most
// limit entries, from the ledger rows they wrote.
func (s *Store) Purchases(ctx context.Context, userID string, limit int) ([]Entry, error) {
	rows, err := s.DB.Query(ctx, `SELECT l."id", l."reason", l."workflow", l."delta", coalesce(l."requested", l."delta"), coalesce(l."external_ref", ''), l."created_at",
  c."id", c."pack_id", c."pack_name", coalesce(c."amount_total", 0), coalesce(c."currency", '')
FROM "credit_ledger" l JOIN "billing_checkout" c ON c."id" = substr(l."id", 1, instr(l."id", ':') - 1)
WHERE l."user_id" = ? AND l."reason" IN ('purchase', 'purchase_refund')
ORDER BY l."created_at" DESC, l."rowid" DESC LIMIT ?`, userID, limit*2)
	if err != nil {
		return nil, fmt.Errorf("purchases: %w", err)
	}
	defer rows.Close()
	var out []Entry
	for rows.Next() {
		var id, reason, workflow, ref string
		var delta, requested, at int64
		var e Entry
		if err := rows.Scan(&id, &reason, &workflow, &delta, &requested, &ref, &at,
			&e.CheckoutID, &e.PackID, &e.PackName, &e.AmountTotal, &e.Currency); err != nil {
			return nil, fmt.Errorf("purchases: %w", err)
		}
		// One entry per purchase or refund level: its rows share the id
		// up to the workflow.
		e.ID = id[:strings.LastIndexByte(id, ':')]
		e.Kind, e.ExternalRef, e.CreatedAt = reason, ref, time.Unix(at, 0).UTC()
		if reason == ReasonRefund {
			fmt.Sscanf(e.ID[strings.LastIndexByte(e.ID, ':')+1:], "%d", &e.RefundedTotal)
		}
		if n := len(out); n == 0 || out[n-1].ID != e.ID {
			if len(out) == limit {
				break
			}
			out = append(out, e)
		}
		last := &out[len(out)-1]
		if workflow == "image-from-text" {
			last.Moved.ProductShoots += delta
			last.Requested.ProductShoots += requested
		} else {
			last.Moved.AdGraphics += delta
			last.Requested.AdGraphics += requested
		}
	}
	return out, rows.Err()
}

// Checkouts lists the user's checkouts, newest first, at most limit, in
// every status (for the operator: a session opened and never paid shows
// as open, or expired once Stripe says so).
func (s *Store) Checkouts(ctx context.Context, userID string, limit int) ([]Checkout, error) {
	rows, err := s.DB.Query(ctx, `SELECT `+checkoutColumns+` FROM "billing_checkout" WHERE "user_id" = ? ORDER BY "created_at" DESC, "rowid" DESC LIMIT ?`, userID, limit)
	if err != nil {
		return nil, fmt.Errorf("checkouts: %w", err)
	}
	defer rows.Close()
	var out []Checkout
	for rows.Next() {
		c, err := scanCheckout(rows)
		if err != nil {
			return nil, fmt.Errorf("checkouts: %w", err)
		}
		out = append(out, c)
	}
	return out, rows.Err()
}
