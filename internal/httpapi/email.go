package httpapi

import (
	"regexp"
	"strings"
)

// zod v4's z.email() pattern, minus its two lookaheads (RE2 has none),
// which ValidEmail checks by hand: no leading dot, no "..".
var emailRE = regexp.MustCompile(`^[A-Za-z0-9_'+\-.]*[A-Za-z0-9_+\-]@([A-Za-z0-9][A-Za-z0-9\-]*\.)+[A-Za-z]{2,}$`)

// ValidEmail reports whether s passes zod v4's email check, which
// better-auth applies on sign-up and sign-in.
func ValidEmail(s string) bool {
	return !strings.HasPrefix(s, ".") && !strings.Contains(s, "..") && emailRE.MatchString(s)
}
