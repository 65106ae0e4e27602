// Package logsafe makes values that identify a person fit for a log line.
// Logs are read by more people, and kept longer, than the database: a full
// email address never goes into one. A masked address is enough to tell
// two lines about the same mailbox apart from others, and the user id
// (which the access log carries) is the exact key.
package logsafe

import (
	"net/mail"
	"regexp"
	"strings"
	"unicode/utf8"
)

// Email masks an address for a log: the first character of the local part
// and the domain, "a***@example.com". A "Name <address>" form is masked to
// its address alone; anything without an @ is "***".
func Email(addr string) string {
	if a, err := mail.ParseAddress(addr); err == nil {
		addr = a.Address
	}
	at := strings.LastIndexByte(addr, '@')
	if at <= 0 {
		return "***"
	}
	r, _ := utf8.DecodeRuneInString(addr)
	return string(r) + "***" + addr[at:]
}

// Error is err's text with every occurrence of each of addrs, in any case,
// masked as Email masks it: for errors that may quote an address, such as
// an SMTP server's refusal ("affected recipient(s): <ann@example.com>") or
// SES's MessageRejected ("identities failed the check: ann@example.com").
func Error(err error, addrs ...string) string {
	if err == nil {
		return ""
	}
	s := err.Error()
	for _, a := range addrs {
		if p, perr := mail.ParseAddress(a); perr == nil {
			a = p.Address
		}
		if a == "" {
			continue
		}
		s = regexp.MustCompile("(?i)"+regexp.QuoteMeta(a)).ReplaceAllLiteralString(s, Email(a))
	}
	return s
}
