package mail

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"log/slog"
	"net/mail"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// Outbox is the transport of `make dev`: each message becomes an RFC 5322
// .eml file in a directory (any mail client opens one), and one log line
// gives its recipient, subject and links, so a developer follows a reset
// or verification link straight from the server's log.
//
// It writes the one-time links of the messages into that log: it is meant
// for a developer's own machine only, never for a deployment whose logs
// other people read.
type Outbox struct {
	// Now is the clock for file names and the Date header; nil is time.Now.
	Now func() time.Time

	from *mail.Address
	dir  string
	log  *slog.Logger
}

// NewOutbox configures an outbox writing into dir (created on first use)
// and logging to log (nil: slog's default logger).
func NewOutbox(from, dir string, log *slog.Logger) (*Outbox, error) {
	f, err := parseFrom(from)
	if err != nil {
		return nil, err
	}
	if dir == "" {
		return nil, errors.New("mail: outbox: no directory")
	}
	if log == nil {
		log = slog.Default()
	}
	return &Outbox{from: f, dir: dir, log: log}, nil
}

// Send writes m as a new file named <UTC time>-<random>.eml, so a
// directory listing is in sending order, and logs it.
func (o *Outbox) Send(ctx context.Context, m Message) (err error) {
	defer func() {
		if err != nil {
			err = fmt.Errorf("mail: outbox: %w", err)
		}
	}()
	to, err := check(m)
	if err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	now := time.Now
	if o.Now != nil {
		now = o.Now
	}
	at := now()
	msg := compose(o.from, to, m, at)
	// 0700/0600: the files hold one-time links.
	if err := os.MkdirAll(o.dir, 0o700); err != nil {
		return err
	}
	name := at.UTC().Format("20060102T150405.000000000Z") + "-" + strings.ToLower(rand.Text()[:10]) + ".eml"
	// Written under a temporary name and renamed, so a tool watching the
	// directory never reads half a message.
	tmp, err := os.CreateTemp(o.dir, ".partial-*")
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			os.Remove(tmp.Name())
		}
	}()
	if _, err := msg.WriteTo(tmp); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	path := filepath.Join(o.dir, name)
	if err := os.Rename(tmp.Name(), path); err != nil {
		return err
	}
	attrs := []any{"to", format(to), "subject", m.Subject, "file", path}
	// One attribute per link: a list would be quoted as one value, and the
	// terminal would not see where each link ends.
	for i, l := range links(m.Text) {
		attrs = append(attrs, "link"+strconv.Itoa(i+1), l)
	}
	o.log.InfoContext(ctx, "mail: written to the outbox", attrs...)
	return nil
}

// links returns the http and https URLs in text, in order, each once. A
// URL ends at white space, at a character that cannot appear in one
// unescaped (<>"`{}|\^), or before trailing punctuation that closes the
// sentence around it.
func links(text string) []string {
	var out []string
	seen := map[string]bool{}
	for i := 0; i < len(text); {
		start := linkStart(text[i:])
		if start < 0 {
			break
		}
		start += i
		end := start
		for end < len(text) && !strings.ContainsRune(" \t\r\n<>\"`{}|\\^", rune(text[end])) {
			end++
		}
		l := strings.TrimRight(text[start:end], ".,;:!?')]")
		// Keep a closing parenthesis the link itself opened (Wikipedia).
		if strings.Count(l, "(") > strings.Count(l, ")") && end > start+len(l) && text[start+len(l)] == ')' {
			l += ")"
		}
		if _, rest, _ := strings.Cut(l, "://"); rest != "" && !seen[l] {
			seen[l] = true
			out = append(out, l)
		}
		i = end
	}
	return out
}

// linkStart is the index of the first "http://" or "https://" in s, in
// any case, or -1.
func linkStart(s string) int {
	for j := 0; j < len(s); j++ {
		if c := s[j]; c != 'h' && c != 'H' {
			continue
		}
		rest := s[j:]
		if len(rest) >= 7 && strings.EqualFold(rest[:7], "http://") || len(rest) >= 8 && strings.EqualFold(rest[:8], "https://") {
			return j
		}
	}
	return -1
}
