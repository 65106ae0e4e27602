package localgateway

import (
	"bytes"
	"context"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/awslabs/aws-lambda-go-api-proxy/httpadapter"

	"adstudio/internal/routes"
)

// invokerFunc adapts a function to Invoker.
type invokerFunc func(ctx context.Context, payload []byte) ([]byte, error)

func (f invokerFunc) Invoke(ctx context.Context, payload []byte) ([]byte, error) {
	return f(ctx, payload)
}

// adapterInvoker runs payloads through the same net/http adapter the
// functions use (httpadapter.NewV2), in front of h, and records them.
type adapterInvoker struct {
	h        http.Handler
	mu       sync.Mutex
	payloads [][]byte
}

func (a *adapterInvoker) Invoke(ctx context.Context, payload []byte) ([]byte, error) {
	a.mu.Lock()
	a.payloads = append(a.payloads, payload)
	a.mu.Unlock()
	var ev events.APIGatewayV2HTTPRequest
	if err := json.Unmarshal(payload, &ev); err != nil {
		return nil, err
	}
	res, err := httpadapter.NewV2(a.h).ProxyWithContext(ctx, ev)
	if err != nil {
		return json.Marshal(map[string]string{"errorMessage": err.Error(), "errorType": "errorString"})
	}
	return json.Marshal(res)
}

func (a *adapterInvoker) last(t *testing.T) events.APIGatewayV2HTTPRequest {
	t.Helper()
	a.mu.Lock()
	defer a.mu.Unlock()
	var ev events.APIGatewayV2HTTPRequest
	if len(a.payloads) == 0 {
		t.Fatal("no invocation")
	}
	json.Unmarshal(a.payloads[len(a.payloads)-1], &ev)
	return ev
}

// echo answers with what the function's handler saw, and sets two cookies
// and a binary body on request.
func echo(fn routes.Function) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		if r.URL.Query().Get("png") != "" {
			w.Header().Set("Content-Type", "image/png")
			w.Write([]byte("\x89PNG\r\n\x1a\n\xff\x00"))
			return
		}
		http.SetCookie(w, &http.Cookie{Name: "a", Value: "1", Path: "/"})
		http.SetCookie(w, &http.Cookie{Name: "b", Value: "2", Path: "/", HttpOnly: true})
		var cookies []string
		for _, c := range r.Cookies() {
			cookies = append(cookies, c.Name+"="+c.Value)
		}
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(map[string]any{
			"function": fn, "method": r.Method, "path": r.URL.Path, "query": r.URL.RawQuery,
			"remote": r.RemoteAddr, "cookies": cookies, "body": string(body), "bodyHex": hex.EncodeToString(body), "origin": r.Header.Get("Origin"),
			"id": r.PathValue("id"),
		})
	})
}

func newTestGateway(t *testing.T, fns map[routes.Function]Invoker) (*Gateway, *httptest.Server) {
	t.Helper()
	g, err := NewGateway(fns, "8787", nil)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(g)
	t.Cleanup(func() {
		srv.Close()
		g.Shutdown()
	})
	return g, srv
}

func adapters() (map[routes.Function]Invoker, map[routes.Function]*adapterInvoker) {
	fns := map[routes.Function]Invoker{}
	raw := map[routes.Function]*adapterInvoker{}
	for _, fn := range routes.Functions() {
		a := &adapterInvoker{h: echo(fn)}
		fns[fn], raw[fn] = a, a
	}
	return fns, raw
}

func do(t *testing.T, req *http.Request) (*http.Response, []byte) {
	t.Helper()
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res, b
}

// Through the real adapter: what the handler sees is what the client sent,
// and what it answers is what the client gets.
func TestGatewayRoundTripThroughAdapter(t *testing.T) {
	fns, raw := adapters()
	_, srv := newTestGateway(t, fns)

	req, _ := http.NewRequest("POST", srv.URL+"/api/auth/sign-in/email?x=1&x=2", strings.NewReader(`{"email":"a@example.com"}`))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Origin", "http://localhost:5173")
	req.Header.Set("Cookie", "better-auth.session_token=abc.def; other=1")
	req.Header.Set("X-Forwarded-For", "203.0.113.9")
	res, body := do(t, req)
	if res.StatusCode != 200 {
		t.Fatalf("%d %s", res.StatusCode, body)
	}
	var seen map[string]any
	json.Unmarshal(body, &seen)
	if seen["function"] != "auth" || seen["method"] != "POST" || seen["path"] != "/api/auth/sign-in/email" || seen["query"] != "x=1&x=2" ||
		seen["body"] != `{"email":"a@example.com"}` || seen["origin"] != "http://localhost:5173" || seen["remote"] != "127.0.0.1" {
		t.Errorf("handler saw %v", seen)
	}
	if c, _ := json.Marshal(seen["cookies"]); string(c) != `["better-auth.session_token=abc.def","other=1"]` {
		t.Errorf("handler cookies %s", c)
	}
	if got := res.Header.Values("Set-Cookie"); len(got) != 2 || got[0] != "a=1; Path=/" || got[1] != "b=2; Path=/; HttpOnly" {
		t.Errorf("Set-Cookie %q", got)
	}
	if res.Header.Get("Apigw-Requestid") == "" {
		t.Error("no Apigw-Requestid")
	}
	ev := raw[routes.Auth].last(t)
	if ev.RouteKey != "POST /api/auth/sign-in/email" || ev.Headers["x-forwarded-for"] != "203.0.113.9, 127.0.0.1" || ev.RequestContext.HTTP.SourceIP != "127.0.0.1" {
		t.Errorf("event %+v", ev)
	}

	// Path parameters, and a binary response body.
	res, body = do(t, mustReq("GET", srv.URL+"/api/history/gen-1/asset?png=1", nil))
	if res.StatusCode != 200 || res.Header.Get("Content-Type") != "image/png" || !bytes.Equal(body, []byte("\x89PNG\r\n\x1a\n\xff\x00")) {
		t.Errorf("binary: %d %v %q", res.StatusCode, res.Header, body)
	}
	if ev := raw[routes.ImageProxy].last(t); ev.PathParameters["id"] != "gen-1" || ev.RouteKey != "GET /api/history/{id}/asset" {
		t.Errorf("asset event: %v %q", ev.PathParameters, ev.RouteKey)
	}

	// A binary request body arrives intact.
	bin := []byte{0xff, 0x00, 0x41, 0x80}
	req = mustReq("POST", srv.URL+"/api/workflows/image-from-text", bytes.NewReader(bin))
	req.Header.Set("Content-Type", "application/octet-stream")
	res, body = do(t, req)
	json.Unmarshal(body, &seen)
	if res.StatusCode != 200 || seen["bodyHex"] != hex.EncodeToString(bin) || seen["function"] != "generate" {
		t.Errorf("binary request: %d %v", res.StatusCode, seen)
	}
	if ev := raw[routes.Generate].last(t); !ev.IsBase64Encoded {
		t.Error("binary request body not base64 in the event")
	}
}

func mustReq(method, url string, body io.Reader) *http.Request {
	r, err := http.NewRequest(method, url, body)
	if err != nil {
		panic(err)
	}
	return r
}

func TestGatewayRoutingToFunctions(t *testing.T) {
	fns, raw := adapters()
	_, srv := newTestGateway(t, fns)
	for _, c := range []struct {
		method, path string
		fn           routes.Function
		key          string
	}{
		{"GET", "/api/health", routes.Auth, "GET /api/health"},
		{"GET", "/api/me", routes.Auth, "GET /api/me"},
		{"OPTIONS", "/api/history", routes.Auth, routes.PreflightKey},
		{"OPTIONS", "/api/workflows/image-from-text", routes.Generate, "ANY /api/workflows/{proxy+}"},
		{"GET", "/api/history", routes.History, "GET /api/history"},
		{"DELETE", "/api/history/x", routes.History, "DELETE /api/history/{id}"},
		{"GET", "/api/history/x/asset", routes.ImageProxy, "GET /api/history/{id}/asset"},
	} {
		before := len(raw[c.fn].payloads)
		res, body := do(t, mustReq(c.method, srv.URL+c.path, nil))
		if res.StatusCode != 200 || len(raw[c.fn].payloads) != before+1 {
			t.Errorf("%s %s: %d %s (invocations of %s: %d → %d)", c.method, c.path, res.StatusCode, body, c.fn, before, len(raw[c.fn].payloads))
			continue
		}
		if ev := raw[c.fn].last(t); ev.RouteKey != c.key {
			t.Errorf("%s %s: routeKey %q, want %q", c.method, c.path, ev.RouteKey, c.key)
		}
	}
	for _, c := range [][2]string{{"GET", "/"}, {"GET", "/api/nope"}, {"HEAD", "/api/health"}, {"PUT", "/api/me"}, {"GET", "/api/history/a/b/c"}} {
		res, body := do(t, mustReq(c[0], srv.URL+c[1], nil))
		if res.StatusCode != 404 || (c[0] != "HEAD" && string(body) != `{"message":"Not Found"}`) || res.Header.Get("Content-Type") != "application/json" {
			t.Errorf("%s %s: %d %q, want API Gateway's 404", c[0], c[1], res.StatusCode, body)
		}
	}
}

func TestGatewayErrors(t *testing.T) {
	// The history function never answers until the test ends, on a gateway
	// of its own whose integration timeout is a nanosecond: the timeout is
	// the only way its requests can end, however slow the machine. The
	// other functions answer at once, on a gateway whose timeout no test
	// reaches.
	release := make(chan struct{})
	defer close(release)
	sg, stuck := newTestGateway(t, map[routes.Function]Invoker{
		routes.History: invokerFunc(func(ctx context.Context, p []byte) ([]byte, error) {
			select {
			case <-release:
			case <-ctx.Done():
			}
			return []byte(`{"statusCode":200,"body":"late"}`), nil
		}),
	})
	sg.Timeout = time.Nanosecond
	fns := map[routes.Function]Invoker{
		routes.Auth: invokerFunc(func(ctx context.Context, p []byte) ([]byte, error) {
			return []byte(`{"errorMessage":"boom","errorType":"errorString"}`), nil
		}),
		routes.Generate: invokerFunc(func(ctx context.Context, p []byte) ([]byte, error) {
			return []byte(`{"statusCode":200,"body":"ok"}`), nil
		}),
	}
	g, srv := newTestGateway(t, fns)
	g.Timeout = time.Hour

	res, body := do(t, mustReq("GET", srv.URL+"/api/health", nil))
	if res.StatusCode != 500 || string(body) != `{"message":"Internal Server Error"}` {
		t.Errorf("function error: %d %s", res.StatusCode, body)
	}
	res, body = do(t, mustReq("GET", stuck.URL+"/api/history", nil))
	if res.StatusCode != 503 || string(body) != `{"message":"Service Unavailable"}` {
		t.Errorf("integration timeout: %d %s", res.StatusCode, body)
	}
	big := bytes.Repeat([]byte("x"), MaxRequestBody+1)
	res, body = do(t, mustReq("POST", srv.URL+"/api/workflows/image-from-text", bytes.NewReader(big)))
	if res.StatusCode != 413 || string(body) != `{"message":"Request Entity Too Large"}` {
		t.Errorf("11 MB body: %d %s", res.StatusCode, body)
	}
	// Over Lambda's 6 MB event limit but under API Gateway's 10 MB.
	res, _ = do(t, mustReq("POST", srv.URL+"/api/workflows/image-from-text", bytes.NewReader(big[:7<<20])))
	if res.StatusCode != 413 {
		t.Errorf("7 MB body: %d", res.StatusCode)
	}
	res, body = do(t, mustReq("GET", srv.URL+"/api/history/x/asset", nil)) // imageproxy not deployed here
	if res.StatusCode != 500 {
		t.Errorf("missing function: %d %s", res.StatusCode, body)
	}
}

func TestInvokeAPI(t *testing.T) {
	got := make(chan string, 4)
	fns := map[routes.Function]Invoker{
		routes.Generate: invokerFunc(func(ctx context.Context, p []byte) ([]byte, error) {
			got <- string(p)
			if strings.Contains(string(p), "fail") {
				return []byte(`{"errorMessage":"bad","errorType":"errorString"}`), nil
			}
			return []byte(`{"swept":2}`), nil
		}),
	}
	_, srv := newTestGateway(t, fns)
	invoke := func(name, typ, payload string) (*http.Response, []byte) {
		req := mustReq("POST", srv.URL+"/2015-03-31/functions/"+name+"/invocations", strings.NewReader(payload))
		if typ != "" {
			req.Header.Set("X-Amz-Invocation-Type", typ)
		}
		return do(t, req)
	}

	res, body := invoke("generate", "", `{"adstudio":"sweep"}`)
	if res.StatusCode != 200 || string(body) != `{"swept":2}` || res.Header.Get("X-Amz-Function-Error") != "" || <-got != `{"adstudio":"sweep"}` {
		t.Errorf("RequestResponse: %d %s %v", res.StatusCode, body, res.Header)
	}
	res, body = invoke("arn:aws:lambda:us-east-1:123456789012:function:generate:$LATEST", "RequestResponse", `{"fail":1}`)
	if res.StatusCode != 200 || res.Header.Get("X-Amz-Function-Error") != "Unhandled" || !strings.Contains(string(body), "errorMessage") {
		t.Errorf("function error: %d %s %v", res.StatusCode, body, res.Header)
	}
	<-got

	res, body = invoke("generate", "Event", `{"adstudio":"continue","generationId":"g1"}`)
	if res.StatusCode != 202 || len(body) != 0 || res.Header.Get("X-Amzn-Requestid") == "" {
		t.Errorf("Event: %d %q", res.StatusCode, body)
	}
	// The asynchronous invocation runs after the 202; the test waits for
	// it, however long it takes.
	if p := <-got; p != `{"adstudio":"continue","generationId":"g1"}` {
		t.Errorf("async payload %s", p)
	}

	res, body = invoke("nope", "Event", `{}`)
	var e map[string]string
	json.Unmarshal(body, &e)
	if res.StatusCode != 404 || res.Header.Get("X-Amzn-ErrorType") != "ResourceNotFoundException" || e["Type"] != "User" ||
		e["Message"] != "Function not found: arn:aws:lambda:us-east-1:123456789012:function:nope" {
		t.Errorf("unknown function: %d %s %v", res.StatusCode, body, res.Header)
	}
	res, _ = invoke("generate", "Event", strings.Repeat("x", MaxAsyncPayload+1))
	if res.StatusCode != 413 || res.Header.Get("X-Amzn-ErrorType") != "RequestTooLargeException" {
		t.Errorf("big async payload: %d", res.StatusCode)
	}
	res, _ = invoke("generate", "DryRun", `{}`)
	if res.StatusCode != 204 {
		t.Errorf("DryRun: %d", res.StatusCode)
	}
}

func TestFunctionName(t *testing.T) {
	for in, want := range map[string]string{
		"generate": "generate", "generate:$LATEST": "generate", "123456789012:function:generate": "generate",
		"arn:aws:lambda:us-east-1:123456789012:function:generate": "generate", "arn:aws:lambda:eu-west-1:1:function:auth:prod": "auth",
	} {
		if got := functionName(in); got != want {
			t.Errorf("%s: %s, want %s", in, got, want)
		}
	}
}
