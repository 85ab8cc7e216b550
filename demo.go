// Package rleval holds what the rleval binary carries with it: the demo run.
package rleval

import (
	"embed"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// DemoRunName is the directory name of the bundled demo run.
const DemoRunName = "2026-02-14_13-38-10_pendulum-v1"

//go:embed testdata/runs/2026-02-14_13-38-10_pendulum-v1
var demoFS embed.FS

// DemoRun writes the bundled demo run under dir (once; an existing copy of
// the same size is reused) and returns its path.
func DemoRun(dir string) (string, error) {
	root := "testdata/runs/" + DemoRunName
	dst := filepath.Join(dir, DemoRunName)
	err := fs.WalkDir(demoFS, root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, p)
		out := filepath.Join(dst, rel)
		if d.IsDir() {
			return os.MkdirAll(out, 0o755)
		}
		data, err := demoFS.ReadFile(p)
		if err != nil {
			return err
		}
		if st, err := os.Stat(out); err == nil && st.Size() == int64(len(data)) {
			return nil
		}
		tmp := out + ".tmp"
		if err := os.WriteFile(tmp, data, 0o644); err != nil {
			return err
		}
		return os.Rename(tmp, out)
	})
	if err != nil {
		return "", fmt.Errorf("unpack the demo run into %s: %w", dir, err)
	}
	return dst, nil
}
