package awsenv

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"
)

const (
	// attemptTimeout bounds one attempt when cfg has no HTTPClient: a
	// service that accepted the request but never answers becomes an error
	// that can be retried, not a wait until the caller's deadline.
	attemptTimeout = 10 * time.Second
	// maxAnswer caps what is read of an answer. The largest expected is
	// GetParameters': at most ten parameters of at most 8 KB each.
	maxAnswer = 1 << 20
	// maxMessage caps a service's error message as kept in an error.
	maxMessage = 500
)

// Request is one AWS API operation, to be signed and sent as a POST.
// Send only reads it, so one Request may serve concurrent calls.
type Request struct {
	Service   string // the signing name ("ssm", "lambda", "ses")
	Operation string // for errors
	Endpoint  string // the base URL, from Endpoint or RegionalEndpoint
	Path      string // the operation's path, already escaped
	Header    http.Header
	Body      []byte
}

// URL joins r's endpoint and path with the SDK's own function, so an
// endpoint with a path (a stage, a proxy prefix) is handled as the SDK
// handles it. An endpoint that is not an http(s) URL is an error.
func (r Request) URL() (string, error) {
	base, err := url.Parse(r.Endpoint)
	if err != nil || (base.Scheme != "http" && base.Scheme != "https") || base.Host == "" {
		return "", fmt.Errorf("endpoint %q: want an http(s) URL", r.Endpoint)
	}
	return base.Scheme + "://" + base.Host + smithyhttp.JoinPath(base.EscapedPath(), r.Path), nil
}

// APIError is an AWS service's error answer: its status, its error code
// (ThrottlingException, ResourceNotFoundException, …) and message, never
// anything the request carried. It satisfies smithy.APIError, as the SDK's
// errors do, and aws/retry reads its code and status.
type APIError struct {
	StatusCode int
	Code       string
	Message    string
	RequestID  string
}

func (e *APIError) Error() string {
	s := e.Code
	if e.Message != "" {
		s += ": " + e.Message
	}
	s += fmt.Sprintf(" (HTTP %d", e.StatusCode)
	if e.RequestID != "" {
		s += ", request id " + e.RequestID
	}
	return s + ")"
}

// ErrorCode is the service's error code.
func (e *APIError) ErrorCode() string { return e.Code }

// ErrorMessage is the service's message.
func (e *APIError) ErrorMessage() string { return e.Message }

// ErrorFault says whose fault the error is: a 5xx is the service's.
func (e *APIError) ErrorFault() smithy.ErrorFault {
	if e.StatusCode >= 500 {
		return smithy.FaultServer
	}
	return smithy.FaultClient
}

// HTTPStatusCode is the answer's status.
func (e *APIError) HTTPStatusCode() int { return e.StatusCode }

// Send signs r with SigV4 (the SDK's signer) for cfg's credentials and
// region, sends it, retrying as cfg.Retryer says (the standard retryer when
// nil: 3 attempts on throttling, 5xx and broken connections), and returns
// a 2xx answer's status and body. A service's error answer is an *APIError;
// every error starts with r's service and operation and never holds a
// credential or r's body. ctx bounds the attempts and the waits between
// them. An answer over 1 MiB is an error.
func Send(ctx context.Context, cfg aws.Config, r Request) (status int, body []byte, err error) {
	defer func() {
		if err != nil {
			err = fmt.Errorf("%s %s: %w", r.Service, r.Operation, err)
		}
	}()
	u, err := r.URL()
	if err != nil {
		return 0, nil, err
	}
	if cfg.Region == "" {
		return 0, nil, errors.New("no region")
	}
	if cfg.Credentials == nil {
		return 0, nil, errors.New("no credentials")
	}
	creds, err := cfg.Credentials.Retrieve(ctx)
	if err != nil {
		return 0, nil, fmt.Errorf("credentials: %w", err)
	}
	client := cfg.HTTPClient
	if client == nil {
		client = &http.Client{Timeout: attemptTimeout}
	}
	// A fresh retryer per call (an SDK client keeps one for its lifetime):
	// only its classification, attempt count and backoff are used (its
	// retry-token bucket cannot run dry within one call's few attempts).
	var retryer aws.Retryer
	if cfg.Retryer != nil {
		retryer = cfg.Retryer()
	} else {
		retryer = retry.NewStandard()
	}
	sum := sha256.Sum256(r.Body)
	payloadHash := hex.EncodeToString(sum[:])
	signer := v4.NewSigner()
	for attempt := 1; ; attempt++ {
		status, body, err = sendOnce(ctx, client, signer, cfg.Region, creds, u, payloadHash, r)
		if err == nil {
			return status, body, nil
		}
		if ctx.Err() != nil {
			// The caller gave up, whether or not this attempt's answer
			// arrived first: say so, with what the attempt got.
			return 0, nil, fmt.Errorf("%w (last attempt: %w)", ctx.Err(), err)
		}
		if !retryer.IsErrorRetryable(err) {
			break
		}
		if most := retryer.MaxAttempts(); most > 0 && attempt >= most {
			return 0, nil, fmt.Errorf("%w (after %d attempts)", err, attempt)
		}
		delay, derr := retryer.RetryDelay(attempt, err)
		if derr != nil {
			break
		}
		t := time.NewTimer(delay)
		select {
		case <-ctx.Done():
			t.Stop()
			return 0, nil, fmt.Errorf("%w (waiting to retry after: %w)", ctx.Err(), err)
		case <-t.C:
		}
	}
	return 0, nil, err
}

// sendOnce makes one attempt. Signing per attempt keeps X-Amz-Date fresh.
func sendOnce(ctx context.Context, client aws.HTTPClient, signer *v4.Signer, region string, creds aws.Credentials, u, payloadHash string, r Request) (int, []byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u, bytes.NewReader(r.Body))
	if err != nil {
		return 0, nil, err
	}
	for k, v := range r.Header {
		req.Header[k] = slices.Clone(v)
	}
	if err := signer.SignHTTP(ctx, creds, req, payloadHash, r.Service, region, time.Now()); err != nil {
		return 0, nil, fmt.Errorf("sign: %w", err)
	}
	res, err := client.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer res.Body.Close()
	body, err := io.ReadAll(io.LimitReader(res.Body, maxAnswer+1))
	if err != nil {
		return 0, nil, err
	}
	if res.StatusCode < 200 || res.StatusCode > 299 {
		return 0, nil, parseError(res.StatusCode, res.Header, body)
	}
	if len(body) > maxAnswer {
		return 0, nil, fmt.Errorf("answer larger than %d bytes", maxAnswer)
	}
	return res.StatusCode, body, nil
}

// parseError reads an AWS JSON error answer (awsJson1_1 and restJson1 agree)
// the way the SDK does: the code from the X-Amzn-ErrorType header, else the
// body's __type, else its code, stripped of a namespace ("aws#") and of a
// trailing ":http://…"; the message from message or Message.
func parseError(status int, header http.Header, body []byte) *APIError {
	e := &APIError{StatusCode: status, Code: "UnknownError", RequestID: header.Get("X-Amzn-Requestid")}
	var info struct {
		Type    string `json:"__type"`
		Code    any    // some services put the type here
		Message string // matches "message" too: encoding/json ignores case
	}
	// A body that is not JSON (a proxy's HTML page) still yields the status.
	_ = json.Unmarshal(body, &info)
	code, _ := info.Code.(string)
	switch {
	case header.Get("X-Amzn-ErrorType") != "":
		code = header.Get("X-Amzn-ErrorType")
	case info.Type != "":
		code = info.Type
	}
	code, _, _ = strings.Cut(code, ":")
	if _, after, ok := strings.Cut(code, "#"); ok {
		code = after
	}
	if code != "" {
		e.Code = code
	}
	e.Message = info.Message
	if len(e.Message) > maxMessage {
		n := maxMessage
		for n > 0 && !utf8.RuneStart(e.Message[n]) {
			n--
		}
		e.Message = e.Message[:n] + "…"
	}
	return e
}
