package authapi

import (
	"adstudio/internal/audit"
	"context"
	"errors"
	"net/http"
	"slices"
	"strings"
	"time"

	"adstudio/internal/auth/authdb"
	"adstudio/internal/auth/oauth"
	"adstudio/internal/httpapi"
)

// pendingAccount is the account row to write, tokens already encrypted.
type pendingAccount struct {
	AccessToken           string     `json:"accessToken,omitempty"`
	RefreshToken          string     `json:"refreshToken,omitempty"`
	IDToken               string     `json:"idToken,omitempty"`
	AccessTokenExpiresAt  *time.Time `json:"accessTokenExpiresAt,omitempty"`
	RefreshTokenExpiresAt *time.Time `json:"refreshTokenExpiresAt,omitempty"`
	Scopes                []string   `json:"scopes,omitempty"`
}

// pendingAccount encrypts the tokens of an exchange for storage.
func (a *API) pendingAccount(t *oauth.Tokens) (pendingAccount, error) {
	access, err := a.Social.Tokens.Encrypt(t.AccessToken)
	if err != nil {
		return pendingAccount{}, err
	}
	refresh, err := a.Social.Tokens.Encrypt(t.RefreshToken)
	if err != nil {
		return pendingAccount{}, err
	}
	return pendingAccount{
		AccessToken: access, RefreshToken: refresh, IDToken: t.IDToken,
		AccessTokenExpiresAt: t.AccessTokenExpiresAt, RefreshTokenExpiresAt: t.RefreshTokenExpiresAt, Scopes: t.Scopes,
	}, nil
}

func (a *API) accountRow(providerID, accountID, userID string, p pendingAccount, now time.Time) authdb.SocialAccount {
	return authdb.SocialAccount{
		ID: authdb.NewID(), ProviderID: providerID, AccountID: accountID, UserID: userID,
		AccessToken: p.AccessToken, RefreshToken: p.RefreshToken, IDToken: p.IDToken,
		AccessTokenExpiresAt: p.AccessTokenExpiresAt, RefreshTokenExpiresAt: p.RefreshTokenExpiresAt,
		Scope: strings.Join(p.Scopes, ","), CreatedAt: now, UpdatedAt: now,
	}
}

// finishSignIn finds or creates the user of a provider identity by
// better-auth 1.7's rules and signs them in: cookies on w.
func (a *API) finishSignIn(ctx context.Context, w http.ResponseWriter, r *http.Request, providerID string, info *oauth.UserInfo, p pendingAccount) (authdb.User, authdb.Session, bool, error) {
	if info.Email == "" {
		return authdb.User{}, authdb.Session{}, false, failFlow(httpapi.OAuthErrEmailNotFound)
	}
	now := a.Store.Stamp(a.Now())
	dontRemember := a.Sessions.DontRemember(r)
	ip := a.Limiter.ClientIP(r)
	linked, u, err := a.Store.AccountByProvider(ctx, providerID, info.ID)
	switch {
	case err == nil:
		// A known identity: fresh tokens (the scope stays as linked), and
		// the provider's word on the email when it is the same address.
		row := a.accountRow(providerID, info.ID, u.ID, p, now)
		row.ID = linked.ID
		verify := info.EmailVerified && !u.EmailVerified && info.Email == u.Email
		s := a.Sessions.New(u.ID, r, ip, dontRemember)
		if err := a.Store.SignInSocial(ctx, row, verify, s, a.event(r, audit.SignIn, u.ID, audit.Success, map[string]any{"provider": providerID})); err != nil {
			return u, authdb.Session{}, false, err
		}
		if verify {
			u.EmailVerified, u.UpdatedAt = true, now
			if err := a.Store.ReleaseFreeCredits(ctx, u.ID, a.Now()); err != nil {
				return u, authdb.Session{}, false, err
			}
		}
		a.Sessions.Issue(w.Header(), s, u, dontRemember)
		return u, s, false, nil
	case !errors.Is(err, authdb.ErrNotFound):
		return u, authdb.Session{}, false, err
	}
	u, err = a.Store.UserByEmail(ctx, info.Email)
	switch {
	case err == nil:
		// Implicit linking hands the account to whoever holds the provider
		// identity, so the provider must always vouch for the email, trusted
		// or not: an unverified address proves nothing (better-auth 1.7 lets
		// a trusted provider skip this, which is an account takeover). What
		// trust skips is our own side's check, that the local email is
		// verified: the operator accepts the provider's word for it.
		trusted := slices.Contains(a.Social.TrustedProviders, providerID)
		if !info.EmailVerified || (!trusted && !u.EmailVerified) {
			return u, authdb.Session{}, false, failFlow(httpapi.OAuthErrAccountNotLinked)
		}
		s := a.Sessions.New(u.ID, r, ip, dontRemember)
		// Linking into an unverified account proves the address belongs to
		// the provider identity's holder: the email becomes verified, and
		// every other session ends, so whoever registered the address
		// before its owner arrived is signed out.
		verify := !u.EmailVerified
		if err := a.Store.LinkAccount(ctx, a.accountRow(providerID, info.ID, u.ID, p, now), &s, verify,
			a.event(r, audit.AccountLink, u.ID, audit.Success, map[string]any{"provider": providerID, "implicit": true}),
			a.event(r, audit.SignIn, u.ID, audit.Success, map[string]any{"provider": providerID})); err != nil {
			return u, authdb.Session{}, false, failFlowAt(httpapi.OAuthErrUnableToLinkAccount, stepLinkAccount, err)
		}
		if verify {
			u.EmailVerified, u.UpdatedAt = true, now
			if err := a.Store.ReleaseFreeCredits(ctx, u.ID, a.Now()); err != nil {
				return u, authdb.Session{}, false, err
			}
		}
		a.Sessions.Issue(w.Header(), s, u, dontRemember)
		return u, s, false, nil
	case !errors.Is(err, authdb.ErrNotFound):
		return u, authdb.Session{}, false, err
	}
	u = authdb.User{ID: authdb.NewID(), Name: info.Name, Email: info.Email, EmailVerified: info.EmailVerified, Image: info.Image, CreatedAt: now, UpdatedAt: now}
	s := a.Sessions.New(u.ID, r, ip, dontRemember)
	if err := a.Store.SignUpSocial(ctx, u, a.accountRow(providerID, info.ID, u.ID, p, now), s, a.event(r, audit.SignUp, u.ID, audit.Success, map[string]any{"provider": providerID})); err != nil {
		if errors.Is(err, authdb.ErrEmailTaken) {
			return u, authdb.Session{}, false, failFlow(httpapi.OAuthErrUnableToCreateUser)
		}
		return u, authdb.Session{}, false, err
	}
	a.Sessions.Issue(w.Header(), s, u, dontRemember)
	return u, s, true, nil
}

// finishLink adds the provider identity to the linking user (docs/auth-wire.md §8.7).
func (a *API) finishLink(ctx context.Context, r *http.Request, link *stateLink, providerID string, info *oauth.UserInfo, p pendingAccount) error {
	if !slices.Contains(a.Social.TrustedProviders, providerID) && !info.EmailVerified {
		return failFlow(httpapi.OAuthErrUnableToLinkAccount)
	}
	if !strings.EqualFold(info.Email, link.Email) {
		return failFlow(httpapi.OAuthErrEmailDoesNotMatch)
	}
	now := a.Store.Stamp(a.Now())
	existing, owner, err := a.Store.AccountByProvider(ctx, providerID, info.ID)
	switch {
	case err == nil && owner.ID != link.UserID:
		return failFlow(httpapi.OAuthErrAccountLinkedElsewhere)
	case err == nil:
		row := a.accountRow(providerID, info.ID, owner.ID, p, now)
		row.ID = existing.ID
		row.Scope = mergeScopes(existing.Scope, p.Scopes)
		return a.Store.RelinkAccount(ctx, row)
	case !errors.Is(err, authdb.ErrNotFound):
		return err
	}
	if err := a.Store.LinkAccount(ctx, a.accountRow(providerID, info.ID, link.UserID, p, now), nil, false,
		a.event(r, audit.AccountLink, link.UserID, audit.Success, map[string]any{"provider": providerID})); err != nil {
		return failFlowAt(httpapi.OAuthErrUnableToLinkAccount, stepLinkAccount, err)
	}
	return nil
}

func mergeScopes(stored string, fresh []string) string {
	var out []string
	for _, s := range append(strings.Split(stored, ","), fresh...) {
		if s = strings.TrimSpace(s); s != "" && !slices.Contains(out, s) {
			out = append(out, s)
		}
	}
	return strings.Join(out, ",")
}

// UnlinkAccount is POST /unlink-account {accountId}: accountId is the
// account row's id (list-accounts' "id"). The last way in stays.
func (a *API) UnlinkAccount() httpapi.Handler {
	return a.post(false, false, func(w http.ResponseWriter, r *http.Request, b *httpapi.Body) error {
		ctx := r.Context()
		id, _ := b.String("accountId", true)
		if err := b.Err(); err != nil {
			return err
		}
		cur, err := a.requireSession(ctx, w, r)
		if err != nil {
			return err
		}
		if !a.Sessions.Fresh(cur.Session) {
			return errSessionNotFresh
		}
		err = a.Store.UnlinkAccount(ctx, cur.User.ID, id, a.event(r, audit.AccountUnlink, cur.User.ID, audit.Success, map[string]any{"accountId": id}))
		switch {
		case errors.Is(err, authdb.ErrLastAccount):
			return errLastAccount
		case errors.Is(err, authdb.ErrNotFound):
			return errAccountNotFound
		case err != nil:
			return err
		}
		httpapi.WriteJSON(w, http.StatusOK, map[string]bool{"status": true})
		return nil
	})
}
