package gendb

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"adstudio/internal/database"
)

func mustStore(t *testing.T) (*Store, string) {
	t.Helper()
	db, err := database.Open("file:"+filepath.Join(t.TempDir(), "gen.db"), "")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	ctx := context.Background()
	if _, err := db.Migrate(ctx, "users"); err != nil {
		t.Fatal(err)
	}
	if err := db.Exec(ctx, `INSERT INTO "users" ("id", "email", "name") VALUES ('u1', 'u1@example.com', 'U')`); err != nil {
		t.Fatal(err)
	}
	return &Store{DB: db}, "u1"
}

// checkInvariant asserts balance = opening grant (free: 1 and 1) + ledger.
func checkInvariant(t *testing.T, s *Store, userID string) Balance {
	t.Helper()
	ctx := context.Background()
	b, err := s.Balance(ctx, userID)
	if err != nil {
		t.Fatal(err)
	}
	sum, err := s.LedgerSum(ctx, userID)
	if err != nil {
		t.Fatal(err)
	}
	if b.ProductShoots != 1+sum.ProductShoots || b.AdGraphics != 1+sum.AdGraphics {
		t.Fatalf("invariant broken: balance %+v, ledger %+v", b, sum)
	}
	if b.ProductShoots < 0 || b.AdGraphics < 0 {
		t.Fatalf("negative balance %+v", b)
	}
	return b
}

func TestOneCreditManyRequests(t *testing.T) {
	s, uid := mustStore(t)
	now := time.Now()
	var wg sync.WaitGroup
	var mu sync.Mutex
	ok, out := 0, 0
	for i := range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := s.Create(context.Background(), Record{ID: fmt.Sprintf("g%d", i), UserID: uid, Workflow: "image-from-text", InputJSON: "{}"}, now)
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err == nil:
				ok++
			case errors.Is(err, ErrOutOfCredits):
				out++
			default:
				t.Errorf("create: %v", err)
			}
		}()
	}
	wg.Wait()
	if ok != 1 || out != 15 {
		t.Fatalf("%d reservations succeeded and %d were refused; want 1 and 15", ok, out)
	}
	b := checkInvariant(t, s, uid)
	if b.ProductShoots != 0 || b.AdGraphics != 1 {
		t.Fatalf("balance %+v", b)
	}
	var rows int
	s.DB.QueryRow(context.Background(), `SELECT count(*) FROM "generation"`).Scan(&rows)
	if rows != 1 {
		t.Fatalf("%d generation rows for 1 credit", rows)
	}
}

func TestRefundExactlyOnce(t *testing.T) {
	s, uid := mustStore(t)
	ctx := context.Background()
	now := time.Now()
	b, err := s.Create(ctx, Record{ID: "g1", UserID: uid, Workflow: "image-from-reference", InputJSON: "{}"}, now)
	if err != nil || b.AdGraphics != 0 || b.ProductShoots != 1 {
		t.Fatalf("create: %+v %v", b, err)
	}
	checkInvariant(t, s, uid)
	// Two finishers race (the request and the sweeper, say): one wins.
	var wg sync.WaitGroup
	wins := make(chan bool, 3)
	for _, o := range []Outcome{
		{Status: Failed, ErrorCode: "UPSTREAM_UNAVAILABLE", ErrorMessage: "x"},
		{Status: Failed, ErrorCode: "INTERNAL_SERVER_ERROR", ErrorMessage: "y"},
		{Status: Succeeded, OutputJSON: "{}"},
	} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			won, err := s.Finish(ctx, "g1", o, now)
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
		t.Fatalf("%d finishers won", n)
	}
	if ids, _ := s.Sweep(ctx, now.Add(time.Hour), now); len(ids) != 0 {
		t.Fatalf("sweep touched a finished generation: %v", ids)
	}
	b = checkInvariant(t, s, uid)
	r, _ := s.Get(ctx, uid, "g1")
	want := int64(0)
	if r.Status == Failed {
		want = 1
	}
	if b.AdGraphics != want {
		t.Fatalf("status %s, balance %+v", r.Status, b)
	}
}

func TestSweepAndDeleteRefund(t *testing.T) {
	s, uid := mustStore(t)
	ctx := context.Background()
	t0 := time.Now()
	if _, err := s.Create(ctx, Record{ID: "old", UserID: uid, Workflow: "image-from-text", InputJSON: "{}"}, t0.Add(-20*time.Minute)); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Create(ctx, Record{ID: "new", UserID: uid, Workflow: "image-from-reference", InputJSON: "{}"}, t0); err != nil {
		t.Fatal(err)
	}
	ids, err := s.Sweep(ctx, t0.Add(-10*time.Minute), t0)
	if err != nil || len(ids) != 1 || ids[0] != "old" {
		t.Fatalf("sweep: %v %v", ids, err)
	}
	if b := checkInvariant(t, s, uid); b.ProductShoots != 1 || b.AdGraphics != 0 {
		t.Fatalf("after sweep %+v", b)
	}
	// Deleting a pending generation gives its credit back too.
	if err := s.Delete(ctx, uid, "new", t0); err != nil {
		t.Fatal(err)
	}
	if b := checkInvariant(t, s, uid); b.AdGraphics != 1 {
		t.Fatalf("after deleting a pending generation %+v", b)
	}
	if _, err := s.Get(ctx, uid, "new"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("deleted generation still there: %v", err)
	}
	// The finisher of the deleted generation changes nothing.
	if won, _ := s.Finish(ctx, "new", Outcome{Status: Failed}, t0); won {
		t.Fatal("finished a deleted generation")
	}
	checkInvariant(t, s, uid)
}

func TestIdempotencyKeyAndOwnership(t *testing.T) {
	s, uid := mustStore(t)
	ctx := context.Background()
	now := time.Now()
	s.DB.Exec(ctx, `INSERT INTO "user_profile" ("user_id", "credits_product_shoots") VALUES ('u1', 5)`)
	s.DB.Exec(ctx, `INSERT INTO "credit_ledger" ("id","user_id","workflow","delta","reason") VALUES ('grant','u1','image-from-text',4,'admin_grant')`)
	if _, err := s.Create(ctx, Record{ID: "a", UserID: uid, Workflow: "image-from-text", InputJSON: "{}", IdempotencyKey: "k1"}, now); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Create(ctx, Record{ID: "b", UserID: uid, Workflow: "image-from-text", InputJSON: "{}", IdempotencyKey: "k1"}, now); !errors.Is(err, ErrDuplicate) {
		t.Fatalf("second use of a key: %v", err)
	}
	if b := checkInvariant(t, s, uid); b.ProductShoots != 4 {
		t.Fatalf("a duplicate key charged: %+v", b)
	}
	if r, err := s.ByIdempotencyKey(ctx, uid, "k1"); err != nil || r.ID != "a" {
		t.Fatalf("by key: %+v %v", r, err)
	}
	if _, err := s.Get(ctx, "someone-else", "a"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("another user's generation: %v", err)
	}
}

func TestGrantAndPaidKeepInvariant(t *testing.T) {
	s, uid := mustStore(t)
	ctx := context.Background()
	now := time.Now()
	if b, applied, err := s.Grant(ctx, uid, "image-from-text", 4, "admin_grant", "l1", now); err != nil || b.ProductShoots != 5 || applied != 4 {
		t.Fatalf("grant: %+v %d %v", b, applied, err)
	}
	checkPaid := func(want Balance) {
		t.Helper()
		b, err := s.Balance(ctx, uid)
		sum, _ := s.LedgerSum(ctx, uid)
		if err != nil || b != want || b.ProductShoots != 1+sum.ProductShoots || b.AdGraphics != 1+sum.AdGraphics {
			t.Fatalf("balance %+v ledger %+v, want %+v", b, sum, want)
		}
	}
	checkPaid(Balance{ProductShoots: 5, AdGraphics: 1})
	n := 0
	if b, err := s.MakePaid(ctx, uid, func() string { n++; return fmt.Sprint("up", n) }, now); err != nil || b != (Balance{ProductShoots: 10, AdGraphics: 10}) {
		t.Fatalf("paid: %+v %v", b, err)
	}
	checkPaid(Balance{ProductShoots: 10, AdGraphics: 10})
	var typ string
	s.DB.QueryRow(ctx, `SELECT "account_type" FROM "user_profile"`).Scan(&typ)
	if typ != "paid" {
		t.Fatalf("account type %q", typ)
	}
}

// TestGrantBounds: a take-back larger than the balance stops at zero and
// the ledger records what actually moved; a grant past MaxBalance stops
// there; out-of-range requests and overflowing writes are refused; the
// invariant balance = opening grant + ledger holds after each.
func TestGrantBounds(t *testing.T) {
	s, uid := mustStore(t)
	ctx := context.Background()
	now := time.Now()
	check := func(want Balance) {
		t.Helper()
		b, err := s.Balance(ctx, uid)
		sum, _ := s.LedgerSum(ctx, uid)
		if err != nil || b != want || b.ProductShoots != 1+sum.ProductShoots || b.AdGraphics != 1+sum.AdGraphics {
			t.Fatalf("balance %+v ledger %+v, want %+v (%v)", b, sum, want, err)
		}
	}
	// Balance 1, take back 5: -1 applied.
	if b, applied, err := s.Grant(ctx, uid, "image-from-reference", -5, "admin_grant", "g1", now); err != nil || applied != -1 || b.AdGraphics != 0 {
		t.Fatalf("take back 5 of 1: %+v applied %d, %v", b, applied, err)
	}
	check(Balance{ProductShoots: 1, AdGraphics: 0})
	// Nothing left to take: nothing moves, no ledger row.
	if _, applied, err := s.Grant(ctx, uid, "image-from-reference", -1, "admin_grant", "g2", now); err != nil || applied != 0 {
		t.Fatalf("take back from 0: applied %d, %v", applied, err)
	}
	var rows int
	s.DB.QueryRow(ctx, `SELECT count(*) FROM "credit_ledger" WHERE "id" = 'g2'`).Scan(&rows)
	if rows != 0 {
		t.Fatal("a no-op grant wrote a ledger row")
	}
	check(Balance{ProductShoots: 1, AdGraphics: 0})
	for _, n := range []int64{0, MaxGrant + 1, -MaxGrant - 1, 1 << 62} {
		if _, _, err := s.Grant(ctx, uid, "image-from-text", n, "admin_grant", fmt.Sprint("bad", n), now); !errors.Is(err, ErrGrantOutOfRange) {
			t.Fatalf("grant %d: %v", n, err)
		}
	}
	// Up to the cap in MaxGrant steps, the last one clamped.
	if err := s.DB.Exec(ctx, `UPDATE "user_profile" SET "credits_product_shoots" = ? WHERE "user_id" = ?`, MaxBalance-10, uid); err != nil {
		t.Fatal(err)
	}
	if err := s.DB.Exec(ctx, `INSERT INTO "credit_ledger" ("id", "user_id", "workflow", "delta", "reason") VALUES ('fixture', ?, 'image-from-text', ?, 'fixture')`, uid, MaxBalance-11); err != nil {
		t.Fatal(err)
	}
	if b, applied, err := s.Grant(ctx, uid, "image-from-text", 100, "admin_grant", "g3", now); err != nil || applied != 10 || b.ProductShoots != MaxBalance {
		t.Fatalf("grant past the cap: %+v applied %d, %v", b, applied, err)
	}
	check(Balance{ProductShoots: MaxBalance, AdGraphics: 0})
	// The database itself refuses a balance that overflows or goes negative,
	// whoever writes it: the column stays an INTEGER.
	for _, q := range []string{
		`UPDATE "user_profile" SET "credits_product_shoots" = "credits_product_shoots" + 9223372036854775807`,
		`UPDATE "user_profile" SET "credits_ad_graphics" = -1`,
		`UPDATE "user_profile" SET "credits_ad_graphics" = 1.5`,
	} {
		if err := s.DB.Exec(ctx, q); err == nil || !strings.Contains(err.Error(), "CREDITS_OUT_OF_RANGE") {
			t.Fatalf("%s: %v", q, err)
		}
	}
	var typ string
	s.DB.QueryRow(ctx, `SELECT typeof("credits_product_shoots") FROM "user_profile"`).Scan(&typ)
	if typ != "integer" {
		t.Fatalf("balance column holds a %s", typ)
	}
}
