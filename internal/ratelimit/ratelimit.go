// Package ratelimit counts requests per client and path in the database, so
// the limits hold across every Lambda instance, with better-auth's rules.
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
}

// RuleFor returns better-auth 1.7's rule for a path below /api/auth.
func RuleFor(path string) Rule {
	for _, p := range []string{"/sign-in", "/sign-up", "/change-password", "/change-email"} {
		if strings.HasPrefix(path, p) {
			return Rule{10 * time.Second, 3}
		}
	}
	for _, p := range []string{"/request-password-reset", "/send-verification-email", "/forget-password"} {
		if strings.HasPrefix(path, p) {
			return Rule{60 * time.Second, 3}
		}
	}
	return Rule{10 * time.Second, 100}
}

// Workflows and HistoryDeletes are the per-user rules of the app API, counted per signed-in user across every
// instance: generations are the expensive requests (a provider call, a
// download, storage), and deletes reach the object store. Ten generations a
// minute is more than anyone can look at; the counter restarts after a
// quiet minute.
func Workflows() Rule      { return Rule{time.Minute, 10} }
func HistoryDeletes() Rule { return Rule{time.Minute, 60} }

// Limiter decides with one atomic statement per request.
type Limiter struct {
	DB *database.DB
	// Headers, when set, name request headers holding the client address,
	// for a server behind a proxy it trusts. Otherwise the address is the
	// connection's (on Lambda: the one API Gateway reports).
	Headers []string
	Now     func() time.Time
}

// Decision is the outcome of one check.
type Decision struct {
	Allowed    bool
	RetryAfter int // seconds, when not allowed
}

// Allow counts one request for key under rule.
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
	retry := (last + win - now + 999) / 1000
	if retry < 1 {
		retry = 1
	}
	return Decision{RetryAfter: int(retry)}, nil
}

// ClientIP returns the address to key limits and sessions by, or "".
func (l *Limiter) ClientIP(r *http.Request) string {
	for _, h := range l.Headers {
		// API Gateway's adapter splits header values on commas, so read
		// every value and re-join before deciding.
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

// Purge deletes counters idle for longer than any window (the longest rule
// is 60 s), so the table holds only recent clients. The scheduled sweep
// calls it; a deleted counter is exactly a counter whose window has reset.
func (l *Limiter) Purge(ctx context.Context, idle time.Duration) error {
	if err := l.DB.Exec(ctx, `DELETE FROM "rate_limit" WHERE "last_request" < ?`, l.Now().Add(-idle).UnixMilli()); err != nil {
		return fmt.Errorf("purge rate limits: %w", err)
	}
	return nil
}
