package mail

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"

	"github.com/aws/aws-sdk-go-v2/aws"

	"adstudio/internal/awsenv"
)

// SES v2's SendEmail, as the API reference gives it.
const (
	sesService  = "ses" // the signing name; the host prefix is "email"
	sesSendPath = "/v2/email/outbound-emails"
)

// SES sends through Amazon SES v2 SendEmail, one call of awsenv.Send (the
// SDK's SigV4 signer over plain net/http). The SDK's sesv2 client is not
// used for the reason internal/awsenv gives: its package initialisation
// would cost every cold start of the function that links it, for one JSON
// POST.
type SES struct {
	from     string
	aws      aws.Config
	req      awsenv.Request // SendEmail without its body
	endpoint string         // req's URL, for String
}

// NewSES configures a sender. cfg supplies the region, the credentials, the
// retryer (a Lambda's, from awsenv.Config: 3 attempts, waits under a
// second) and optionally the HTTP client; endpoint replaces the region's
// SES endpoint when not empty.
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
	req := awsenv.Request{
		Service:   sesService,
		Operation: "SendEmail",
		Endpoint:  endpoint,
		Path:      sesSendPath,
		Header:    http.Header{"Content-Type": {"application/json"}},
	}
	u, err := req.URL()
	if err != nil {
		return nil, fmt.Errorf("mail: ses: %w", err)
	}
	return &SES{
		// SES takes a display name only as an RFC 2047 encoded word when it
		// is not ASCII, which format does.
		from:     format(f),
		aws:      cfg,
		req:      req,
		endpoint: u,
	}, nil
}

// SESEndpoint is the regional SES endpoint.
func SESEndpoint(region string) string { return awsenv.RegionalEndpoint("email", region) }

// String describes the sender without its credentials, so one printed by
// mistake (any fmt verb, a log attribute) shows no secret.
func (s SES) String() string { return "ses " + s.endpoint + " (" + s.aws.Region + ")" }

// GoString is String, for %#v.
func (s SES) GoString() string { return s.String() }

// LogValue is String, for slog's JSON handler.
func (s SES) LogValue() slog.Value { return slog.StringValue(s.String()) }

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

// Send sends m with one SendEmail call, retried as the aws.Config's
// retryer says: on throttling (TooManyRequestsException and the other codes
// aws/retry knows), on 500, 502, 503 and 504, and when no answer came (a
// refused or broken connection, a timed-out attempt). SES may have accepted
// a message whose answer was lost, so a retry can send it twice; for a
// reset or verification mail a duplicate is better than none. ctx bounds
// the attempts and the waits between them. An error answer from SES is an
// *awsenv.APIError.
func (s *SES) Send(ctx context.Context, m Message) error {
	body, err := s.body(m)
	if err != nil {
		return fmt.Errorf("mail: ses SendEmail: %w", err)
	}
	r := s.req
	r.Body = body
	// The answer is {"MessageId":"…"}; nothing here needs the id.
	if _, _, err := awsenv.Send(ctx, s.aws, r); err != nil {
		// awsenv's errors start with "ses SendEmail: ".
		return fmt.Errorf("mail: %w", err)
	}
	return nil
}

// body is m as SendEmail's JSON.
func (s *SES) body(m Message) ([]byte, error) {
	to, err := check(m)
	if err != nil {
		return nil, err
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
		return nil, err
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}
