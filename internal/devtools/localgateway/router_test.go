package localgateway

import (
	"strings"
	"testing"

	"adstudio/internal/routes"
)

func newRouter(t *testing.T) *Router {
	t.Helper()
	keys, err := routes.GatewayRoutes()
	if err != nil {
		t.Fatal(err)
	}
	rt, err := NewRouter(keys)
	if err != nil {
		t.Fatal(err)
	}
	return rt
}

// samplePath fills a route key's variables: {id} → "v-id", {proxy+} →
// "a/b".
func samplePath(key string) (method, path string, params map[string]string) {
	method, path, _ = strings.Cut(key, " ")
	segs := strings.Split(path, "/")
	for i, s := range segs {
		switch {
		case strings.HasSuffix(s, "+}"):
			name := s[1 : len(s)-2]
			segs[i] = "a/b"
			params = map[string]string{name: "a/b"}
		case strings.HasPrefix(s, "{"):
			name := s[1 : len(s)-1]
			segs[i] = "v-" + name
			if params == nil {
				params = map[string]string{}
			}
			params[name] = "v-" + name
		}
	}
	if method == "ANY" {
		method = "PATCH"
	}
	return method, strings.Join(segs, "/"), params
}

// Every route of the table routes to itself, its function, and its path
// parameters, whatever the other keys are.
func TestRouterEveryRoute(t *testing.T) {
	rt := newRouter(t)
	keys, _ := routes.GatewayRoutes()
	if len(keys) != len(routes.Table())+1 {
		t.Fatalf("%d gateway routes for %d table routes", len(keys), len(routes.Table()))
	}
	for _, gr := range keys {
		method, path, params := samplePath(gr.Key)
		m, ok := rt.Match(method, path)
		if !ok || m.Key != gr.Key || m.Function != gr.Function {
			t.Errorf("%s %s: matched %+v (%v), want %s → %s", method, path, m, ok, gr.Key, gr.Function)
			continue
		}
		if len(params) != len(m.PathParameters) {
			t.Errorf("%s %s: path parameters %v, want %v", method, path, m.PathParameters, params)
		}
		for k, v := range params {
			if m.PathParameters[k] != v {
				t.Errorf("%s %s: path parameter %s = %q, want %q", method, path, k, m.PathParameters[k], v)
			}
		}
	}
}

func TestRouterSpecificity(t *testing.T) {
	rt := newRouter(t)
	cases := []struct {
		method, path string
		key          string // "" = API Gateway's 404
		fn           routes.Function
	}{
		{"GET", "/api/health", "GET /api/health", routes.Auth},
		{"GET", "/api/history/abc/asset", "GET /api/history/{id}/asset", routes.ImageProxy},
		{"DELETE", "/api/history/abc", "DELETE /api/history/{id}", routes.History},
		{"GET", "/api/workflows/image-from-text", "ANY /api/workflows/{proxy+}", routes.Generate},
		{"POST", "/api/workflows/image-from-text", "POST /api/workflows/image-from-text", routes.Generate},
		// Preflights: the catch-all OPTIONS route goes to auth, except below
		// /api/workflows/ and /api/auth/, where the more specific ANY route wins.
		{"OPTIONS", "/api/auth/sign-in/email", "ANY /api/auth/{proxy+}", routes.Auth},
		{"OPTIONS", "/api/history/abc/asset", "OPTIONS /{proxy+}", routes.Auth},
		{"OPTIONS", "/anything/at/all", "OPTIONS /{proxy+}", routes.Auth},
		{"OPTIONS", "/api/workflows/image-from-text", "ANY /api/workflows/{proxy+}", routes.Generate},
		// Unrouted: API Gateway answers these itself.
		{"OPTIONS", "/", "", ""},
		{"GET", "/", "", ""},
		{"HEAD", "/api/health", "", ""}, // a GET route does not take HEAD
		{"POST", "/api/health", "", ""},
		{"GET", "/api/auth/unknown", "ANY /api/auth/{proxy+}", routes.Auth}, // better-auth's own 404
		{"GET", "/api/unknown", "", ""},
		{"GET", "/api/workflows", "", ""},
		{"GET", "/api/workflows/", "", ""}, // {proxy+} needs a segment
		{"GET", "/api/history/", "", ""},   // {id} needs a segment
		{"GET", "/api/history/a/b", "", ""},
		{"GET", "/api/me/", "", ""},
		{"GET", "/API/me", "", ""},
	}
	for _, c := range cases {
		m, ok := rt.Match(c.method, c.path)
		if c.key == "" {
			if ok {
				t.Errorf("%s %s: matched %s, want no route", c.method, c.path, m.Key)
			}
			continue
		}
		if !ok || m.Key != c.key || m.Function != c.fn {
			t.Errorf("%s %s: %+v (%v), want %s → %s", c.method, c.path, m, ok, c.key, c.fn)
		}
	}
	if m, _ := rt.Match("OPTIONS", "/api/me"); m.PathParameters["proxy"] != "api/me" {
		t.Errorf("preflight proxy parameter: %v", m.PathParameters)
	}
}

func TestNewRouterRejectsBadKeys(t *testing.T) {
	for _, key := range []string{"GET", "GET api", "GET /{a+}/b"} {
		if _, err := NewRouter([]routes.GatewayRoute{{Key: key, Function: routes.Auth}}); err == nil {
			t.Errorf("%q accepted", key)
		}
	}
}
