package testenv

import (
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

func TestIsCI(t *testing.T) {
	for v, want := range map[string]bool{
		"": false, "false": false, "0": false, "FALSE": false,
		"true": true, "1": true, "TRUE": true,
		"yes": true, "azure": true, // not a boolean: counted as CI, never as a reason to skip
	} {
		if got := isCI(v); got != want {
			t.Errorf("isCI(%q) = %v, want %v", v, got, want)
		}
	}
}

// childTests are tests that use the helpers as a suite would. They are
// added to this package's test binary only for TestMissingRequirement,
// through a build overlay, so no ordinary run contains them.
const childTests = `package testenv_test

import (
	"os"
	"testing"

	"adstudio/internal/devtools/testenv"
)

func TestChildTool(t *testing.T) {
	got := testenv.Tool(t, "TESTENV_CHILD_TOOL", "the parent test sets it")
	if want := os.Getenv("TESTENV_CHILD_WANT"); got != want {
		t.Fatalf("Tool = %q, want %q", got, want)
	}
}

func TestChildProgram(t *testing.T) {
	testenv.Program(t, "testenv-no-such-program", "nothing installs it")
}
`

// TestMissingRequirement runs a test binary whose tests need a tool, the
// way the real suites do, with CI set and unset: under CI a missing tool
// fails the run, outside CI it skips, and a tool that is there is used.
func TestMissingRequirement(t *testing.T) {
	goBin := Program(t, "go", "the Go toolchain builds the child test binary")
	dir := t.TempDir()
	pkgDir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	child := filepath.Join(dir, "child_test.go")
	if err := os.WriteFile(child, []byte(childTests), 0o644); err != nil {
		t.Fatal(err)
	}
	overlay, _ := json.Marshal(map[string]any{"Replace": map[string]string{filepath.Join(pkgDir, "zz_child_test.go"): child}})
	if err := os.WriteFile(filepath.Join(dir, "overlay.json"), overlay, 0o644); err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(dir, "child.test")
	build := exec.Command(goBin, "test", "-c", "-o", bin, "-overlay", filepath.Join(dir, "overlay.json"), ".")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("build the child test binary: %v\n%s", err, out)
	}

	// The environment of the test run without CI and the child's
	// variables; each case adds its own.
	var base []string
	for _, kv := range os.Environ() {
		name, _, _ := strings.Cut(kv, "=")
		if name != "CI" && !strings.HasPrefix(name, "TESTENV_CHILD_") {
			base = append(base, kv)
		}
	}
	for _, tc := range []struct {
		name, test string
		env        []string
		wantFail   bool
		wantLine   string
	}{
		{"CI, tool unset", "TestChildTool", []string{"CI=true"}, true, "--- FAIL: TestChildTool"},
		{"CI, tool empty", "TestChildTool", []string{"CI=true", "TESTENV_CHILD_TOOL="}, true, "--- FAIL: TestChildTool"},
		{"CI=1, tool unset", "TestChildTool", []string{"CI=1"}, true, "--- FAIL: TestChildTool"},
		{"CI, program missing", "TestChildProgram", []string{"CI=true"}, true, "--- FAIL: TestChildProgram"},
		{"not CI, tool unset", "TestChildTool", nil, false, "--- SKIP: TestChildTool"},
		{"CI=false, tool unset", "TestChildTool", []string{"CI=false"}, false, "--- SKIP: TestChildTool"},
		{"not CI, program missing", "TestChildProgram", nil, false, "--- SKIP: TestChildProgram"},
		{"CI, tool set", "TestChildTool", []string{"CI=true", "TESTENV_CHILD_TOOL=/opt/tool", "TESTENV_CHILD_WANT=/opt/tool"}, false, "--- PASS: TestChildTool"},
	} {
		cmd := exec.Command(bin, "-test.run", "^"+tc.test+"$", "-test.v")
		cmd.Env = append(append([]string(nil), base...), tc.env...)
		out, err := cmd.CombinedOutput()
		var exit *exec.ExitError
		if err != nil && !errors.As(err, &exit) {
			t.Fatalf("%s: run the child: %v", tc.name, err)
		}
		if failed := err != nil; failed != tc.wantFail || !strings.Contains(string(out), tc.wantLine) {
			t.Errorf("%s: exit error %v, want failure %v and a %q line; output:\n%s", tc.name, err, tc.wantFail, tc.wantLine, out)
		}
	}
}

// TestOnlyTestsImportIt: no package of the module imports testenv outside
// its tests, so nothing that ships can skip or fail on a test's rule.
func TestOnlyTestsImportIt(t *testing.T) {
	goBin := Program(t, "go", "the Go toolchain lists the module's imports")
	cmd := exec.Command(goBin, "list", "-e", "-f", `{{.ImportPath}}{{range .Imports}} {{.}}{{end}}`, "adstudio/...")
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	const self = "adstudio/internal/devtools/testenv"
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		fields := strings.Fields(line)
		if len(fields) == 0 || fields[0] == self {
			continue
		}
		for _, imp := range fields[1:] {
			if imp == self {
				t.Errorf("%s imports %s outside its tests", fields[0], self)
			}
		}
	}
	if !strings.Contains(string(out), "adstudio/internal/server ") {
		t.Fatalf("go list did not list the module's packages:\n%s", out)
	}
}
