package localgateway

import (
	"encoding/base64"
	"encoding/json"
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"
	"time"
)

var testNow = time.Date(2026, 11, 24, 17, 4, 5, 0, time.UTC)

func TestBuildEventHeadersCookiesQuery(t *testing.T) {
	r := httptest.NewRequest("GET", "http://api.example.test:8787/api/history/abc%2Fdef/asset?limit=5&tag=a&tag=b&empty=&x=%20y", nil)
	r.RemoteAddr = "192.0.2.10:51234"
	r.Header.Add("Cookie", "a=1; b=2")
	r.Header.Add("Cookie", "c=3")
	r.Header.Add("Accept", "text/html")
	r.Header.Add("Accept", "application/json")
	r.Header.Set("User-Agent", "probe/1.0 (x, y)")
	r.Header.Set("X-Forwarded-For", "203.0.113.7")
	r.Header.Set("Origin", "http://localhost:5173")
	m := Match{Key: "GET /api/history/{id}/asset", Function: "imageproxy", PathParameters: map[string]string{"id": "abc/def"}}

	ev := BuildEvent(r, Request{Match: m, RequestID: "req-1", Now: testNow, Scheme: "http", Port: "8787"})

	if ev.Version != "2.0" || ev.RouteKey != m.Key || ev.RequestContext.RouteKey != m.Key {
		t.Errorf("version/routeKey: %q %q %q", ev.Version, ev.RouteKey, ev.RequestContext.RouteKey)
	}
	if ev.RawPath != "/api/history/abc%2Fdef/asset" || ev.RequestContext.HTTP.Path != ev.RawPath {
		t.Errorf("rawPath %q, http.path %q", ev.RawPath, ev.RequestContext.HTTP.Path)
	}
	if ev.RawQueryString != "limit=5&tag=a&tag=b&empty=&x=%20y" {
		t.Errorf("rawQueryString %q", ev.RawQueryString)
	}
	wantQuery := map[string]string{"limit": "5", "tag": "a,b", "empty": "", "x": " y"}
	if !reflect.DeepEqual(ev.QueryStringParameters, wantQuery) {
		t.Errorf("queryStringParameters %v, want %v", ev.QueryStringParameters, wantQuery)
	}
	if want := []string{"a=1", "b=2", "c=3"}; !reflect.DeepEqual(ev.Cookies, want) {
		t.Errorf("cookies %q, want %q", ev.Cookies, want)
	}
	if _, ok := ev.Headers["cookie"]; ok {
		t.Error("the Cookie header stayed in headers")
	}
	for k := range ev.Headers {
		if k != strings.ToLower(k) {
			t.Errorf("header name %q is not lower-case", k)
		}
	}
	wantHeaders := map[string]string{
		"accept":            "text/html,application/json",
		"user-agent":        "probe/1.0 (x, y)",
		"origin":            "http://localhost:5173",
		"host":              "api.example.test:8787",
		"x-forwarded-for":   "203.0.113.7, 192.0.2.10",
		"x-forwarded-proto": "http",
		"x-forwarded-port":  "8787",
	}
	for k, v := range wantHeaders {
		if ev.Headers[k] != v {
			t.Errorf("header %s = %q, want %q", k, ev.Headers[k], v)
		}
	}
	if !strings.HasPrefix(ev.Headers["x-amzn-trace-id"], "Root=1-") {
		t.Errorf("x-amzn-trace-id %q", ev.Headers["x-amzn-trace-id"])
	}
	if !reflect.DeepEqual(ev.PathParameters, m.PathParameters) {
		t.Errorf("pathParameters %v", ev.PathParameters)
	}
	rc := ev.RequestContext
	// The client address is the TCP peer, never X-Forwarded-For.
	if rc.HTTP.SourceIP != "192.0.2.10" || rc.HTTP.Method != "GET" || rc.HTTP.Protocol != "HTTP/1.1" || rc.HTTP.UserAgent != "probe/1.0 (x, y)" {
		t.Errorf("requestContext.http %+v", rc.HTTP)
	}
	if rc.AccountID != AccountID || rc.APIID != APIID || rc.Stage != "$default" || rc.RequestID != "req-1" ||
		rc.DomainName != "api.example.test:8787" || rc.DomainPrefix != "api" ||
		rc.Time != "24/Nov/2026:17:04:05 +0000" || rc.TimeEpoch != testNow.UnixMilli() {
		t.Errorf("requestContext %+v", rc)
	}
	if ev.Body != "" || ev.IsBase64Encoded {
		t.Errorf("body %q base64=%v", ev.Body, ev.IsBase64Encoded)
	}

	// The JSON field names are the payload format's.
	raw, _ := json.Marshal(ev)
	for _, f := range []string{`"version":"2.0"`, `"routeKey"`, `"rawPath"`, `"rawQueryString"`, `"cookies"`, `"queryStringParameters"`, `"pathParameters"`, `"sourceIp"`, `"timeEpoch"`, `"isBase64Encoded":false`} {
		if !strings.Contains(string(raw), f) {
			t.Errorf("event JSON lacks %s: %s", f, raw)
		}
	}
}

func TestBuildEventNoCookiesNoQuery(t *testing.T) {
	r := httptest.NewRequest("GET", "http://127.0.0.1:8787/api/health", nil)
	ev := BuildEvent(r, Request{Match: Match{Key: "GET /api/health"}, Now: testNow})
	raw, _ := json.Marshal(ev)
	for _, f := range []string{`"cookies"`, `"queryStringParameters"`, `"pathParameters"`, `"body"`} {
		if strings.Contains(string(raw), f) {
			t.Errorf("event has %s: %s", f, raw)
		}
	}
	if ev.RequestContext.DomainPrefix != "127" || ev.Headers["x-forwarded-for"] != "192.0.2.1" {
		t.Errorf("domainPrefix %q, x-forwarded-for %q", ev.RequestContext.DomainPrefix, ev.Headers["x-forwarded-for"])
	}
}

func TestBuildEventBodies(t *testing.T) {
	png := []byte("\x89PNG\r\n\x1a\n\x00\x00")
	cases := []struct {
		contentType string
		body        []byte
		base64      bool
	}{
		{"application/json", []byte(`{"a":"é"}`), false},
		{"application/json; charset=utf-8", []byte(`{}`), false},
		{"text/plain", []byte("hello"), false},
		{"application/x-www-form-urlencoded", []byte("a=1&b=2"), false},
		{"application/problem+json", []byte(`{}`), false},
		{"image/png", png, true},
		{"application/octet-stream", []byte("plain ascii"), true},
		{"", []byte("no content type"), true},
		{"application/json", []byte{0xff, 0x00, 0x41}, true}, // not UTF-8: kept intact
	}
	for _, c := range cases {
		r := httptest.NewRequest("POST", "http://h/api/x", nil)
		if c.contentType != "" {
			r.Header.Set("Content-Type", c.contentType)
		}
		ev := BuildEvent(r, Request{Body: c.body, Now: testNow})
		if ev.IsBase64Encoded != c.base64 {
			t.Errorf("%q: isBase64Encoded %v, want %v", c.contentType, ev.IsBase64Encoded, c.base64)
			continue
		}
		got := []byte(ev.Body)
		if c.base64 {
			var err error
			if got, err = base64.StdEncoding.DecodeString(ev.Body); err != nil {
				t.Errorf("%q: %v", c.contentType, err)
			}
		}
		if string(got) != string(c.body) {
			t.Errorf("%q: body %q, want %q", c.contentType, got, c.body)
		}
	}
}

func TestSplitCookies(t *testing.T) {
	got := splitCookies(" a=1;b=2 ;; c= ; ")
	if want := []string{"a=1", "b=2", "c="}; !reflect.DeepEqual(got, want) {
		t.Errorf("%q, want %q", got, want)
	}
}
