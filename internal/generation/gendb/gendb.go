// Package gendb records image generations and their credits: the
// database (triggers in migration 0005) debits a credit when a pending
// generation is inserted and refunds it when that generation fails, so this
// package only ever moves a generation from pending to its final state.
package gendb

import (
	"adstudio/internal/audit"
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"adstudio/internal/database"
)

// Statuses of a generation.
const (
	Pending   = "pending"
	Succeeded = "succeeded"
	Failed    = "failed"
)

// Errors callers branch on.
var (
	ErrOutOfCredits = errors.New("out of credits")
	ErrNotFound     = errors.New("generation not found")
	// ErrDuplicate: the user already has a generation with this
	// Idempotency-Key.
	ErrDuplicate = errors.New("duplicate idempotency key")
)

// Balance is the pair of balances every credits object in the API carries.
type Balance struct {
	ProductShoots int64 `json:"productShoots"`
	AdGraphics    int64 `json:"adGraphics"`
	// FreeWithheld: the free tier's credits still wait for the address's
	// verification (internal/auth/authdb, credits.go: a "free-withheld"
	// ledger row without its "free-released" one). Read by Balance only.
	FreeWithheld bool `json:"-"`
}

// Record is one generation row.
type Record struct {
	ID                string
	UserID            string
	Workflow          string
	Status            string
	InputJSON         string
	OutputJSON        string // "" when NULL
	ProviderRequestID string
	ProviderModel     string
	R2Key             string
	ErrorCode         string
	ErrorMessage      string
	IdempotencyKey    string
	ResponseStatus    int    // the HTTP status the request answered, once final
	ResponseJSON      string // the body it answered, for Idempotency-Key replays
	// RequestHash binds the Idempotency-Key to the request that first used
	// it (hex SHA-256); "" on rows written before it existed.
	RequestHash string
	CreatedAt   time.Time
	UpdatedAt   time.Time
}

// Store reads and writes generations.
type Store struct {
	DB *database.DB
}

const cols = `"id", "user_id", "workflow", "status", "input_json", "output_json", "provider_request_id", "provider_model", "r2_key", "error_code", "error_message", "idempotency_key", "response_status", "response_json", "created_at", "updated_at", "request_hash"`

func scan(sc interface{ Scan(...any) error }) (Record, error) {
	v := make([]any, 17)
	p := make([]any, 17)
	for i := range v {
		p[i] = &v[i]
	}
	if err := sc.Scan(p...); err != nil {
		return Record{}, err
	}
	r := Record{
		ID: database.String(v[0]), UserID: database.String(v[1]), Workflow: database.String(v[2]), Status: database.String(v[3]),
		InputJSON: database.String(v[4]), OutputJSON: database.String(v[5]), ProviderRequestID: database.String(v[6]),
		ProviderModel: database.String(v[7]), R2Key: database.String(v[8]), ErrorCode: database.String(v[9]),
		ErrorMessage: database.String(v[10]), IdempotencyKey: database.String(v[11]), ResponseJSON: database.String(v[13]),
		RequestHash: database.String(v[16]),
	}
	if n, ok := v[12].(int64); ok {
		r.ResponseStatus = int(n)
	}
	secs := database.Dates{Seconds: true}
	r.CreatedAt, _ = secs.Decode(v[14])
	r.UpdatedAt, _ = secs.Decode(v[15])
	return r, nil
}

// MaxInputJSON bounds the input document a generation row keeps. Request
// validation keeps real inputs far below it (prompts of 800 characters, no
// data URLs); this is the last line, so no request can make a row large.
const MaxInputJSON = 64 << 10

// ErrInputTooLarge: the input document passes MaxInputJSON.
var ErrInputTooLarge = errors.New("generation input too large to record")

// Create inserts a pending generation, which debits one credit of its
// workflow in the same statement, and returns the balance after the debit.
// ErrOutOfCredits: no credit left, nothing written. ErrDuplicate: the
// Idempotency-Key was used before, nothing written.
func (s *Store) Create(ctx context.Context, r Record, now time.Time) (Balance, error) {
	if len(r.InputJSON) > MaxInputJSON {
		return Balance{}, ErrInputTooLarge
	}
	var b Balance
	err := s.DB.QueryRow(ctx, `INSERT INTO "generation" ("id", "user_id", "workflow", "status", "input_json", "idempotency_key", "request_hash", "created_at", "updated_at")
VALUES (?, ?, ?, 'pending', ?, ?, ?, ?, ?)
RETURNING (SELECT "credits_product_shoots" FROM "user_profile" WHERE "user_id" = "generation"."user_id"),
          (SELECT "credits_ad_graphics" FROM "user_profile" WHERE "user_id" = "generation"."user_id")`,
		r.ID, r.UserID, r.Workflow, r.InputJSON, nullable(r.IdempotencyKey), nullable(r.RequestHash), now.Unix(), now.Unix()).Scan(&b.ProductShoots, &b.AdGraphics)
	switch {
	case err == nil:
		return b, nil
	case strings.Contains(err.Error(), "OUT_OF_CREDITS"):
		return Balance{}, ErrOutOfCredits
	case database.IsUniqueViolation(err) && strings.Contains(err.Error(), "idempotency"):
		return Balance{}, ErrDuplicate
	}
	return Balance{}, fmt.Errorf("create generation: %w", err)
}

// Of is the balance that workflow wf spends (image-from-text spends
// product shoots, every other workflow ad graphics).
func (b Balance) Of(wf string) int64 {
	if wf == "image-from-text" {
		return b.ProductShoots
	}
	return b.AdGraphics
}

// Balance reads the user's balances; a user without a profile has the free
// defaults (docs/app-api.md §13.2).
func (s *Store) Balance(ctx context.Context, userID string) (Balance, error) {
	b := Balance{ProductShoots: 1, AdGraphics: 1}
	err := s.DB.QueryRow(ctx, `SELECT "credits_product_shoots", "credits_ad_graphics",
  EXISTS (SELECT 1 FROM "credit_ledger" WHERE "id" = 'free-withheld:' || "user_id" || ':image-from-text')
  AND NOT EXISTS (SELECT 1 FROM "credit_ledger" WHERE "id" = 'free-released:' || "user_id" || ':image-from-text')
FROM "user_profile" WHERE "user_id" = ?`, userID).Scan(&b.ProductShoots, &b.AdGraphics, &b.FreeWithheld)
	if err != nil && !database.IsNoRows(err) {
		return b, fmt.Errorf("balance: %w", err)
	}
	return b, nil
}

// Outcome is how a pending generation ends.
type Outcome struct {
	Status            string // Succeeded or Failed
	OutputJSON        string
	ProviderRequestID string
	ProviderModel     string
	R2Key             string
	ErrorCode         string
	ErrorMessage      string
	ResponseStatus    int
	ResponseJSON      string
}

// Finish moves a pending generation to its final state. It reports false
// when the generation was no longer pending (finished elsewhere, swept, or
// deleted): the caller's outcome is then discarded, never applied twice.
// Failing a generation refunds its credit (trigger generation_refund).
func (s *Store) Finish(ctx context.Context, id string, o Outcome, now time.Time) (bool, error) {
	var got string
	err := s.DB.QueryRow(ctx, `UPDATE "generation" SET "status" = ?, "output_json" = ?, "provider_request_id" = ?, "provider_model" = ?, "r2_key" = ?,
  "error_code" = ?, "error_message" = ?, "response_status" = ?, "response_json" = ?, "updated_at" = ?
WHERE "id" = ? AND "status" = 'pending' RETURNING "id"`,
		o.Status, nullable(o.OutputJSON), nullable(o.ProviderRequestID), nullable(o.ProviderModel), nullable(o.R2Key),
		nullable(o.ErrorCode), nullable(o.ErrorMessage), o.ResponseStatus, nullable(o.ResponseJSON), now.Unix(), id).Scan(&got)
	if database.IsNoRows(err) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("finish generation: %w", err)
	}
	return true, nil
}

func nullable(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// Get returns the user's generation id; another user's is ErrNotFound.
func (s *Store) Get(ctx context.Context, userID, id string) (Record, error) {
	r, err := scan(s.DB.QueryRow(ctx, `SELECT `+cols+` FROM "generation" WHERE "id" = ? AND "user_id" = ?`, id, userID))
	if database.IsNoRows(err) {
		return Record{}, ErrNotFound
	}
	if err != nil {
		return Record{}, fmt.Errorf("get generation: %w", err)
	}
	return r, nil
}

// GetAny returns a generation by id whoever owns it (background jobs).
func (s *Store) GetAny(ctx context.Context, id string) (Record, error) {
	r, err := scan(s.DB.QueryRow(ctx, `SELECT `+cols+` FROM "generation" WHERE "id" = ?`, id))
	if database.IsNoRows(err) {
		return Record{}, ErrNotFound
	}
	if err != nil {
		return Record{}, fmt.Errorf("get generation: %w", err)
	}
	return r, nil
}

// ByIdempotencyKey finds the user's generation made with key.
func (s *Store) ByIdempotencyKey(ctx context.Context, userID, key string) (Record, error) {
	r, err := scan(s.DB.QueryRow(ctx, `SELECT `+cols+` FROM "generation" WHERE "user_id" = ? AND "idempotency_key" = ?`, userID, key))
	if database.IsNoRows(err) {
		return Record{}, ErrNotFound
	}
	if err != nil {
		return Record{}, fmt.Errorf("generation by key: %w", err)
	}
	return r, nil
}

// Filter narrows a listing; empty fields do not filter.
type Filter struct {
	Workflow string
	Status   string
}

// List returns one page of the user's generations, newest first, and the
// total that match. The total rides along on every row as a scalar subquery
// (a covering-index count; a window count was 12× slower), so a page costs
// one round trip; only a page past the end needs a second. Rows created in
// the same second come in the index's (descending insertion) order.
func (s *Store) List(ctx context.Context, userID string, f Filter, limit, offset int) ([]Record, int, error) {
	where := `"user_id" = ?`
	args := []any{userID}
	if f.Workflow != "" {
		where += ` AND "workflow" = ?`
		args = append(args, f.Workflow)
	}
	if f.Status != "" {
		where += ` AND "status" = ?`
		args = append(args, f.Status)
	}
	q := `SELECT ` + cols + `, (SELECT count(*) FROM "generation" WHERE ` + where + `) FROM "generation" WHERE ` + where + ` ORDER BY "created_at" DESC LIMIT ? OFFSET ?`
	all := append(append(append([]any{}, args...), args...), limit, offset)
	rows, err := s.DB.Query(ctx, q, all...)
	if err != nil {
		return nil, 0, fmt.Errorf("list generations: %w", err)
	}
	defer rows.Close()
	out := []Record{}
	total := 0
	for rows.Next() {
		var r Record
		r, err = scan(totalScanner{rows, &total})
		if err != nil {
			return nil, 0, fmt.Errorf("list generations: %w", err)
		}
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, 0, fmt.Errorf("list generations: %w", err)
	}
	if len(out) == 0 && offset > 0 {
		if err := s.DB.QueryRow(ctx, `SELECT count(*) FROM "generation" WHERE `+where, args...).Scan(&total); err != nil {
			return nil, 0, fmt.Errorf("count generations: %w", err)
		}
	}
	return out, total, nil
}

// totalScanner scans the record columns plus the trailing window count.
type totalScanner struct {
	rows  interface{ Scan(...any) error }
	total *int
}

func (t totalScanner) Scan(dest ...any) error { return t.rows.Scan(append(dest, t.total)...) }

// Delete removes the user's generation in one batch. A pending one is failed
// first, in the same batch, so its credit comes back even though its
// request is still running. Deleting what is not there is not an error:
// callers look the row up first, for its stored objects.
func (s *Store) Delete(ctx context.Context, userID, id string, now time.Time) error {
	err := s.DB.Batch(ctx,
		database.Stmt{SQL: `UPDATE "generation" SET "status" = 'failed', "error_code" = 'DELETED', "error_message" = 'Deleted before it finished.', "updated_at" = ? WHERE "id" = ? AND "user_id" = ? AND "status" = 'pending'`, Args: []any{now.Unix(), id, userID}},
		database.Stmt{SQL: `DELETE FROM "generation" WHERE "id" = ? AND "user_id" = ?`, Args: []any{id, userID}},
	)
	if err != nil {
		return fmt.Errorf("delete generation: %w", err)
	}
	return nil
}

// Sweep fails every generation still pending since before cutoff, refunding
// each (trigger), and returns their ids. A request that died mid-flight, or
// a background job that never ran, ends here within minutes.
func (s *Store) Sweep(ctx context.Context, cutoff, now time.Time) ([]string, error) {
	rows, err := s.DB.Query(ctx, `UPDATE "generation" SET "status" = 'failed', "error_code" = 'UPSTREAM_TIMEOUT', "error_message" = 'Image provider request timed out.',
  "response_status" = 504, "updated_at" = ?
WHERE "status" = 'pending' AND "updated_at" < ? RETURNING "id"`, now.Unix(), cutoff.Unix())
	if err != nil {
		return nil, fmt.Errorf("sweep: %w", err)
	}
	defer rows.Close()
	var ids []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return nil, err
		}
		ids = append(ids, id)
	}
	return ids, rows.Err()
}

// SweepUser is Sweep for one user's generations: history reads call it when
// they meet a stale pending item, so an owner always sees a final state even
// where no scheduled sweep has run yet.
func (s *Store) SweepUser(ctx context.Context, userID string, cutoff, now time.Time) (int, error) {
	rows, err := s.DB.Query(ctx, `UPDATE "generation" SET "status" = 'failed', "error_code" = 'UPSTREAM_TIMEOUT', "error_message" = 'Image provider request timed out.',
  "response_status" = 504, "updated_at" = ?
WHERE "user_id" = ? AND "status" = 'pending' AND "updated_at" < ? RETURNING "id"`, now.Unix(), userID, cutoff.Unix())
	if err != nil {
		return 0, fmt.Errorf("sweep user: %w", err)
	}
	defer rows.Close()
	n := 0
	for rows.Next() {
		n++
	}
	return n, rows.Err()
}

// LedgerSum returns the sum of the user's ledger deltas per workflow
// column, for the invariant balance = opening grant + ledger.
func (s *Store) LedgerSum(ctx context.Context, userID string) (Balance, error) {
	var b Balance
	err := s.DB.QueryRow(ctx, `SELECT
  coalesce(sum(CASE WHEN "workflow" = 'image-from-text' THEN "delta" END), 0),
  coalesce(sum(CASE WHEN "workflow" <> 'image-from-text' THEN "delta" END), 0)
FROM "credit_ledger" WHERE "user_id" = ?`, userID).Scan(&b.ProductShoots, &b.AdGraphics)
	if err != nil {
		return b, fmt.Errorf("ledger sum: %w", err)
	}
	return b, nil
}

// LedgerRow is one credit_ledger row, for the operator's view of a user.
type LedgerRow struct {
	ID           string
	Workflow     string
	Delta        int64
	Reason       string
	GenerationID string // "" when none
	CreatedAt    time.Time
}

// Ledger returns the user's newest ledger rows first, at most limit.
func (s *Store) Ledger(ctx context.Context, userID string, limit int) ([]LedgerRow, error) {
	rows, err := s.DB.Query(ctx, `SELECT "id", "workflow", "delta", "reason", coalesce("generation_id", ''), "created_at" FROM "credit_ledger" WHERE "user_id" = ? ORDER BY "created_at" DESC, "rowid" DESC LIMIT ?`, userID, limit)
	if err != nil {
		return nil, fmt.Errorf("ledger: %w", err)
	}
	defer rows.Close()
	var out []LedgerRow
	for rows.Next() {
		var r LedgerRow
		var at int64
		if err := rows.Scan(&r.ID, &r.Workflow, &r.Delta, &r.Reason, &r.GenerationID, &at); err != nil {
			return nil, fmt.Errorf("ledger: %w", err)
		}
		r.CreatedAt = time.Unix(at, 0).UTC()
		out = append(out, r)
	}
	return out, rows.Err()
}

// Bounds of operator grants: one grant moves a balance by at most MaxGrant,
// and no balance passes MaxBalance (the database refuses it too).
const (
	MaxGrant   = 1_000_000
	MaxBalance = 1_000_000_000
)

// ErrGrantOutOfRange: n is zero or its magnitude passes MaxGrant.
var ErrGrantOutOfRange = fmt.Errorf("a grant must be a non-zero whole number between -%d and %d", MaxGrant, MaxGrant)

// Grant adds n credits (n may be negative, to take back) to one workflow's
// balance as an operator, atomically with its ledger row, and returns the
// balances after it and the delta actually applied: a take-back stops at
// zero and a grant at MaxBalance, and the ledger records what moved, so
// balance = opening grant + ledger always holds. Nothing moves when the
// balance is already at the bound (applied 0, no ledger row). The trail's
// rows ride in the same batch, each with the applied delta as "applied".
func (s *Store) Grant(ctx context.Context, userID, workflow string, n int64, reason, ledgerID string, now time.Time, trail ...audit.Event) (Balance, int64, error) {
	if n == 0 || n > MaxGrant || n < -MaxGrant {
		return Balance{}, 0, ErrGrantOutOfRange
	}
	col := `"credits_ad_graphics"`
	if workflow == "image-from-text" {
		col = `"credits_product_shoots"`
	}
	// The ledger row computes the clamped delta from the balance inside the
	// same transaction, and the balance moves by exactly that row's delta.
	stmts := []database.Stmt{
		{SQL: `INSERT OR IGNORE INTO "user_profile" ("user_id") VALUES (?)`, Args: []any{userID}},
		database.Stmt{SQL: `INSERT INTO "credit_ledger" ("id", "user_id", "workflow", "delta", "reason", "created_at")
SELECT ?, "user_id", ?, d, ?, ? FROM (SELECT "user_id", min(max(?, -` + col + `), ? - ` + col + `) AS d FROM "user_profile" WHERE "user_id" = ?) WHERE d <> 0`,
			Args: []any{ledgerID, workflow, reason, now.Unix(), n, MaxBalance, userID}},
		database.Stmt{SQL: `UPDATE "user_profile" SET ` + col + ` = ` + col + ` + (SELECT "delta" FROM "credit_ledger" WHERE "id" = ?), "updated_at" = ?
WHERE "user_id" = ? AND EXISTS (SELECT 1 FROM "credit_ledger" WHERE "id" = ?)`, Args: []any{ledgerID, now.Unix(), userID, ledgerID}},
	}
	for _, e := range trail {
		stmts = append(stmts, e.StmtSetting("applied", `coalesce((SELECT "delta" FROM "credit_ledger" WHERE "id" = ?), 0)`, ledgerID))
	}
	if err := s.DB.Batch(ctx, stmts...); err != nil {
		return Balance{}, 0, fmt.Errorf("grant: %w", err)
	}
	var applied int64
	if err := s.DB.QueryRow(ctx, `SELECT coalesce((SELECT "delta" FROM "credit_ledger" WHERE "id" = ?), 0)`, ledgerID).Scan(&applied); err != nil {
		return Balance{}, 0, fmt.Errorf("grant: %w", err)
	}
	b, err := s.Balance(ctx, userID)
	return b, applied, err
}

// MakePaid turns a free account into a paid one and tops each balance up to
// the paid grant (10), recording each top-up in the ledger, with the
// trail's rows in the same batch.
func (s *Store) MakePaid(ctx context.Context, userID string, newID func() string, now time.Time, trail ...audit.Event) (Balance, error) {
	const paidGrant = 10
	b, err := s.Balance(ctx, userID)
	if err != nil {
		return b, err
	}
	stmts := []database.Stmt{
		{SQL: `INSERT OR IGNORE INTO "user_profile" ("user_id") VALUES (?)`, Args: []any{userID}},
		{SQL: `UPDATE "user_profile" SET "account_type" = 'paid', "updated_at" = ? WHERE "user_id" = ?`, Args: []any{now.Unix(), userID}},
	}
	for _, t := range []struct {
		wf, col string
		have    int64
	}{{"image-from-text", "credits_product_shoots", b.ProductShoots}, {"image-from-reference", "credits_ad_graphics", b.AdGraphics}} {
		if d := paidGrant - t.have; d > 0 {
			stmts = append(stmts,
				database.Stmt{SQL: `UPDATE "user_profile" SET "` + t.col + `" = "` + t.col + `" + ? WHERE "user_id" = ?`, Args: []any{d, userID}},
				database.Stmt{SQL: `INSERT INTO "credit_ledger" ("id", "user_id", "workflow", "delta", "reason", "created_at") VALUES (?, ?, ?, ?, 'account_upgrade', ?)`, Args: []any{newID(), userID, t.wf, d, now.Unix()}})
		}
	}
	if err := s.DB.Batch(ctx, append(stmts, audit.Stmts(trail)...)...); err != nil {
		return Balance{}, fmt.Errorf("make paid: %w", err)
	}
	return s.Balance(ctx, userID)
}
