package localgateway

import (
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"
)

func TestDecodeResponse(t *testing.T) {
	out := `{"statusCode":201,"headers":{"Content-Type":"application/json","Vary":"Origin,Cookie","Content-Length":"999"},` +
		`"multiValueHeaders":{"X-Multi":["a","b"]},"body":"{\"ok\":true}","cookies":["s=1; Path=/; HttpOnly","t=2; Path=/"]}`
	res, err := DecodeResponse([]byte(out))
	if err != nil {
		t.Fatal(err)
	}
	if res.Status != 201 || string(res.Body) != `{"ok":true}` {
		t.Errorf("status %d body %q", res.Status, res.Body)
	}
	if got := res.Header.Values("Set-Cookie"); !reflect.DeepEqual(got, []string{"s=1; Path=/; HttpOnly", "t=2; Path=/"}) {
		t.Errorf("Set-Cookie %q", got)
	}
	if got := res.Header.Values("X-Multi"); !reflect.DeepEqual(got, []string{"a", "b"}) {
		t.Errorf("X-Multi %q", got)
	}
	if res.Header.Get("Vary") != "Origin,Cookie" {
		t.Errorf("Vary %q", res.Header.Get("Vary"))
	}

	w := httptest.NewRecorder()
	res.Write(w, "rid")
	if w.Code != 201 || w.Header().Get("Content-Length") != "11" || w.Header().Get("Apigw-Requestid") != "rid" || len(w.Header().Values("Set-Cookie")) != 2 {
		t.Errorf("written: %d %v", w.Code, w.Header())
	}
}

func TestDecodeResponseBase64(t *testing.T) {
	res, err := DecodeResponse([]byte(`{"statusCode":200,"headers":{"Content-Type":"image/png"},"multiValueHeaders":null,"body":"/wBB","isBase64Encoded":true,"cookies":[]}`))
	if err != nil || string(res.Body) != "\xff\x00\x41" || res.Header.Get("Content-Type") != "image/png" {
		t.Fatalf("%q %v %v", res.Body, res.Header, err)
	}
	if _, err := DecodeResponse([]byte(`{"statusCode":200,"body":"%%%","isBase64Encoded":true}`)); !IsFunctionError(err) {
		t.Errorf("bad base64: %v", err)
	}
}

func TestDecodeResponseMultiValueOverridesSingle(t *testing.T) {
	res, err := DecodeResponse([]byte(`{"statusCode":200,"headers":{"x-a":"one"},"multiValueHeaders":{"x-a":["two","three"]},"body":""}`))
	if err != nil {
		t.Fatal(err)
	}
	if got := res.Header.Values("X-A"); !reflect.DeepEqual(got, []string{"two", "three"}) {
		t.Errorf("X-A %q", got)
	}
}

// Output without statusCode is not an error for payload 2.0: API Gateway
// sends it as a 200 JSON body.
func TestDecodeResponseInferred(t *testing.T) {
	for _, out := range []string{`{"swept":3}`, `"text"`, `[1,2]`} {
		res, err := DecodeResponse([]byte(out))
		if err != nil || res.Status != 200 || string(res.Body) != out || res.Header.Get("Content-Type") != "application/json" {
			t.Errorf("%s: %d %q %v", out, res.Status, res.Body, err)
		}
	}
}

func TestDecodeResponseErrors(t *testing.T) {
	for _, out := range []string{
		`{"errorMessage":"boom","errorType":"errorString"}`,
		`not json`,
		`{"statusCode":"200"}`,
		`{"statusCode":42}`,
		`{"statusCode":200,"body":"` + strings.Repeat("x", MaxPayload) + `"}`,
	} {
		if _, err := DecodeResponse([]byte(out)); !IsFunctionError(err) {
			t.Errorf("%.60s: %v, want a function error", out, err)
		}
	}
}

func TestGatewayErrorBodies(t *testing.T) {
	for status, body := range map[int]string{
		404: `{"message":"Not Found"}`,
		413: `{"message":"Request Entity Too Large"}`,
		500: `{"message":"Internal Server Error"}`,
		503: `{"message":"Service Unavailable"}`,
	} {
		res := GatewayError(status)
		if res.Status != status || string(res.Body) != body || res.Header.Get("Content-Type") != "application/json" {
			t.Errorf("%d: %d %s %v", status, res.Status, res.Body, res.Header)
		}
	}
}

// A response without Content-Type is not sniffed into one.
func TestWriteNoSniffing(t *testing.T) {
	w := httptest.NewRecorder()
	Response{Status: 200, Header: map[string][]string{}, Body: []byte("<html>")}.Write(w, "")
	if ct := w.Result().Header.Get("Content-Type"); ct != "" {
		t.Errorf("Content-Type %q added", ct)
	}
}
