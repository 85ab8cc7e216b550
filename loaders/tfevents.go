package loaders

import (
	"fmt"
	"path/filepath"
	"sort"
	"strings"

	"github.com/rleval/rleval/loaders/internal/datafile"
	"github.com/rleval/rleval/loaders/internal/tfevents"
)

// LoadEventFiles reads the scalars of every events.out.tfevents.* file in
// dir into a TrainLog: each tag is a step-table column, and episode
// returns (tags ending in episodic_return) also fill the evaluation table.
// It matches ErrNotExist when dir holds no event file.
func LoadEventFiles(dir string) (*TrainLog, error) {
	files, _ := filepath.Glob(filepath.Join(dir, "events.out.tfevents.*"))
	if len(files) == 0 {
		return nil, fmt.Errorf("load %s: %w", filepath.Join(dir, "events.out.tfevents.*"), ErrNotExist)
	}
	sort.Strings(files)
	lg := newCurveLog(files[0])
	for _, p := range files {
		f, size, err := datafile.Open(p)
		if err != nil {
			return nil, err
		}
		sc, truncated, err := tfevents.Read(f, size)
		f.Close()
		if err != nil {
			return nil, fmt.Errorf("load %s: %w", p, err)
		}
		if truncated {
			lg.SkippedCount++
			lg.Skipped = append(lg.Skipped, SkippedLine{Line: len(sc) + 1, Reason: "event record cut short at the end of " + filepath.Base(p)})
		}
		for _, s := range sc {
			lg.Lines++
			tableAppend(&lg.Steps, float64(s.Step), []string{s.Tag}, []float64{s.Value})
			if strings.HasSuffix(s.Tag, "episodic_return") {
				addEvaluation(lg, float64(s.Step), []float64{s.Value}, nil)
				lg.Lines--
			}
		}
	}
	return lg, nil
}
