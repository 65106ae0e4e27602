package mail

import (
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"adstudio/internal/devtools/testenv"
)

// Mailpit is a real SMTP server that keeps what it receives and shows it
// through an HTTP API; the SMTP transport is tested against it.
const (
	mailpitEnv = "MAILPIT_BIN"
	mailpitHow = "the SMTP tests need Mailpit (MAILPIT_BIN=$(tests/mail/mailpit.sh), as make test-go does)"
)

// mailpit is one running Mailpit.
type mailpit struct {
	smtpAddr string // host:port
	api      string // base URL of the HTTP API
}

// freeAddr returns a loopback address with a port nothing listens on now.
func freeAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// startMailpit runs Mailpit for the test's lifetime with its own database
// and the extra flags given, and returns once both its SMTP port and its
// API answer.
func startMailpit(t *testing.T, flags ...string) *mailpit {
	t.Helper()
	bin := testenv.Tool(t, mailpitEnv, mailpitHow)
	dir := t.TempDir()
	m := &mailpit{smtpAddr: freeAddr(t)}
	httpAddr := freeAddr(t)
	m.api = "http://" + httpAddr
	logPath := filepath.Join(dir, "mailpit.log")
	logFile, err := os.Create(logPath)
	if err != nil {
		t.Fatal(err)
	}
	args := append([]string{
		"--smtp", m.smtpAddr, "--listen", httpAddr,
		"--database", filepath.Join(dir, "mailpit.db"),
		// Nothing leaves the machine: no release check on GitHub, no
		// reverse DNS of the client.
		"--disable-version-check", "--smtp-disable-rdns",
	}, flags...)
	cmd := exec.Command(bin, args...)
	cmd.Stdout, cmd.Stderr = logFile, logFile
	if err := cmd.Start(); err != nil {
		t.Fatalf("start mailpit: %v", err)
	}
	exited := make(chan struct{})
	go func() { cmd.Wait(); close(exited) }()
	t.Cleanup(func() {
		cmd.Process.Kill()
		<-exited
		logFile.Close()
		if t.Failed() {
			log, _ := os.ReadFile(logPath)
			t.Logf("mailpit's log:\n%s", log)
		}
	})
	// Ready when /readyz answers 200 and the SMTP port accepts, or failed
	// when it exits first: no start-up is too slow. The pause between
	// attempts only paces them.
	client := &http.Client{Timeout: 5 * time.Second}
	for {
		if res, err := client.Get(m.api + "/readyz"); err == nil {
			res.Body.Close()
			if res.StatusCode == http.StatusOK {
				if conn, err := net.Dial("tcp", m.smtpAddr); err == nil {
					conn.Close()
					return m
				}
			}
		}
		select {
		case <-exited:
			log, _ := os.ReadFile(logPath)
			t.Fatalf("mailpit exited at start-up:\n%s", log)
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// mpAddress is an address as the API gives it.
type mpAddress struct{ Name, Address string }

// mpMessage is a stored message as /api/v1/message/{ID} gives it.
type mpMessage struct {
	ID        string
	MessageID string
	From      mpAddress
	To, Cc    []mpAddress
	Bcc       []mpAddress
	Subject   string
	Date      time.Time
	Username  string // the SMTP AUTH user, if any
	Text      string
	HTML      string
	Raw       string `json:"-"`
}

func (m *mailpit) get(t *testing.T, path string, into any) {
	t.Helper()
	res, err := http.Get(m.api + path)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: HTTP %d", path, res.StatusCode)
	}
	if s, ok := into.(*string); ok {
		var b []byte
		b, err = io.ReadAll(res.Body)
		*s = string(b)
	} else {
		err = json.NewDecoder(res.Body).Decode(into)
	}
	if err != nil {
		t.Fatalf("GET %s: %v", path, err)
	}
}

// messages returns every stored message, newest first, in full.
func (m *mailpit) messages(t *testing.T) []mpMessage {
	t.Helper()
	var list struct {
		Total    int
		Messages []struct{ ID string }
	}
	m.get(t, "/api/v1/messages", &list)
	out := make([]mpMessage, 0, len(list.Messages))
	for _, s := range list.Messages {
		var msg mpMessage
		m.get(t, "/api/v1/message/"+s.ID, &msg)
		m.get(t, "/api/v1/message/"+s.ID+"/raw", &msg.Raw)
		out = append(out, msg)
	}
	if len(out) != list.Total {
		t.Fatalf("listed %d of %d messages", len(out), list.Total)
	}
	return out
}

// only returns the one stored message.
func (m *mailpit) only(t *testing.T) mpMessage {
	t.Helper()
	msgs := m.messages(t)
	if len(msgs) != 1 {
		t.Fatalf("mailpit has %d messages, want 1", len(msgs))
	}
	return msgs[0]
}

func (a mpAddress) String() string { return fmt.Sprintf("%q <%s>", a.Name, a.Address) }
