package historyapi_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"adstudio/internal/assetlink"
	"adstudio/internal/auth/cookie"
	"adstudio/internal/devtools/apitest"
)

// get sends one GET to the image proxy with the given cookie ("" for none).
func get(t *testing.T, env *apitest.Env, path, cookie string, header ...string) (*http.Response, string) {
	t.Helper()
	req := httptest.NewRequest("GET", path, nil)
	if cookie != "" {
		req.Header.Set("Cookie", cookie)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	rec := httptest.NewRecorder()
	env.Handler.ServeHTTP(rec, req)
	res := rec.Result()
	b, _ := io.ReadAll(res.Body)
	return res, string(b)
}

// link is the signed asset path of a user's generation, as the history
// answers carry it.
func link(t *testing.T, env *apitest.Env, email, id, variant string) string {
	t.Helper()
	return "/api/history/" + id + "/asset?" + env.Core.Links.Query(env.UserID(t, email), id, variant)
}

// TestSignedLinks: a signed link opens its one image without a cookie
// (an <img> or a new tab in the two-site shape), until it expires; any
// other use of it is answered as a stranger's request is.
func TestSignedLinks(t *testing.T) {
	env := newAssetEnv(t)
	withThumbnails(t, env)
	annCookie := env.Cookie
	full := link(t, env, "ann@example.com", "g1", "")
	thumb := link(t, env, "ann@example.com", "g1", "thumbnail")
	bobs := link(t, env, "bob@example.com", "b1", "")

	res, body := get(t, env, full, "")
	if res.StatusCode != 200 || res.Header.Get("Content-Type") != "image/png" || body != string(pngBytes(t)) {
		t.Fatalf("signed full image without a cookie: %d %v", res.StatusCode, res.Header)
	}
	etag := res.Header.Get("ETag")
	if res, _ := get(t, env, full, "", "If-None-Match", etag); res.StatusCode != 304 {
		t.Errorf("signed link, If-None-Match: %d, want 304", res.StatusCode)
	}
	res, body = get(t, env, thumb, "")
	if res.StatusCode != 200 || res.Header.Get("Content-Type") != "image/jpeg" || body != string(jpegBytes(t)) {
		t.Fatalf("signed thumbnail without a cookie: %d %v", res.StatusCode, res.Header)
	}

	refused := func(name, path, cookie string) {
		t.Helper()
		res, body := get(t, env, path, cookie)
		if res.StatusCode != 404 || body != assetNotFound {
			t.Errorf("%s: %d %s, want 404 %s", name, res.StatusCode, body, assetNotFound)
		}
	}
	q, _ := url.ParseQuery(strings.SplitN(full, "?", 2)[1])
	sig, exp := q.Get(assetlink.ParamSignature), q.Get(assetlink.ParamExpires)
	bq, _ := url.ParseQuery(strings.SplitN(bobs, "?", 2)[1])
	tampered := "A" + sig[1:]
	if sig[0] == 'A' {
		tampered = "B" + sig[1:]
	}
	refused("tampered signature", "/api/history/g1/asset?exp="+exp+"&sig="+tampered, "")
	refused("later expiry, same signature", "/api/history/g1/asset?exp=9"+exp+"&sig="+sig, "")
	refused("signature only", "/api/history/g1/asset?sig="+sig, "")
	refused("the full image's link asking for the thumbnail", "/api/history/g1/asset?variant=thumbnail&exp="+exp+"&sig="+sig, "")
	refused("Bob's signature on Ann's image", "/api/history/g1/asset?exp="+bq.Get("exp")+"&sig="+bq.Get("sig"), "")
	refused("Ann's signature on Bob's image", "/api/history/b1/asset?exp="+exp+"&sig="+sig, "")
	refused("Bob's link with Ann's cookie is still only Bob's", "/api/history/b1/asset?exp="+exp+"&sig="+sig, annCookie)
	refused("a link to a missing generation", "/api/history/nope/asset?exp="+exp+"&sig="+sig, "")

	// Rotation: the old secret still listed keeps its links; dropped, ends them.
	old := env.Core.Links.Keys
	const fresh = "a-brand-new-secret-that-is-long-enough-0001"
	env.Core.Links.Keys = cookie.NewSigner(append([]string{fresh}, env.Core.Config.Secrets...))
	if res, _ := get(t, env, full, ""); res.StatusCode != 200 {
		t.Errorf("after rotation, with the old secret still listed: %d", res.StatusCode)
	}
	env.Core.Links.Keys = cookie.NewSigner([]string{fresh})
	refused("after the old secret is dropped", full, "")
	env.Core.Links.Keys = old

	// Expiry.
	env.Clock.Advance(env.Core.Config.AssetLinkTTL + env.Core.Config.AssetLinkTTL/4 + time.Second)
	refused("expired", full, "")
	refused("expired thumbnail", thumb, "")
	// The owner with their cookie still sees their image through an old link.
	if res, _ := get(t, env, full, annCookie); res.StatusCode != 200 {
		t.Errorf("expired link with the owner's cookie: %d, want 200", res.StatusCode)
	}
	// A fresh link works again.
	if res, _ := get(t, env, link(t, env, "ann@example.com", "g1", ""), ""); res.StatusCode != 200 {
		t.Errorf("a fresh link after the old one expired: %d", res.StatusCode)
	}
}
