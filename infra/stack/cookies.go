package stack

import (
	"strconv"
	"strings"

	"github.com/aws/aws-cdk-go/awscdk/v2"

	"adstudio/internal/config"
)

// cookieShape says which session-cookie attributes the functions will
// choose with these settings, and why, so the operator sees it at synth:
// the defaults come from config.DefaultCookieShape (BETTER_AUTH_URL against
// TRUSTED_ORIGINS) and explicit COOKIE_SAMESITE / COOKIE_PARTITIONED win,
// as in config.Load. conflict is non-empty when an explicit SameSite keeps
// the session cookie off the SPA's cross-site requests.
func cookieShape(plain map[string]*string) (shape, conflict string) {
	val := func(k string) string {
		if v := plain[k]; v != nil {
			return strings.TrimSpace(*v)
		}
		return ""
	}
	trusted := config.SplitList(val("TRUSTED_ORIGINS"))
	sameSite := strings.ToLower(val("COOKIE_SAMESITE"))
	partitioned := val("COOKIE_PARTITIONED")

	// The default shape, and the words that explain it.
	var def config.CookieShape
	var why string
	base := plain["BETTER_AUTH_URL"]
	https := true // the execute-api URL is https
	if *awscdk.Token_IsUnresolved(base) {
		// The execute-api URL is only known after deploy. Its host is a
		// public suffix of its own (execute-api.<region>.amazonaws.com is on
		// the public suffix list), so no SPA origin shares its site.
		def = config.CookieShape{SameSite: "lax", Secure: true}
		why = "decided at run time, since BETTER_AUTH_URL is the execute-api URL, unknown at synth; with no trusted origin, one site"
		if len(trusted) > 0 {
			def = config.CookieShape{SameSite: "none", Secure: true, Partitioned: true, CrossSite: trusted[0]}
			why = "decided at run time, since BETTER_AUTH_URL is the execute-api URL, unknown at synth; expected two sites: execute-api.<region>.amazonaws.com is on the public suffix list, so every SPA origin is cross-site there"
		}
	} else {
		def = config.DefaultCookieShape(strings.TrimRight(*base, "/"), trusted)
		why = def.Reason
		https = strings.HasPrefix(*base, "https:")
	}

	final := def
	var explicit []string
	if sameSite != "" {
		explicit = append(explicit, "cookieSameSite="+sameSite)
		final.SameSite = sameSite
		final.Secure = https || sameSite == "none"
		final.Partitioned = sameSite == "none"
	}
	if p, err := strconv.ParseBool(partitioned); err == nil {
		explicit = append(explicit, "cookiePartitioned="+partitioned)
		final.Partitioned = p
	}
	shape = cookieAttrs(final) + " (" + why + ")"
	if len(explicit) > 0 {
		shape = cookieAttrs(final) + " (" + strings.Join(explicit, ", ") + " set explicitly; the default would be " + cookieAttrs(def) + ": " + why + ")"
	}
	if def.SameSite == "none" && (sameSite == "lax" || sameSite == "strict") {
		conflict = "cookieSameSite=" + sameSite + " but trusted origin " + def.CrossSite + " is cross-site to the API: browsers will not send the session cookie with the SPA's requests (leave cookieSameSite unset)"
	}
	return shape, conflict
}

// cookieAttrs writes the attributes as a Set-Cookie header would.
func cookieAttrs(c config.CookieShape) string {
	s := "SameSite=" + strings.ToUpper(c.SameSite[:1]) + c.SameSite[1:]
	if c.Secure {
		s += "; Secure"
	}
	if c.Partitioned {
		s += "; Partitioned"
	}
	return s
}
