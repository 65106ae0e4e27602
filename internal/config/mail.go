package config

import (
	"net/mail"
	"net/url"
	"path/filepath"
	"strings"
)

// Mail is how the service sends mail (password reset, verification): one
// transport, or none, when the mail features answer as better-auth does
// without a sender (RESET_PASSWORD_DISABLED, …).
type Mail struct {
	// Transport is "ses", "smtp", "outbox" or "" (none). make dev's
	// default is "outbox".
	Transport string
	// From is the sender address (EMAIL_FROM), "Name <addr>" or "addr".
	From string
	// SMTPURL is smtp://user:pass@host:port or smtps://… (SMTP_URL).
	SMTPURL string
	// OutboxDir is where "outbox" writes messages (OUTBOX_DIR; make dev:
	// .data/outbox beside the database).
	OutboxDir string
	// AppName names the product in messages (APP_NAME).
	AppName string
	// Verification is EMAIL_VERIFICATION: VerifyOff (no mail on sign-up,
	// the default), VerifySend (a verification mail on sign-up, access at
	// once) or VerifyRequired (no session until the address is verified).
	Verification string
	// FreeCreditsNeedVerifiedEmail withholds the free tier's credits until
	// the address is verified (FREE_CREDITS_REQUIRE_VERIFIED_EMAIL).
	FreeCreditsNeedVerifiedEmail bool
}

// The EMAIL_VERIFICATION modes.
const (
	VerifyOff      = "off"
	VerifySend     = "send"
	VerifyRequired = "required"
)

// The transports EMAIL_TRANSPORT names.
const (
	MailSES    = "ses"
	MailSMTP   = "smtp"
	MailOutbox = "outbox"
)

// loadMail reads the mail settings; databaseURL places make dev's outbox.
func loadMail(get func(string) string, local bool, databaseURL string) (Mail, error) {
	m := Mail{
		Transport: strings.ToLower(get("EMAIL_TRANSPORT")), From: get("EMAIL_FROM"),
		SMTPURL: get("SMTP_URL"), OutboxDir: get("OUTBOX_DIR"), AppName: get("APP_NAME"),
	}
	if m.AppName == "" {
		m.AppName = "AdDreams"
	}
	switch m.Verification = strings.ToLower(get("EMAIL_VERIFICATION")); m.Verification {
	case "":
		m.Verification = VerifyOff
	case VerifyOff, VerifySend, VerifyRequired:
	default:
		return m, &Error{"EMAIL_VERIFICATION", `expected "off" (the default), "send" or "required"`}
	}
	if m.Transport == "" && local {
		m.Transport = MailOutbox
	}
	switch v := strings.ToLower(get("FREE_CREDITS_REQUIRE_VERIFIED_EMAIL")); v {
	case "", "false":
	case "true":
		m.FreeCreditsNeedVerifiedEmail = true
	default:
		return m, &Error{"FREE_CREDITS_REQUIRE_VERIFIED_EMAIL", `expected "true" or "false" (the default)`}
	}
	switch m.Transport {
	case "":
		if m.FreeCreditsNeedVerifiedEmail {
			return m, &Error{"FREE_CREDITS_REQUIRE_VERIFIED_EMAIL", "needs EMAIL_TRANSPORT: addresses are verified by mail"}
		}
		if m.Verification != VerifyOff {
			// Nobody could ever verify: required would lock every new user out.
			return m, &Error{"EMAIL_VERIFICATION", "needs EMAIL_TRANSPORT: verification is sent by mail"}
		}
		return m, nil
	case MailSES, MailOutbox:
	case MailSMTP:
		u, err := url.Parse(m.SMTPURL)
		if err != nil || (u.Scheme != "smtp" && u.Scheme != "smtps") || u.Hostname() == "" {
			// The value is not repeated: it may hold a password.
			return m, &Error{"SMTP_URL", "required with EMAIL_TRANSPORT=smtp: smtp://user:pass@host:port (STARTTLS) or smtps://… (TLS)"}
		}
	default:
		return m, &Error{"EMAIL_TRANSPORT", `expected "ses", "smtp", "outbox" or unset (no mail)`}
	}
	if m.From == "" && local {
		m.From = m.AppName + " <noreply@localhost>"
	}
	if _, err := mail.ParseAddress(m.From); err != nil {
		return m, &Error{"EMAIL_FROM", "required with EMAIL_TRANSPORT: an address, or Name <address>"}
	}
	if m.Transport == MailOutbox && m.OutboxDir == "" {
		m.OutboxDir = filepath.Join(".data", "outbox")
		if p, ok := strings.CutPrefix(databaseURL, "file:"); ok {
			p, _, _ = strings.Cut(p, "?")
			m.OutboxDir = filepath.Join(filepath.Dir(p), "outbox")
		}
	}
	return m, nil
}
