package batch

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/rleval/rleval/jobs"
)

// Compare recomputes the groups and statistics of finished batches without
// evaluating anything: it reads the summary.json of each of dirs (or, where
// there is none, its shard summaries), combines the runs — a run found in
// several keeps its most recently finished row — and writes groups.json,
// groups.csv and index.html to outDir, with each run's output folder
// relative to outDir so the page's links and thumbnails reach the runs'
// reports where their batches wrote them. Run configs are read from each
// run's directory as recorded in the summaries.
func Compare(outDir string, dirs []string, opt GroupOptions) (*Result, *Groups, error) {
	if len(dirs) == 0 {
		return nil, nil, fmt.Errorf("compare: no batch folders: %w", jobs.ErrUsage)
	}
	if _, err := metricOf(opt.Metric); err != nil {
		return nil, nil, fmt.Errorf("compare: %w", err)
	}
	outAbs, err := filepath.Abs(outDir)
	if err != nil {
		return nil, nil, fmt.Errorf("compare: output folder %s: %w", outDir, err)
	}
	combined := &Result{Out: outDir}
	byKey := map[string]int{}
	roots := map[string]bool{}
	for _, dir := range dirs {
		files, err := summaryFiles(dir)
		if err != nil {
			return nil, nil, fmt.Errorf("compare: %w", err)
		}
		for _, f := range files {
			res, err := ReadSummary(f)
			if err != nil {
				return nil, nil, fmt.Errorf("compare: %w", err)
			}
			if res.Root != "" {
				roots[res.Root] = true
			}
			combined.Notes = append(combined.Notes, res.Notes...)
			for _, row := range res.Runs {
				abs, err := filepath.Abs(filepath.Join(dir, filepath.FromSlash(row.Out)))
				if err != nil {
					return nil, nil, fmt.Errorf("compare: run %s: %w", row.Name, err)
				}
				if rel, err := filepath.Rel(outAbs, abs); err == nil {
					row.Out = filepath.ToSlash(rel)
				} else {
					row.Out = filepath.ToSlash(abs)
				}
				if i, ok := byKey[abs]; ok {
					if row.Finished.After(combined.Runs[i].Finished) {
						combined.Runs[i] = row
					}
					continue
				}
				byKey[abs] = len(combined.Runs)
				combined.Runs = append(combined.Runs, row)
			}
		}
	}
	sort.SliceStable(combined.Runs, func(i, j int) bool { return combined.Runs[i].Dir < combined.Runs[j].Dir })
	for _, r := range combined.Runs {
		switch r.Status {
		case jobs.StatusFailed:
			combined.Failed++
		case jobs.StatusPartial:
			combined.Partial++
		default:
			combined.OK++
		}
	}
	combined.Total = len(combined.Runs)
	rootList := make([]string, 0, len(roots))
	for r := range roots {
		rootList = append(rootList, r)
	}
	sort.Strings(rootList)
	combined.Root = strings.Join(rootList, ", ")
	combined.Finished = time.Now().UTC()
	if err := os.MkdirAll(outDir, 0o755); err != nil {
		return combined, nil, fmt.Errorf("compare: create %s: %w", outDir, err)
	}
	g, err := ComputeGroups(combined, opt)
	if err != nil {
		return combined, nil, fmt.Errorf("compare: %w", err)
	}
	if err := WriteGroups(outDir, g); err != nil {
		return combined, g, fmt.Errorf("compare: %w", err)
	}
	if err := WriteIndex(filepath.Join(outDir, IndexFileName), combined, g); err != nil {
		return combined, g, fmt.Errorf("compare: %w", err)
	}
	return combined, g, nil
}

// summaryFiles returns a batch folder's summary.json or, without one, its
// shard summaries.
func summaryFiles(dir string) ([]string, error) {
	p := filepath.Join(dir, "summary.json")
	if _, err := os.Stat(p); err == nil {
		return []string{p}, nil
	} else if !errors.Is(err, fs.ErrNotExist) {
		return nil, err
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", dir, err)
	}
	var files []string
	for _, e := range entries {
		if !e.IsDir() && shardFileRe.MatchString(e.Name()) {
			files = append(files, filepath.Join(dir, e.Name()))
		}
	}
	if len(files) == 0 {
		return nil, fmt.Errorf("%s has no summary.json nor summary-shard-*.json; is it a batch --out folder?", dir)
	}
	return files, nil
}
