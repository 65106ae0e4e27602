package config

import (
	"errors"
	"net/url"
	"strings"

	"golang.org/x/net/publicsuffix"
)

// checkTrustedOrigin validates one TRUSTED_ORIGINS entry: an http(s) origin
// (scheme://host[:port], nothing after it), where * and ? may stand for
// parts of the host's leftmost labels or the port. It refuses what would
// trust far more than the operator meant: a bare "*", an entry without a
// scheme (better-auth matches those against any scheme), and a wildcard
// whose literal rest is not a whole registrable domain ("https://*.com",
// or "https://*.vercel.app", where anyone can publish a site).
// internal/origin matches requests against the entries it lets through.
func checkTrustedOrigin(e string) error {
	scheme, rest, ok := strings.Cut(e, "://")
	if !ok || (scheme != "http" && scheme != "https") {
		return errors.New("expected an origin with its scheme, such as https://app.example.com (" + e + ")")
	}
	if rest == "" || strings.ContainsAny(rest, "/\\@#") {
		return errors.New("expected scheme://host[:port] with no path (" + e + ")")
	}
	host, port := rest, ""
	if i := strings.LastIndexByte(rest, ':'); i >= 0 && !strings.Contains(rest, "]") {
		host, port = rest[:i], rest[i+1:]
		if port == "" || strings.Trim(port, "0123456789*?") != "" {
			return errors.New("expected a numeric port (" + e + ")")
		}
	}
	if !strings.ContainsAny(host, "*?") {
		probe := strings.NewReplacer("*", "1", "?", "1").Replace(e)
		if u, err := url.Parse(probe); err != nil || u.Hostname() == "" || u.Path != "" || u.RawQuery != "" {
			return errors.New("expected scheme://host[:port] (" + e + ")")
		}
		return nil
	}
	labels := strings.Split(host, ".")
	last := -1
	for i, l := range labels {
		if strings.ContainsAny(l, "*?") {
			last = i
		}
	}
	literal := strings.ToLower(strings.Join(labels[last+1:], "."))
	if literal == "" || strings.ContainsAny(literal, "*?") {
		return errors.New("a wildcard may only stand for the leftmost labels of a host (" + e + ")")
	}
	if suffix, _ := publicsuffix.PublicSuffix(literal); suffix == literal || !strings.Contains(literal, ".") {
		return errors.New("a wildcard must end in a registrable domain, not a public suffix such as " + literal + " (" + e + ")")
	}
	return nil
}
