package lambdaentry

import (
	"context"
	"encoding/json"
	"net/http"
	"testing"

	"github.com/aws/aws-lambda-go/events"
)

// TestHandlerKeepsHeaderValues: a header API Gateway delivers as one
// comma-holding string reaches the handler as that one value, not cut at
// its commas by the adapter; cookies still come from the event's list.
func TestHandlerKeepsHeaderValues(t *testing.T) {
	var got http.Header
	h := Handler(Function{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got = r.Header.Clone()
		w.WriteHeader(http.StatusNoContent)
	})})
	headers := map[string]string{
		"user-agent":       "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/156.0 Safari/537.36",
		"stripe-signature": "t=1764000000,v1=abc,v1=def",
		"if-none-match":    `"a", "b"`,
		"x-forwarded-for":  "203.0.113.7, 10.0.0.1",
	}
	raw, _ := json.Marshal(events.APIGatewayV2HTTPRequest{
		Version: "2.0", RawPath: "/api/health", Headers: headers, Cookies: []string{"a=1", "b=2"},
		RequestContext: events.APIGatewayV2HTTPRequestContext{HTTP: events.APIGatewayV2HTTPRequestContextHTTPDescription{Method: "GET", Path: "/api/health"}},
	})
	if _, err := h(context.Background(), raw); err != nil {
		t.Fatal(err)
	}
	for k, v := range headers {
		if vs := got.Values(k); len(vs) != 1 || vs[0] != v {
			t.Errorf("%s: %q, want the one value %q", k, vs, v)
		}
	}
	if cs := (&http.Request{Header: got}).Cookies(); len(cs) != 2 || cs[0].String() != "a=1" || cs[1].String() != "b=2" {
		t.Errorf("cookies %v from %q", cs, got.Values("Cookie"))
	}
}
