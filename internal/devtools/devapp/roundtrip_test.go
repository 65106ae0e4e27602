package devapp_test

import (
	"strings"
	"testing"
)

// TestRoundTrips pins the number of database calls each endpoint makes (with
// rate limiting on, as in production): on Turso every one is a network round
// trip from the Lambda. The README's table is this table. Only the password
// and mail paths pay a rate-limit statement; every other /api/auth path is
// counted in the process, so a read answered from the cookie cache makes none.
func TestRoundTrips(t *testing.T) {
	t.Parallel()
	// The harness turns rate limits off; these counts are with them on.
	ts := newServer(t, map[string]string{"RATE_LIMIT_ENABLED": "true"})
	if !ts.app.Config.RateLimitEnabled {
		t.Fatal("rate limits are off: the counts below would not include them")
	}
	b := ts.browser()
	count := func(name string, want int64, f func() resp) {
		t.Helper()
		before := ts.app.DB.RoundTrips()
		r := f()
		if r.StatusCode >= 500 {
			t.Fatalf("%s: %d", name, r.StatusCode)
		}
		if got := ts.app.DB.RoundTrips() - before; got != want {
			t.Errorf("%s: %d round trips, want %d", name, got, want)
		}
	}
	count("sign-up", 2, func() resp { return b.signUp(t, "rt@example.com", "password123") })
	count("get-session (cache hit)", 0, func() resp { return b.do(t, "GET", "/api/auth/get-session", nil, nil) })
	count("get-session (cache miss)", 1, func() resp { return b.do(t, "GET", "/api/auth/get-session?disableCookieCache=1", nil, nil) })
	count("get-session (signed out)", 0, func() resp { return ts.browser().do(t, "GET", "/api/auth/get-session", nil, nil) })
	count("/api/me (cache hit)", 1, func() resp { return b.do(t, "GET", "/api/me", nil, nil) })
	count("/api/health", 0, func() resp { return b.do(t, "GET", "/api/health", nil, nil) })
	count("sign-in", 3, func() resp { return ts.browser().signIn(t, "rt@example.com", "password123") })
	count("sign-in (wrong password)", 3, func() resp { return ts.browser().signIn(t, "rt@example.com", "wrong-password") })
	count("update-user", 2, func() resp { return b.do(t, "POST", "/api/auth/update-user", map[string]any{"name": "N"}, nil) })
	count("list-sessions", 2, func() resp { return b.do(t, "GET", "/api/auth/list-sessions", nil, nil) })
	count("list-accounts", 2, func() resp { return b.do(t, "GET", "/api/auth/list-accounts", nil, nil) })
	count("revoke-other-sessions", 2, func() resp { return b.do(t, "POST", "/api/auth/revoke-other-sessions", map[string]any{}, nil) })
	count("change-password", 4, func() resp {
		return b.do(t, "POST", "/api/auth/change-password", map[string]any{"currentPassword": "password123", "newPassword": "password1234"}, nil)
	})
	count("sign-out", 1, func() resp { return b.do(t, "POST", "/api/auth/sign-out", map[string]any{}, nil) })

	// The general limit is really on, and refusing costs one audit row per
	// client and window (the first refusal), then nothing: get-session has
	// had 3 of its 100 requests in this window.
	before := ts.app.DB.RoundTrips()
	limited := 0
	for range 100 {
		if r := ts.browser().do(t, "GET", "/api/auth/get-session", nil, nil); r.StatusCode == 429 {
			limited++
		}
	}
	if limited != 3 {
		t.Errorf("%d of 100 more get-session requests limited, want 3", limited)
	}
	if got := ts.app.DB.RoundTrips() - before; got != 1 {
		t.Errorf("get-session under the general limit: %d round trips, want 1", got)
	}
}

func TestRoundTripsAppAPI(t *testing.T) {
	t.Parallel()
	// Rate limits on, as in production: workflow POSTs and deletes pay one
	// per-user counter each.
	img := referenceServer(t)
	ts, _ := newGenServer(t, map[string]string{"RATE_LIMIT_ENABLED": "true", "FETCH_ALLOW_HOSTS": strings.TrimPrefix(img, "http://")})
	b := ts.browser()
	b.signUp(t, "rtapp@example.com", "password123")
	count := func(name string, want int64, f func() resp) string {
		t.Helper()
		before := ts.app.DB.RoundTrips()
		r := f()
		if got := ts.app.DB.RoundTrips() - before; got != want {
			t.Errorf("%s: %d round trips, want %d (%d %s)", name, got, want, r.StatusCode, r.body)
		}
		if r.Header.Get("Content-Type") != "application/json" {
			return ""
		}
		id, _ := r.json(t)["generationId"].(string)
		return id
	}
	id := count("generate (success)", 4, func() resp { return b.do(t, "POST", "/api/workflows/image-from-text", spaTextPayload("mug"), nil) })
	count("generate (out of credits)", 4, func() resp { return b.do(t, "POST", "/api/workflows/image-from-text", spaTextPayload("mug"), nil) })
	count("generate (provider error)", 4, func() resp {
		return b.do(t, "POST", "/api/workflows/image-from-reference", map[string]any{"prompt": "x [fake:internal]", "referenceImageUrl": pngDataURL(t)}, nil)
	})
	count("generate (reference URL)", 5, func() resp {
		return b.do(t, "POST", "/api/workflows/image-from-reference", map[string]any{"prompt": "x", "referenceImageUrl": img + "/photo.png"}, nil)
	})
	count("generate (reference URL, out of credits)", 3, func() resp {
		return b.do(t, "POST", "/api/workflows/image-from-reference", map[string]any{"prompt": "x", "referenceImageUrl": img + "/photo.png"}, nil)
	})
	count("generate (invalid body)", 2, func() resp { return b.do(t, "POST", "/api/workflows/image-from-text", map[string]any{}, nil) })
	count("history list", 2, func() resp { return b.do(t, "GET", "/api/history", nil, nil) })
	count("history detail", 2, func() resp { return b.do(t, "GET", "/api/history/"+id, nil, nil) })
	count("asset", 2, func() resp { return b.do(t, "GET", "/api/history/"+id+"/asset", nil, nil) })
	// A signed link needs no session: the row is its only read.
	link := relative(t, ts, b.do(t, "GET", "/api/history/"+id, nil, nil).json(t)["item"].(map[string]any)["assetUrl"])
	count("asset (signed link, no cookie)", 1, func() resp { return ts.browser().do(t, "GET", link, nil, nil) })
	// An upload URL: the session and the per-user counter; signing is local.
	count("upload", 2, func() resp {
		return b.do(t, "POST", "/api/uploads", map[string]any{"contentType": "image/png", "size": 1000}, nil)
	})
	count("delete", 4, func() resp { return b.do(t, "DELETE", "/api/history/"+id, nil, nil) })
}
