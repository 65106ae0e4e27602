// Package testenv decides what a test does when something it needs from
// the machine is missing: an external program (tursodb, versitygw, the
// Lambda RIE, node) or the variable that names it. Outside CI the test
// skips and says how to get it; under CI (CI=true) it fails, so a tool
// that could not be installed turns the run red instead of quietly
// skipping the suites that need it.
//
// Only tests import it; nothing that ships does (its own test checks).
package testenv

import (
	"os"
	"os/exec"
	"strconv"
	"testing"
)

// InCI reports whether this is a CI run: CI is set, to anything but a
// false value ("false", "0", …). CI services set CI=true, and so does
// .ci/run. An unusual value counts as CI: a doubt must not become a skip.
func InCI() bool { return isCI(os.Getenv("CI")) }

func isCI(v string) bool {
	if v == "" {
		return false
	}
	ci, err := strconv.ParseBool(v)
	return err != nil || ci
}

// Tool returns the value of the environment variable name (a program's or
// a directory's path). When it is unset or empty the test skips outside CI
// and fails under CI; how says how to set it.
func Tool(t testing.TB, name, how string) string {
	t.Helper()
	v := os.Getenv(name)
	if v == "" {
		Missing(t, name+" is not set: "+how)
	}
	return v
}

// Program returns the path of the program file found on PATH. When there
// is none the test skips outside CI and fails under CI; how says how to
// install it.
func Program(t testing.TB, file, how string) string {
	t.Helper()
	p, err := exec.LookPath(file)
	if err != nil {
		Missing(t, "no `"+file+"` on PATH: "+how)
	}
	return p
}

// Missing ends the test for a requirement the machine lacks: a skip
// outside CI, a failure under CI. It does not return.
func Missing(t testing.TB, reason string) {
	t.Helper()
	if InCI() {
		t.Fatal(reason + " (CI is set: a missing requirement fails the run)")
	}
	t.Skip(reason + " (skipped outside CI; with CI=true this fails)")
}
