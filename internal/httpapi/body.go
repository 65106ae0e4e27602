package httpapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strings"
)

// MaxBody caps request bodies on auth routes; nothing better-auth accepts
// comes near it.
const MaxBody = 64 << 10

// Body is a decoded request body: JSON object members, or form values.
type Body struct {
	m      map[string]any
	issues []string
}

// DecodeBody reads a better-auth request body. JSON is always accepted;
// form encoding only where allowForm (sign-in, sign-up). An empty body is an
// empty object, as better-auth's endpoints with optional bodies expect.
func DecodeBody(w http.ResponseWriter, r *http.Request, allowForm bool) (*Body, error) {
	raw, err := io.ReadAll(http.MaxBytesReader(w, r.Body, MaxBody))
	var tooBig *http.MaxBytesError
	if errors.As(err, &tooBig) {
		return nil, &AuthError{Status: http.StatusRequestEntityTooLarge, Code: AuthCodePayloadTooLarge, Message: "Request body is too large"}
	}
	if err != nil {
		return nil, &AuthError{Status: http.StatusBadRequest, Code: AuthCodeBadRequest, Message: "Could not read request body"}
	}
	allowed := "application/json"
	if allowForm {
		allowed = "application/x-www-form-urlencoded, application/json"
	}
	if len(bytes.TrimSpace(raw)) == 0 {
		return &Body{m: map[string]any{}}, nil
	}
	ct := r.Header.Get("Content-Type")
	if ct == "" {
		return nil, &AuthError{Status: http.StatusUnsupportedMediaType, Code: AuthCodeUnsupportedMediaType, Message: "Content-Type is required. Allowed types: " + allowed}
	}
	mt, _, _ := mime.ParseMediaType(ct)
	switch {
	case mt == "application/json" || strings.HasSuffix(mt, "+json"):
		dec := json.NewDecoder(bytes.NewReader(raw))
		dec.UseNumber()
		var v any
		if err := dec.Decode(&v); err != nil || dec.More() {
			return nil, &AuthError{Status: http.StatusBadRequest, Code: AuthCodeBadRequest, Message: "Invalid JSON in request body"}
		}
		m, ok := v.(map[string]any)
		if !ok {
			return nil, &AuthError{Status: http.StatusBadRequest, Code: AuthCodeValidationError, Message: "[body] Invalid input: expected object, received " + typeName(v)}
		}
		return &Body{m: m}, nil
	case allowForm && mt == "application/x-www-form-urlencoded":
		vals, err := url.ParseQuery(string(raw))
		if err != nil {
			return nil, &AuthError{Status: http.StatusBadRequest, Code: AuthCodeBadRequest, Message: "Invalid form body"}
		}
		m := map[string]any{}
		for k, v := range vals {
			m[k] = v[0]
		}
		return &Body{m: m}, nil
	}
	return nil, &AuthError{Status: http.StatusUnsupportedMediaType, Code: AuthCodeUnsupportedMediaType, Message: `Content-Type "` + mt + `" is not allowed. Allowed types: ` + allowed}
}

// Has reports whether the member is present (even as null).
func (b *Body) Has(name string) bool { _, ok := b.m[name]; return ok }

// String reads a string member. A missing member is an issue only when
// required; a member of another type is always one. Messages are zod's.
func (b *Body) String(name string, required bool) (string, bool) {
	v, ok := b.m[name]
	if !ok || (v == nil && !required) {
		if required {
			b.issue(name, "Invalid input: expected string, received undefined")
		}
		return "", false
	}
	s, isStr := v.(string)
	if !isStr {
		b.issue(name, "Invalid input: expected string, received "+typeName(v))
		return "", false
	}
	return s, true
}

// NullableString reads a member that may be a string or null.
func (b *Body) NullableString(name string) (val *string, present bool) {
	v, ok := b.m[name]
	if !ok {
		return nil, false
	}
	if v == nil {
		return nil, true
	}
	s, isStr := v.(string)
	if !isStr {
		b.issue(name, "Invalid input: expected string, received "+typeName(v))
		return nil, false
	}
	return &s, true
}

// Bool reads an optional boolean member.
func (b *Body) Bool(name string) (val, present bool) {
	v, ok := b.m[name]
	if !ok || v == nil {
		return false, false
	}
	bv, isBool := v.(bool)
	if !isBool {
		b.issue(name, "Invalid input: expected boolean, received "+typeName(v))
		return false, false
	}
	return bv, true
}

// Strings reads an optional array of strings.
func (b *Body) Strings(name string) []string {
	v, ok := b.m[name]
	if !ok || v == nil {
		return nil
	}
	arr, isArr := v.([]any)
	if !isArr {
		b.issue(name, "Invalid input: expected array, received "+typeName(v))
		return nil
	}
	out := make([]string, 0, len(arr))
	for i, e := range arr {
		s, isStr := e.(string)
		if !isStr {
			b.issue(fmt.Sprintf("%s.%d", name, i), "Invalid input: expected string, received "+typeName(e))
			return nil
		}
		out = append(out, s)
	}
	return out
}

// StringMap reads an optional object whose members are all strings.
func (b *Body) StringMap(name string) map[string]string {
	v, ok := b.m[name]
	if !ok || v == nil {
		return nil
	}
	obj, isObj := v.(map[string]any)
	if !isObj {
		b.issue(name, "Invalid input: expected record, received "+typeName(v))
		return nil
	}
	out := make(map[string]string, len(obj))
	for k, e := range obj {
		s, isStr := e.(string)
		if !isStr {
			b.issue(name+"."+k, "Invalid input: expected string, received "+typeName(e))
			return nil
		}
		out[k] = s
	}
	return out
}

// Email records zod's email issue if s is not an email.
func (b *Body) Email(name, s string) {
	if !ValidEmail(s) {
		b.issue(name, "Invalid email address")
	}
}

func (b *Body) issue(name, msg string) {
	b.issues = append(b.issues, "[body."+name+"] "+msg)
}

// Err is the VALIDATION_ERROR for every issue found so far, or nil.
func (b *Body) Err() error {
	if len(b.issues) == 0 {
		return nil
	}
	return &AuthError{Status: http.StatusBadRequest, Code: AuthCodeValidationError, Message: strings.Join(b.issues, "; ")}
}

func typeName(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case string:
		return "string"
	case bool:
		return "boolean"
	case json.Number, float64:
		return "number"
	case []any:
		return "array"
	}
	return "object"
}
