package routes

import "testing"

func TestGatewayKey(t *testing.T) {
	for _, c := range []struct{ method, path, want string }{
		{"GET", "/api/history/{id}", "GET /api/history/{id}"},
		{"", "/api/workflows/", "ANY /api/workflows/{proxy+}"},
		{"", "/api/x", "ANY /api/x"},
		{"get", "/files/{path...}", "GET /files/{path+}"},
		{"GET", "/exact/{$}", "GET /exact"},
		{"", "/", "ANY /{proxy+}"},
	} {
		got, err := Route{Method: c.method, Path: c.path}.GatewayKey()
		if err != nil || got != c.want {
			t.Errorf("GatewayKey(%q %q) = %q, %v; want %q", c.method, c.path, got, err, c.want)
		}
	}
	for _, p := range []string{"/a/{x...}/b", "api/x"} {
		if k, err := (Route{Path: p}).GatewayKey(); err == nil {
			t.Errorf("GatewayKey(%q) = %q, want an error", p, k)
		}
	}
	routes, err := GatewayRoutes()
	if err != nil {
		t.Fatal(err)
	}
	if len(routes) != len(Table())+1 || routes[len(routes)-1] != (GatewayRoute{PreflightKey, Auth}) {
		t.Errorf("GatewayRoutes: %d routes, last %v", len(routes), routes[len(routes)-1])
	}
}
