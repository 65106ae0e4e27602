// Package ratelimit counts requests per client and path with better-auth's
// rules: in the database, so the limit holds across every Lambda instance,
// for the rules that protect secrets or cost money; in the process
// (Memory) for the general per-IP rule, so a read costs no write.
package ratelimit

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"strings"
	"time"

	"adstudio/internal/database"
)

// Rule is max requests per window.
type Rule struct {
	Window time.Duration
	Max    int
	// PerInstance counts the rule in this process only (Limiter.Memory)
	// instead of in the database: N instances then admit up to N × Max per
	// window, in exchange for no database write per request.
	PerInstance bool
}

// RuleFor returns better-auth 1.7's rule for a path below /api/auth.
//
// The rules that guard a password or send mail stay in the database: a
// guesser spread over many instances must still get 3 tries per window in
// all. The general rule is per instance; it bounds one client's share of an
// instance, API Gateway's throttle bounds the total, and the write it would
// cost on every get-session is what the session cookie cache is there to
// avoid.
func RuleFor(path string) Rule {
	for _, p := range []string{"/sign-in", "/sign-up", "/change-password", "/change-email"} {
		if strings.HasPrefix(path, p) {
			return Rule{Window: 10 * time.Second, Max: 3}
		}
	}
	for _, p := range []string{"/request-password-reset", "/send-verification-email", "/forget-password"} {
		if strings.HasPrefix(path, p) {
			return Rule{Window: 60 * time.Second, Max: 3}
		}
	}
	return Rule{Window: 10 * time.Second, Max: 100, PerInstance: true}
}

// Workflows and HistoryDeletes are the per-user rules of the app API, counted per signed-in user across every
// instance: generations are the expensive requests (a provider call, a
// download, storage), and deletes reach the object store. Ten generations a
// minute is more than anyone can look at; the counter restarts after a
// quiet minute.
func Workflows() Rule      { return Rule{Window: time.Minute, Max: 10} }
func HistoryDeletes() Rule { return Rule{Window: time.Minute, Max: 60} }

// MailPerAddress is the per-recipient rule of every endpoint that mails
// (beside the per-IP rule of RuleFor): three messages to one address, then
// a quiet quarter of an hour, so nobody can bomb a mailbox by asking from
// many addresses.
func MailPerAddress() Rule { return Rule{Window: 15 * time.Minute, Max: 3} }

// Uploads is the per-user rule of POST /api/uploads: each answer lets the
// browser write up to 10 MB to the bucket; thirty a minute is more than
// any studio session picks files.
func Uploads() Rule { return Rule{Window: time.Minute, Max: 30} }

// Checkouts is the per-user rule of POST /api/billing/checkout: each
// creates a session (and at first a customer) at Stripe, whose API limits
// the whole account; ten a minute is more than anyone paying needs.
func Checkouts() Rule { return Rule{Window: time.Minute, Max: 10} }

// Limiter decides with one atomic statement per request, or for a
// PerInstance rule in memory without any I/O. Build one per process and
// share it: its in-process counters live in it.
type Limiter struct {
	DB *database.DB
	// Headers, when set, name request headers holding the client address,
	// for a server behind a proxy it trusts. Otherwise the address is the
	// connection's (on Lambda: the one API Gateway reports).
	Headers []string
	Now     func() time.Time
	// Memory counts the PerInstance rules. Nil: the limiter's own, holding
	// at most DefaultMaxKeys counters.
	Memory *Memory

	own Memory
}

// Decision is the outcome of one check.
type Decision struct {
	Allowed    bool
	RetryAfter int // seconds, when not allowed
	// First marks the first refusal of a key's window: the audit trail
	// records that one only, so a client hammering past its limit costs
	// one write per window, not one per request.
	First bool
}

// Allow counts one request for key under rule: in memory for a PerInstance
// rule (no database round trip), else in the rate_limit table.
//
// SQLite evaluates every SET expression against the old row, so "count"
// on the right-hand side is the count before this request.
//
// better-auth's algorithm: a window resets after a quiet gap of Window;
// otherwise a request is allowed while count < Max, and each allowed request
// moves lastRequest. A rejected request leaves lastRequest alone; it bumps
// count past Max so that the statement's result alone says which happened.
func (l *Limiter) Allow(ctx context.Context, key string, rule Rule) (Decision, error) {
	now := l.Now().UnixMilli()
	if rule.PerInstance {
		return l.memory().Allow(key, rule, now), nil
	}
	win := rule.Window.Milliseconds()
	var count, last int64
	err := l.DB.QueryRow(ctx, `INSERT INTO "rate_limit" ("key", "count", "last_request") VALUES (?, 1, ?)
ON CONFLICT ("key") DO UPDATE SET
  "count" = CASE WHEN ? - "last_request" >= ? THEN 1 ELSE "count" + 1 END,
  "last_request" = CASE WHEN ? - "last_request" >= ? OR "count" < ? THEN ? ELSE "last_request" END
RETURNING "count", "last_request"`, key, now, now, win, now, win, rule.Max, now).Scan(&count, &last)
	if err != nil {
		return Decision{}, fmt.Errorf("rate limit: %w", err)
	}
	if count <= int64(rule.Max) {
		return Decision{Allowed: true}, nil
	}
	return Decision{RetryAfter: retryAfter(last, win, now), First: count == int64(rule.Max)+1}, nil
}

func (l *Limiter) memory() *Memory {
	if l.Memory != nil {
		return l.Memory
	}
	return &l.own
}

// ClientIP returns the address to key limits and sessions by, or "".
func (l *Limiter) ClientIP(r *http.Request) string {
	for _, h := range l.Headers {
		// A repeated header counts as its comma-joined list, as API
		// Gateway delivers it (internal/lambdaentry keeps it whole).
		v := strings.TrimSpace(strings.Join(r.Header.Values(h), ","))
		if v == "" || strings.Contains(v, ",") {
			// better-auth 1.7 accepts a header only with exactly one address.
			continue
		}
		if ip := normalize(v); ip != "" {
			return ip
		}
	}
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	return normalize(host)
}

// normalize parses an address, maps IPv4-in-IPv6 to IPv4 and cuts IPv6 to
// its /64, so one host cannot dodge limits by cycling its interface id.
func normalize(s string) string {
	ip := net.ParseIP(strings.Trim(strings.TrimSpace(s), "[]"))
	if ip == nil {
		return ""
	}
	if v4 := ip.To4(); v4 != nil {
		return v4.String()
	}
	return ip.Mask(net.CIDRMask(64, 128)).String()
}

// Purge deletes database counters idle for longer than any window (the
// longest rule is 60 s), so the table holds only recent clients. The
// scheduled sweep calls it; a deleted counter is exactly a counter whose
// window has reset. In-process counters need no purge: Memory drops idle
// ones itself (and the sweep runs in an instance of its own).
func (l *Limiter) Purge(ctx context.Context, idle time.Duration) error {
	if err := l.DB.Exec(ctx, `DELETE FROM "rate_limit" WHERE "last_request" < ?`, l.Now().Add(-idle).UnixMilli()); err != nil {
		return fmt.Errorf("purge rate limits: %w", err)
	}
	return nil
}
