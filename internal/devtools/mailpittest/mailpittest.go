// Package mailpittest runs Mailpit, a real SMTP server that keeps what it
// receives and shows it through an HTTP API, for tests that send mail
// through the SMTP transport a deployment uses.
package mailpittest

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"adstudio/internal/devtools/proctest"
)

// BinEnv names the variable that holds the Mailpit binary's path, and
// BinHow says how to set it. Tests resolve it with internal/devtools/testenv
// (a skip outside CI, a failure under CI) and pass the path to Start: this
// package may not import testenv, which only tests may.
const (
	BinEnv = "MAILPIT_BIN"
	BinHow = "the tests that send mail need Mailpit (MAILPIT_BIN=$(tests/mail/mailpit.sh), as make test-go does)"
)

// Server is one running Mailpit.
type Server struct {
	SMTPAddr string // host:port
	API      string // base URL of the HTTP API
}

// FreeAddr returns a loopback address with a port nothing listens on now.
func FreeAddr(t testing.TB) string {
	t.Helper()
	return proctest.FreeAddr(t)
}

// Start runs the Mailpit binary bin for the test's lifetime with its own
// database and the extra flags given, and returns once both its SMTP port and its API
// answer. Its log is shown if the test fails.
func Start(t testing.TB, bin string, flags ...string) *Server {
	t.Helper()
	m := &Server{SMTPAddr: proctest.FreeAddr(t)}
	httpAddr := proctest.FreeAddr(t)
	m.API = "http://" + httpAddr
	args := append([]string{
		"--smtp", m.SMTPAddr, "--listen", httpAddr,
		"--database", filepath.Join(t.TempDir(), "mailpit.db"),
		// Nothing leaves the machine: no release check on GitHub, no
		// reverse DNS of the client.
		"--disable-version-check", "--smtp-disable-rdns",
	}, flags...)
	p := proctest.Start(t, "mailpit", bin, args...)
	// Ready when /readyz answers 200 and the SMTP port accepts. No bound:
	// no start-up is too slow, and one that fails exits.
	client := &http.Client{Timeout: 5 * time.Second}
	p.WaitReady(t, 0, func() bool {
		res, err := client.Get(m.API + "/readyz")
		if err != nil {
			return false
		}
		res.Body.Close()
		return res.StatusCode == http.StatusOK && proctest.Accepts(m.SMTPAddr)
	})
	return m
}

// Address is an address as the API gives it.
type Address struct{ Name, Address string }

func (a Address) String() string { return fmt.Sprintf("%q <%s>", a.Name, a.Address) }

// Message is a stored message as /api/v1/message/{ID} gives it, with its
// raw source when Messages read it.
type Message struct {
	ID        string
	MessageID string
	From      Address
	To, Cc    []Address
	Bcc       []Address
	Subject   string
	Date      time.Time
	Username  string // the SMTP AUTH user, if any
	Text      string
	HTML      string
	Raw       string `json:"-"`
}

// Get reads the API's answer to GET path into into: the body as it is
// when into is a *string, else decoded from JSON. Anything but a 200 fails
// the test.
func (m *Server) Get(t testing.TB, path string, into any) {
	t.Helper()
	res, err := http.Get(m.API + path)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		t.Fatalf("mailpit GET %s: HTTP %d", path, res.StatusCode)
	}
	if s, ok := into.(*string); ok {
		var b []byte
		b, err = io.ReadAll(res.Body)
		*s = string(b)
	} else {
		err = json.NewDecoder(res.Body).Decode(into)
	}
	if err != nil {
		t.Fatalf("mailpit GET %s: %v", path, err)
	}
}

// summary is a message as /api/v1/messages lists it.
type summary struct {
	ID string
	To []Address
}

// list returns the stored messages' summaries, newest first, and how many
// are stored.
func (m *Server) list(t testing.TB) (msgs []summary, total int) {
	t.Helper()
	var l struct {
		Total    int
		Messages []summary
	}
	m.Get(t, "/api/v1/messages", &l)
	return l.Messages, l.Total
}

// Messages returns every stored message, newest first, in full and with
// its raw source.
func (m *Server) Messages(t testing.TB) []Message {
	t.Helper()
	list, total := m.list(t)
	out := make([]Message, 0, len(list))
	for _, s := range list {
		var msg Message
		m.Get(t, "/api/v1/message/"+s.ID, &msg)
		m.Get(t, "/api/v1/message/"+s.ID+"/raw", &msg.Raw)
		out = append(out, msg)
	}
	if len(out) != total {
		t.Fatalf("listed %d of %d messages", len(out), total)
	}
	return out
}

// Only returns the one stored message; any other count fails the test.
func (m *Server) Only(t testing.TB) Message {
	t.Helper()
	msgs := m.Messages(t)
	if len(msgs) != 1 {
		t.Fatalf("mailpit has %d messages, want 1", len(msgs))
	}
	return msgs[0]
}

var linkRE = regexp.MustCompile(`https?://\S+`)

// Link returns the link of the newest message to address (its only
// recipient) whose path starts with pathPrefix, as a parsed URL; it fails
// the test if there is none.
func (m *Server) Link(t testing.TB, address, pathPrefix string) *url.URL {
	t.Helper()
	list, _ := m.list(t)
	for _, s := range list {
		if len(s.To) != 1 || s.To[0].Address != address {
			continue
		}
		var msg Message
		m.Get(t, "/api/v1/message/"+s.ID, &msg)
		for _, l := range linkRE.FindAllString(msg.Text, -1) {
			if u, err := url.Parse(l); err == nil && strings.HasPrefix(u.Path, pathPrefix) {
				return u
			}
		}
	}
	t.Fatalf("no message to %s with a link to %s…", address, pathPrefix)
	return nil
}
