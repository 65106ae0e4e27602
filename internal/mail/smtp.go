package mail

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/mail"
	"net/url"
	"strconv"
	"time"

	gomail "github.com/wneessen/go-mail"
)

// Default SMTP ports: submission with STARTTLS (RFC 6409) and submission
// over implicit TLS (RFC 8314).
const (
	smtpPort  = 587
	smtpsPort = 465
)

// smtpTimeout bounds each step of a conversation (connect, each command),
// as go-mail applies it; the caller's context bounds the whole.
const smtpTimeout = 15 * time.Second

// SMTP sends through an SMTP submission server, one connection per
// message: mail here is rare (a reset, a verification), so a pool would
// only hold connections the server drops anyway.
type SMTP struct {
	// RootCAs verifies the server's certificate; nil uses the system's.
	// Set it before the first Send (tests, a private CA).
	RootCAs *x509.CertPool
	// Now is the clock for the Date header; nil is time.Now.
	Now func() time.Time

	from        *mail.Address
	host        string
	port        int
	implicitTLS bool
	user, pass  string
	timeout     time.Duration // per step; smtpTimeout but in tests
}

// NewSMTP configures a sender from rawURL, smtp://user:pass@host:port or
// smtps://user:pass@host:port (see Config.SMTPURL). Errors name what is
// wrong with the URL but never repeat it: it may hold the password.
func NewSMTP(from, rawURL string) (*SMTP, error) {
	f, err := parseFrom(from)
	if err != nil {
		return nil, err
	}
	s := &SMTP{from: f, timeout: smtpTimeout}
	if rawURL == "" {
		return nil, errors.New("mail: smtp: no SMTP URL")
	}
	// url.Parse's errors quote the whole URL, password included: say
	// only that it did not parse.
	u, err := url.Parse(rawURL)
	if err != nil {
		return nil, errors.New("mail: smtp: the SMTP URL does not parse as a URL")
	}
	switch u.Scheme {
	case "smtp":
		s.port = smtpPort
	case "smtps":
		s.port, s.implicitTLS = smtpsPort, true
	default:
		return nil, fmt.Errorf("mail: smtp: URL scheme %q, want smtp or smtps", u.Scheme)
	}
	if u.Opaque != "" || (u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.Fragment != "" {
		return nil, errors.New("mail: smtp: the SMTP URL has a path, query or fragment; want scheme://user:pass@host:port")
	}
	s.host = u.Hostname()
	if s.host == "" {
		return nil, errors.New("mail: smtp: the SMTP URL has no host")
	}
	if p := u.Port(); p != "" {
		n, err := strconv.Atoi(p)
		if err != nil || n < 1 || n > 65535 {
			return nil, fmt.Errorf("mail: smtp: port %q is not a port number", p)
		}
		s.port = n
	}
	if u.User != nil {
		// Both already percent-decoded by net/url.
		s.user = u.User.Username()
		s.pass, _ = u.User.Password()
		if s.user == "" {
			return nil, errors.New("mail: smtp: the SMTP URL has a password but no user name")
		}
	}
	return s, nil
}

// GoString is String, for %#v.
func (s SMTP) GoString() string { return s.String() }

// LogValue is String, for slog's JSON handler.
func (s SMTP) LogValue() slog.Value { return slog.StringValue(s.String()) }

// String describes the server without the password, so a sender printed
// by mistake (any fmt verb, a log attribute) shows no secret.
func (s SMTP) String() string {
	scheme := "smtp"
	if s.implicitTLS {
		scheme = "smtps"
	}
	user := ""
	if s.user != "" {
		user = url.User(s.user).String() + ":***@"
	}
	return scheme + "://" + user + s.addr()
}

func (s SMTP) addr() string { return net.JoinHostPort(s.host, strconv.Itoa(s.port)) }

// Send delivers m in one SMTP conversation. The context bounds all of it:
// cancelling closes the connection, whatever step it is at.
func (s *SMTP) Send(ctx context.Context, m Message) (err error) {
	to, err := check(m)
	if err != nil {
		return err
	}
	now := time.Now
	if s.Now != nil {
		now = s.Now
	}
	msg := compose(s.from, to, m, now())

	tlsConfig := &tls.Config{ServerName: s.host, MinVersion: tls.VersionTLS12, RootCAs: s.RootCAs}
	// go-mail's deadlines are per step and its context only reaches the
	// dial, so the connection is closed when ctx ends: that is what ends
	// a conversation stuck in a later step.
	var stop func() bool
	dial := func(dctx context.Context, network, addr string) (net.Conn, error) {
		var d net.Dialer
		conn, err := d.DialContext(dctx, network, addr)
		if err != nil {
			return nil, err
		}
		if s.implicitTLS {
			tc := tls.Client(conn, tlsConfig)
			if err := tc.HandshakeContext(dctx); err != nil {
				conn.Close()
				return nil, err
			}
			// Returned as the *tls.Conn itself: go-mail's SMTP client
			// checks for that type before it will send a password with
			// PLAIN or LOGIN.
			conn = tc
		}
		stop = context.AfterFunc(ctx, func() { conn.Close() })
		return conn, nil
	}
	opts := []gomail.Option{
		gomail.WithPort(s.port),
		gomail.WithTimeout(s.timeout),
		gomail.WithDialContextFunc(dial),
		gomail.WithTLSConfig(tlsConfig),
	}
	if s.implicitTLS {
		// TLS is done by dial; this only stops go-mail from also trying
		// STARTTLS.
		opts = append(opts, gomail.WithSSL())
	} else {
		// STARTTLS when the server offers it. Without it the password
		// still never crosses the network in clear: PLAIN and LOGIN refuse
		// an unencrypted connection to any host but localhost.
		opts = append(opts, gomail.WithTLSPolicy(gomail.TLSOpportunistic))
	}
	if s.user != "" {
		// The first of these that the server offers: SCRAM before the
		// mechanisms that send the password itself; PLAIN and LOGIN (the
		// ones SES's SMTP interface and most providers offer) only over
		// TLS, as above; CRAM-MD5, a weak hash, last.
		opts = append(opts,
			gomail.WithOpportunisticSMTPAuth(gomail.SMTPAuthSCRAMSHA256, gomail.SMTPAuthSCRAMSHA1,
				gomail.SMTPAuthPlain, gomail.SMTPAuthLogin, gomail.SMTPAuthCramMD5),
			gomail.WithUsername(s.user), gomail.WithPassword(s.pass))
	}
	// A client per message: it is cheap (no I/O), and its dial function
	// closes over this message's context.
	client, err := gomail.NewClient(s.host, opts...)
	if err != nil {
		return fmt.Errorf("mail: smtp %s: %w", s.addr(), err)
	}
	err = client.DialAndSendWithContext(ctx, msg)
	if stop != nil {
		stop()
	}
	if err != nil {
		if ctx.Err() != nil {
			return fmt.Errorf("mail: smtp %s: %w (%w)", s.addr(), ctx.Err(), err)
		}
		return fmt.Errorf("mail: smtp %s: %w", s.addr(), err)
	}
	return nil
}
