// Package proctest runs a real server binary (Mailpit, versitygw,
// stripe-mock, tursodb, …) for one test's lifetime, so that each package
// that wraps such a server says only how to start it and how to tell that
// it is ready, and they all treat the process alike: its output goes to a
// log that is shown only when the test fails, it never outlives the test,
// and a server that dies at start-up fails the test at once rather than
// leaving it to wait.
//
// Like the rest of internal/devtools it is for tests only: nothing that
// ships may import it.
package proctest

import (
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"
)

// pollInterval only paces the readiness checks; it bounds nothing.
const pollInterval = 20 * time.Millisecond

// Process is one server started by Start.
type Process struct {
	name   string
	cmd    *exec.Cmd
	exited chan struct{} // closed once cmd.Wait has returned
}

// Start runs bin with args until the test ends, its output in a log file
// that is shown as "<name>'s log" if the test has failed by then.
func Start(t testing.TB, name, bin string, args ...string) *Process {
	t.Helper()
	logPath := filepath.Join(t.TempDir(), name+".log")
	logFile, err := os.Create(logPath)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, args...)
	cmd.Stdout, cmd.Stderr = logFile, logFile
	if err := cmd.Start(); err != nil {
		logFile.Close()
		t.Fatalf("start %s: %v", name, err)
	}
	p := &Process{name: name, cmd: cmd, exited: make(chan struct{})}
	go func() { cmd.Wait(); close(p.exited) }()
	// Registered after the t.TempDir calls (ours, and the caller's for the
	// server's data), so it runs before they are removed.
	t.Cleanup(func() {
		cmd.Process.Kill()
		<-p.exited
		logFile.Close()
		if t.Failed() {
			log, _ := os.ReadFile(logPath)
			t.Logf("%s's log:\n%s", name, log)
		}
	})
	return p
}

// WaitReady returns once ready reports true, and fails the test if the
// process exits first (a server that died will never be ready, and its
// log says why) or, with a timeout above zero, once timeout has passed. A
// timeout of zero waits as long as the process lives: for servers whose
// start-up time varies too much for any bound to be safe.
func (p *Process) WaitReady(t testing.TB, timeout time.Duration, ready func() bool) {
	t.Helper()
	var deadline <-chan time.Time // nil, so never fires, without a timeout
	if timeout > 0 {
		deadline = time.After(timeout)
	}
	for !ready() {
		select {
		case <-p.exited:
			t.Fatalf("%s exited at start-up: %v", p.name, p.cmd.ProcessState)
		case <-deadline:
			t.Fatalf("%s was not ready within %v", p.name, timeout)
		case <-time.After(pollInterval):
		}
	}
}

// Accepts reports whether something accepts TCP connections on addr: the
// readiness check for a server whose port opens only once it can serve.
func Accepts(addr string) bool {
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		return false
	}
	conn.Close()
	return true
}

// FreeAddr returns a loopback address with a port nothing listens on now,
// for a server that must be told its port rather than report the one it
// picked. Another process could take the port before the server binds it;
// on a test machine that is rare enough.
func FreeAddr(t testing.TB) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}
