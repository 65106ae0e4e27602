package httpapi

import (
	"net/http"

	"adstudio/pkg/session"
)

// RequireUser resolves the session for an application route, or fails with
// the app API's 401. Reads (safe methods) may use the signed cookie cache;
// anything that changes state checks the database, so a revoked session
// cannot act even while its cache cookie is still fresh.
func RequireUser(m *session.Manager, w http.ResponseWriter, r *http.Request) (*session.Current, error) {
	safe := r.Method == http.MethodGet || r.Method == http.MethodHead
	cur, err := m.Get(r.Context(), w.Header(), r, session.Options{UseCache: safe})
	if err != nil && err != session.ErrRefreshFailed {
		return nil, err
	}
	if cur == nil {
		return nil, &AppError{Status: http.StatusUnauthorized, Code: "UNAUTHORIZED", Message: "Authentication required."}
	}
	return cur, nil
}
