package authapi

import (
	"adstudio/internal/audit"
	"adstudio/internal/logsafe"
	"errors"
	"html"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"sync"

	"adstudio/internal/auth/authdb"
	"adstudio/internal/httpapi"
)

// UpdateUser is POST /update-user {name?, image?}.
func (a *API) UpdateUser() httpapi.Handler {
	return a.post(false, false, func(w http.ResponseWriter, r *http.Request, b *httpapi.Body) error {
		if b.Has("email") {
			return errEmailNotUpdatable
		}
		var up authdb.UserUpdate
		if name, ok := b.String("name", false); ok {
			up.Name = &name
		}
		up.Image, up.SetImage = b.NullableString("image")
		if err := b.Err(); err != nil {
			return err
		}
		cur, err := a.requireSession(r.Context(), w, r)
		if err != nil {
			return err
		}
		if up.Name == nil && !up.SetImage {
			return errNoFieldsToUpdate
		}
		u, err := a.Store.UpdateUser(r.Context(), cur.User.ID, up, a.Now())
		if err != nil {
			return err
		}
		// Re-issue the cookies so the cache carries the new user at once.
		a.Sessions.Issue(w.Header(), cur.Session, u, a.Sessions.DontRemember(r))
		return writeStatus(w)
	})
}

// ChangePassword is POST /change-password.
func (a *API) ChangePassword() httpapi.Handler {
	return a.post(false, false, func(w http.ResponseWriter, r *http.Request, b *httpapi.Body) error {
		ctx := r.Context()
		newPW, _ := b.String("newPassword", true)
		curPW, _ := b.String("currentPassword", true)
		revoke, _ := b.Bool("revokeOtherSessions")
		if err := b.Err(); err != nil {
			return err
		}
		cur, err := a.requireSession(ctx, w, r)
		if err != nil {
			return err
		}
		if err := checkPasswordLength(newPW); err != nil {
			return err
		}
		hash, found, err := a.Store.CredentialPassword(ctx, cur.User.ID)
		if err != nil {
			return err
		}
		if !found || hash == "" {
			return errNoCredential
		}
		ok, err := a.Hasher.Verify(ctx, curPW, hash)
		if err != nil {
			return err
		}
		if !ok {
			return errInvalidPassword
		}
		newHash, err := a.Hasher.Hash(ctx, newPW)
		if err != nil {
			return err
		}
		var replacement *authdb.Session
		if revoke {
			s := a.Sessions.New(cur.User.ID, r, a.Limiter.ClientIP(r), false)
			replacement = &s
		}
		if err := a.Store.SetPassword(ctx, cur.User.ID, newHash, a.Now(), replacement, a.event(r, audit.PasswordChange, cur.User.ID, audit.Success, map[string]any{"revokeOtherSessions": revoke})); err != nil {
			return err
		}
		resp := struct {
			Token *string     `json:"token"`
			User  authdb.User `json:"user"`
		}{User: cur.User}
		if replacement != nil {
			a.Sessions.Issue(w.Header(), *replacement, cur.User, false)
			resp.Token = &replacement.Token
		}
		httpapi.WriteJSON(w, http.StatusOK, resp)
		return nil
	})
}

// ChangeEmail is POST /change-email. An unverified user's email changes at
// once, as better-auth's updateEmailWithoutVerification does (with mail,
// the new address then gets a verification link). A verified user's
// changes only once a link mailed to the new address is followed
// (better-auth's change-email verification, VerifyEmail); without mail it
// cannot change.
//
// Unlike better-auth it needs a fresh session (created within a day): the
// address is how an account is recovered and linked, so a stolen cookie
// must not be enough to move it. The change ends every other session.
func (a *API) ChangeEmail() httpapi.Handler {
	return a.post(false, false, func(w http.ResponseWriter, r *http.Request, b *httpapi.Body) error {
		email, ok := b.String("newEmail", true)
		if ok {
			b.Email("newEmail", email)
		}
		callbackURL, _ := b.String("callbackURL", false)
		if err := b.Err(); err != nil {
			return err
		}
		cur, err := a.requireSession(r.Context(), w, r)
		if err != nil {
			return err
		}
		if !a.Sessions.Fresh(cur.Session) {
			return errSessionNotFresh
		}
		email = strings.ToLower(email)
		if email == cur.User.Email {
			return errEmailSame
		}
		if cur.User.EmailVerified {
			if a.Mail == nil {
				return errVerificationEmailNA
			}
			return a.requestEmailChange(w, r, cur.User, email, callbackURL)
		}
		now := a.Store.Stamp(a.Now())
		err = a.Store.ChangeEmail(r.Context(), cur.User.ID, email, cur.Session.Token, now, a.event(r, audit.EmailChange, cur.User.ID, audit.Success, map[string]any{"to": logsafe.Email(email)}))
		if errors.Is(err, authdb.ErrEmailTaken) {
			// better-auth 1.7: the same answer as success, so this endpoint
			// cannot be used to find out which emails have accounts.
			return writeStatus(w)
		}
		if err != nil {
			return err
		}
		u := cur.User
		u.Email, u.UpdatedAt = email, now
		a.Sessions.Issue(w.Header(), cur.Session, u, a.Sessions.DontRemember(r))
		if a.Mail != nil {
			if err := a.sendVerification(r, u, callbackURL); err != nil {
				return err
			}
		}
		return writeStatus(w)
	})
}

// requestEmailChange mails a verified user's new address the link that
// moves the account there. An address that already has an account gets
// nothing, and the answer is the same (better-auth 1.7's rule), as long to
// come.
func (a *API) requestEmailChange(w http.ResponseWriter, r *http.Request, u authdb.User, newEmail, callbackURL string) error {
	ctx := r.Context()
	_, err := a.Store.UserByEmail(ctx, newEmail)
	switch {
	case err == nil:
		a.pace.wait(ctx, a.Sleep)
	case !errors.Is(err, authdb.ErrNotFound):
		return err
	default:
		if err := a.sendEmailChange(r, u, newEmail, callbackURL); err != nil {
			return err
		}
	}
	return writeStatus(w)
}

// DeleteUser is POST /delete-user {password?}: with the password, or else
// with a session younger than a day.
func (a *API) DeleteUser() httpapi.Handler {
	return a.post(false, false, func(w http.ResponseWriter, r *http.Request, b *httpapi.Body) error {
		ctx := r.Context()
		pw, hasPW := b.String("password", false)
		b.String("token", false)
		b.String("callbackURL", false)
		if err := b.Err(); err != nil {
			return err
		}
		cur, err := a.requireSession(ctx, w, r)
		if err != nil {
			return err
		}
		if hasPW {
			hash, found, err := a.Store.CredentialPassword(ctx, cur.User.ID)
			if err != nil {
				return err
			}
			if !found || hash == "" {
				return errNoCredential
			}
			ok, err := a.Hasher.Verify(ctx, pw, hash)
			if err != nil {
				return err
			}
			if !ok {
				return errInvalidPassword
			}
		} else if !a.Sessions.Fresh(cur.Session) {
			return errSessionExpired
		}
		if a.BeforeDeleteUser != nil {
			if err := a.BeforeDeleteUser(ctx, cur.User.ID); err != nil {
				return err
			}
		}
		if err := a.Store.DeleteUser(ctx, cur.User.ID, a.event(r, audit.UserDelete, cur.User.ID, audit.Success, nil)); err != nil {
			return err
		}
		a.Sessions.Clear(w.Header(), r)
		httpapi.WriteJSON(w, http.StatusOK, struct {
			Success bool   `json:"success"`
			Message string `json:"message"`
		}{true, "User deleted"})
		return nil
	})
}

// ListAccounts is GET /list-accounts.
func (a *API) ListAccounts(w http.ResponseWriter, r *http.Request) error {
	cur, err := a.requireSession(r.Context(), w, r)
	if err != nil {
		return err
	}
	list, err := a.Store.ListAccounts(r.Context(), cur.User.ID)
	if err != nil {
		return err
	}
	httpapi.WriteJSON(w, http.StatusOK, list)
	return nil
}

// errorCode is the shape of an error code GET /error passes on; anything
// else is replaced by the generic one. Compiled on first use so a cold
// start does not pay for it.
var errorCode = sync.OnceValue(func() *regexp.Regexp {
	return regexp.MustCompile(`^['A-Za-z0-9_-]+$`)
})

// Error is GET /error, where failed browser flows land. With FRONTEND_URL
// set it forwards there (better-auth's onAPIError.errorURL); otherwise it
// shows a small page.
func (a *API) Error(w http.ResponseWriter, r *http.Request) error {
	code := r.URL.Query().Get("error")
	if !errorCode().MatchString(code) {
		code = httpapi.OAuthErrUnknown
	}
	desc := r.URL.Query().Get("error_description")
	if a.FrontendURL != "" {
		q := url.Values{"error": {code}}
		if desc != "" {
			q.Set("error_description", desc)
		}
		sep := "?"
		if strings.Contains(a.FrontendURL, "?") {
			sep = "&"
		}
		http.Redirect(w, r, a.FrontendURL+sep+q.Encode(), http.StatusFound)
		return nil
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(http.StatusOK)
	page := "<!doctype html><html><head><meta charset=utf-8><title>Sign-in error</title></head><body><h1>Something went wrong</h1><p>Error code: <code>" + html.EscapeString(code) + "</code></p>"
	if desc != "" {
		page += "<p>" + html.EscapeString(desc) + "</p>"
	}
	w.Write([]byte(page + "</body></html>"))
	return nil
}
