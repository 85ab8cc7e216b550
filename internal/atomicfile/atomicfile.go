// Package atomicfile writes files so that a reader, or a process killed at
// any moment, sees either the old file or the complete new one.
package atomicfile

import (
	"bufio"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// Marker is part of every temporary file name Write creates,
// so that a file left behind by a killed process can be recognised
// (IsTemp) and removed (RemoveStale).
const Marker = ".rleval-tmp-"

// Write writes the file at path through write, so that path holds
// either its previous content or the complete new content, never a part:
// write fills a temporary file in the same directory (created with the
// directory if missing), which is flushed, fsynced, closed and then renamed
// over path; the directory is fsynced after the rename where the system
// allows it. If write returns an error or panics, the temporary file is
// removed and path is left as it was. The file gets mode 0644.
func Write(path string, write func(w io.Writer) error) (err error) {
	dir, base := filepath.Split(path)
	if dir == "" {
		dir = "."
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("write %s: create directory: %w", path, err)
	}
	f, err := os.CreateTemp(dir, "."+base+Marker+"*")
	if err != nil {
		return fmt.Errorf("write %s: create temporary file (is the directory writable?): %w", path, err)
	}
	tmp := f.Name()
	done := false
	defer func() {
		// Also runs when write panics: the panic goes on, the temp goes.
		if !done {
			f.Close()
			os.Remove(tmp)
		}
	}()
	bw := bufio.NewWriterSize(f, 64<<10)
	if err := write(bw); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("write %s: %w (is the disk full?)", path, err)
	}
	if err := f.Chmod(0o644); err != nil {
		return fmt.Errorf("write %s: chmod: %w", path, err)
	}
	if err := f.Sync(); err != nil {
		return fmt.Errorf("write %s: fsync: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("write %s: close: %w", path, err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return fmt.Errorf("write %s: rename temporary file into place: %w", path, err)
	}
	done = true
	syncDir(dir)
	return nil
}

// WriteBytes writes data to path with Write.
func WriteBytes(path string, data []byte) error {
	return Write(path, func(w io.Writer) error {
		_, err := w.Write(data)
		return err
	})
}

// syncDir makes a rename durable. Errors are ignored: some file systems
// (and Windows) cannot fsync a directory, and the rename itself succeeded.
func syncDir(dir string) {
	d, err := os.Open(dir)
	if err != nil {
		return
	}
	d.Sync()
	d.Close()
}

// IsTemp reports whether name (a base name or a path) is a temporary
// file of Write, one that a killed process may have left behind.
func IsTemp(name string) bool {
	return strings.Contains(filepath.Base(name), Marker)
}

// RemoveStale removes, under dir and its subdirectories, the temporary
// files Write left behind when its process was killed. It must not
// run while another process writes under dir. It returns how many it
// removed; a missing dir is not an error.
func RemoveStale(dir string) (int, error) {
	n := 0
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			if p == dir && os.IsNotExist(err) {
				return filepath.SkipAll
			}
			return err
		}
		if !d.IsDir() && IsTemp(d.Name()) {
			if err := os.Remove(p); err != nil {
				return err
			}
			n++
		}
		return nil
	})
	if err != nil {
		return n, fmt.Errorf("remove stale temporary files under %s: %w", dir, err)
	}
	return n, nil
}
