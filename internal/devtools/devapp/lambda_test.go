package devapp_test

import (
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/events"
	"github.com/awslabs/aws-lambda-go-api-proxy/httpadapter"

	"adstudio/internal/routes"
)

// TestLambdaAdapter drives the auth function's handler the way Lambda does:
// API Gateway v2 events through the same adapter the mains use. Cookies
// arrive in the event's cookies array and leave in the response's; the
// client address is the gateway's sourceIp; routes another function owns
// are not served here.
func TestLambdaAdapter(t *testing.T) {
	t.Parallel()
	ts := newServer(t, map[string]string{"RATE_LIMIT_ENABLED": "true"})
	adapter := httpadapter.NewV2(ts.app.Handler(routes.Auth))
	event := func(method, path, body string, cookies []string, ip string) events.APIGatewayV2HTTPResponse {
		t.Helper()
		ev := events.APIGatewayV2HTTPRequest{
			RawPath: path,
			Headers: map[string]string{"content-type": "application/json", "origin": spaOrigin, "x-forwarded-for": "203.0.113.9"},
			Cookies: cookies,
			Body:    body,
			RequestContext: events.APIGatewayV2HTTPRequestContext{
				DomainName: "api.example.com",
				HTTP:       events.APIGatewayV2HTTPRequestContextHTTPDescription{Method: method, Path: path, SourceIP: ip},
			},
		}
		res, err := adapter.ProxyWithContext(t.Context(), ev)
		if err != nil {
			t.Fatalf("%s %s: %v", method, path, err)
		}
		return res
	}
	res := event("POST", "/api/auth/sign-up/email", `{"name":"L","email":"lambda@example.com","password":"password123"}`, nil, "198.51.100.7")
	if res.StatusCode != 200 || len(res.Cookies) != 2 || !strings.HasPrefix(res.Cookies[0], "better-auth.session_token=") {
		t.Fatalf("sign-up: %d cookies=%v body=%s", res.StatusCode, res.Cookies, res.Body)
	}
	var jar []string
	for _, c := range res.Cookies {
		jar = append(jar, strings.SplitN(c, ";", 2)[0])
	}
	res = event("GET", "/api/auth/get-session", "", jar, "198.51.100.7")
	if res.StatusCode != 200 || !strings.Contains(res.Body, `"email":"lambda@example.com"`) || !strings.Contains(res.Body, `"ipAddress":"198.51.100.7"`) {
		t.Fatalf("get-session: %d %s", res.StatusCode, res.Body)
	}
	// sourceIp keys the limiter; the forged X-Forwarded-For is ignored.
	for range 3 {
		event("POST", "/api/auth/sign-in/email", `{"email":"lambda@example.com","password":"bad-password"}`, nil, "192.0.2.1")
	}
	if res = event("POST", "/api/auth/sign-in/email", `{"email":"lambda@example.com","password":"bad-password"}`, nil, "192.0.2.1"); res.StatusCode != 429 {
		t.Fatalf("4th sign-in from one sourceIp: %d", res.StatusCode)
	}
	if res = event("POST", "/api/auth/sign-in/email", `{"email":"lambda@example.com","password":"bad-password"}`, nil, "192.0.2.2"); res.StatusCode != 401 {
		t.Fatalf("another sourceIp limited: %d", res.StatusCode)
	}

	// The generate function serves health but not the auth routes.
	gen := httpadapter.NewV2(ts.app.Handler(routes.Generate))
	for path, want := range map[string]int{"/api/health": 200, "/api/me": 404} {
		r, err := gen.ProxyWithContext(t.Context(), events.APIGatewayV2HTTPRequest{RawPath: path,
			RequestContext: events.APIGatewayV2HTTPRequestContext{HTTP: events.APIGatewayV2HTTPRequestContextHTTPDescription{Method: "GET", Path: path}}})
		if err != nil || r.StatusCode != want {
			t.Errorf("generate function %s: %d %v, want %d", path, r.StatusCode, err, want)
		}
	}
}
