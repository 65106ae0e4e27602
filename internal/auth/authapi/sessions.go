package authapi

import (
	"adstudio/internal/audit"
	"errors"
	"net/http"

	"adstudio/internal/auth/authdb"
	"adstudio/internal/auth/session"
	"adstudio/internal/httpapi"
)

// GetSession is GET /get-session: 200 null when signed out, else
// {session, user}. Reads may come from the signed cookie cache.
func (a *API) GetSession(w http.ResponseWriter, r *http.Request) error {
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Pragma", "no-cache")
	opt := session.Options{UseCache: true}
	if r.URL.RawQuery != "" { // the SPA's polling sends none: skip building the map
		q := r.URL.Query()
		// better-auth coerces these with JavaScript's Boolean(string): any
		// non-empty value, "false" included, is true.
		opt = session.Options{UseCache: q.Get("disableCookieCache") == "", DisableRefresh: q.Get("disableRefresh") != ""}
	}
	cur, err := a.Sessions.Get(r.Context(), w.Header(), r, opt)
	if errors.Is(err, session.ErrRefreshFailed) {
		return errFailedToGetSession
	}
	if err != nil {
		return err
	}
	if cur == nil {
		httpapi.WriteJSON(w, http.StatusOK, nil)
		return nil
	}
	httpapi.WriteJSON(w, http.StatusOK, sessionBody{cur.Session, cur.User})
	return nil
}

// sessionBody is get-session's {session, user}. It writes itself in one
// pass (httpapi.WriteJSON), the same bytes as encoding/json writes for
//
//	struct {
//		Session authdb.Session `json:"session"`
//		User    authdb.User    `json:"user"`
//	}
type sessionBody struct {
	session authdb.Session
	user    authdb.User
}

// AppendJSON appends the body.
func (b sessionBody) AppendJSON(dst []byte) []byte {
	dst = append(dst, `{"session":`...)
	dst = b.session.AppendJSON(dst)
	dst = append(dst, `,"user":`...)
	dst = b.user.AppendJSON(dst)
	return append(dst, '}')
}

// GetSessionPost answers POST /get-session as better-auth does without
// deferSessionRefresh.
func (a *API) GetSessionPost() httpapi.Handler {
	return a.post(false, false, func(w http.ResponseWriter, r *http.Request, b *httpapi.Body) error {
		return errDeferRefresh
	})
}

// SignOut is POST /sign-out. It needs no session and always succeeds, so
// the client's session refetch that follows a 2xx always happens.
func (a *API) SignOut() httpapi.Handler {
	return a.post(false, false, func(w http.ResponseWriter, r *http.Request, b *httpapi.Body) error {
		if token, ok := a.Sessions.Token(r); ok {
			if err := a.Store.DeleteSession(r.Context(), token, a.event(r, audit.SignOut, "", audit.Success, nil)); err != nil {
				return err
			}
		}
		a.Sessions.Clear(w.Header(), r)
		httpapi.WriteJSON(w, http.StatusOK, map[string]bool{"success": true})
		return nil
	})
}

// ListSessions is GET /list-sessions (fresh session required).
func (a *API) ListSessions(w http.ResponseWriter, r *http.Request) error {
	cur, err := a.requireSession(r.Context(), w, r)
	if err != nil {
		return err
	}
	if !a.Sessions.Fresh(cur.Session) {
		return errSessionNotFresh
	}
	all, err := a.Store.ListSessions(r.Context(), cur.User.ID, a.Now())
	if err != nil {
		return err
	}
	list := all[:0]
	for _, s := range all {
		if !a.Sessions.Outlived(s) {
			list = append(list, s)
		}
	}
	httpapi.WriteJSON(w, http.StatusOK, list)
	return nil
}

// RevokeSession is POST /revoke-session {token}: deletes that session if it
// is the caller's; answers the same whether or not it was.
func (a *API) RevokeSession() httpapi.Handler {
	return a.post(false, false, func(w http.ResponseWriter, r *http.Request, b *httpapi.Body) error {
		token, _ := b.String("token", true)
		if err := b.Err(); err != nil {
			return err
		}
		cur, err := a.requireSession(r.Context(), w, r)
		if err != nil {
			return err
		}
		if err := a.Store.DeleteUserSession(r.Context(), cur.User.ID, token, a.event(r, audit.SessionRevoke, cur.User.ID, audit.Success, map[string]any{"scope": "one"})); err != nil {
			return err
		}
		return writeStatus(w)
	})
}

// RevokeSessions is POST /revoke-sessions: every session of the caller,
// the current one included.
func (a *API) RevokeSessions() httpapi.Handler {
	return a.post(false, false, func(w http.ResponseWriter, r *http.Request, b *httpapi.Body) error {
		cur, err := a.requireSession(r.Context(), w, r)
		if err != nil {
			return err
		}
		if err := a.Store.DeleteUserSessions(r.Context(), cur.User.ID, "", a.event(r, audit.SessionRevoke, cur.User.ID, audit.Success, map[string]any{"scope": "all"})); err != nil {
			return err
		}
		return writeStatus(w)
	})
}

// RevokeOtherSessions is POST /revoke-other-sessions.
func (a *API) RevokeOtherSessions() httpapi.Handler {
	return a.post(false, false, func(w http.ResponseWriter, r *http.Request, b *httpapi.Body) error {
		cur, err := a.requireSession(r.Context(), w, r)
		if err != nil {
			return err
		}
		if err := a.Store.DeleteUserSessions(r.Context(), cur.User.ID, cur.Session.Token, a.event(r, audit.SessionRevoke, cur.User.ID, audit.Success, map[string]any{"scope": "others"})); err != nil {
			return err
		}
		return writeStatus(w)
	})
}

func writeStatus(w http.ResponseWriter) error {
	httpapi.WriteJSON(w, http.StatusOK, map[string]bool{"status": true})
	return nil
}
