package rleval

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestDocsLinksResolve: every relative link of README.md and docs/*.md
// names a file of the repository (a clone has no ../shared).
func TestDocsLinksResolve(t *testing.T) {
	pages, _ := filepath.Glob("docs/*.md")
	pages = append(pages, "README.md")
	link := regexp.MustCompile(`\]\(([^)#\s]+)(#[^)]*)?\)`)
	checked := 0
	for _, p := range pages {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(string(b), "../shared") {
			t.Errorf("%s points outside the repository (../shared)", p)
		}
		for _, m := range link.FindAllStringSubmatch(string(b), -1) {
			target := m[1]
			if strings.Contains(target, "://") || strings.HasPrefix(target, "mailto:") {
				continue
			}
			checked++
			if _, err := os.Stat(filepath.Join(filepath.Dir(p), target)); err != nil {
				t.Errorf("%s links %s: %v", p, target, err)
			}
		}
	}
	for _, want := range []string{"docs/FORMATS.md", "docs/ANALYSES.md", "docs/slurm.md"} {
		if b, _ := os.ReadFile("README.md"); !strings.Contains(string(b), "("+want+")") {
			t.Errorf("README.md does not link %s", want)
		}
	}
	if checked == 0 {
		t.Error("no link checked")
	}
}
