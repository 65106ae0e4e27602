package httpapi

import (
	"net/http"

	"adstudio/pkg/origin"
	"adstudio/pkg/session"
)

// Guard admits requests to the application routes: a trusted origin on any
// cookie-carrying write, then a session.
type Guard struct {
	Sessions *session.Manager
	Origins  origin.List
}

// User resolves the caller or fails with the app API's error. useCache lets
// a read be answered from the signed cookie cache (up to five minutes stale
// after a revocation); everything else reads the session from the database.
func (g *Guard) User(w http.ResponseWriter, r *http.Request, useCache bool) (*session.Current, error) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead && r.Header.Get("Cookie") != "" {
		// A cross-site form or fetch carries the victim's cookies; only a
		// trusted Origin (or Referer) proves the SPA sent it.
		src := r.Header.Get("Origin")
		if src == "" {
			if o, ok := origin.Of(r.Header.Get("Referer")); ok {
				src = o
			}
		}
		if src == "" || src == "null" {
			return nil, &AppError{Status: http.StatusForbidden, Code: "MISSING_OR_NULL_ORIGIN", Message: "Missing or null Origin."}
		}
		if !g.Origins.Trusted(src) {
			return nil, &AppError{Status: http.StatusForbidden, Code: "INVALID_ORIGIN", Message: "Invalid origin."}
		}
	}
	safe := r.Method == http.MethodGet || r.Method == http.MethodHead
	cur, err := g.Sessions.Get(r.Context(), w.Header(), r, session.Options{UseCache: useCache && safe})
	if err != nil && err != session.ErrRefreshFailed {
		return nil, err
	}
	if cur == nil {
		return nil, &AppError{Status: http.StatusUnauthorized, Code: "UNAUTHORIZED", Message: "Authentication required."}
	}
	return cur, nil
}
