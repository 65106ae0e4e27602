// Package docscheck holds a test over the repository's own text: every
// citation of a document (docs/app-api.md, section 8.2, written with a
// section sign) names a file that exists in the repository and a numbered
// section that file has, so comments and docs never point outside the
// repository or at a section that moved.
package docscheck

import (
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

var (
	// A citation: a path ending in .md, then one or more section numbers.
	citation = regexp.MustCompile(`([\w./-]+\.md)((?:,? ?(?:and )?\x{00A7}\d+(?:\.\d+)*(?:\x{2013}\x{00A7}?\d+(?:\.\d+)*)?)+)`)
	// The last document named before a section sign that follows a
	// citation in the same sentence ("docs/dashscope.md §6 (text) or §7").
	lastDoc = regexp.MustCompile(`([\w./-]+\.md)[^.\n]*$`)
	section = regexp.MustCompile(`\x{00A7}(\d+(?:\.\d+)*)`)
	// A numbered heading: "## 8. Title" or "### 8.2 Title".
	heading = regexp.MustCompile(`(?m)^#{1,6} (\d+(?:\.\d+)*)\.? `)
	// A line break inside a comment or a paragraph, with the next line's
	// comment marker: a citation may wrap.
	wrap = regexp.MustCompile(`\n[ \t]*(?://|#|--|\*)?[ \t]*`)
	// Public standards keep their own section numbers.
	standard = regexp.MustCompile(`(RFC ?\d+|OpenID[\w ]*|UTS ?#?\d+|ECMA-?\d+)[ ,]*$`)
)

func TestCitationsResolve(t *testing.T) {
	root := filepath.Join("..", "..", "..")
	sections := map[string]map[string]bool{}
	sectionsOf := func(doc string) map[string]bool {
		if s, ok := sections[doc]; ok {
			return s
		}
		b, err := os.ReadFile(filepath.Join(root, doc))
		if err != nil {
			sections[doc] = nil
			return nil
		}
		s := map[string]bool{}
		for _, m := range heading.FindAllStringSubmatch(string(b), -1) {
			s[m[1]] = true
		}
		sections[doc] = s
		return s
	}
	checked := 0
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		name := d.Name()
		if d.IsDir() {
			switch name {
			case "node_modules", ".git", "dist", "bin", "cdk.out", ".data":
				return filepath.SkipDir
			}
			return nil
		}
		switch filepath.Ext(name) {
		case ".go", ".md", ".sh", ".mjs", ".sql":
		default:
			if name != "Makefile" && name != "run" {
				return nil
			}
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, path)
		rel = filepath.ToSlash(rel)
		text := wrap.ReplaceAllString(string(b), " ")
		for _, loc := range citation.FindAllStringSubmatchIndex(text, -1) {
			doc := text[loc[2]:loc[3]]
			cited := doc
			if !strings.HasPrefix(doc, "docs/") && !strings.Contains(doc, "/") && strings.HasPrefix(rel, "docs/") {
				doc = "docs/" + doc // docs cite each other by file name
			}
			secs := sectionsOf(doc)
			if secs == nil {
				t.Errorf("%s cites %s, which is not in the repository", rel, cited)
				continue
			}
			for _, s := range section.FindAllStringSubmatch(text[loc[4]:loc[5]], -1) {
				checked++
				if !secs[s[1]] {
					t.Errorf("%s cites %s §%s, which has no such section", rel, cited, s[1])
				}
			}
		}
		// Every other section sign: inside a document, one of its own
		// sections; elsewhere, a public standard's.
		rest := citation.ReplaceAllString(text, "$1")
		for _, loc := range section.FindAllStringSubmatchIndex(rest, -1) {
			if standard.MatchString(rest[max(0, loc[0]-24):loc[0]]) {
				continue
			}
			n := rest[loc[2]:loc[3]]
			if strings.HasSuffix(rel, ".md") && sectionsOf(rel)[n] {
				checked++
				continue
			}
			if m := lastDoc.FindStringSubmatch(rest[max(0, loc[0]-160):loc[0]]); m != nil {
				checked++
				doc := m[1]
				if !strings.Contains(doc, "/") && strings.HasPrefix(rel, "docs/") {
					doc = "docs/" + doc
				}
				if secs := sectionsOf(doc); secs == nil || !secs[n] {
					t.Errorf("%s cites %s §%s, which has no such section", rel, m[1], n)
				}
				continue
			}
			if strings.HasSuffix(rel, ".md") {
				checked++
				if !sectionsOf(rel)[n] {
					t.Errorf("%s cites its own §%s, which it does not have", rel, n)
				}
				continue
			}
			t.Errorf("%s: §%s names no document", rel, n)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if checked == 0 {
		t.Fatal("no citation found: is the walk looking at the repository?")
	}
}
