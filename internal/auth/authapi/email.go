package authapi

import (
	"adstudio/internal/audit"
	"adstudio/internal/logsafe"
	"errors"
	"net/http"
	"strings"

	"adstudio/internal/auth/authdb"
	"adstudio/internal/auth/password"
	"adstudio/internal/auth/session"
	"adstudio/internal/config"
	"adstudio/internal/httpapi"
	"adstudio/internal/jscompat"
	"adstudio/internal/metrics"
)

// SignUpEmail is POST /sign-up/email.
func (a *API) SignUpEmail() httpapi.Handler {
	return a.post(true, true, func(w http.ResponseWriter, r *http.Request, b *httpapi.Body) error {
		ctx := r.Context()
		name, _ := b.String("name", true)
		email, hasEmail := b.String("email", true)
		if hasEmail {
			b.Email("email", email)
		}
		pw, hasPW := b.String("password", true)
		if hasPW && pw == "" {
			return &httpapi.AuthError{Status: 400, Code: httpapi.AuthCodeValidationError, Message: "[body.password] Too small: expected string to have >=1 characters"}
		}
		image, _ := b.NullableString("image")
		callbackURL, _ := b.String("callbackURL", false)
		remember, hasRemember := b.Bool("rememberMe")
		if err := b.Err(); err != nil {
			return err
		}
		if err := checkPasswordLength(pw); err != nil {
			return err
		}
		dontRemember := hasRemember && !remember
		hash, err := a.Hasher.Hash(ctx, pw)
		if err != nil {
			return err
		}
		now := a.Store.Stamp(a.Now())
		u := authdb.User{ID: authdb.NewID(), Name: name, Email: strings.ToLower(email), Image: image, CreatedAt: now, UpdatedAt: now}
		if a.Verification == config.VerifyRequired {
			return a.signUpUnverified(w, r, u, hash, callbackURL)
		}
		s := a.Sessions.New(u.ID, r, a.Limiter.ClientIP(r), dontRemember)
		// One batch: user, credential account, session and free profile. A
		// taken email fails on the unique index, which saves the lookup
		// round trip better-auth makes first.
		if err := a.Store.SignUp(ctx, u, authdb.NewID(), hash, &s, a.event(r, audit.SignUp, u.ID, audit.Success, map[string]any{"method": metrics.MethodEmail})); err != nil {
			if errors.Is(err, authdb.ErrEmailTaken) {
				return errUserExists
			}
			return err
		}
		if a.Verification == config.VerifySend && a.Mail != nil {
			if err := a.sendVerification(r, u, callbackURL); err != nil {
				return err
			}
		}
		a.Sessions.Issue(w.Header(), s, u, dontRemember)
		httpapi.WriteJSON(w, http.StatusOK, signUpAnswer{&s.Token, u})
		return nil
	})
}

// signUpAnswer is sign-up's body; Token is null when no session was made.
type signUpAnswer struct {
	Token *string     `json:"token"`
	User  authdb.User `json:"user"`
}

// signUpUnverified is sign-up under EMAIL_VERIFICATION=required
// (better-auth's requireEmailVerification): no session until the address
// is verified, and one answer whether or not the address was taken (a
// user with a fresh id and token null), so sign-up cannot tell which
// addresses have accounts. The password was hashed either way, and a taken
// address waits as long as a send would take.
func (a *API) signUpUnverified(w http.ResponseWriter, r *http.Request, u authdb.User, hash, callbackURL string) error {
	ctx := r.Context()
	err := a.Store.SignUp(ctx, u, authdb.NewID(), hash, nil, a.event(r, audit.SignUp, u.ID, audit.Success, map[string]any{"method": metrics.MethodEmail, "session": false}))
	switch {
	case errors.Is(err, authdb.ErrEmailTaken):
		a.pace.wait(ctx, a.Sleep)
	case err != nil:
		return err
	default:
		if err := a.sendVerification(r, u, callbackURL); err != nil {
			return err
		}
	}
	httpapi.WriteJSON(w, http.StatusOK, signUpAnswer{nil, u})
	return nil
}

// SignInEmail is POST /sign-in/email.
func (a *API) SignInEmail() httpapi.Handler {
	return a.post(true, true, func(w http.ResponseWriter, r *http.Request, b *httpapi.Body) error {
		ctx := r.Context()
		email, _ := b.String("email", true)
		pw, _ := b.String("password", true)
		callbackURL, hasCallback := b.String("callbackURL", false)
		remember, hasRemember := b.Bool("rememberMe")
		if err := b.Err(); err != nil {
			return err
		}
		// better-auth 1.7.24's order: the email's form, then the password's
		// length, both before any lookup or hash.
		if !httpapi.ValidEmail(email) {
			return errInvalidEmail
		}
		if jscompat.Length(pw) > password.MaxLength {
			return errPasswordTooLong
		}
		u, hash, err := a.Store.UserWithPassword(ctx, strings.ToLower(email))
		if errors.Is(err, authdb.ErrNotFound) || (err == nil && hash == "") {
			// Same work and same answer as a wrong password, so the response
			// does not tell whether the email has an account.
			if err := a.Hasher.Burn(ctx, pw); err != nil {
				return err
			}
			a.signInRefused(ctx, metrics.MethodEmail, ReasonInvalidCredentials)
			// No user to file it under: the masked address ties repeated
			// guesses at one mailbox together.
			if err := a.record(r, audit.SignIn, u.ID, audit.Failure, map[string]any{"method": metrics.MethodEmail, "reason": errInvalidCredentials.Code, "email": logsafe.Email(email)}); err != nil {
				return err
			}
			return errInvalidCredentials
		}
		if err != nil {
			return err
		}
		ok, err := a.Hasher.Verify(ctx, pw, hash)
		if err != nil {
			return err
		}
		if !ok {
			a.signInRefused(ctx, metrics.MethodEmail, ReasonInvalidCredentials)
			if err := a.record(r, audit.SignIn, u.ID, audit.Failure, map[string]any{"method": metrics.MethodEmail, "reason": errInvalidCredentials.Code}); err != nil {
				return err
			}
			return errInvalidCredentials
		}
		if a.Verification == config.VerifyRequired && !u.EmailVerified {
			// better-auth's requireEmailVerification with sendOnSignIn: a
			// fresh link, and no session until it is followed.
			if err := a.sendVerification(r, u, callbackURL); err != nil {
				return err
			}
			a.signInRefused(ctx, metrics.MethodEmail, ReasonEmailNotVerified)
			if err := a.record(r, audit.SignIn, u.ID, audit.Failure, map[string]any{"method": metrics.MethodEmail, "reason": errEmailNotVerified.Code}); err != nil {
				return err
			}
			return errEmailNotVerified
		}
		dontRemember := hasRemember && !remember
		s := a.Sessions.New(u.ID, r, a.Limiter.ClientIP(r), dontRemember)
		if err := a.Store.CreateSession(ctx, s, a.event(r, audit.SignIn, u.ID, audit.Success, map[string]any{"method": metrics.MethodEmail})); err != nil {
			return err
		}
		a.Sessions.Issue(w.Header(), s, u, dontRemember)
		a.signedIn(ctx, metrics.MethodEmail)
		if !dontRemember && a.Sessions.DontRemember(r) {
			// better-auth leaves an old dont_remember cookie in place, which
			// silently stops refreshes of this new "remembered" session.
			a.Sessions.Cookies.Expire(w.Header(), session.DontRememberCookie)
		}
		resp := struct {
			Redirect bool        `json:"redirect"`
			Token    string      `json:"token"`
			URL      string      `json:"url,omitempty"`
			User     authdb.User `json:"user"`
		}{Token: s.Token, User: u}
		if hasCallback && callbackURL != "" {
			resp.Redirect, resp.URL = true, callbackURL
			w.Header().Set("Location", callbackURL)
		}
		httpapi.WriteJSON(w, http.StatusOK, resp)
		return nil
	})
}
