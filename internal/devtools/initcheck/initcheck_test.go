// Package initcheck holds a test over the shipped Go source: no
// package-level variable of a package that reaches a Lambda compiles a
// regexp, parses a template or builds a map while the package initialises.
// Every initialiser linked into a bootstrap runs on every cold start, before
// the first request, whether or not the request needs it; and a map is
// mutable state shared by every request a warm Lambda serves. A regexp is
// compiled on first use instead (sync.OnceValue), a lookup table is a
// function with a switch.
package initcheck

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

// shipped reports whether the file at rel (slash-separated, relative to the
// repository root) belongs to a package that can be linked into a Lambda:
// the bootstraps under functions/ and everything under internal/ except the
// development tools. cmd/ (make dev, the operator tools), infra/ (the CDK
// app, run at synth time) and tests/ never reach a Lambda.
func shipped(rel string) bool {
	if strings.HasPrefix(rel, "internal/devtools/") {
		return false
	}
	return strings.HasPrefix(rel, "internal/") || strings.HasPrefix(rel, "functions/")
}

func TestNoWorkAtInit(t *testing.T) {
	root := filepath.Join("..", "..", "..")
	fset := token.NewFileSet()
	checked := 0
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, path)
		rel = filepath.ToSlash(rel)
		if d.IsDir() {
			switch {
			case d.Name() == "node_modules", d.Name() == "testdata", d.Name() == ".git",
				rel == "internal/devtools", rel == "infra/node_modules":
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(rel, ".go") || strings.HasSuffix(rel, "_test.go") || !shipped(rel) {
			return nil
		}
		f, err := parser.ParseFile(fset, path, nil, parser.SkipObjectResolution)
		if err != nil {
			return err
		}
		checked++
		for _, p := range initWork(f) {
			pos := fset.Position(p.pos)
			t.Errorf("%s:%d: package-level var %s %s at init; compile it on first use (sync.OnceValue) or use a function with a switch", rel, pos.Line, p.name, p.what)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	// The walk must have found the shipped packages, or the test proves
	// nothing (a wrong root, a moved tree).
	if checked < 20 {
		t.Fatalf("checked only %d shipped Go files under %s", checked, root)
	}
}

// TestInitWork pins what the check catches and what it lets through, so a
// change to it cannot quietly make TestNoWorkAtInit vacuous.
func TestInitWork(t *testing.T) {
	for _, tc := range []struct {
		name, src string
		want      []string // names of the variables reported
	}{
		{"regexp", `import "regexp"; var re = regexp.MustCompile("a+")`, []string{"re"}},
		{"regexp compile", `import "regexp"; var re, errRE = regexp.Compile("a+")`, []string{"re"}},
		{"regexp renamed import", `import rx "regexp"; var re = rx.MustCompile("a+")`, []string{"re"}},
		{"regexp in a slice", `import "regexp"; var res = []*regexp.Regexp{regexp.MustCompile("a")}`, []string{"res"}},
		{"regexp in a block", "import \"regexp\"\nvar (\n\tok = 1\n\tre = regexp.MustCompilePOSIX(`a`)\n)", []string{"re"}},
		{"map literal", `var m = map[string]bool{"a": true}`, []string{"m"}},
		{"slice of maps", `var ms = []map[string]int{{"a": 1}}`, []string{"ms"}},
		{"typed map literal", `var m map[string]int = map[string]int{}`, []string{"m"}},
		{"make map", `var m = make(map[string]int)`, []string{"m"}},
		{"map in a struct", `var s = struct{ m map[int]int }{m: map[int]int{1: 2}}`, []string{"s"}},
		{"map built by a called func literal", `var m = func() map[int]int { return map[int]int{} }()`, []string{"m"}},
		{"text template", `import "text/template"; var tm = template.Must(template.New("x").Parse("y"))`, []string{"tm"}},
		{"html template", `import "html/template"; var tm = template.Must(template.New("x").Parse("y"))`, []string{"tm"}},

		{"lazy regexp", `import ("regexp"; "sync"); var re = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile("a") })`, nil},
		{"sentinel error", `var ErrX = errors.New("x")`, nil},
		{"constant-like values", `var s, n, l = "x", 3, []string{"a", "b"}`, nil},
		{"map type without a value", `var m map[string]int`, nil},
		{"function value", `var f = func() map[int]int { return map[int]int{} }`, nil},
		{"map inside a function", `func f() map[int]int { return map[int]int{1: 2} }`, nil},
		{"other package's MustCompile", `import ("regexp"; "other"); var re = other.MustCompile("a")`, nil},
		{"regexp not imported", `var re = regexp.MustCompile("a")`, nil}, // does not build; only imports count
	} {
		t.Run(tc.name, func(t *testing.T) {
			src := "package p\n" + tc.src + "\n"
			f, err := parser.ParseFile(token.NewFileSet(), "p.go", src, parser.SkipObjectResolution)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, p := range initWork(f) {
				got = append(got, p.name)
			}
			if fmt.Sprint(got) != fmt.Sprint(tc.want) {
				t.Errorf("reported %v, want %v", got, tc.want)
			}
		})
	}
}

// problem is one package-level variable whose initialiser does work.
type problem struct {
	name, what string
	pos        token.Pos
}

// initWork returns the package-level variables of f whose value compiles a
// regexp, parses a template (template.Must) or builds a map. It looks
// inside composite literals and immediately called function literals, which
// run at init, but not inside other function literals: those run when
// called, which is how sync.OnceValue defers the work.
func initWork(f *ast.File) []problem {
	// The local names of the imports that matter, honouring renames; a file
	// that does not import regexp has no regexp.MustCompile, whatever a
	// local identifier is called.
	regexpName := ""
	templateNames := map[string]bool{}
	for _, imp := range f.Imports {
		path, _ := strconv.Unquote(imp.Path.Value)
		name := path[strings.LastIndex(path, "/")+1:]
		if imp.Name != nil {
			name = imp.Name.Name
		}
		switch path {
		case "regexp":
			regexpName = name
		case "text/template", "html/template":
			templateNames[name] = true
		}
	}
	var out []problem
	for _, decl := range f.Decls {
		g, ok := decl.(*ast.GenDecl)
		if !ok || g.Tok != token.VAR {
			continue
		}
		for _, spec := range g.Specs {
			vs := spec.(*ast.ValueSpec)
			for i, v := range vs.Values {
				name := "_"
				if i < len(vs.Names) {
					name = vs.Names[i].Name
				} else if len(vs.Names) > 0 {
					name = vs.Names[0].Name // var a, b = f(): one value, many names
				}
				if what := work(v, regexpName, templateNames); what != "" {
					out = append(out, problem{name: name, what: what, pos: vs.Pos()})
				}
			}
		}
	}
	return out
}

// work describes the first piece of init-time work in the expression e, or
// returns "" when there is none.
func work(e ast.Expr, regexpName string, templateNames map[string]bool) string {
	what := ""
	called := map[*ast.FuncLit]bool{} // function literals called where they stand
	ast.Inspect(e, func(n ast.Node) bool {
		if what != "" {
			return false
		}
		switch n := n.(type) {
		case *ast.FuncLit:
			return called[n]
		case *ast.CompositeLit:
			switch t := n.Type.(type) {
			case *ast.MapType:
				what = "builds a map"
			case *ast.ArrayType:
				// []map[K]V{{...}}: the elements' type is elided.
				if _, ok := t.Elt.(*ast.MapType); ok && len(n.Elts) > 0 {
					what = "builds a map"
				}
			}
		case *ast.CallExpr:
			if fl, ok := n.Fun.(*ast.FuncLit); ok {
				called[fl] = true
			}
			if id, ok := n.Fun.(*ast.Ident); ok && id.Name == "make" && len(n.Args) > 0 {
				if _, ok := n.Args[0].(*ast.MapType); ok {
					what = "makes a map"
				}
			}
			sel, ok := n.Fun.(*ast.SelectorExpr)
			if !ok {
				break
			}
			pkg, ok := sel.X.(*ast.Ident)
			if !ok {
				break
			}
			switch {
			case pkg.Name == regexpName && regexpName != "" && strings.Contains(sel.Sel.Name, "Compile"):
				what = "compiles a regexp (" + pkg.Name + "." + sel.Sel.Name + ")"
			case templateNames[pkg.Name] && sel.Sel.Name == "Must":
				what = "parses a template (" + pkg.Name + ".Must)"
			}
		}
		return what == ""
	})
	return what
}
