package authapi

import (
	"adstudio/internal/audit"
	"adstudio/internal/logsafe"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"adstudio/internal/auth/authdb"
	"adstudio/internal/auth/session"
	"adstudio/internal/httpapi"
)

// Email verification, as better-auth 1.7.24 does it (docs/auth-wire.md
// §3.12): the link carries an HS256 JWT signed with the auth secret,
// {email, userId} to verify an address, or {email, updateTo, requestType:
// "change-email-verification", userId} to move a verified account to a new
// address once its owner has shown they read mail there. No row is kept:
// a verification link is single-use because what it changes can change
// only once.

// verifyTTL is how long a verification link works (better-auth's default).
const verifyTTL = time.Hour

// requestChangeEmail is the requestType of an email change's link.
const requestChangeEmail = "change-email-verification"

var (
	errVerificationDisabled = &httpapi.AuthError{Status: 400, Code: httpapi.AuthCodeVerificationEmailNotEnabled, Message: "Verification email isn't enabled"}
	errEmailMismatch        = &httpapi.AuthError{Status: 400, Code: httpapi.AuthCodeEmailMismatch, Message: "Email mismatch"}
	errAlreadyVerified      = &httpapi.AuthError{Status: 400, Code: httpapi.AuthCodeEmailAlreadyVerified, Message: "Email is already verified"}
	errEmailNotVerified     = &httpapi.AuthError{Status: 403, Code: httpapi.AuthCodeEmailNotVerified, Message: "Email not verified"}
)

// verifyClaims is the token's payload, better-auth's field names.
type verifyClaims struct {
	Email       string `json:"email"`
	UpdateTo    string `json:"updateTo,omitempty"`
	RequestType string `json:"requestType,omitempty"`
	UserID      string `json:"userId,omitempty"`
	jwt.RegisteredClaims
}

// verifyToken signs claims with the first secret, for an hour from now.
func (a *API) verifyToken(c verifyClaims) (string, error) {
	now := a.Now()
	c.IssuedAt = jwt.NewNumericDate(now)
	c.ExpiresAt = jwt.NewNumericDate(now.Add(verifyTTL))
	return jwt.NewWithClaims(jwt.SigningMethodHS256, c).SignedString([]byte(a.Secrets[0]))
}

// parseVerifyToken checks a token's signature against every secret (so a
// link survives a rotation while the old secret is listed) and its expiry
// on the API's clock. The error is the code the link's failure is answered
// with.
func (a *API) parseVerifyToken(raw string) (verifyClaims, *httpapi.AuthError) {
	for _, secret := range a.Secrets {
		var c verifyClaims
		_, err := jwt.ParseWithClaims(raw, &c, func(*jwt.Token) (any, error) { return []byte(secret), nil },
			jwt.WithValidMethods([]string{jwt.SigningMethodHS256.Alg()}), jwt.WithTimeFunc(a.Now), jwt.WithExpirationRequired())
		if err == nil {
			if !httpapi.ValidEmail(c.Email) {
				return c, errInvalidTokenUnauthorized
			}
			return c, nil
		}
		if errors.Is(err, jwt.ErrTokenExpired) {
			// Signed by this secret: no other one will do better.
			return c, &httpapi.AuthError{Status: 401, Code: httpapi.AuthCodeTokenExpired, Message: "Token expired"}
		}
	}
	return verifyClaims{}, errInvalidTokenUnauthorized
}

var errInvalidTokenUnauthorized = &httpapi.AuthError{Status: 401, Code: httpapi.AuthCodeInvalidToken, Message: "Invalid token"}

// verifyLink is the link of a verification mail.
func (a *API) verifyLink(token, callbackURL string) string {
	if callbackURL == "" {
		callbackURL = "/"
	}
	return a.AuthURL + "/verify-email?token=" + token + "&callbackURL=" + encodeURIComponent(callbackURL)
}

// sendVerification mails u a link that verifies their address. Failures
// are logged; only a token that cannot be signed is returned.
func (a *API) sendVerification(r *http.Request, u authdb.User, callbackURL string) error {
	ctx := r.Context()
	if !a.mailAllowed(r, u.ID, u.Email, mailKindVerify) {
		return nil
	}
	token, err := a.verifyToken(verifyClaims{Email: strings.ToLower(u.Email), UserID: u.ID})
	if err != nil {
		return err
	}
	a.send(ctx, mailKindVerify, verifyMessage(a.AppName, u.Email, a.verifyLink(token, callbackURL)))
	return nil
}

// SendVerificationEmail is POST /send-verification-email {email,
// callbackURL?}. Signed out, it answers {"status":true} whoever the address
// belongs to, no sooner than half a second (better-auth's floor) or this
// instance's usual send time, so neither the answer nor its timing tells
// whether the address has an unverified account. Signed in, it is for the
// session's own address.
func (a *API) SendVerificationEmail() httpapi.Handler {
	return a.post(false, false, func(w http.ResponseWriter, r *http.Request, b *httpapi.Body) error {
		email, ok := b.String("email", true)
		if ok {
			b.Email("email", email)
		}
		callbackURL, _ := b.String("callbackURL", false)
		if err := b.Err(); err != nil {
			return err
		}
		if a.Mail == nil {
			return errVerificationDisabled
		}
		ctx := r.Context()
		cur, err := a.Sessions.Get(ctx, w.Header(), r, session.Options{})
		if err != nil && err != session.ErrRefreshFailed {
			return err
		}
		if cur == nil {
			start := time.Now()
			u, err := a.Store.UserByEmail(ctx, strings.ToLower(email))
			switch {
			case errors.Is(err, authdb.ErrNotFound):
			case err != nil:
				return err
			case !u.EmailVerified:
				if err := a.sendVerification(r, u, callbackURL); err != nil {
					return err
				}
			}
			a.pace.waitSince(ctx, a.Sleep, start, 500*time.Millisecond)
			return writeStatus(w)
		}
		if !strings.EqualFold(cur.User.Email, email) {
			return errEmailMismatch
		}
		if cur.User.EmailVerified {
			return errAlreadyVerified
		}
		if err := a.sendVerification(r, cur.User, callbackURL); err != nil {
			return err
		}
		return writeStatus(w)
	})
}

// VerifyEmail is GET /verify-email?token=&callbackURL=: the link in a
// verification mail. With a callback URL every outcome is a 302 there
// (failures add ?error=<code>); without one, JSON.
func (a *API) VerifyEmail(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	callbackURL := q.Get("callbackURL")
	if callbackURL != "" && !a.Origins.TrustedTarget(callbackURL) {
		return &httpapi.AuthError{Status: 403, Code: httpapi.AuthCodeInvalidCallbackURL, Message: "Invalid callbackURL"}
	}
	// The callback as given, relative or not: better-auth redirects to it
	// unresolved here (the reset link's callback, by contrast, it resolves).
	fail := func(e *httpapi.AuthError) error {
		if callbackURL != "" {
			redirect(w, appendQuery(callbackURL, url.Values{"error": {e.Code}}))
			return nil
		}
		return &httpapi.AuthError{Status: 401, Code: e.Code, Message: e.Message}
	}
	done := func(user *authdb.User) error {
		if callbackURL != "" {
			redirect(w, callbackURL)
			return nil
		}
		httpapi.WriteJSON(w, http.StatusOK, struct {
			Status bool         `json:"status"`
			User   *authdb.User `json:"user"`
		}{true, user})
		return nil
	}
	c, bad := a.parseVerifyToken(q.Get("token"))
	if bad != nil {
		return fail(bad)
	}
	ctx := r.Context()
	now := a.Store.Stamp(a.Now())
	if c.UpdateTo != "" {
		return a.verifyEmailChange(w, r, c, fail, done)
	}
	u, err := a.Store.UserByEmail(ctx, c.Email)
	if errors.Is(err, authdb.ErrNotFound) {
		return fail(errUserNotFound)
	}
	if err != nil {
		return err
	}
	if c.UserID != "" && c.UserID != u.ID {
		return fail(errInvalidToken)
	}
	if !u.EmailVerified {
		if err := a.Store.MarkEmailVerified(ctx, u.ID, u.Email, now, a.event(r, audit.EmailVerify, u.ID, audit.Success, nil)); err != nil {
			return err
		}
		// Credits withheld until now (FREE_CREDITS_REQUIRE_VERIFIED_EMAIL).
		if err := a.Store.ReleaseFreeCredits(ctx, u.ID, a.Now()); err != nil {
			return err
		}
	}
	return done(nil)
}

// verifyEmailChange follows an email change's link: the account moves to
// the new address only now that its owner has opened a mail sent there,
// and only if it still has the old one (the link works once).
func (a *API) verifyEmailChange(w http.ResponseWriter, r *http.Request, c verifyClaims, fail func(*httpapi.AuthError) error, done func(*authdb.User) error) error {
	ctx := r.Context()
	if c.UserID == "" || c.RequestType != requestChangeEmail || !httpapi.ValidEmail(c.UpdateTo) {
		return fail(errInvalidToken)
	}
	u, err := a.Store.UserByID(ctx, c.UserID)
	if errors.Is(err, authdb.ErrNotFound) {
		return fail(errUserNotFound)
	}
	if err != nil {
		return err
	}
	if !strings.EqualFold(u.Email, c.Email) {
		return fail(errInvalidToken)
	}
	cur, err := a.Sessions.Get(ctx, w.Header(), r, session.Options{})
	if err != nil && err != session.ErrRefreshFailed {
		return err
	}
	if cur != nil && cur.User.ID != u.ID {
		return fail(&httpapi.AuthError{Status: 400, Code: httpapi.AuthCodeInvalidUser, Message: "Invalid user"})
	}
	keep := ""
	if cur != nil {
		keep = cur.Session.Token
	}
	now := a.Store.Stamp(a.Now())
	moved, err := a.Store.MoveEmail(ctx, u.ID, u.Email, strings.ToLower(c.UpdateTo), keep, now,
		a.event(r, audit.EmailChange, u.ID, audit.Success, map[string]any{"to": logsafe.Email(c.UpdateTo), "confirmed": true}))
	if errors.Is(err, authdb.ErrEmailTaken) {
		// Taken since the link was sent: nothing moves.
		return fail(errInvalidToken)
	}
	if err != nil {
		return err
	}
	if !moved {
		return fail(errInvalidToken)
	}
	u.Email, u.UpdatedAt = strings.ToLower(c.UpdateTo), now
	if cur != nil {
		a.Sessions.Issue(w.Header(), cur.Session, u, a.Sessions.DontRemember(r))
	}
	return done(&u)
}

// sendEmailChange mails the new address a link that moves a verified
// account there (better-auth's change-email verification); nothing changes
// until it is followed.
func (a *API) sendEmailChange(r *http.Request, u authdb.User, newEmail, callbackURL string) error {
	ctx := r.Context()
	if !a.mailAllowed(r, u.ID, newEmail, mailKindEmailChange) {
		return nil
	}
	token, err := a.verifyToken(verifyClaims{Email: strings.ToLower(u.Email), UpdateTo: newEmail, RequestType: requestChangeEmail, UserID: u.ID})
	if err != nil {
		return err
	}
	a.send(ctx, mailKindEmailChange, changeEmailMessage(a.AppName, newEmail, a.verifyLink(token, callbackURL)))
	return nil
}

// redirect answers 302 to target exactly as given (http.Redirect would
// make a relative target absolute against the request's path, and add a
// body).
func redirect(w http.ResponseWriter, target string) {
	w.Header().Set("Location", target)
	w.WriteHeader(http.StatusFound)
}
