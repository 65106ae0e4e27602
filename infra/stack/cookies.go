package stack

import (
	"strings"

	"github.com/aws/aws-cdk-go/awscdk/v2"

	"adstudio/internal/auth/cookie"
	"adstudio/internal/config"
)

// cookieShape says which session-cookie attributes the functions will
// choose with these settings, and why, so the operator sees it at synth. It
// decides as the functions do (cookie.DefaultShape for BETTER_AUTH_URL
// against TRUSTED_ORIGINS, then cookie.ResolveShape, where explicit
// COOKIE_* values win); only the words are the stack's, naming context keys.
// conflict is non-empty when an explicit SameSite keeps the session cookie
// off the SPA's cross-site requests. err is a cookie setting every function
// would refuse at its cold start.
func cookieShape(plain map[string]*string) (shape, conflict string, err error) {
	val := func(k string) string {
		if v := plain[k]; v != nil {
			return *v
		}
		return ""
	}
	explicit, err := config.LoadCookieOverrides(val)
	if err != nil {
		return "", "", err
	}
	trusted := config.SplitList(val("TRUSTED_ORIGINS"))

	// The default shape, and the words that explain it.
	var def cookie.Shape
	var why string
	base := plain["BETTER_AUTH_URL"]
	https := true // the execute-api URL is https
	if *awscdk.Token_IsUnresolved(base) {
		// The execute-api URL is only known after deploy. Its host is a
		// public suffix of its own (execute-api.<region>.amazonaws.com is on
		// the public suffix list), so no SPA origin shares its site.
		def = cookie.Shape{SameSite: "lax", Secure: true}
		why = "decided at run time, since BETTER_AUTH_URL is the execute-api URL, unknown at synth; with no trusted origin, one site"
		if len(trusted) > 0 {
			def = cookie.Shape{SameSite: "none", Secure: true, Partitioned: true, CrossSite: trusted[0]}
			why = "decided at run time, since BETTER_AUTH_URL is the execute-api URL, unknown at synth; expected two sites: execute-api.<region>.amazonaws.com is on the public suffix list, so every SPA origin is cross-site there"
		}
	} else {
		u := strings.TrimRight(strings.TrimSpace(*base), "/")
		def = cookie.DefaultShape(u, trusted)
		why = def.Reason
		https = strings.HasPrefix(u, "https:")
	}
	final, err := cookie.ResolveShape(def, https, explicit)
	if err != nil {
		return "", "", err
	}

	var set []string
	if explicit.SameSite != "" {
		set = append(set, "cookieSameSite="+explicit.SameSite)
	}
	if explicit.Partitioned != nil {
		set = append(set, "cookiePartitioned="+val("COOKIE_PARTITIONED"))
	}
	shape = cookieAttrs(final) + " (" + why + ")"
	if len(set) > 0 {
		shape = cookieAttrs(final) + " (" + strings.Join(set, ", ") + " set explicitly; the default would be " + cookieAttrs(def) + ": " + why + ")"
	}
	if def.SameSite == "none" && (explicit.SameSite == "lax" || explicit.SameSite == "strict") {
		conflict = "cookieSameSite=" + explicit.SameSite + " but trusted origin " + def.CrossSite + " is cross-site to the API: browsers will not send the session cookie with the SPA's requests (leave cookieSameSite unset)"
	}
	return shape, conflict, nil
}

// cookieAttrs writes the attributes as a Set-Cookie header would.
func cookieAttrs(c cookie.Shape) string {
	s := "SameSite=" + strings.ToUpper(c.SameSite[:1]) + c.SameSite[1:]
	if c.Secure {
		s += "; Secure"
	}
	if c.Partitioned {
		s += "; Partitioned"
	}
	return s
}
