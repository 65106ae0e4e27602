// Package functions_test inspects the built Lambda bootstraps: each links
// only what its routes need, and nothing that serves only make dev or the
// tests. It reads the binaries themselves (their module list and symbol
// table), so an import added anywhere below a main shows up here.
package functions_test

import (
	"debug/buildinfo"
	"debug/elf"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

// Modules no bootstrap may link: the SDK's service clients and credential
// chain whose package initialisation costs every cold start (AWS calls go
// through internal/awsenv instead).
var forbiddenModules = []string{
	"github.com/aws/aws-sdk-go-v2/config",
	"github.com/aws/aws-sdk-go-v2/service/ssm",
	"github.com/aws/aws-sdk-go-v2/service/lambda",
	"github.com/aws/aws-sdk-go-v2/service/sso",
	"github.com/aws/aws-sdk-go-v2/service/ssooidc",
	"github.com/aws/aws-sdk-go-v2/service/sts",
	"github.com/aws/aws-sdk-go-v2/service/signin",
	"github.com/aws/aws-sdk-go-v2/feature/ec2/imds",
}

// Packages per function that must be absent, by import path prefix.
var forbiddenPackages = map[string][]string{
	"auth":     {"adstudio/internal/qwen", "adstudio/internal/generation/engine", "adstudio/internal/safefetch", "adstudio/internal/lambdaentry.(*SelfInvoker)", stripeLib, billingAPI},
	"generate": {"adstudio/internal/auth/authapi", "adstudio/internal/auth/oauth", "adstudio/internal/auth/password", stripeLib, billingAPI},
	"history":  {"adstudio/internal/qwen", "adstudio/internal/generation/engine", "adstudio/internal/safefetch", "adstudio/internal/auth/authapi", "adstudio/internal/lambdaentry.(*SelfInvoker)", imageScaler},
	// The asset route serves stored bytes; thumbnails are made by generate,
	// and billing is history's alone though the two share a package.
	"imageproxy": {"adstudio/internal/qwen", "adstudio/internal/generation/engine", "adstudio/internal/safefetch", "adstudio/internal/auth/authapi", "adstudio/internal/lambdaentry.(*SelfInvoker)", imageScaler, stripeLib, billingAPI},
}

// Stripe's library and the billing API: only history sells credits.
const (
	stripeLib  = "github.com/stripe/stripe-go/"
	billingAPI = "adstudio/internal/billing/billingapi."
)

// imageScaler is the package that makes thumbnails.
const imageScaler = "golang.org/x/image/draw."

// Packages every function must contain (so the check above cannot pass on
// an empty symbol table).
var requiredPackages = map[string][]string{
	"auth":       {"adstudio/internal/auth/authapi", "adstudio/internal/server"},
	"generate":   {"adstudio/internal/generation/engine", "adstudio/internal/qwen", "adstudio/internal/lambdaentry.(*SelfInvoker)", imageScaler},
	"history":    {"adstudio/internal/historyapi", stripeLib, billingAPI},
	"imageproxy": {"adstudio/internal/historyapi"},
}

// Nothing that serves only make dev or the tests ships.
var devOnly = []string{"adstudio/internal/devtools/"}

func TestBootstrapsAreLean(t *testing.T) {
	bins := build(t)
	for fn, bin := range bins {
		t.Run(fn, func(t *testing.T) {
			info, err := buildinfo.ReadFile(bin)
			if err != nil {
				t.Fatal(err)
			}
			for _, dep := range info.Deps {
				for _, m := range forbiddenModules {
					if dep.Path == m {
						t.Errorf("links module %s", m)
					}
				}
			}
			syms := symbols(t, bin)
			has := func(prefix string) bool {
				for _, s := range syms {
					if strings.HasPrefix(s, prefix) {
						return true
					}
				}
				return false
			}
			for _, p := range append(forbiddenPackages[fn], devOnly...) {
				if has(p) {
					t.Errorf("links %s", p)
				}
			}
			for _, p := range requiredPackages[fn] {
				if !has(p) {
					t.Errorf("does not link %s: is the symbol check still looking at the right names?", p)
				}
			}
		})
	}
}

// build compiles the four mains with their symbol tables (the shipped
// bootstraps are stripped; the code linked is the same).
func build(t *testing.T) map[string]string {
	t.Helper()
	dir := t.TempDir()
	out := map[string]string{}
	var wg sync.WaitGroup
	var mu sync.Mutex
	for _, fn := range []string{"auth", "generate", "history", "imageproxy"} {
		bin := filepath.Join(dir, fn)
		out[fn] = bin
		wg.Add(1)
		go func() {
			defer wg.Done()
			cmd := exec.Command("go", "build", "-trimpath", "-tags", "lambda.norpc", "-o", bin, "./"+fn)
			cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux")
			if b, err := cmd.CombinedOutput(); err != nil {
				mu.Lock()
				defer mu.Unlock()
				t.Errorf("build %s: %v\n%s", fn, err, b)
			}
		}()
	}
	wg.Wait()
	if t.Failed() {
		t.FailNow()
	}
	return out
}

func symbols(t *testing.T, bin string) []string {
	t.Helper()
	f, err := elf.Open(bin)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	syms, err := f.Symbols()
	if err != nil {
		t.Fatal(err)
	}
	out := make([]string, 0, len(syms))
	for _, s := range syms {
		out = append(out, s.Name)
	}
	return out
}
