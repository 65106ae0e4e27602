package mail

import (
	"os/exec"
	"strings"
	"testing"

	"adstudio/internal/devtools/testenv"
)

// The package will be linked into the auth function: it must not bring the
// SDK's service clients (the SES one is only for sdk_test.go) nor anything
// of the development tools (sesfake is only for the tests).
func TestShippedImports(t *testing.T) {
	goBin := testenv.Program(t, "go", "the Go toolchain lists the package's imports")
	out, err := exec.Command(goBin, "list", "-deps", ".").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	deps := strings.Fields(string(out))
	if len(deps) < 50 {
		t.Fatalf("go list found only %d packages", len(deps))
	}
	for _, d := range deps {
		for _, bad := range []string{"github.com/aws/aws-sdk-go-v2/service/", "github.com/aws/aws-sdk-go-v2/config", "adstudio/internal/devtools/"} {
			if strings.HasPrefix(d, bad) {
				t.Errorf("links %s", d)
			}
		}
	}
}
