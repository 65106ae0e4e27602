// Package origin decides which browser origins and redirect targets are
// trusted, with better-auth's matching rules.
package origin

import (
	"net"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"sync"

	"golang.org/x/net/publicsuffix"
)

// List is the set of trusted origins: the API's own origin plus the
// configured entries, which may hold * and ? wildcards.
type List struct {
	exact    map[string]bool
	patterns []pattern
}

type pattern struct {
	re         *regexp.Regexp
	fullOrigin bool // the entry had a scheme, so it matches whole origins
}

// New builds the list from the API's base URL and the configured entries.
func New(baseURL string, entries []string) List {
	l := List{exact: map[string]bool{}}
	if o, ok := Of(baseURL); ok {
		l.exact[o] = true
	}
	for _, e := range entries {
		if !strings.ContainsAny(e, "*?") {
			l.exact[e] = true
			continue
		}
		l.patterns = append(l.patterns, pattern{re: glob(e), fullOrigin: strings.Contains(e, "://")})
	}
	return l
}

// glob compiles better-auth's wildcards: * is any run of characters except
// '/' and '\', ? is one such character.
func glob(p string) *regexp.Regexp {
	var b strings.Builder
	b.WriteString("^")
	for _, r := range p {
		switch r {
		case '*':
			b.WriteString(`[^/\\]*`)
		case '?':
			b.WriteString(`[^/\\]`)
		default:
			b.WriteString(regexp.QuoteMeta(string(r)))
		}
	}
	b.WriteString("$")
	return regexp.MustCompile(b.String())
}

// Of returns scheme://host[:port] of an absolute http(s) URL.
func Of(raw string) (string, bool) {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.User != nil || u.Opaque != "" {
		return "", false
	}
	return u.Scheme + "://" + u.Host, true
}

// FromRequest is where a request says it comes from: its Origin header,
// else the origin of its Referer ("null" when the Referer is not an http(s)
// URL), else "".
func FromRequest(r *http.Request) string {
	if o := r.Header.Get("Origin"); o != "" {
		return o
	}
	if ref := r.Header.Get("Referer"); ref != "" {
		if o, ok := Of(ref); ok {
			return o
		}
		return "null"
	}
	return ""
}

// Verdict is the outcome of the origin check.
type Verdict int

// The verdicts of Check.
const (
	Allowed   Verdict = iota
	Missing           // no Origin or Referer, or "null"
	Untrusted         // an origin that is not trusted
)

// Check is the origin check of a request that carries cookies and changes
// something: only a trusted Origin (or Referer) proves the SPA sent it, not
// a cross-site form or fetch riding on the user's cookies. Both dialects
// (better-auth's and the app API's) call it and spell the refusal their
// own way.
func (l List) Check(r *http.Request) Verdict {
	src := FromRequest(r)
	switch {
	case src == "" || src == "null":
		return Missing
	case !l.Trusted(src):
		return Untrusted
	}
	return Allowed
}

// Trusted reports whether the absolute URL (or bare origin) raw is trusted.
func (l List) Trusted(raw string) bool {
	o, ok := Of(raw)
	if !ok {
		return false
	}
	if l.exact[o] {
		return true
	}
	host := o[strings.Index(o, "://")+3:]
	for _, p := range l.patterns {
		if p.fullOrigin && p.re.MatchString(o) || !p.fullOrigin && p.re.MatchString(host) {
			return true
		}
	}
	return false
}

// TrustedOrigin reports whether o, an Origin header value, is exactly a
// trusted origin (no path, no trailing slash).
func (l List) TrustedOrigin(o string) bool {
	canon, ok := Of(o)
	return ok && canon == o && l.Trusted(o)
}

// relative is better-auth's allowed relative redirect: a path on this host
// that cannot be read as protocol-relative or carry a fragment. Compiled on
// first use so a cold start does not pay for it.
var relative = sync.OnceValue(func() *regexp.Regexp {
	return regexp.MustCompile(`^/[\w\-.+/@]*(?:\?[\w\-.+/=&%@]*)?$`)
})

// TrustedTarget reports whether a callback/redirect URL is acceptable: a
// trusted absolute URL, or a safe path on the API's own host.
func (l List) TrustedTarget(raw string) bool {
	if strings.HasPrefix(raw, "/") {
		lower := strings.ToLower(raw)
		if strings.HasPrefix(lower, "//") || strings.HasPrefix(lower, `/\`) || strings.HasPrefix(lower, "/%2f") || strings.HasPrefix(lower, "/%5c") {
			return false
		}
		return relative().MatchString(raw)
	}
	return l.Trusted(raw)
}

// SameSite reports whether two URLs are schemeful same-site, as browsers
// decide which cookies a request carries: the same scheme and the same
// registrable domain (eTLD+1 by the public suffix list; an IP address or a
// single-label host such as localhost only matches itself).
func SameSite(a, b string) bool {
	ua, err1 := url.Parse(a)
	ub, err2 := url.Parse(b)
	if err1 != nil || err2 != nil || ua.Scheme != ub.Scheme {
		return false
	}
	return site(ua.Hostname()) == site(ub.Hostname())
}

func site(host string) string {
	host = strings.ToLower(strings.TrimSuffix(host, "."))
	if net.ParseIP(host) != nil || !strings.Contains(host, ".") {
		return host
	}
	if s, err := publicsuffix.EffectiveTLDPlusOne(host); err == nil {
		return s
	}
	return host
}
