package mail

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/url"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	smithyhttp "github.com/aws/smithy-go/transport/http"
)

// SES v2's SendEmail, as the API reference gives it.
const (
	sesService  = "ses" // the signing name; the host prefix is "email"
	sesSendPath = "/v2/email/outbound-emails"
)

const (
	// sesAttempts is how many times a transient failure is tried in all:
	// the caller is a request waiting for its answer, so a couple of quick
	// retries, not the SDK's patience.
	sesAttempts = 3
	// sesAttemptTimeout bounds one attempt when the aws.Config has no
	// HTTPClient: a stalled connection becomes a retry, not a wait until
	// the caller's deadline.
	sesAttemptTimeout = 10 * time.Second
	// maxAnswer caps what is read of an answer ({"MessageId":…} or an error).
	maxAnswer = 64 << 10
	// maxErrorMessage caps SES's message as kept in an error.
	maxErrorMessage = 500
)

// SES sends through Amazon SES v2 SendEmail, signed with SigV4 by the
// SDK's signer over plain net/http. The SDK's sesv2 client is not used for
// the reason internal/awsenv gives: its package initialisation would cost
// every cold start of the function that links it, for one JSON POST.
// (internal/awsenv has the same signed-call loop but does not export it.)
type SES struct {
	// Backoff is the wait before retry number n (1, 2, …); nil is a short
	// jittered exponential backoff. Tests set it to return 0.
	Backoff func(n int) time.Duration

	from     string
	aws      aws.Config
	endpoint string
}

// NewSES configures a sender. cfg supplies the region, the credentials
// (a Lambda's from internal/awsenv.Config) and optionally the HTTP client;
// endpoint replaces the region's SES endpoint when not empty.
func NewSES(from string, cfg aws.Config, endpoint string) (*SES, error) {
	f, err := parseFrom(from)
	if err != nil {
		return nil, err
	}
	if cfg.Region == "" {
		return nil, errors.New("mail: ses: no region")
	}
	if cfg.Credentials == nil {
		return nil, errors.New("mail: ses: no AWS credentials")
	}
	if endpoint == "" {
		endpoint = SESEndpoint(cfg.Region)
	}
	base, err := url.Parse(endpoint)
	if err != nil || (base.Scheme != "http" && base.Scheme != "https") || base.Host == "" {
		return nil, fmt.Errorf("mail: ses: endpoint %q: want an http(s) URL", endpoint)
	}
	return &SES{
		// SES takes a display name only as an RFC 2047 encoded word when it
		// is not ASCII, which format does.
		from:     format(f),
		aws:      cfg,
		endpoint: base.Scheme + "://" + base.Host + smithyhttp.JoinPath(base.EscapedPath(), sesSendPath),
	}, nil
}

// SESEndpoint is the regional SES endpoint.
func SESEndpoint(region string) string {
	// The China partition is the one whose hosts differ.
	suffix := "amazonaws.com"
	if strings.HasPrefix(region, "cn-") {
		suffix = "amazonaws.com.cn"
	}
	return "https://email." + region + "." + suffix
}

// String describes the sender without its credentials, so one printed by
// mistake (any fmt verb, a log attribute) shows no secret.
func (s SES) String() string { return "ses " + s.endpoint + " (" + s.aws.Region + ")" }

// GoString is String, for %#v.
func (s SES) GoString() string { return s.String() }

// LogValue is String, for slog's JSON handler.
func (s SES) LogValue() slog.Value { return slog.StringValue(s.String()) }

// SESError is an error answer from SES: its status, its error code
// (TooManyRequestsException, MessageRejected, …) and message, never
// anything the request carried.
type SESError struct {
	StatusCode int
	Code       string
	Message    string
	RequestID  string
}

// Error reads "Code: message (HTTP status, request id …)".
func (e *SESError) Error() string {
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

// Transient reports whether trying again later may succeed: throttling and
// the service's own failures. Everything else (an unverified address, a
// paused account, a bad request, a refused signature) is permanent.
func (e *SESError) Transient() bool {
	if e.StatusCode == http.StatusTooManyRequests || e.StatusCode >= 500 {
		return true
	}
	switch e.Code {
	case "TooManyRequestsException", "ThrottlingException", "Throttling":
		return true
	}
	return false
}

// sesEmail is SendEmail's request body, only the members used, in the
// SDK's order (alphabetical) so that the two encode to the same bytes.
type sesEmail struct {
	Content struct {
		Simple struct {
			Body    struct{ Html, Text sesContent }
			Subject sesContent
		}
	}
	Destination      struct{ ToAddresses []string }
	FromEmailAddress string
}

type sesContent struct{ Charset, Data string }

// Send sends m with one SendEmail call, retried on throttling and server
// errors. ctx bounds the attempts and the waits between them.
func (s *SES) Send(ctx context.Context, m Message) (err error) {
	defer func() {
		if err != nil {
			err = fmt.Errorf("mail: ses SendEmail: %w", err)
		}
	}()
	to, err := check(m)
	if err != nil {
		return err
	}
	var e sesEmail
	e.FromEmailAddress = s.from
	e.Destination.ToAddresses = []string{format(to)}
	e.Content.Simple.Subject = sesContent{"UTF-8", m.Subject}
	e.Content.Simple.Body.Text = sesContent{"UTF-8", m.Text}
	e.Content.Simple.Body.Html = sesContent{"UTF-8", m.HTML}
	// Without HTML escaping, as the SDK encodes: the HTML part stays
	// readable in a captured request, and the bytes are the SDK's.
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(e); err != nil {
		return err
	}
	body := bytes.TrimSuffix(buf.Bytes(), []byte("\n"))
	creds, err := s.aws.Credentials.Retrieve(ctx)
	if err != nil {
		return fmt.Errorf("credentials: %w", err)
	}
	client := s.aws.HTTPClient
	if client == nil {
		client = &http.Client{Timeout: sesAttemptTimeout}
	}
	sum := sha256.Sum256(body)
	payloadHash := hex.EncodeToString(sum[:])
	signer := v4.NewSigner()
	for attempt := 1; ; attempt++ {
		err = s.sendOnce(ctx, client, signer, creds, payloadHash, body)
		if err == nil {
			return nil
		}
		if ctx.Err() != nil {
			// The caller gave up, whether or not this attempt's answer came
			// first: say so, with what the attempt got.
			return fmt.Errorf("%w (last attempt: %w)", ctx.Err(), err)
		}
		if !transient(err) {
			return err
		}
		if attempt >= sesAttempts {
			return fmt.Errorf("%w (after %d attempts)", err, attempt)
		}
		t := time.NewTimer(s.backoff(attempt))
		select {
		case <-ctx.Done():
			t.Stop()
			return fmt.Errorf("%w (waiting to retry after: %w)", ctx.Err(), err)
		case <-t.C:
		}
	}
}

func (s *SES) backoff(n int) time.Duration {
	if s.Backoff != nil {
		return s.Backoff(n)
	}
	// 100–200 ms, then 200–400 ms: full jitter over a doubling base keeps
	// retries of many senders from landing together.
	base := 100 * time.Millisecond << (n - 1)
	return base + rand.N(base)
}

// transient reports whether err is worth another attempt: an SES answer
// that says so, or no answer at all (a refused or broken connection, a
// timed-out attempt). SES may have accepted a message whose answer was
// lost, so a retry can send it twice; for a reset or verification mail a
// duplicate is better than none.
func transient(err error) bool {
	var se *SESError
	if errors.As(err, &se) {
		return se.Transient()
	}
	var local *localError
	return !errors.As(err, &local)
}

// localError is a failure before anything was sent; retrying cannot help.
type localError struct{ err error }

func (e *localError) Error() string { return e.err.Error() }
func (e *localError) Unwrap() error { return e.err }

// sendOnce makes one attempt. Signing per attempt keeps X-Amz-Date fresh.
func (s *SES) sendOnce(ctx context.Context, client aws.HTTPClient, signer *v4.Signer, creds aws.Credentials, payloadHash string, body []byte) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.endpoint, bytes.NewReader(body))
	if err != nil {
		return &localError{err}
	}
	req.Header.Set("Content-Type", "application/json")
	if err := signer.SignHTTP(ctx, creds, req, payloadHash, sesService, s.aws.Region, time.Now()); err != nil {
		return &localError{fmt.Errorf("sign: %w", err)}
	}
	res, err := client.Do(req)
	if err != nil {
		return err
	}
	defer res.Body.Close()
	answer, err := io.ReadAll(io.LimitReader(res.Body, maxAnswer))
	if err != nil {
		return err
	}
	if res.StatusCode < 200 || res.StatusCode > 299 {
		return parseSESError(res.StatusCode, res.Header, answer)
	}
	// The answer is {"MessageId":"…"}; nothing here needs the id.
	return nil
}

// parseSESError reads a restJson1 error answer the way the SDK does: the
// code from the X-Amzn-ErrorType header, else the body's __type or code,
// stripped of a namespace ("aws#") and of a trailing ":http://…"; the
// message from message or Message.
func parseSESError(status int, header http.Header, body []byte) *SESError {
	e := &SESError{StatusCode: status, Code: "UnknownError", RequestID: header.Get("X-Amzn-Requestid")}
	var info struct {
		Type    string `json:"__type"`
		Code    any
		Message string // matches "message" too: encoding/json ignores case
	}
	// A body that is not JSON (a proxy's page) still yields the status.
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
	if len(e.Message) > maxErrorMessage {
		n := maxErrorMessage
		for n > 0 && !utf8.RuneStart(e.Message[n]) {
			n--
		}
		e.Message = e.Message[:n] + "…"
	}
	return e
}
