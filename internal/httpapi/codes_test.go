package httpapi

import (
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// codeLiteralsAllowed are the files that may spell a code as a literal,
// and why: none of them sends it.
var codeLiteralsAllowed = map[string]string{
	// Matches the message of the SQL trigger that refuses a debit
	// (RAISE(ABORT, 'OUT_OF_CREDITS'), migration 0005), which the
	// migration spells; the 402 itself uses CodeOutOfCredits.
	"generation/gendb/gendb.go": "OUT_OF_CREDITS",
}

// TestCodesLiveInCodesGo: no non-test Go file under internal/ spells an
// error code as a string literal (codes.go is the one place), and every
// Code: of an AppError, AuthError or qwen.Error literal is a name, so a
// new code cannot be introduced as a literal either.
func TestCodesLiveInCodesGo(t *testing.T) {
	t.Parallel()
	codes := constValues(t, "codes.go")
	if len(codes) < 40 {
		t.Fatalf("codes.go declares %d codes; is constValues still reading it?", len(codes))
	}
	root := ".."
	fset := token.NewFileSet()
	scanned := 0
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if d.Name() == "testdata" {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		rel, _ := filepath.Rel(root, path)
		rel = filepath.ToSlash(rel)
		if rel == "httpapi/codes.go" {
			return nil
		}
		f, err := parser.ParseFile(fset, path, nil, parser.SkipObjectResolution)
		if err != nil {
			return err
		}
		scanned++
		for _, problem := range codeLiterals(fset, f, rel, codes) {
			t.Error(problem)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if scanned < 50 {
		t.Fatalf("scanned only %d files; is the walk still rooted at internal/?", scanned)
	}
}

// codeLiterals lists the code literals of f, a file at rel below internal/.
func codeLiterals(fset *token.FileSet, f *ast.File, rel string, codes map[string]string) []string {
	var out []string
	ast.Inspect(f, func(n ast.Node) bool {
		switch n := n.(type) {
		case *ast.BasicLit:
			if n.Kind != token.STRING {
				return true
			}
			s, err := strconv.Unquote(n.Value)
			if err != nil {
				return true
			}
			if name, ok := codes[s]; ok && codeLiteralsAllowed[rel] != s {
				out = append(out, fmt.Sprintf("%s: %q is httpapi.%s (internal/httpapi/codes.go)", fset.Position(n.Pos()), s, name))
			}
		case *ast.CompositeLit:
			if !errorType(n.Type, f.Name.Name) {
				return true
			}
			for _, el := range n.Elts {
				kv, ok := el.(*ast.KeyValueExpr)
				if !ok {
					continue
				}
				if key, ok := kv.Key.(*ast.Ident); ok && key.Name == "Code" {
					if lit, ok := kv.Value.(*ast.BasicLit); ok {
						out = append(out, fmt.Sprintf("%s: Code: %s is a literal; add the code to internal/httpapi/codes.go", fset.Position(lit.Pos()), lit.Value))
					}
				}
			}
		}
		return true
	})
	return out
}

// TestCodeLiteralsCatches: the scan above finds what it must (a test that
// passes because it looks at nothing proves nothing).
func TestCodeLiteralsCatches(t *testing.T) {
	t.Parallel()
	const src = `package x
var a = &httpapi.AppError{Code: "SOMETHING_NEW"}
var b = &AuthError{Code: httpapi.AuthCodeUnauthorized}
var c = failFlow("state_mismatch")
var d = "fine"
var e = &qwen.Error{Code: "UPSTREAM_X"}
var f = &awsenv.APIError{Code: "UnknownError"}
`
	fset := token.NewFileSet()
	f, err := parser.ParseFile(fset, "x.go", src, parser.SkipObjectResolution)
	if err != nil {
		t.Fatal(err)
	}
	got := codeLiterals(fset, f, "x/x.go", map[string]string{"state_mismatch": "OAuthErrStateMismatch"})
	want := []string{`x.go:2:33: Code: "SOMETHING_NEW"`, `x.go:4:18: "state_mismatch" is httpapi.OAuthErrStateMismatch`, `x.go:6:27: Code: "UPSTREAM_X"`}
	if len(got) != len(want) {
		t.Fatalf("found %q, want %d problems", got, len(want))
	}
	for i := range want {
		if !strings.HasPrefix(got[i], want[i]) {
			t.Errorf("problem %d = %q, want it to start %q", i, got[i], want[i])
		}
	}
}

// errorType reports whether a composite literal's type is one of the error
// types whose Code reaches a response.
func errorType(typ ast.Expr, pkg string) bool {
	switch x := typ.(type) {
	case *ast.Ident:
		return x.Name == "AppError" || x.Name == "AuthError" || (pkg == "qwen" && x.Name == "Error")
	case *ast.SelectorExpr:
		q, _ := x.X.(*ast.Ident)
		return x.Sel.Name == "AppError" || x.Sel.Name == "AuthError" || (q != nil && q.Name == "qwen" && x.Sel.Name == "Error")
	}
	return false
}

// constValues maps every string constant declared in file to its name (the
// first one, where two dialects spell a code alike).
func constValues(t *testing.T, file string) map[string]string {
	t.Helper()
	f, err := parser.ParseFile(token.NewFileSet(), file, nil, parser.SkipObjectResolution)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for _, decl := range f.Decls {
		gd, ok := decl.(*ast.GenDecl)
		if !ok || gd.Tok != token.CONST {
			continue
		}
		for _, spec := range gd.Specs {
			vs := spec.(*ast.ValueSpec)
			for i, v := range vs.Values {
				lit, ok := v.(*ast.BasicLit)
				if !ok || lit.Kind != token.STRING {
					t.Fatalf("%s: const %s is not a string literal", file, vs.Names[i].Name)
				}
				s, _ := strconv.Unquote(lit.Value)
				if _, dup := out[s]; !dup {
					out[s] = vs.Names[i].Name
				}
			}
		}
	}
	return out
}
