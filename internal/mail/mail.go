// Package mail sends the service's own messages (password reset, address
// verification) to one recipient each, through one of three transports
// chosen by configuration: Amazon SES on Lambda, SMTP elsewhere, and an
// outbox directory for `make dev`.
//
// Every message has a plain-text and an HTML part. The SES and SMTP
// transports log nothing: a body holds a one-time link that is as good as
// a password, and their errors carry the cause (a status, a server's reply)
// but never a credential or a body. They may name the recipient (an SMTP
// refusal's "affected recipient(s)", SES's MessageRejected), so a caller
// masks it before logging one (internal/logsafe).
package mail

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/mail"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
)

// Message is one mail to one recipient.
type Message struct {
	// To is one address: "ann@example.com", or "Ann <ann@example.com>".
	To string
	// Subject is one line of UTF-8.
	Subject string
	// Text and HTML are the two alternative bodies; both are required, so
	// every client shows something sensible.
	Text string
	HTML string
}

// Sender sends messages. Implementations are safe for concurrent use.
type Sender interface {
	Send(ctx context.Context, m Message) error
}

// Transport names, as Config.Transport spells them.
const (
	TransportSES    = "ses"
	TransportSMTP   = "smtp"
	TransportOutbox = "outbox"
)

// Config selects and configures a transport. Only the fields of the chosen
// transport are read.
type Config struct {
	// Transport is TransportSES, TransportSMTP, TransportOutbox, or empty
	// for none (New then returns ErrNoTransport).
	Transport string
	// From is the sender for every transport: "noreply@example.com" or
	// "Ad Studio <noreply@example.com>". With SES it must be a verified
	// identity.
	From string

	// SMTPURL is smtp://user:pass@host:port (STARTTLS when the server
	// offers it; port 587 when none is given) or smtps://user:pass@host:port
	// (TLS from the first byte; port 465). User and password are optional
	// and percent-encoded.
	SMTPURL string

	// SESRegion is the SES region; empty takes the aws.Config's.
	SESRegion string
	// SESEndpoint replaces https://email.<region>.amazonaws.com (a fake,
	// a VPC endpoint).
	SESEndpoint string

	// OutboxDir is where the outbox writes its .eml files.
	OutboxDir string
}

var (
	// ErrNoTransport is New's answer to an empty Config.Transport: mail is
	// off. It is a start-up decision, not a failure, so the caller keeps no
	// Sender and answers the features that need mail the way better-auth
	// does when they are not configured, instead of failing at the first
	// password reset.
	ErrNoTransport = errors.New("mail: no transport configured")

	// ErrInvalidMessage is wrapped by Send when the message itself is
	// wrong (no recipient, two recipients, an empty part, a subject with a
	// line break); sending it again cannot succeed.
	ErrInvalidMessage = errors.New("mail: invalid message")
)

// New builds the transport cfg names. awsCfg supplies the credentials, the
// retryer (and the default region and HTTP client) for SES; other
// transports ignore it.
// log receives the outbox's one line per message; the SES and SMTP
// transports log nothing. An empty Transport returns ErrNoTransport.
func New(cfg Config, awsCfg aws.Config, log *slog.Logger) (Sender, error) {
	switch cfg.Transport {
	case "":
		return nil, ErrNoTransport
	case TransportSES:
		if cfg.SESRegion != "" {
			awsCfg.Region = cfg.SESRegion
		}
		return sender(NewSES(cfg.From, awsCfg, cfg.SESEndpoint))
	case TransportSMTP:
		return sender(NewSMTP(cfg.From, cfg.SMTPURL))
	case TransportOutbox:
		return sender(NewOutbox(cfg.From, cfg.OutboxDir, log))
	default:
		return nil, fmt.Errorf("mail: unknown transport %q (want %q, %q, %q or none)", cfg.Transport, TransportSES, TransportSMTP, TransportOutbox)
	}
}

// sender returns a constructor's failure as a nil Sender, not as an
// interface holding a nil pointer (which is not == nil).
func sender[S Sender](s S, err error) (Sender, error) {
	if err != nil {
		return nil, err
	}
	return s, nil
}

// parseFrom checks a configured sender.
func parseFrom(from string) (*mail.Address, error) {
	if from == "" {
		return nil, errors.New("mail: no sender address (From)")
	}
	a, err := mail.ParseAddress(from)
	if err != nil {
		return nil, fmt.Errorf("mail: sender %q is not one address: %w", from, err)
	}
	return a, nil
}

// check validates m and returns its parsed recipient.
func check(m Message) (*mail.Address, error) {
	to, err := mail.ParseAddress(m.To)
	if err != nil {
		// ParseAddress also refuses a list, so one message cannot fan out.
		return nil, fmt.Errorf("%w: recipient %q is not one address: %v", ErrInvalidMessage, m.To, err)
	}
	switch {
	case strings.TrimSpace(m.Subject) == "":
		return nil, fmt.Errorf("%w: no subject", ErrInvalidMessage)
	case strings.ContainsAny(m.Subject, "\r\n"):
		// A header is one line; a break would be a header injection.
		return nil, fmt.Errorf("%w: line break in the subject", ErrInvalidMessage)
	case m.Text == "":
		return nil, fmt.Errorf("%w: no text part", ErrInvalidMessage)
	case m.HTML == "":
		return nil, fmt.Errorf("%w: no HTML part", ErrInvalidMessage)
	}
	return to, nil
}

// format writes an address the way headers and SES want it: the bare
// address without a display name (net/mail would add angle brackets), the
// name encoded as an RFC 2047 word when it is not ASCII.
func format(a *mail.Address) string {
	if a.Name == "" {
		return a.Address
	}
	return a.String()
}
