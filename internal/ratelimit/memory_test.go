package ratelimit

import (
	"context"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

var general = Rule{Window: 10 * time.Second, Max: 100, PerInstance: true}

const t0 = int64(1_795_527_082_000) // a fixed instant, in Unix milliseconds

// mustAllowN sends n requests for key at now and fails unless all pass.
func mustAllowN(t *testing.T, m *Memory, key string, rule Rule, now int64, n int) {
	t.Helper()
	for i := range n {
		if d := m.Allow(key, rule, now); !d.Allowed {
			t.Fatalf("%s: request %d refused (retry %d)", key, i+1, d.RetryAfter)
		}
	}
}

func TestRateLimitMemoryWindow(t *testing.T) {
	t.Parallel()
	var m Memory
	mustAllowN(t, &m, "a", general, t0, 100)
	if d := m.Allow("a", general, t0); d.Allowed || d.RetryAfter != 10 {
		t.Fatalf("101st request: %+v, want refused with retry 10", d)
	}
	// Another client, and another path of the same client, count apart.
	mustAllowN(t, &m, "b", general, t0, 1)
	mustAllowN(t, &m, "a|/other", general, t0, 1)
	// A refused request does not move the window: 4 s later, 6 s remain.
	if d := m.Allow("a", general, t0+4000); d.Allowed || d.RetryAfter != 6 {
		t.Fatalf("4 s later: %+v, want refused with retry 6", d)
	}
	if d := m.Allow("a", general, t0+9999); d.Allowed || d.RetryAfter != 1 {
		t.Fatalf("just before the gap: %+v, want refused with retry 1", d)
	}
	// A quiet gap of one window after the last allowed request resets.
	mustAllowN(t, &m, "a", general, t0+10_000, 100)
	if d := m.Allow("a", general, t0+10_000); d.Allowed {
		t.Fatal("the new window allowed 101")
	}
}

// TestRateLimitMemoryWindowSlidesWithAllowedRequests pins better-auth's semantics:
// the window ends a quiet Window after the last allowed request, so a
// steady trickle below the limit never resets the count.
func TestRateLimitMemoryWindowSlidesWithAllowedRequests(t *testing.T) {
	t.Parallel()
	var m Memory
	rule := Rule{Window: 10 * time.Second, Max: 3, PerInstance: true}
	for i := range 3 {
		mustAllowN(t, &m, "k", rule, t0+int64(i)*9000, 1)
	}
	if d := m.Allow("k", rule, t0+27_000); d.Allowed || d.RetryAfter != 1 {
		t.Fatalf("4th request 9 s after the 3rd: %+v, want refused with retry 1", d)
	}
	mustAllowN(t, &m, "k", rule, t0+28_000, 1)
}

func TestRateLimitMemoryDropsIdleKeys(t *testing.T) {
	t.Parallel()
	var m Memory
	for i := range 50 {
		mustAllowN(t, &m, "ip"+strconv.Itoa(i), general, t0, 1)
	}
	mustAllowN(t, &m, "late", general, t0+5000, 1)
	if n := m.len(); n != 51 {
		t.Fatalf("%d keys, want 51", n)
	}
	// Once their window has passed, the first 50 go with the next request.
	mustAllowN(t, &m, "next", general, t0+10_000, 1)
	if n := m.len(); n != 2 {
		t.Fatalf("%d keys after the window, want 2 (late, next)", n)
	}
	// A refused client's entry is not idle until its window ends ("late"
	// has gone by now).
	mustAllowN(t, &m, "busy", general, t0+10_000, 100)
	if d := m.Allow("busy", general, t0+19_000); d.Allowed {
		t.Fatal("busy over its limit")
	}
	if n := m.len(); n != 2 {
		t.Fatalf("%d keys, want 2 (next, busy)", n)
	}
	m.Allow("other", general, t0+20_000)
	if n := m.len(); n != 1 {
		t.Fatalf("%d keys after every window passed, want 1", n)
	}
}

func TestRateLimitMemoryCap(t *testing.T) {
	t.Parallel()
	m := Memory{MaxKeys: 3}
	rule := Rule{Window: 10 * time.Second, Max: 2, PerInstance: true}
	for i, k := range []string{"a", "b", "c"} {
		mustAllowN(t, &m, k, rule, t0+int64(i), 2)
	}
	// a's last allowed request is now the most recent, so b is the entry
	// idle longest when d arrives.
	if d := m.Allow("a", rule, t0+5); d.Allowed {
		t.Fatal("a over its limit")
	}
	mustAllowN(t, &m, "a", rule, t0+10_000, 1)
	mustAllowN(t, &m, "d", rule, t0+10_001, 1)
	if n := m.len(); n != 3 {
		t.Fatalf("%d keys, want the cap of 3", n)
	}
	// b was evicted (its count starts again); c and a were kept.
	mustAllowN(t, &m, "b", rule, t0+10_002, 1)
	if d := m.Allow("a", rule, t0+10_003); !d.Allowed {
		t.Fatal("a: second request of its window refused")
	}
	if d := m.Allow("a", rule, t0+10_004); d.Allowed {
		t.Fatal("a's count was lost")
	}

	// A flood of distinct keys never holds more than the cap.
	flood := Memory{MaxKeys: 100}
	for i := range 10_000 {
		flood.Allow("spoofed-"+strconv.Itoa(i), general, t0)
	}
	if n := flood.len(); n != 100 {
		t.Fatalf("%d keys after a flood, want 100", n)
	}
}

func TestRateLimitMemoryLongKeys(t *testing.T) {
	t.Parallel()
	var m Memory
	rule := Rule{Window: 10 * time.Second, Max: 1, PerInstance: true}
	long := "203.0.113.7|/" + strings.Repeat("x", 4000)
	mustAllowN(t, &m, long+"1", rule, t0, 1)
	mustAllowN(t, &m, long+"2", rule, t0, 1)
	if d := m.Allow(long+"1", rule, t0); d.Allowed {
		t.Fatal("a long key was not counted")
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	for k := range m.byKey {
		if len(k) > maxKeyBytes {
			t.Fatalf("stored a key of %d bytes", len(k))
		}
	}
}

// TestRateLimitMemoryConcurrent fires requests for one key from many goroutines:
// exactly Max get through. Run with -race.
func TestRateLimitMemoryConcurrent(t *testing.T) {
	t.Parallel()
	m := Memory{MaxKeys: 50}
	const workers, each = 16, 50
	var wg sync.WaitGroup
	allowed := make(chan bool, workers*each)
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range each {
				allowed <- m.Allow("shared", general, t0).Allowed
				// Other keys churn the table and its evictions meanwhile.
				m.Allow("w"+strconv.Itoa(w)+"-"+strconv.Itoa(i), general, t0+int64(i))
			}
		}()
	}
	wg.Wait()
	close(allowed)
	n := 0
	for ok := range allowed {
		if ok {
			n++
		}
	}
	// The churn may evict "shared" (cap 50, 800 other keys), which
	// restarts its count; without eviction the count is exact.
	if n < general.Max {
		t.Fatalf("%d allowed, want at least %d", n, general.Max)
	}
	if got := m.len(); got > 50 {
		t.Fatalf("%d keys, over the cap", got)
	}

	var exact Memory
	results := make(chan bool, workers*each)
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range each {
				results <- exact.Allow("shared", general, t0).Allowed
			}
		}()
	}
	wg.Wait()
	close(results)
	n = 0
	for ok := range results {
		if ok {
			n++
		}
	}
	if n != general.Max {
		t.Fatalf("%d of %d concurrent requests allowed, want exactly %d", n, workers*each, general.Max)
	}
}

// TestRateLimitPerInstanceRuleSkipsDatabase: a PerInstance rule is decided
// without the database (the limiter has none here), and each Limiter keeps
// its own counters unless they share a Memory.
func TestRateLimitPerInstanceRuleSkipsDatabase(t *testing.T) {
	t.Parallel()
	now := func() time.Time { return time.UnixMilli(t0) }
	a, b := &Limiter{Now: now}, &Limiter{Now: now}
	for range 100 {
		if d, err := a.Allow(context.Background(), "ip|/get-session", RuleFor("/get-session")); err != nil || !d.Allowed {
			t.Fatalf("a: %+v %v", d, err)
		}
	}
	if d, _ := a.Allow(context.Background(), "ip|/get-session", RuleFor("/get-session")); d.Allowed || d.RetryAfter != 10 {
		t.Fatalf("a, 101st: %+v", d)
	}
	if d, _ := b.Allow(context.Background(), "ip|/get-session", RuleFor("/get-session")); !d.Allowed {
		t.Fatal("b shares a's counters")
	}
	shared := &Memory{}
	c, e := &Limiter{Now: now, Memory: shared}, &Limiter{Now: now, Memory: shared}
	c.Allow(context.Background(), "k", Rule{Window: time.Second, Max: 1, PerInstance: true})
	if d, _ := e.Allow(context.Background(), "k", Rule{Window: time.Second, Max: 1, PerInstance: true}); d.Allowed {
		t.Fatal("limiters sharing a Memory count apart")
	}
}

func TestRateLimitRuleForCountsSecretsInTheDatabase(t *testing.T) {
	t.Parallel()
	for _, p := range []string{"/sign-in/email", "/sign-in/social", "/sign-up/email", "/change-password", "/change-email",
		"/request-password-reset", "/send-verification-email", "/forget-password"} {
		if r := RuleFor(p); r.PerInstance || r.Max != 3 {
			t.Errorf("%s: %+v, want 3 per window in the database", p, r)
		}
	}
	for _, p := range []string{"/get-session", "/ok", "/sign-out", "/list-sessions", "/nope", ""} {
		if r := RuleFor(p); !r.PerInstance || r.Max != 100 || r.Window != 10*time.Second {
			t.Errorf("%s: %+v, want 100 per 10 s in the process", p, r)
		}
	}
	if Workflows().PerInstance || HistoryDeletes().PerInstance {
		t.Error("per-user rules must be counted in the database")
	}
}
