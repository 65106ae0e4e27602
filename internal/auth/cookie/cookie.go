// Package cookie writes and reads cookies byte-for-byte as better-auth does:
// its names, its attribute order, and its HMAC-signed values.
package cookie

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"adstudio/internal/jscompat"
)

// Settings are the attributes shared by every auth cookie.
type Settings struct {
	Prefix      string
	Secure      bool   // adds the __Secure- name prefix and the Secure attribute
	SameSite    string // "lax", "strict" or "none"
	Domain      string
	Partitioned bool
}

// Name is the full cookie name for one of better-auth's cookies
// ("session_token", "session_data", "dont_remember", "state").
func (s Settings) Name(cookie string) string {
	n := s.Prefix + "." + cookie
	if s.Secure {
		n = "__Secure-" + n
	}
	return n
}

// NoMaxAge marks a browser-session cookie (no Max-Age attribute).
const NoMaxAge = -1

// Set appends one Set-Cookie header. value must already be in wire form.
// maxAge 0 expires the cookie; NoMaxAge omits the attribute.
func (s Settings) Set(h http.Header, cookie, value string, maxAge int) {
	var b strings.Builder
	b.WriteString(s.Name(cookie))
	b.WriteByte('=')
	b.WriteString(value)
	if maxAge >= 0 {
		b.WriteString("; Max-Age=")
		b.WriteString(strconv.Itoa(maxAge))
	}
	if s.Domain != "" {
		b.WriteString("; Domain=")
		b.WriteString(s.Domain)
	}
	b.WriteString("; Path=/; HttpOnly")
	if s.Secure {
		b.WriteString("; Secure")
	}
	switch s.SameSite {
	case "none":
		b.WriteString("; SameSite=None")
	case "strict":
		b.WriteString("; SameSite=Strict")
	default:
		b.WriteString("; SameSite=Lax")
	}
	if s.Partitioned {
		b.WriteString("; Partitioned")
	}
	h.Add("Set-Cookie", b.String())
}

// Expire appends a Set-Cookie header that deletes the cookie.
func (s Settings) Expire(h http.Header, cookie string) { s.Set(h, cookie, "", 0) }

// Read returns the request's cookies as better-call parses them: every
// Cookie header line split on ';', the first occurrence of a name wins,
// surrounding quotes dropped and %-escapes decoded.
func Read(r *http.Request) map[string]string {
	out := map[string]string{}
	for _, line := range r.Header.Values("Cookie") {
		for _, part := range strings.Split(line, ";") {
			name, val, ok := strings.Cut(part, "=")
			if !ok {
				continue
			}
			name = strings.TrimSpace(name)
			if name == "" {
				continue
			}
			if _, seen := out[name]; seen {
				continue
			}
			val = strings.TrimSpace(val)
			if len(val) >= 2 && val[0] == '"' && val[len(val)-1] == '"' {
				val = val[1 : len(val)-1]
			}
			if strings.Contains(val, "%") {
				if dec, err := url.PathUnescape(val); err == nil {
					val = dec
				}
			}
			out[name] = val
		}
	}
	return out
}

// Signer signs with the first secret and accepts a signature by any, so a
// secret can be rotated without signing everybody out.
type Signer struct {
	secrets [][]byte
}

// NewSigner uses secrets in order; the first signs.
func NewSigner(secrets []string) Signer {
	s := Signer{}
	for _, k := range secrets {
		s.secrets = append(s.secrets, []byte(k))
	}
	return s
}

// MAC is HMAC-SHA256 of msg under the signing secret.
func (s Signer) MAC(msg []byte) []byte { return mac(s.secrets[0], msg) }

// ValidMAC reports whether sum is the MAC of msg under any secret, in
// constant time for each.
func (s Signer) ValidMAC(msg, sum []byte) bool {
	ok := false
	for _, k := range s.secrets {
		if hmac.Equal(mac(k, msg), sum) {
			ok = true
		}
	}
	return ok
}

func mac(key, msg []byte) []byte {
	m := hmac.New(sha256.New, key)
	m.Write(msg)
	return m.Sum(nil)
}

// Sign returns the wire form of a signed cookie value:
// encodeURIComponent(value + "." + base64(HMAC)).
func (s Signer) Sign(value string) string {
	sig := base64.StdEncoding.EncodeToString(s.MAC([]byte(value)))
	return jscompat.EncodeURIComponent(value + "." + sig)
}

// Verify takes an already %-decoded cookie value and returns the signed
// value if the signature is good.
func (s Signer) Verify(raw string) (string, bool) {
	i := strings.LastIndexByte(raw, '.')
	if i < 1 {
		return "", false
	}
	value, sig := raw[:i], raw[i+1:]
	if len(sig) != 44 || !strings.HasSuffix(sig, "=") {
		return "", false
	}
	// Strict decoding refuses non-zero padding bits, so one MAC has exactly
	// one accepted spelling.
	sum, err := base64.StdEncoding.Strict().DecodeString(sig)
	if err != nil {
		return "", false
	}
	if !s.ValidMAC([]byte(value), sum) {
		return "", false
	}
	return value, true
}
