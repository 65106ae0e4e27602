package proctest

import (
	"fmt"
	"os"
	"runtime"
	"strings"
	"testing"
	"time"
)

// The test binary doubles as the server, so the tests need nothing on the
// machine: PROCTEST_CHILD says how it behaves.
func TestMain(m *testing.M) {
	switch os.Getenv("PROCTEST_CHILD") {
	case "exit":
		fmt.Println("boom")
		os.Exit(3)
	case "serve":
		time.Sleep(time.Hour)
	}
	os.Exit(m.Run())
}

// recorder stands in for the test a server is started for, so that what
// would fail it can be checked instead.
type recorder struct {
	testing.TB
	fatal    string
	logs     []string
	cleanups []func()
}

func (r *recorder) Helper()                 {}
func (r *recorder) Failed() bool            { return r.fatal != "" }
func (r *recorder) Cleanup(f func())        { r.cleanups = append(r.cleanups, f) }
func (r *recorder) Logf(f string, a ...any) { r.logs = append(r.logs, fmt.Sprintf(f, a...)) }
func (r *recorder) Fatal(a ...any)          { r.Fatalf("%s", fmt.Sprint(a...)) }

func (r *recorder) Fatalf(f string, a ...any) {
	r.fatal = fmt.Sprintf(f, a...)
	runtime.Goexit()
}

// run starts the test binary as a server that behaves as child, waits for
// it as WaitReady does, then ends the test as the testing package would.
func run(t *testing.T, child string, timeout time.Duration, ready func() bool) *recorder {
	t.Setenv("PROCTEST_CHILD", child)
	r := &recorder{TB: t}
	done := make(chan struct{})
	go func() {
		defer close(done)
		Start(r, "child", os.Args[0]).WaitReady(r, timeout, ready)
	}()
	<-done
	for i := len(r.cleanups) - 1; i >= 0; i-- {
		r.cleanups[i]()
	}
	return r
}

func TestReady(t *testing.T) {
	calls := 0
	r := run(t, "serve", 0, func() bool { calls++; return calls == 3 })
	if r.fatal != "" || len(r.logs) != 0 || calls != 3 {
		t.Fatalf("fatal %q, logs %q, %d calls", r.fatal, r.logs, calls)
	}
}

func TestExitAtStartUp(t *testing.T) {
	r := run(t, "exit", 0, func() bool { return false })
	if r.fatal != "child exited at start-up: exit status 3" {
		t.Errorf("fatal %q", r.fatal)
	}
	if len(r.logs) != 1 || !strings.HasPrefix(r.logs[0], "child's log:\nboom") {
		t.Errorf("logs %q", r.logs)
	}
}

// The cleanup must also end a server that is still running, or run would
// not return.
func TestTimeout(t *testing.T) {
	r := run(t, "serve", 50*time.Millisecond, func() bool { return false })
	if r.fatal != "child was not ready within 50ms" {
		t.Errorf("fatal %q", r.fatal)
	}
}
