package authapi

import (
	"adstudio/internal/audit"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"strings"

	"adstudio/internal/auth/authdb"
	"adstudio/internal/auth/oauth"
	"adstudio/internal/httpapi"
)

// pendingSignIn is a finished provider exchange waiting for the browser
// that started the flow to claim it (POST /one-time-token/verify).
type pendingSignIn struct {
	State    string         `json:"state"`
	Provider string         `json:"provider"`
	Info     oauth.UserInfo `json:"info"`
	Account  pendingAccount `json:"account"`
	Flow     stateData      `json:"flow"`
}

// oneTimeIdentifier binds a one-time token to its flow's state: only a
// request carrying that state cookie can even find (and so spend) it, so a
// token seen by someone else cannot be burnt by them.
func oneTimeIdentifier(token, state string) string { return "one-time-token:" + token + ":" + state }

// deferSignIn parks a finished exchange under a one-time token and sends
// the browser to the SPA's callback URL with ?ott=. Nothing is written to
// the user tables until the browser that holds the flow's state cookie
// redeems it: a victim sent to an attacker's flow gains nothing.
func (a *API) deferSignIn(ctx context.Context, w http.ResponseWriter, r *http.Request, p *pendingSignIn) error {
	if p.Flow.Link == nil && p.Info.Email == "" {
		return failFlow(httpapi.OAuthErrEmailNotFound)
	}
	raw, err := json.Marshal(p)
	if err != nil {
		return err
	}
	token := oauth.RandomState()
	now := a.Now()
	if err := a.Store.CreateVerification(ctx, oneTimeIdentifier(token, p.State), string(raw), now.Add(oneTimeTokenTTL), now); err != nil {
		return err
	}
	http.Redirect(w, r, appendQuery(p.Flow.CallbackURL, url.Values{"ott": {token}}), http.StatusFound)
	return nil
}

// VerifyOneTimeToken is POST /one-time-token/verify {token}: the SPA's one
// call that finishes a social sign-in in the two-site shape. Its request is
// a cross-site fetch from the SPA, so it carries the flow's partitioned
// state cookie, which must match. The answer is the one-time-token
// plugin's {session, user} with the session cookies, set in the SPA's
// partition.
func (a *API) VerifyOneTimeToken() httpapi.Handler {
	return a.post(false, false, func(w http.ResponseWriter, r *http.Request, b *httpapi.Body) error {
		ctx := r.Context()
		token, _ := b.String("token", true)
		if err := b.Err(); err != nil {
			return err
		}
		cookieState, ok := a.flowState(r)
		if !ok {
			return errOneTimeTokenMismatch
		}
		raw, err := a.Store.ConsumeVerification(ctx, oneTimeIdentifier(token, cookieState), a.Now())
		if errors.Is(err, authdb.ErrNotFound) {
			return errInvalidOneTimeToken
		}
		if err != nil {
			return err
		}
		var p pendingSignIn
		if err := json.Unmarshal([]byte(raw), &p); err != nil || p.State != cookieState {
			return errInvalidOneTimeToken
		}
		a.Sessions.Cookies.Expire(w.Header(), stateCookie)
		if p.Flow.Link != nil {
			cur, err := a.requireSession(ctx, w, r)
			if err != nil {
				return err
			}
			if cur.User.ID != p.Flow.Link.UserID {
				return errUnauthorized
			}
			if err := a.finishLink(ctx, r, p.Flow.Link, p.Provider, &p.Info, p.Account); err != nil {
				return flowAPIError(err)
			}
			httpapi.WriteJSON(w, http.StatusOK, map[string]any{"status": true, "url": p.Flow.CallbackURL})
			return nil
		}
		u, s, isNew, err := a.finishSignIn(ctx, w, r, p.Provider, &p.Info, p.Account)
		if err != nil {
			var fe *flowError
			if errors.As(err, &fe) {
				a.signInRefused(ctx, a.socialMethod(p.Provider), fe.reason())
				if err := a.record(r, audit.SignIn, "", audit.Failure, map[string]any{"provider": p.Provider, "reason": fe.code}); err != nil {
					return err
				}
			}
			return flowAPIError(err)
		}
		a.signedIn(ctx, a.socialMethod(p.Provider))
		to := p.Flow.CallbackURL
		if isNew && p.Flow.NewUserURL != "" {
			to = p.Flow.NewUserURL
		}
		// The plugin's {session, user}, plus where the flow wanted the
		// browser to land (the new-user URL for a new account).
		httpapi.WriteJSON(w, http.StatusOK, struct {
			Session authdb.Session `json:"session"`
			User    authdb.User    `json:"user"`
			URL     string         `json:"url"`
			NewUser bool           `json:"newUser"`
		}{s, u, to, isNew})
		return nil
	})
}

// flowAPIError turns a flow failure into the JSON error of an API call.
func flowAPIError(err error) error {
	var fe *flowError
	if !errors.As(err, &fe) {
		return err
	}
	if fe.code == httpapi.OAuthErrAccountNotLinked {
		return &httpapi.AuthError{Status: 401, Code: httpapi.AuthCodeOAuthLinkError, Message: "account not linked"}
	}
	return &httpapi.AuthError{Status: 400, Code: strings.ToUpper(fe.code), Message: strings.ReplaceAll(fe.code, "_", " "), Cause: fe.cause}
}
