package devapp_test

import (
	"encoding/json"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"testing"
	"time"

	"adstudio/internal/devtools/testenv"
)

// mailpit is a running Mailpit: a real SMTP server whose HTTP API shows
// what it received, so a test sends through the SMTP transport a
// deployment uses (internal/mail's own tests start it the same way).
type mailpit struct {
	smtpAddr string // host:port
	api      string // base URL of the HTTP API
}

// startMailpit runs Mailpit (MAILPIT_BIN) for the test's lifetime with the
// extra flags given, and returns once its API and SMTP port answer.
func startMailpit(t *testing.T, flags ...string) *mailpit {
	t.Helper()
	bin := testenv.Tool(t, "MAILPIT_BIN", "this test sends mail through Mailpit (MAILPIT_BIN=$(tests/mail/mailpit.sh), as make test-go does)")
	dir := t.TempDir()
	m := &mailpit{smtpAddr: freeLoopback(t)}
	httpAddr := freeLoopback(t)
	m.api = "http://" + httpAddr
	logPath := filepath.Join(dir, "mailpit.log")
	logFile, err := os.Create(logPath)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, append([]string{
		"--smtp", m.smtpAddr, "--listen", httpAddr, "--database", filepath.Join(dir, "mailpit.db"),
		"--disable-version-check", "--smtp-disable-rdns",
	}, flags...)...)
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
	// Ready when /readyz answers and the SMTP port accepts, failed when it
	// exits first; the pause only paces the attempts.
	client := &http.Client{Timeout: 5 * time.Second}
	for {
		if res, err := client.Get(m.api + "/readyz"); err == nil {
			res.Body.Close()
			if conn, err := net.Dial("tcp", m.smtpAddr); res.StatusCode == http.StatusOK && err == nil {
				conn.Close()
				return m
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

// freeLoopback is a loopback address nothing listens on now.
func freeLoopback(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

func (m *mailpit) get(t *testing.T, path string, into any) {
	t.Helper()
	res, err := http.Get(m.api + path)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		t.Fatalf("mailpit GET %s: HTTP %d", path, res.StatusCode)
	}
	if err := json.NewDecoder(res.Body).Decode(into); err != nil {
		t.Fatalf("mailpit GET %s: %v", path, err)
	}
}

var mailLinkRE = regexp.MustCompile(`https?://\S+`)

// link returns the link of the newest message to address whose path
// starts with pathPrefix, as a parsed URL; it fails the test if there is
// none.
func (m *mailpit) link(t *testing.T, address, pathPrefix string) *url.URL {
	t.Helper()
	var list struct {
		Messages []struct {
			ID string
			To []struct{ Address string }
		}
	}
	m.get(t, "/api/v1/messages", &list) // newest first
	for _, s := range list.Messages {
		if len(s.To) != 1 || s.To[0].Address != address {
			continue
		}
		var msg struct{ Text string }
		m.get(t, "/api/v1/message/"+s.ID, &msg)
		for _, l := range mailLinkRE.FindAllString(msg.Text, -1) {
			if u, err := url.Parse(l); err == nil && len(u.Path) >= len(pathPrefix) && u.Path[:len(pathPrefix)] == pathPrefix {
				return u
			}
		}
	}
	t.Fatalf("no message to %s with a link to %s…", address, pathPrefix)
	return nil
}
