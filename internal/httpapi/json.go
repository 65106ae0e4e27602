package httpapi

import (
	"bytes"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"strconv"

	"adstudio/internal/jscompat"
)

// jsonAppender is a value that writes its own JSON in one pass.
type jsonAppender interface {
	AppendJSON(b []byte) []byte
}

// WriteJSON writes v as JSON the way JSON.stringify would (no HTML
// escaping), with Content-Type application/json.
//
// A v with an AppendJSON method (a value, not a nil pointer) writes itself,
// and what it appends is sent as it stands, so it must be exactly what
// jscompat.Marshal(v) would write. The busiest read routes (get-session,
// /api/me) answer this way: encoding/json would walk their types by
// reflection and then validate and copy every nested Marshaler's output a
// second time.
func WriteJSON(w http.ResponseWriter, status int, v any) {
	var body []byte
	if a, ok := v.(jsonAppender); ok {
		body = a.AppendJSON(make([]byte, 0, 1024))
	} else {
		var err error
		if body, err = jscompat.Marshal(v); err != nil {
			slog.Error("encode response", "err", err)
			w.WriteHeader(http.StatusInternalServerError)
			return
		}
	}
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(status)
	w.Write(body)
}

// ReadJSON decodes the request body, at most limit bytes, into v: one JSON
// value, with no second value after it. It reports false for a body that
// is too large, unreadable or not such a value; the caller answers in its
// route's shape (the app API's small JSON bodies: uploads, checkout).
func ReadJSON(w http.ResponseWriter, r *http.Request, limit int64, v any) bool {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, limit))
	if err != nil {
		return false
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	return dec.Decode(v) == nil && !dec.More()
}
