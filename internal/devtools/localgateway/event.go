package localgateway

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"mime"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/aws/aws-lambda-go/events"
)

// What the local "API" reports about itself in requestContext. Functions
// must not depend on these; they are here so the event has every field a
// real one has.
const (
	AccountID = "123456789012"
	APIID     = "local"
	Stage     = "$default"
)

// Request is what BuildEvent needs besides the HTTP request itself.
type Request struct {
	Match     Match
	Body      []byte
	RequestID string
	Now       time.Time
	// Scheme and Port the client used to reach the gateway, for the
	// x-forwarded-proto and x-forwarded-port headers.
	Scheme, Port string
}

// BuildEvent turns an HTTP request into the payload-2.0 event API Gateway
// sends to a Lambda integration:
//
//   - header names are lower-cased and repeated headers joined with ",";
//     the Cookie header is removed and its pairs go to cookies instead;
//   - repeated query parameters are joined with "," in
//     queryStringParameters; rawQueryString is the query as sent;
//   - sourceIp is the TCP peer: a client-sent X-Forwarded-For is kept, with
//     the peer appended, as API Gateway does, but never trusted;
//   - a body is plain text when its Content-Type is textual and it is valid
//     UTF-8, else base64 with isBase64Encoded (the adapter decodes it).
func BuildEvent(r *http.Request, req Request) events.APIGatewayV2HTTPRequest {
	sourceIP := r.RemoteAddr
	if host, _, err := net.SplitHostPort(r.RemoteAddr); err == nil {
		sourceIP = host
	}
	headers := map[string]string{}
	var cookies []string
	for name, values := range r.Header {
		k := strings.ToLower(name)
		if k == "cookie" {
			for _, v := range values {
				cookies = append(cookies, splitCookies(v)...)
			}
			continue
		}
		headers[k] = strings.Join(values, ",")
	}
	// net/http moves Host out of the header map.
	headers["host"] = r.Host
	if xff := headers["x-forwarded-for"]; xff != "" {
		headers["x-forwarded-for"] = xff + ", " + sourceIP
	} else {
		headers["x-forwarded-for"] = sourceIP
	}
	if req.Scheme != "" {
		headers["x-forwarded-proto"] = req.Scheme
	}
	if req.Port != "" {
		headers["x-forwarded-port"] = req.Port
	}
	headers["x-amzn-trace-id"] = traceID(req.Now)

	var query map[string]string
	if r.URL.RawQuery != "" {
		values, _ := url.ParseQuery(r.URL.RawQuery) // keeps what parses, as API Gateway does
		if len(values) > 0 {
			query = make(map[string]string, len(values))
			for k, v := range values {
				query[k] = strings.Join(v, ",")
			}
		}
	}

	host := r.Host
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	prefix, _, _ := strings.Cut(host, ".")

	ev := events.APIGatewayV2HTTPRequest{
		Version:               "2.0",
		RouteKey:              req.Match.Key,
		RawPath:               r.URL.EscapedPath(),
		RawQueryString:        r.URL.RawQuery,
		Cookies:               cookies,
		Headers:               headers,
		QueryStringParameters: query,
		PathParameters:        req.Match.PathParameters,
		RequestContext: events.APIGatewayV2HTTPRequestContext{
			RouteKey:     req.Match.Key,
			AccountID:    AccountID,
			Stage:        Stage,
			RequestID:    req.RequestID,
			APIID:        APIID,
			DomainName:   r.Host,
			DomainPrefix: prefix,
			Time:         req.Now.UTC().Format("02/Jan/2006:15:04:05 -0700"),
			TimeEpoch:    req.Now.UnixMilli(),
			HTTP: events.APIGatewayV2HTTPRequestContextHTTPDescription{
				Method:    r.Method,
				Path:      r.URL.EscapedPath(),
				Protocol:  r.Proto,
				SourceIP:  sourceIP,
				UserAgent: r.UserAgent(),
			},
		},
	}
	if len(req.Body) > 0 {
		if isText(r.Header.Get("Content-Type")) && utf8.Valid(req.Body) {
			ev.Body = string(req.Body)
		} else {
			ev.Body = base64.StdEncoding.EncodeToString(req.Body)
			ev.IsBase64Encoded = true
		}
	}
	return ev
}

// splitCookies splits one Cookie header into its name=value pairs.
func splitCookies(h string) []string {
	var out []string
	for _, c := range strings.Split(h, ";") {
		if c = strings.TrimSpace(c); c != "" {
			out = append(out, c)
		}
	}
	return out
}

// isText reports whether a body of this media type is passed as text.
func isText(contentType string) bool {
	mt, _, err := mime.ParseMediaType(contentType)
	if err != nil {
		return false
	}
	switch {
	case strings.HasPrefix(mt, "text/"),
		strings.HasSuffix(mt, "+json"), strings.HasSuffix(mt, "+xml"):
		return true
	}
	switch mt {
	case "application/json", "application/xml", "application/javascript",
		"application/x-www-form-urlencoded", "application/graphql":
		return true
	}
	return false
}

// NewRequestID is an id in API Gateway's style (16 base64 characters).
func NewRequestID() string {
	var b [12]byte
	rand.Read(b[:])
	return base64.RawURLEncoding.EncodeToString(b[:])
}

// traceID is an X-Ray trace header value: Root=1-<epoch hex>-<96 random bits>.
func traceID(now time.Time) string {
	var b [12]byte
	rand.Read(b[:])
	return fmt.Sprintf("Root=1-%08x-%s", now.Unix(), hex.EncodeToString(b[:]))
}
