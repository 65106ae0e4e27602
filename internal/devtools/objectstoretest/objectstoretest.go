// Package objectstoretest runs versitygw, a real S3-compatible server over a
// posix directory, for tests of code that talks to R2 through the S3 API.
package objectstoretest

import (
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"
)

// Gateway is one versitygw process, signed for region "auto" as R2 is.
type Gateway struct {
	Endpoint       string
	Access, Secret string
}

// BinEnv names the variable that holds the versitygw binary's path, and
// BinHow says how to set it. Tests resolve it with internal/devtools/testenv (a skip
// outside CI, a failure under CI) and pass the path to Start.
const (
	BinEnv = "VERSITYGW_BIN"
	BinHow = "the tests against a real S3 server need versitygw (VERSITYGW_BIN=$(tests/s3/versitygw.sh), as make test-go does)"
)

// Start runs the versitygw binary bin for the test's lifetime, with the
// given buckets created.
func Start(t testing.TB, bin string, buckets ...string) *Gateway {
	t.Helper()
	g := &Gateway{Access: "test-access-key", Secret: "test-secret-key"}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	g.Endpoint = "http://" + addr
	dir := t.TempDir()
	logPath := filepath.Join(dir, "versitygw.log")
	logFile, err := os.Create(logPath)
	if err != nil {
		t.Fatal(err)
	}
	data := filepath.Join(dir, "data")
	// The posix backend serves each top-level directory as a bucket.
	for _, b := range append([]string{""}, buckets...) {
		if err := os.MkdirAll(filepath.Join(data, b), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	cmd := exec.Command(bin, "--access", g.Access, "--secret", g.Secret,
		"--region", "auto", "--port", addr, "--quiet", "posix", data)
	cmd.Stdout, cmd.Stderr = logFile, logFile
	if err := cmd.Start(); err != nil {
		t.Fatalf("start versitygw: %v", err)
	}
	exited := make(chan struct{})
	go func() { cmd.Wait(); close(exited) }()
	t.Cleanup(func() {
		cmd.Process.Kill()
		<-exited
		logFile.Close()
	})
	// Wait until it listens or exits, whichever comes first: no start-up
	// time is too slow. The pause between attempts only paces them.
	for {
		if conn, err := net.Dial("tcp", addr); err == nil {
			conn.Close()
			return g
		}
		select {
		case <-exited:
			log, _ := os.ReadFile(logPath)
			t.Fatalf("versitygw exited at start-up:\n%s", log)
		case <-time.After(20 * time.Millisecond):
		}
	}
}
