package httpapi

import (
	"net/http"
	"strings"

	"adstudio/internal/origin"
)

// CORS answers preflights and adds credentialed CORS headers for trusted
// origins on every /api/ path, as the addreams backend's middleware does.
// The function owns CORS: the API Gateway stack must not configure its own,
// or the gateway would replace these headers.
func CORS(trusted origin.List, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !strings.HasPrefix(r.URL.Path, "/api/") {
			next.ServeHTTP(w, r)
			return
		}
		h := w.Header()
		h.Set("Access-Control-Allow-Credentials", "true")
		if o := r.Header.Get("Origin"); trusted.TrustedOrigin(o) {
			h.Set("Access-Control-Allow-Origin", o)
		}
		if r.Method == http.MethodOptions {
			h.Add("Vary", "Origin, Access-Control-Request-Headers")
			h.Set("Access-Control-Allow-Methods", "GET,POST,PUT,PATCH,DELETE,OPTIONS")
			h.Set("Access-Control-Allow-Headers", "Content-Type,Authorization,Idempotency-Key")
			h.Set("Access-Control-Max-Age", "600")
			w.WriteHeader(http.StatusNoContent)
			return
		}
		h.Add("Vary", "Origin")
		next.ServeHTTP(w, r)
	})
}
