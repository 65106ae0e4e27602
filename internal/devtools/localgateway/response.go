package localgateway

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/aws/aws-lambda-go/events"
)

// Limits of the deployed path (docs: HTTP API and Lambda quotas).
const (
	// MaxRequestBody is API Gateway's HTTP API payload limit.
	MaxRequestBody = 10 << 20
	// MaxPayload is Lambda's synchronous invocation limit, for the event
	// and for the function's response alike (6 MB = 6291456 bytes).
	MaxPayload = 6 << 20
)

// Response is what API Gateway sends the client for one invocation.
type Response struct {
	Status int
	Header http.Header
	Body   []byte
}

// FunctionError is an invocation that did not produce a usable response:
// the function returned an error ({"errorMessage":…}), its output was too
// big, or it was not a valid payload-2.0 response. API Gateway answers all
// of them with 500 Internal Server Error.
type FunctionError struct {
	Reason string
}

func (e *FunctionError) Error() string { return e.Reason }

// DecodeResponse reads a function's output the way API Gateway does for
// payload format 2.0: a JSON object with statusCode is a response (headers,
// multiValueHeaders, cookies as one Set-Cookie each, a body that is base64
// when isBase64Encoded); any other output is sent as-is, as a 200 JSON body
// (API Gateway infers that format).
func DecodeResponse(out []byte) (Response, error) {
	if len(out) > MaxPayload {
		return Response{}, &FunctionError{fmt.Sprintf("response of %d bytes is over Lambda's %d-byte limit", len(out), MaxPayload)}
	}
	var probe map[string]json.RawMessage
	if json.Unmarshal(out, &probe) == nil {
		if msg, ok := probe["errorMessage"]; ok {
			var typ string
			json.Unmarshal(probe["errorType"], &typ)
			var m string
			json.Unmarshal(msg, &m)
			return Response{}, &FunctionError{fmt.Sprintf("function error %s: %s", typ, m)}
		}
	}
	if _, ok := probe["statusCode"]; !ok {
		if !json.Valid(out) {
			return Response{}, &FunctionError{"output is not JSON: " + truncate(out, 200)}
		}
		h := http.Header{}
		h.Set("Content-Type", "application/json")
		return Response{Status: http.StatusOK, Header: h, Body: bytes.Clone(out)}, nil
	}
	var res events.APIGatewayV2HTTPResponse
	if err := json.Unmarshal(out, &res); err != nil {
		return Response{}, &FunctionError{"malformed response: " + err.Error()}
	}
	if res.StatusCode < 100 || res.StatusCode > 599 {
		return Response{}, &FunctionError{"malformed response: statusCode " + strconv.Itoa(res.StatusCode)}
	}
	h := http.Header{}
	for k, v := range res.Headers {
		h.Set(k, v)
	}
	for k, vs := range res.MultiValueHeaders {
		ck := http.CanonicalHeaderKey(k)
		if _, single := res.Headers[k]; single {
			h.Del(ck)
		}
		for _, v := range vs {
			h.Add(ck, v)
		}
	}
	for _, c := range res.Cookies {
		h.Add("Set-Cookie", c)
	}
	// The gateway frames the body itself.
	for _, k := range []string{"Content-Length", "Transfer-Encoding", "Connection", "Keep-Alive"} {
		h.Del(k)
	}
	body := []byte(res.Body)
	if res.IsBase64Encoded {
		var err error
		if body, err = base64.StdEncoding.DecodeString(res.Body); err != nil {
			return Response{}, &FunctionError{"isBase64Encoded body is not base64: " + err.Error()}
		}
	}
	return Response{Status: res.StatusCode, Header: h, Body: body}, nil
}

// Write sends the response. requestID goes in Apigw-Requestid, as API
// Gateway adds it to every answer.
func (res Response) Write(w http.ResponseWriter, requestID string) {
	dst := w.Header()
	for k, vs := range res.Header {
		dst[k] = vs
	}
	if _, ok := dst["Content-Type"]; !ok {
		// No sniffing: API Gateway sends what the function said.
		dst["Content-Type"] = nil
	}
	if requestID != "" {
		dst.Set("Apigw-Requestid", requestID)
	}
	if res.Status != http.StatusNoContent && res.Status != http.StatusNotModified {
		dst.Set("Content-Length", strconv.Itoa(len(res.Body)))
	}
	w.WriteHeader(res.Status)
	w.Write(res.Body)
}

// GatewayError is one of API Gateway's own answers: {"message":"Not Found"}.
func GatewayError(status int) Response {
	msg := map[int]string{
		http.StatusNotFound:              "Not Found",
		http.StatusRequestEntityTooLarge: "Request Entity Too Large",
		http.StatusInternalServerError:   "Internal Server Error",
		http.StatusServiceUnavailable:    "Service Unavailable",
	}[status]
	if msg == "" {
		msg = http.StatusText(status)
	}
	body, _ := json.Marshal(map[string]string{"message": msg})
	h := http.Header{}
	h.Set("Content-Type", "application/json")
	return Response{Status: status, Header: h, Body: body}
}

// IsFunctionError reports whether err is a FunctionError.
func IsFunctionError(err error) bool {
	var fe *FunctionError
	return errors.As(err, &fe)
}

func truncate(b []byte, n int) string {
	s := string(b)
	if len(s) > n {
		s = s[:n] + "…"
	}
	return strings.ToValidUTF8(s, "?")
}
