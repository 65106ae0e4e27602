package cookie

import (
	"fmt"
	"net/url"
	"strings"

	"adstudio/internal/config"
	"adstudio/internal/origin"
)

// Shape is the attributes the session cookies get in one deployment, and
// why. The functions, the start-up summary and the CDK stack's report all
// decide it here.
type Shape struct {
	SameSite    string // "lax", "strict" or "none"
	Secure      bool
	Partitioned bool
	// CrossSite names the first trusted origin on another site than the
	// API, "" when every one is same-site.
	CrossSite string
	Reason    string
}

// String is the shape as the start-up summary prints it.
func (s Shape) String() string {
	return fmt.Sprintf("samesite=%s secure=%t partitioned=%t (%s)", s.SameSite, s.Secure, s.Partitioned, s.Reason)
}

// DefaultShape decides the cookies from the deployment itself: when a
// trusted origin is on another site than the API (schemeful: scheme plus
// registrable domain, by the public suffix list), the SPA's requests are
// cross-site, and only SameSite=None; Secure; Partitioned cookies survive
// in current browsers. When every trusted origin is same-site, first-party
// Lax cookies work everywhere, including browsers that block third-party
// cookies.
func DefaultShape(baseURL string, trusted []string) Shape {
	for _, o := range trusted {
		// A wildcard stands for some label: *.example.com is on
		// example.com's site whatever it matches.
		probe := strings.NewReplacer("*", "x", "?", "x").Replace(o)
		if !origin.SameSite(probe, baseURL) {
			return Shape{SameSite: "none", Secure: true, Partitioned: true, CrossSite: o,
				Reason: "two sites: trusted origin " + o + " is on another site than " + baseURL}
		}
	}
	return Shape{SameSite: "lax", Secure: strings.HasPrefix(baseURL, "https:"),
		Reason: "one site: every trusted origin is on the same site as " + baseURL}
}

// ResolveShape is the shape in force: def, what the deployment needs
// (DefaultShape, or the stack's expectation while the API's URL is unknown
// at synth), with every explicit COOKIE_* value winning over it. What is not
// set explicitly follows the SameSite in force: Secure with an https API or
// SameSite=None (browsers refuse SameSite=None without Secure, and treat
// http://localhost and loopback addresses as secure), Partitioned with
// SameSite=None (current Chromium drops unpartitioned third-party cookies).
// https says whether BETTER_AUTH_URL is https. The error, a start-up error,
// is a *config.Error naming the variable.
func ResolveShape(def Shape, https bool, explicit config.CookieOverrides) (Shape, error) {
	s := def
	if explicit.SameSite != "" {
		s.SameSite = explicit.SameSite
		s.Reason = "COOKIE_SAMESITE=" + explicit.SameSite + " (set explicitly)"
	}
	s.Secure = https || s.SameSite == "none"
	if explicit.Secure != nil {
		s.Secure = *explicit.Secure
	}
	if s.SameSite == "none" && !s.Secure {
		return s, &config.Error{Var: "COOKIE_SAMESITE", What: "none requires secure cookies (COOKIE_SECURE=true or an https BETTER_AUTH_URL)"}
	}
	s.Partitioned = s.SameSite == "none"
	if explicit.Partitioned != nil {
		s.Partitioned = *explicit.Partitioned
	}
	if s.Partitioned && !s.Secure {
		return s, &config.Error{Var: "COOKIE_PARTITIONED", What: "requires secure cookies"}
	}
	return s, nil
}

// Resolve is the cookie settings of a loaded configuration: its prefix and
// domain, and the attributes of ResolveShape for its base URL and trusted
// origins. Every function calls it at start, so a contradiction (SameSite=None
// without Secure) fails the cold start as a bad variable does.
func Resolve(c config.Config) (Settings, Shape, error) {
	u, err := url.Parse(c.BaseURL)
	https := err == nil && u.Scheme == "https"
	shape, err := ResolveShape(DefaultShape(c.BaseURL, c.TrustedOrigins), https, c.CookieOverrides)
	if err != nil {
		return Settings{}, shape, err
	}
	return Settings{
		Prefix: c.CookiePrefix, Domain: c.CookieDomain,
		SameSite: shape.SameSite, Secure: shape.Secure, Partitioned: shape.Partitioned,
	}, shape, nil
}
