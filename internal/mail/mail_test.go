package mail

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"adstudio/internal/devtools/sesfake"
)

func TestNew(t *testing.T) {
	fake := sesfake.New(t)
	dir := filepath.Join(t.TempDir(), "outbox")
	t.Run("none", func(t *testing.T) {
		s, err := New(Config{From: "noreply@example.com", SMTPURL: "smtp://host"}, sesfake.AWSConfig(), nil)
		if s != nil || !errors.Is(err, ErrNoTransport) {
			t.Fatalf("%v, %v; want nil and ErrNoTransport", s, err)
		}
	})
	for _, c := range []struct {
		name string
		cfg  Config
		want string // in the error; "" for none
	}{
		{"unknown", Config{Transport: "SES", From: "noreply@example.com"}, `unknown transport "SES"`},
		{"ses without sender", Config{Transport: "ses", SESEndpoint: fake.URL()}, "no sender"},
		{"smtp sender is a list", Config{Transport: "smtp", From: "a@example.com, b@example.com", SMTPURL: "smtp://host"}, "not one address"},
		{"smtp sender is not an address", Config{Transport: "smtp", From: "noreply", SMTPURL: "smtp://host"}, "not one address"},
		{"smtp without URL", Config{Transport: "smtp", From: "noreply@example.com"}, "no SMTP URL"},
		{"outbox without directory", Config{Transport: "outbox", From: "noreply@example.com"}, "no directory"},
		{"ses", Config{Transport: "ses", From: "noreply@example.com", SESEndpoint: fake.URL()}, ""},
		{"smtp", Config{Transport: "smtp", From: "noreply@example.com", SMTPURL: "smtps://u:p@mail.example.com"}, ""},
		{"outbox", Config{Transport: "outbox", From: "noreply@example.com", OutboxDir: dir}, ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			s, err := New(c.cfg, sesfake.AWSConfig(), nil)
			if c.want != "" {
				if s != nil || err == nil || !strings.Contains(err.Error(), c.want) || errors.Is(err, ErrNoTransport) {
					t.Fatalf("%v, %v; want an error saying %q", s, err, c.want)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var ok bool
			switch c.cfg.Transport {
			case "ses":
				_, ok = s.(*SES)
			case "smtp":
				_, ok = s.(*SMTP)
			case "outbox":
				_, ok = s.(*Outbox)
			}
			if !ok {
				t.Errorf("%T for transport %q", s, c.cfg.Transport)
			}
		})
	}
	t.Run("ses region", func(t *testing.T) {
		// SESRegion wins over the AWS configuration's (SES is not in every
		// region the functions run in); the endpoint follows it.
		s, err := New(Config{Transport: "ses", From: "noreply@example.com", SESRegion: "us-east-1"}, sesfake.AWSConfig(), nil)
		if err != nil {
			t.Fatal(err)
		}
		if ses := s.(*SES); ses.aws.Region != "us-east-1" || ses.endpoint != "https://email.us-east-1.amazonaws.com/v2/email/outbound-emails" {
			t.Errorf("region %q, endpoint %q", ses.aws.Region, ses.endpoint)
		}
		s, err = New(Config{Transport: "ses", From: "noreply@example.com"}, sesfake.AWSConfig(), nil)
		if err != nil || s.(*SES).aws.Region != sesfake.Region {
			t.Errorf("%v, %v", s, err)
		}
	})
}

// A message that cannot be sent as it is fails the same way on every
// transport, before anything leaves.
func TestInvalidMessages(t *testing.T) {
	fake := sesfake.New(t)
	var log bytes.Buffer
	outboxDir := filepath.Join(t.TempDir(), "outbox")
	senders := map[string]Sender{}
	for _, cfg := range []Config{
		{Transport: "ses", SESEndpoint: fake.URL()},
		// Nothing listens on port 9 of loopback; it is never reached.
		{Transport: "smtp", SMTPURL: "smtp://127.0.0.1:9"},
		{Transport: "outbox", OutboxDir: outboxDir},
	} {
		cfg.From = "noreply@example.com"
		s, err := New(cfg, sesfake.AWSConfig(), slog.New(slog.NewTextHandler(&log, nil)))
		if err != nil {
			t.Fatal(err)
		}
		senders[cfg.Transport] = s
	}
	ok := resetMail("ann@example.com")
	with := func(change func(*Message)) Message {
		m := ok
		change(&m)
		return m
	}
	for _, c := range []struct {
		name string
		m    Message
	}{
		// Header injection and fan-out first.
		{"recipient with a header after it", with(func(m *Message) { m.To = "ann@example.com\r\nBcc: all@example.com" })},
		{"two recipients", with(func(m *Message) { m.To = "ann@example.com, bob@example.com" })},
		{"group of recipients", with(func(m *Message) { m.To = "team: ann@example.com, bob@example.com;" })},
		{"subject with a header after it", with(func(m *Message) { m.Subject = "Hi\r\nBcc: all@example.com" })},
		{"subject with a newline", with(func(m *Message) { m.Subject = "Hi\nthere" })},
		{"no recipient", with(func(m *Message) { m.To = "" })},
		{"recipient not an address", with(func(m *Message) { m.To = "ann" })},
		{"no subject", with(func(m *Message) { m.Subject = " " })},
		{"no text", with(func(m *Message) { m.Text = "" })},
		{"no HTML", with(func(m *Message) { m.HTML = "" })},
	} {
		for name, s := range senders {
			t.Run(c.name+"/"+name, func(t *testing.T) {
				if err := s.Send(context.Background(), c.m); !errors.Is(err, ErrInvalidMessage) {
					t.Errorf("error %v, want ErrInvalidMessage", err)
				}
			})
		}
	}
	if fake.Calls() != 0 || log.Len() != 0 {
		t.Errorf("%d SES calls, log %q", fake.Calls(), log.String())
	}
}

// One sender serves many requests at once, as in a warm Lambda.
func TestConcurrentSends(t *testing.T) {
	fake := sesfake.New(t)
	var log bytes.Buffer
	now := time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC)
	o, _ := outboxIn(t, &log, &now)
	ses := sesTo(t, fake)
	const n = 10
	errs := make(chan error, 2*n)
	for range n {
		go func() { errs <- ses.Send(context.Background(), resetMail("ann@example.com")) }()
		go func() { errs <- o.Send(context.Background(), resetMail("ann@example.com")) }()
	}
	for range 2 * n {
		if err := <-errs; err != nil {
			t.Error(err)
		}
	}
	if got := len(fake.Messages()); got != n {
		t.Errorf("SES got %d messages, want %d", got, n)
	}
	if got := strings.Count(log.String(), "\n"); got != n {
		t.Errorf("outbox logged %d lines, want %d", got, n)
	}
}
