// Package objectstoretest runs versitygw, a real S3-compatible server over a
// posix directory, for tests of code that talks to R2 through the S3 API.
package objectstoretest

import (
	"os"
	"path/filepath"
	"testing"

	"adstudio/internal/devtools/proctest"
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
// given buckets created. Its log is shown if the test fails.
func Start(t testing.TB, bin string, buckets ...string) *Gateway {
	t.Helper()
	g := &Gateway{Access: "test-access-key", Secret: "test-secret-key"}
	addr := proctest.FreeAddr(t)
	g.Endpoint = "http://" + addr
	data := filepath.Join(t.TempDir(), "data")
	// The posix backend serves each top-level directory as a bucket.
	for _, b := range append([]string{""}, buckets...) {
		if err := os.MkdirAll(filepath.Join(data, b), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	p := proctest.Start(t, "versitygw", bin, "--access", g.Access, "--secret", g.Secret,
		"--region", "auto", "--port", addr, "--quiet", "posix", data)
	// Ready once it listens. No bound: no start-up time is too slow, and
	// one that fails exits.
	p.WaitReady(t, 0, func() bool { return proctest.Accepts(addr) })
	return g
}
