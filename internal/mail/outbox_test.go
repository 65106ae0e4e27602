package mail

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"mime"
	"mime/multipart"
	"net/mail"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"
)

// outboxIn returns an outbox writing into a new directory, logging JSON
// into buf, with a clock the test moves.
func outboxIn(t *testing.T, buf *bytes.Buffer, now *time.Time) (*Outbox, string) {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "outbox")
	o, err := NewOutbox("Ad Studio <noreply@example.com>", dir, slog.New(slog.NewJSONHandler(buf, nil)))
	if err != nil {
		t.Fatal(err)
	}
	o.Now = func() time.Time { return *now }
	return o, dir
}

// parsed is an .eml file read back with the standard library.
type parsed struct {
	header     mail.Header
	subject    string
	text, html string
}

func readEML(t *testing.T, path string) parsed {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	msg, err := mail.ReadMessage(f)
	if err != nil {
		t.Fatalf("%s is not RFC 5322: %v", path, err)
	}
	p := parsed{header: msg.Header}
	if p.subject, err = new(mime.WordDecoder).DecodeHeader(msg.Header.Get("Subject")); err != nil {
		t.Fatal(err)
	}
	mt, params, err := mime.ParseMediaType(msg.Header.Get("Content-Type"))
	if err != nil || mt != "multipart/alternative" {
		t.Fatalf("Content-Type %q (%v)", msg.Header.Get("Content-Type"), err)
	}
	r := multipart.NewReader(msg.Body, params["boundary"])
	var types []string
	for {
		part, err := r.NextPart()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		// multipart.Reader decodes quoted-printable, as a mail client does.
		body, err := io.ReadAll(part)
		if err != nil {
			t.Fatal(err)
		}
		ct := part.Header.Get("Content-Type")
		types = append(types, ct)
		switch ct {
		case "text/plain; charset=UTF-8":
			p.text = string(body)
		case "text/html; charset=UTF-8":
			p.html = string(body)
		}
	}
	if !reflect.DeepEqual(types, []string{"text/plain; charset=UTF-8", "text/html; charset=UTF-8"}) {
		t.Errorf("parts %q, want text then HTML", types)
	}
	return p
}

func TestOutboxWrites(t *testing.T) {
	var log bytes.Buffer
	now := time.Date(2026, 3, 4, 5, 6, 7, 890, time.FixedZone("CET", 3600))
	o, dir := outboxIn(t, &log, &now)
	m := resetMail("Zoë <zoe@example.com>")
	if err := o.Send(context.Background(), m); err != nil {
		t.Fatal(err)
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 1 {
		t.Fatalf("%d files in the outbox", len(entries))
	}
	name := entries[0].Name()
	if !regexp.MustCompile(`^20260304T040607\.000000890Z-[a-z2-7]{10}\.eml$`).MatchString(name) {
		t.Errorf("file name %q", name)
	}
	if info, _ := entries[0].Info(); info.Mode().Perm() != 0o600 {
		t.Errorf("file mode %v", info.Mode())
	}
	p := readEML(t, filepath.Join(dir, name))
	if p.subject != m.Subject {
		t.Errorf("Subject %q", p.subject)
	}
	from, err := p.header.AddressList("From")
	if err != nil || len(from) != 1 || *from[0] != (mail.Address{Name: "Ad Studio", Address: "noreply@example.com"}) {
		t.Errorf("From %v (%v)", from, err)
	}
	to, err := p.header.AddressList("To")
	if err != nil || len(to) != 1 || *to[0] != (mail.Address{Name: "Zoë", Address: "zoe@example.com"}) {
		t.Errorf("To %v (%v)", to, err)
	}
	if d, err := p.header.Date(); err != nil || !d.Equal(now.Truncate(time.Second)) {
		t.Errorf("Date %v (%v), want %v", d, err, now)
	}
	if id := p.header.Get("Message-Id"); !regexp.MustCompile(`^<[A-Z2-7]{26}@example\.com>$`).MatchString(id) {
		t.Errorf("Message-ID %q", id)
	}
	if p.text != strings.ReplaceAll(m.Text, "\n", "\r\n") || p.html != m.HTML {
		t.Errorf("parts:\ntext %q\nhtml %q", p.text, p.html)
	}
}

// The log has one line per message: recipient, subject, file and links,
// and nothing else of the message.
func TestOutboxLogsLinksOnly(t *testing.T) {
	var log bytes.Buffer
	now := time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC)
	o, dir := outboxIn(t, &log, &now)
	m := Message{
		To:      "ann@example.com",
		Subject: "Vérifiez votre adresse",
		Text:    "Secret-words-here. Verify: https://app.example.com/verify-email?token=abc.def&callbackURL=%2F.\nOr (https://app.example.com/help). Same again: https://app.example.com/help\n",
		HTML:    `<p>html-only-words <a href="https://html.example.com/only">x</a></p>`,
	}
	if err := o.Send(context.Background(), m); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(log.String()), "\n")
	if len(lines) != 1 {
		t.Fatalf("%d log lines:\n%s", len(lines), log.String())
	}
	var rec map[string]any
	if err := json.Unmarshal([]byte(lines[0]), &rec); err != nil {
		t.Fatal(err)
	}
	entries, _ := os.ReadDir(dir)
	want := map[string]any{
		"level": "INFO", "msg": "mail: written to the outbox",
		"to": "ann@example.com", "subject": "Vérifiez votre adresse",
		"file":  filepath.Join(dir, entries[0].Name()),
		"link1": "https://app.example.com/verify-email?token=abc.def&callbackURL=%2F",
		"link2": "https://app.example.com/help",
	}
	delete(rec, "time")
	if !reflect.DeepEqual(rec, want) {
		t.Errorf("log record\n%v\nwant\n%v", rec, want)
	}
	for _, never := range []string{"Secret-words", "html-only", "html.example.com"} {
		if strings.Contains(log.String(), never) {
			t.Errorf("the log shows %q", never)
		}
	}
}

func TestLinks(t *testing.T) {
	for _, c := range []struct {
		text string
		want []string
	}{
		{"", nil},
		{"no links, just http:// and https:// alone", nil},
		{"ftp://x.example/a mailto:a@example.com", nil},
		{"https://a.example/x", []string{"https://a.example/x"}},
		{"HTTPS://A.example/X and Http://b.example", []string{"HTTPS://A.example/X", "Http://b.example"}},
		{"end of sentence https://a.example/x.", []string{"https://a.example/x"}},
		{"quoted \"https://a.example/x\" and <https://b.example/y>", []string{"https://a.example/x", "https://b.example/y"}},
		{"(see https://a.example/x), and https://en.example/wiki/Go_(language)!", []string{"https://a.example/x", "https://en.example/wiki/Go_(language)"}},
		{"https://a.example/r?t=1&u=%2F#frag;\thttps://a.example/r?t=1&u=%2F#frag", []string{"https://a.example/r?t=1&u=%2F#frag"}},
		{"İİİ https://a.example/ü", []string{"https://a.example/ü"}},
		{"line\r\nhttps://a.example/1\r\nhttps://a.example/2", []string{"https://a.example/1", "https://a.example/2"}},
	} {
		if got := links(c.text); !slices.Equal(got, c.want) {
			t.Errorf("links(%q) = %q, want %q", c.text, got, c.want)
		}
	}
}

func TestOutboxFileNamesSort(t *testing.T) {
	var log bytes.Buffer
	now := time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC)
	o, dir := outboxIn(t, &log, &now)
	var subjects []string
	for i, step := range []time.Duration{0, time.Nanosecond, 0, time.Hour, 24 * time.Hour} {
		now = now.Add(step)
		m := resetMail("ann@example.com")
		m.Subject = "message " + string(rune('a'+i))
		subjects = append(subjects, m.Subject)
		if err := o.Send(context.Background(), m); err != nil {
			t.Fatal(err)
		}
	}
	entries, err := os.ReadDir(dir) // sorted by name
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != len(subjects) {
		t.Fatalf("%d files, want %d (two sent at the same instant must not collide)", len(entries), len(subjects))
	}
	var got []string
	for _, e := range entries {
		got = append(got, readEML(t, filepath.Join(dir, e.Name())).subject)
	}
	// The two sent at the same instant sort by their random part.
	if got[0] != "message a" || got[3] != "message d" || got[4] != "message e" ||
		!(got[1] == "message b" && got[2] == "message c" || got[1] == "message c" && got[2] == "message b") {
		t.Errorf("in name order: %q", got)
	}
}

func TestOutboxFailures(t *testing.T) {
	var log bytes.Buffer
	now := time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC)
	t.Run("cancelled", func(t *testing.T) {
		o, dir := outboxIn(t, &log, &now)
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		if err := o.Send(ctx, resetMail("ann@example.com")); !errors.Is(err, context.Canceled) {
			t.Fatalf("error %v", err)
		}
		if _, err := os.Stat(dir); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("outbox created: %v", err)
		}
	})
	t.Run("directory is a file", func(t *testing.T) {
		o, dir := outboxIn(t, &log, &now)
		if err := os.WriteFile(dir, nil, 0o600); err != nil {
			t.Fatal(err)
		}
		if err := o.Send(context.Background(), resetMail("ann@example.com")); err == nil || !strings.HasPrefix(err.Error(), "mail: outbox: ") {
			t.Fatalf("error %v", err)
		}
	})
	if log.Len() != 0 {
		t.Errorf("failures logged as sent: %s", log.String())
	}
}
