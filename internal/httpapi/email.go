package httpapi

import (
	"regexp"
	"strings"
	"sync"
)

// zod v4's z.email() pattern, minus its two lookaheads (RE2 has none),
// which ValidEmail checks by hand: no leading dot, no "..". Compiled on
// first use so a cold start does not pay for it.
var emailRE = sync.OnceValue(func() *regexp.Regexp {
	return regexp.MustCompile(`^[A-Za-z0-9_'+\-.]*[A-Za-z0-9_+\-]@([A-Za-z0-9][A-Za-z0-9\-]*\.)+[A-Za-z]{2,}$`)
})

// ValidEmail reports whether s passes zod v4's email check, which
// better-auth applies on sign-up and sign-in.
func ValidEmail(s string) bool {
	return !strings.HasPrefix(s, ".") && !strings.Contains(s, "..") && emailRE().MatchString(s)
}
