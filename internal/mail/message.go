package mail

import (
	"crypto/rand"
	"net/mail"
	"strings"
	"time"

	gomail "github.com/wneessen/go-mail"
)

// compose builds the MIME form of m, shared by SMTP and the outbox: a
// multipart/alternative of the text part then the HTML part (clients show
// the last one they can), both UTF-8 in quoted-printable, with a Date and a
// Message-ID.
func compose(from, to *mail.Address, m Message, now time.Time) *gomail.Msg {
	// No User-Agent/X-Mailer: it only tells the world which library to probe.
	msg := gomail.NewMsg(gomail.WithNoDefaultUserAgent())
	msg.FromMailAddress(from)
	msg.ToMailAddress(to)
	msg.Subject(m.Subject)
	msg.SetDateWithValue(now)
	msg.SetMessageIDWithValue(messageID(from))
	msg.SetBodyString(gomail.TypeTextPlain, m.Text)
	msg.AddAlternativeString(gomail.TypeTextHTML, m.HTML)
	return msg
}

// messageID is a random id in the sender's domain. go-mail's default uses
// the host name, which on Lambda is an internal name of no use to anyone
// reading the headers, and which spam filters score against the From.
func messageID(from *mail.Address) string {
	domain := "localhost"
	if at := strings.LastIndexByte(from.Address, '@'); at >= 0 && at < len(from.Address)-1 {
		domain = from.Address[at+1:]
	}
	return rand.Text() + "@" + domain
}
