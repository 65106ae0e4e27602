package authapi

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"adstudio/internal/audit"
	"adstudio/internal/auth/authdb"
	"adstudio/internal/httpapi"
	"adstudio/internal/logsafe"
	"adstudio/internal/mail"
	"adstudio/internal/metrics"
	"adstudio/internal/ratelimit"
)

// Password reset, as better-auth 1.7.24 does it (docs/auth-wire.md §3.11):
// a 24-character token in a verification row "reset-password:<token>"
// holding the user id for an hour, mailed as a link to
// GET /reset-password/<token>, which hands it to the SPA's page, which
// posts it back with the new password.

// resetTTL is how long a reset link works (better-auth's default).
const resetTTL = time.Hour

// resetAnswer is request-password-reset's one answer, whether or not the
// address has an account.
const resetAnswer = "If this email exists in our system, check your email for the reset link"

var (
	errResetDisabled = &httpapi.AuthError{Status: 400, Code: httpapi.AuthCodeResetPasswordDisabled, Message: "Reset password isn't enabled"}
	errInvalidToken  = &httpapi.AuthError{Status: 400, Code: httpapi.AuthCodeInvalidToken, Message: "Invalid token"}
	errUserNotFound  = &httpapi.AuthError{Status: 400, Code: httpapi.AuthCodeUserNotFound, Message: "User not found"}
)

func resetIdentifier(token string) string { return "reset-password:" + token }

// RequestPasswordReset is POST /request-password-reset {email, redirectTo?}.
// The answer is the same for an unknown address, an address over its mail
// limit and a failed send, and takes about as long as a send (mailPace),
// so neither its words nor its timing say whether the address has an
// account.
func (a *API) RequestPasswordReset() httpapi.Handler {
	return a.post(false, false, func(w http.ResponseWriter, r *http.Request, b *httpapi.Body) error {
		email, ok := b.String("email", true)
		if ok {
			b.Email("email", email)
		}
		redirectTo, _ := b.String("redirectTo", false)
		if err := b.Err(); err != nil {
			return err
		}
		if a.Mail == nil {
			return errResetDisabled
		}
		ctx := r.Context()
		email = strings.ToLower(email)
		u, err := a.Store.UserByEmail(ctx, email)
		switch {
		case errors.Is(err, authdb.ErrNotFound):
			a.pace.wait(ctx, a.Sleep)
		case err != nil:
			return err
		default:
			if err := a.sendReset(r, u, redirectTo); err != nil {
				return err
			}
		}
		httpapi.WriteJSON(w, http.StatusOK, struct {
			Status  bool   `json:"status"`
			Message string `json:"message"`
		}{true, resetAnswer})
		return nil
	})
}

// sendReset stores a reset token for u and mails its link. Only a database
// failure is returned: a limited or failed send is logged and answered as
// a success, as every other case is.
func (a *API) sendReset(r *http.Request, u authdb.User, redirectTo string) error {
	ctx := r.Context()
	if !a.mailAllowed(r, u.ID, u.Email, mailKindReset) {
		a.pace.wait(ctx, a.Sleep)
		return nil
	}
	token := authdb.NewToken(24)
	now := a.Now()
	if err := a.Store.CreateVerification(ctx, resetIdentifier(token), u.ID, a.Store.Stamp(now.Add(resetTTL)), a.Store.Stamp(now)); err != nil {
		return err
	}
	// better-auth's link: the callback URL percent-encoded as
	// encodeURIComponent does, empty when none was given.
	link := a.AuthURL + "/reset-password/" + token + "?callbackURL=" + encodeURIComponent(redirectTo)
	a.send(ctx, mailKindReset, resetMessage(a.AppName, u.Email, link))
	return nil
}

// send sends m, timing it for mailPace; a failure is logged with its cause
// and otherwise swallowed (the requester learns nothing from it).
func (a *API) send(ctx context.Context, kind string, m mail.Message) {
	start := time.Now()
	err := a.Mail.Send(ctx, m)
	if err != nil {
		// A server's refusal may quote the recipient (SMTP's "affected
		// recipient(s)", SES's MessageRejected): masked, as in "to".
		a.logger().ErrorContext(ctx, "mail not sent", "kind", kind, "to", logsafe.Email(m.To), "err", logsafe.Error(err, m.To))
		return
	}
	a.pace.observe(time.Since(start))
}

// Kinds of mail, as logged and as the audit row of a held-back mail names them.
const (
	mailKindReset       = "password reset"
	mailKindVerify      = "email verification"
	mailKindEmailChange = "email change"
)

// mailAllowed applies the per-address limit of the mail-sending endpoints
// (beside better-auth's per-IP one): nobody can bomb one mailbox from many
// addresses. Over it nothing is sent, and the requester is not told. The
// first mail held back in a window leaves an audit row under the account
// (userID) the mail was for, so "I never got the reset mail" can be
// answered; that row's failure is logged, not answered, since the answer
// must not differ from a send's.
func (a *API) mailAllowed(r *http.Request, userID, email, kind string) bool {
	if !a.Limits {
		return true
	}
	ctx := r.Context()
	d, err := a.Limiter.Allow(ctx, "mail-to|"+email, ratelimit.MailPerAddress())
	if err != nil {
		a.logger().ErrorContext(ctx, "mail limit unavailable; not sending", "err", err)
		return false
	}
	if d.Allowed {
		return true
	}
	a.logger().WarnContext(ctx, "mail not sent: the address's limit is reached", "kind", kind, "retryAfterSeconds", d.RetryAfter)
	a.Metrics.Count(ctx, metrics.RateLimited, 1, metrics.Dim{Name: metrics.DimScope, Value: ScopeMailAddress})
	if d.First {
		if err := a.record(r, audit.RateLimited, userID, audit.Refused, map[string]any{"scope": ScopeMailAddress, "mail": kind, "to": logsafe.Email(email)}); err != nil {
			a.logger().ErrorContext(ctx, "audit row of a held-back mail not written", "err", err)
		}
	}
	return false
}

// ResetPasswordCallback is GET /reset-password/{token}?callbackURL=: the
// link in the mail. It only looks at the token (the POST spends it) and
// sends the browser to the SPA's page with ?token=, or ?error=INVALID_TOKEN.
func (a *API) ResetPasswordCallback(w http.ResponseWriter, r *http.Request) error {
	token, callbackURL := r.PathValue("token"), r.URL.Query().Get("callbackURL")
	if callbackURL != "" && !a.Origins.TrustedTarget(callbackURL) {
		return &httpapi.AuthError{Status: 403, Code: httpapi.AuthCodeInvalidCallbackURL, Message: "Invalid callbackURL"}
	}
	if token == "" || callbackURL == "" {
		target := a.AuthURL + "/error"
		if callbackURL != "" {
			target = a.resolve(callbackURL)
		}
		http.Redirect(w, r, appendQuery(target, url.Values{"error": {httpapi.AuthCodeInvalidToken}}), http.StatusFound)
		return nil
	}
	_, err := a.Store.VerificationValue(r.Context(), resetIdentifier(token), a.Store.Stamp(a.Now()))
	q := url.Values{"token": {token}}
	switch {
	case errors.Is(err, authdb.ErrNotFound):
		q = url.Values{"error": {httpapi.AuthCodeInvalidToken}}
	case err != nil:
		return err
	}
	http.Redirect(w, r, appendQuery(a.resolve(callbackURL), q), http.StatusFound)
	return nil
}

// ResetPassword is POST /reset-password {newPassword, token?} (the token
// may also be in the query). It spends the token, ends every session of
// the user (better-auth's revokeSessionsOnPasswordReset, on here), sets
// the password, creating the credential account of a user who had only
// social ones, and marks the address verified (ours: the link proved the
// mailbox), all in one transaction.
func (a *API) ResetPassword() httpapi.Handler {
	return a.post(false, false, func(w http.ResponseWriter, r *http.Request, b *httpapi.Body) error {
		pw, _ := b.String("newPassword", true)
		token, _ := b.String("token", false)
		if err := b.Err(); err != nil {
			return err
		}
		if token == "" {
			token = r.URL.Query().Get("token")
		}
		if token == "" {
			return errInvalidToken
		}
		if err := checkPasswordLength(pw); err != nil {
			return err
		}
		ctx := r.Context()
		id := resetIdentifier(token)
		userID, err := a.Store.VerificationValue(ctx, id, a.Store.Stamp(a.Now()))
		if errors.Is(err, authdb.ErrNotFound) {
			return errInvalidToken
		}
		if err != nil {
			return err
		}
		if _, err := a.Store.UserByID(ctx, userID); errors.Is(err, authdb.ErrNotFound) {
			return errUserNotFound
		} else if err != nil {
			return err
		}
		hash, err := a.Hasher.Hash(ctx, pw)
		if err != nil {
			return err
		}
		spent, err := a.Store.ResetPassword(ctx, userID, id, hash, a.Store.Stamp(a.Now()), a.event(r, audit.PasswordReset, userID, audit.Success, nil))
		if err != nil {
			return err
		}
		if !spent {
			// Spent by a concurrent reset, or expired while we hashed.
			return errInvalidToken
		}
		// The address is verified now: credits withheld until then are due.
		if err := a.Store.ReleaseFreeCredits(ctx, userID, a.Now()); err != nil {
			return err
		}
		return writeStatus(w)
	})
}

// resolve is new URL(target, authURL): a relative callback URL is on the
// API's auth path, as better-auth resolves it against its base URL.
func (a *API) resolve(target string) string {
	base, err := url.Parse(a.AuthURL + "/")
	if err != nil {
		return target
	}
	ref, err := url.Parse(target)
	if err != nil {
		return target
	}
	return base.ResolveReference(ref).String()
}

// encodeURIComponent is JavaScript's: everything but A–Z a–z 0–9 and
// -_.!~*'() is percent-encoded, UTF-8 first.
func encodeURIComponent(s string) string {
	const keep = "-_.!~*'()"
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.IndexByte(keep, c) >= 0 {
			b.WriteByte(c)
			continue
		}
		const hex = "0123456789ABCDEF"
		b.WriteByte('%')
		b.WriteByte(hex[c>>4])
		b.WriteByte(hex[c&15])
	}
	return b.String()
}

func (a *API) logger() *slog.Logger {
	if a.Social.Logger != nil {
		return a.Social.Logger
	}
	return slog.Default()
}

// mailPace keeps the time a mail takes to send, so that a request that
// sends nothing (an unknown address) can take as long as one that does:
// otherwise the answer's timing would tell which addresses have accounts.
// It is a moving average of this instance's successful sends; before the
// first one it waits nothing.
type mailPace struct {
	mu  sync.Mutex
	avg time.Duration
}

func (p *mailPace) observe(d time.Duration) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.avg == 0 {
		p.avg = d
		return
	}
	p.avg = (p.avg*7 + d) / 8
}

// waitSince pads a request that began at start to at least floor, or to
// the average send time if that is longer.
func (p *mailPace) waitSince(ctx context.Context, sleep func(context.Context, time.Duration), start time.Time, floor time.Duration) {
	p.mu.Lock()
	d := max(p.avg, floor)
	p.mu.Unlock()
	pause(ctx, sleep, d-time.Since(start))
}

// wait blocks for the average send time, or until ctx ends. sleep stands
// in for the timer in tests (nil: a real one).
func (p *mailPace) wait(ctx context.Context, sleep func(context.Context, time.Duration)) {
	p.mu.Lock()
	d := p.avg
	p.mu.Unlock()
	pause(ctx, sleep, d)
}

// pause waits d (nothing when d ≤ 0), or until ctx ends; sleep stands in
// for the timer in tests.
func pause(ctx context.Context, sleep func(context.Context, time.Duration), d time.Duration) {
	if d <= 0 {
		return
	}
	if sleep != nil {
		sleep(ctx, d)
		return
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
}
