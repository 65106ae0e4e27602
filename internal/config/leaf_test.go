package config

import (
	"go/build"
	"strings"
	"testing"
)

// config is a leaf: every binary and the CDK stack read settings through
// it, so whatever it imported would be linked everywhere (the auth
// function would carry the image provider, the stack the S3 client). The
// packages that act on the settings import config, never the reverse.
func TestImportsNoProjectPackage(t *testing.T) {
	for _, mode := range []struct {
		name    string
		imports func(*build.Package) []string
	}{
		{"package", func(p *build.Package) []string { return p.Imports }},
		// An internal test importing the project would be a cycle waiting
		// to happen; external tests (package config_test) may.
		{"internal tests", func(p *build.Package) []string { return p.TestImports }},
	} {
		p, err := build.ImportDir(".", 0)
		if err != nil {
			t.Fatal(err)
		}
		for _, imp := range mode.imports(p) {
			if imp == "adstudio" || strings.HasPrefix(imp, "adstudio/") {
				t.Errorf("%s imports %s: config must import no project package (the package that needs it imports config instead)", mode.name, imp)
			}
		}
	}
}
