package storage

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

// gateway is a versitygw process (a real S3-compatible server over a posix
// directory) for one test.
type gateway struct {
	endpoint       string
	access, secret string
	buckets        atomic.Int64
}

// startGateway runs VERSITYGW_BIN for the test's lifetime, or skips the test
// when it is unset.
func startGateway(t *testing.T) *gateway {
	t.Helper()
	bin := os.Getenv("VERSITYGW_BIN")
	if bin == "" {
		t.Skip("VERSITYGW_BIN is not set: skipping the tests against a real S3 server " +
			"(run VERSITYGW_BIN=$(tests/s3/versitygw.sh) go test ./pkg/storage, as make test-go does)")
	}
	g := &gateway{access: "test-access-key", secret: "test-secret-key"}
	addr := freeAddr(t)
	g.endpoint = "http://" + addr
	dir := t.TempDir()
	logPath := filepath.Join(dir, "versitygw.log")
	logFile, err := os.Create(logPath)
	if err != nil {
		t.Fatal(err)
	}
	data := filepath.Join(dir, "data")
	if err := os.Mkdir(data, 0o755); err != nil {
		t.Fatal(err)
	}
	// Region auto, as R2: the client signs with the region it is given and
	// versitygw rejects any other.
	cmd := exec.Command(bin,
		"--access", g.access, "--secret", g.secret,
		"--region", "auto", "--port", addr, "--quiet",
		"posix", data)
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
	deadline := time.Now().Add(15 * time.Second)
	for {
		conn, err := net.DialTimeout("tcp", addr, time.Second)
		if err == nil {
			conn.Close()
			return g
		}
		select {
		case <-exited:
			log, _ := os.ReadFile(logPath)
			t.Fatalf("versitygw exited at start-up:\n%s", log)
		case <-time.After(20 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			log, _ := os.ReadFile(logPath)
			t.Fatalf("versitygw did not listen on %s within 15 s:\n%s", addr, log)
		}
	}
}

// freeAddr picks a free loopback port (the usual small race: something else
// could take it before versitygw binds it).
func freeAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// client builds an S3 store for bucket against endpoint (the gateway itself,
// or a proxy in front of it).
func (g *gateway) client(t *testing.T, endpoint, bucket string, optFns ...func(*s3.Options)) *S3 {
	t.Helper()
	s, err := newS3(t.Context(), S3Config{
		AccessKeyID:     g.access,
		SecretAccessKey: g.secret,
		Bucket:          bucket,
		Endpoint:        endpoint,
	}, optFns...)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// newBucket creates a fresh bucket through the SDK and returns a store on it.
func (g *gateway) newBucket(t *testing.T, optFns ...func(*s3.Options)) *S3 {
	t.Helper()
	name := fmt.Sprintf("test-%d", g.buckets.Add(1))
	s := g.client(t, g.endpoint, name, optFns...)
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	if _, err := s.client.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(name)}); err != nil {
		t.Fatalf("create bucket %s: %v", name, err)
	}
	return s
}
