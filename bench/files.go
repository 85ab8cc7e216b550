package bench

import (
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/rleval/rleval/internal/atomicfile"
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
		if err := atomicfile.Write(p, f.write); err != nil {
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
