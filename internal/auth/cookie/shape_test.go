package cookie_test

import (
	"strings"
	"testing"

	"adstudio/internal/auth/cookie"
	"adstudio/internal/config"
)

// resolve loads env as a deployed function does and resolves its cookies.
func resolve(t *testing.T, env map[string]string) (cookie.Settings, cookie.Shape, error) {
	t.Helper()
	m := map[string]string{"TURSO_DATABASE_URL": "libsql://db.example.turso.io", "BETTER_AUTH_SECRET": strings.Repeat("s", 32)}
	for k, v := range env {
		m[k] = v
	}
	c, err := config.Load(func(k string) string { return m[k] }, false)
	if err != nil {
		t.Fatal(err)
	}
	return cookie.Resolve(c)
}

func TestShapeFollowsTheDeployment(t *testing.T) {
	for _, tc := range []struct {
		name     string
		env      map[string]string
		sameSite string
		secure   bool
		part     bool
		reason   string
	}{
		{"two sites", map[string]string{"BETTER_AUTH_URL": "https://api.other.net", "TRUSTED_ORIGINS": "https://app.example.com"}, "none", true, true, "two sites"},
		{"one site, subdomains", map[string]string{"BETTER_AUTH_URL": "https://api.example.com", "TRUSTED_ORIGINS": "https://app.example.com,https://www.example.com"}, "lax", true, false, "one site"},
		{"one cross-site entry among same-site ones", map[string]string{"BETTER_AUTH_URL": "https://api.example.com", "TRUSTED_ORIGINS": "https://app.example.com,https://partner.io"}, "none", true, true, "https://partner.io"},
		{"a public suffix is not a site", map[string]string{"BETTER_AUTH_URL": "https://api-x.github.io", "TRUSTED_ORIGINS": "https://app-x.github.io"}, "none", true, true, "two sites"},
		{"scheme decides too (schemeful same-site)", map[string]string{"BETTER_AUTH_URL": "https://api.example.com", "TRUSTED_ORIGINS": "http://app.example.com"}, "none", true, true, "two sites"},
		{"wildcard on the API's site", map[string]string{"BETTER_AUTH_URL": "https://api.example.com", "TRUSTED_ORIGINS": "https://*.example.com"}, "lax", true, false, "one site"},
		{"wildcard on another site", map[string]string{"BETTER_AUTH_URL": "https://api.example.com", "TRUSTED_ORIGINS": "https://*.partner.io"}, "none", true, true, "two sites"},
		{"no trusted origin", map[string]string{"BETTER_AUTH_URL": "https://api.example.com"}, "lax", true, false, "one site"},
		{"explicit value wins", map[string]string{"BETTER_AUTH_URL": "https://api.other.net", "TRUSTED_ORIGINS": "https://app.example.com", "COOKIE_SAMESITE": "lax"}, "lax", true, false, "set explicitly"},
		{"explicit partitioned wins", map[string]string{"BETTER_AUTH_URL": "https://api.other.net", "TRUSTED_ORIGINS": "https://app.example.com", "COOKIE_PARTITIONED": "false"}, "none", true, false, "two sites"},
		{"explicit secure wins", map[string]string{"BETTER_AUTH_URL": "https://api.example.com", "COOKIE_SECURE": "false"}, "lax", false, false, "one site"},
		{"explicit none", map[string]string{"BETTER_AUTH_URL": "https://api.example.com", "COOKIE_SAMESITE": "None"}, "none", true, true, "COOKIE_SAMESITE=none (set explicitly)"},
		{"http API, two sites: Secure anyway (browsers treat loopback as secure)", map[string]string{"BETTER_AUTH_URL": "http://127.0.0.1:8787", "TRUSTED_ORIGINS": "http://localhost:5173"}, "none", true, true, "two sites"},
		{"http API, one site", map[string]string{"BETTER_AUTH_URL": "http://127.0.0.1:8787", "TRUSTED_ORIGINS": "http://127.0.0.1:5173"}, "lax", false, false, "one site"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, shape, err := resolve(t, tc.env)
			if err != nil {
				t.Fatal(err)
			}
			if s.SameSite != tc.sameSite || s.Secure != tc.secure || s.Partitioned != tc.part {
				t.Fatalf("samesite=%s secure=%t partitioned=%t, want %s %t %t", s.SameSite, s.Secure, s.Partitioned, tc.sameSite, tc.secure, tc.part)
			}
			if s.SameSite != shape.SameSite || s.Secure != shape.Secure || s.Partitioned != shape.Partitioned {
				t.Fatalf("settings %+v differ from the shape %+v", s, shape)
			}
			if !strings.Contains(shape.String(), tc.reason) {
				t.Fatalf("shape does not say %q: %s", tc.reason, shape)
			}
		})
	}
}

// A contradiction is a start-up error naming the variable, as config.Load's
// are, whether the contradicting SameSite was set or chosen.
func TestShapeContradictions(t *testing.T) {
	for _, tc := range []struct {
		env     map[string]string
		wantVar string
	}{
		{map[string]string{"BETTER_AUTH_URL": "https://api.example.com", "COOKIE_SAMESITE": "none", "COOKIE_SECURE": "false"}, "COOKIE_SAMESITE"},
		{map[string]string{"BETTER_AUTH_URL": "https://api.other.net", "TRUSTED_ORIGINS": "https://app.example.com", "COOKIE_SECURE": "false"}, "COOKIE_SAMESITE"},
		{map[string]string{"BETTER_AUTH_URL": "https://api.example.com", "COOKIE_PARTITIONED": "true", "COOKIE_SECURE": "false"}, "COOKIE_PARTITIONED"},
		{map[string]string{"BETTER_AUTH_URL": "http://127.0.0.1:8787", "TRUSTED_ORIGINS": "http://127.0.0.1:5173", "COOKIE_PARTITIONED": "true"}, "COOKIE_PARTITIONED"},
	} {
		_, _, err := resolve(t, tc.env)
		if err == nil || !strings.HasPrefix(err.Error(), tc.wantVar+": ") || strings.Contains(err.Error(), "\n") {
			t.Errorf("%v: error %v, want one line starting %q", tc.env, err, tc.wantVar)
		}
	}
}

func TestLocalDefaultsAreTwoSites(t *testing.T) {
	c, err := config.Load(func(string) string { return "" }, true)
	if err != nil {
		t.Fatal(err)
	}
	// make dev's SPA at http://localhost:5173 is another site than the API
	// at http://127.0.0.1:8787: the two-site cookies, with no setting.
	s, shape, err := cookie.Resolve(c)
	if err != nil || s.SameSite != "none" || !s.Secure || !s.Partitioned || s.Prefix != "better-auth" || !strings.Contains(shape.Reason, "two sites") {
		t.Fatalf("local cookies: %+v %+v %v", s, shape, err)
	}
}
