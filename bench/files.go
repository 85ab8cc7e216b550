package bench

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"path/filepath"
)

// The file names WriteFiles writes into its directory.
const (
	JSONFile = "bench.json"
	CSVFile  = "bench.csv"
	PlotFile = "bench.png"
)

// WriteFiles writes bench.json, bench.csv and bench.png into dir (created
// if missing), each atomically, and returns their paths.
func (r *Report) WriteFiles(dir string) ([]string, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("bench: create output directory %s: %w", dir, err)
	}
	files := []struct {
		name  string
		write func(io.Writer) error
	}{
		{JSONFile, r.WriteJSON},
		{CSVFile, r.WriteCSV},
	}
	var paths []string
	for _, f := range files {
		p := filepath.Join(dir, f.name)
		if err := writeFileAtomic(p, f.write); err != nil {
			return paths, err
		}
		paths = append(paths, p)
	}
	p := filepath.Join(dir, PlotFile)
	if err := r.SavePlot(p); err != nil {
		return paths, err
	}
	return append(paths, p), nil
}

// writeFileAtomic writes path through write into a temporary file in the
// same directory, then renames it into place, so that path never holds a
// partial file; on error the temporary file is removed.
func writeFileAtomic(path string, write func(io.Writer) error) (err error) {
	dir, base := filepath.Split(path)
	if dir == "" {
		dir = "."
	}
	f, err := os.CreateTemp(dir, "."+base+".tmp-*")
	if err != nil {
		return fmt.Errorf("bench: write %s: %w (is the directory writable?)", path, err)
	}
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(f.Name())
		}
	}()
	bw := bufio.NewWriter(f)
	if err := write(bw); err != nil {
		return fmt.Errorf("bench: write %s: %w", path, err)
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("bench: write %s: %w (is the disk full?)", path, err)
	}
	if err := f.Chmod(0o644); err != nil {
		return fmt.Errorf("bench: write %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("bench: write %s: %w", path, err)
	}
	if err := os.Rename(f.Name(), path); err != nil {
		return fmt.Errorf("bench: write %s: rename into place: %w", path, err)
	}
	return nil
}
