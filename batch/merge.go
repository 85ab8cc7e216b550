package batch

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"time"

	"github.com/rleval/rleval/jobs"
)

// ErrMissingShards is wrapped by Merge's error when some shards of an
// array job have no summary (a task failed or has not finished): the merged
// summary is still written, with the runs that are there.
var ErrMissingShards = errors.New("missing shard summaries")

var shardFileRe = regexp.MustCompile(`^summary-shard-(\d+)-of-(\d+)\.json$`)

// Merge combines batch summaries into one summary.json, summary.csv and
// index.html in outDir. Each of dirs contributes its shard summaries
// (summary-shard-<i>-of-<n>.json) or, if it has none, its summary.json. In
// the recommended setup every shard of an array job writes to the same
// --out and Merge(out, []string{out}) combines them in place; shards with
// separate output folders work too. Run outputs are not copied: each row's
// Out is rewritten relative to outDir, so the index links reach the run
// reports where the shards wrote them. A run found twice keeps its most
// recently finished row. Missing shards (of i/n, some i absent) give an
// error wrapping ErrMissingShards after the merged files are written;
// summaries for different shard counts are an error.
func Merge(outDir string, dirs []string) (*Result, error) {
	if len(dirs) == 0 {
		return nil, fmt.Errorf("merge: no folders to merge: %w", jobs.ErrUsage)
	}
	outAbs, err := filepath.Abs(outDir)
	if err != nil {
		return nil, fmt.Errorf("merge: output folder %s: %w", outDir, err)
	}
	sh := &shardSet{seen: map[int]bool{}}
	var parts []mergePart
	for _, dir := range dirs {
		files, err := sh.summaryFiles(dir)
		if err != nil {
			return nil, err
		}
		for _, f := range files {
			res, err := ReadSummary(f)
			if err != nil {
				return nil, fmt.Errorf("merge: %w", err)
			}
			parts = append(parts, mergePart{dir, res})
		}
	}
	merged, err := combine(outDir, outAbs, parts)
	if err != nil {
		return nil, err
	}
	missing := sh.missing()
	if len(missing) > 0 {
		merged.Notes = append(merged.Notes, fmt.Sprintf("shards %v of %d have no summary", missing, sh.count))
	}
	if merged.Finished.IsZero() {
		merged.Finished = time.Now().UTC()
	}
	if err := WriteSummary(outDir, merged); err != nil {
		return merged, fmt.Errorf("merge: %w", err)
	}
	if err := writeBatchPages(outDir, merged, GroupOptions{}); err != nil {
		return merged, fmt.Errorf("merge: %w", err)
	}
	if len(missing) > 0 {
		return merged, fmt.Errorf("merge: shards %v of %d have no summary in %v (rerun those array tasks, then merge again): %w", missing, sh.count, dirs, ErrMissingShards)
	}
	return merged, nil
}

// mergePart is one summary read by Merge and the folder it came from.
type mergePart struct {
	dir string
	res *Result
}

// shardSet tracks which shards of an array job Merge has seen.
type shardSet struct {
	count int
	seen  map[int]bool
}

// summaryFiles returns dir's shard summaries, or its summary.json when it
// has none.
func (sh *shardSet) summaryFiles(dir string) ([]string, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("merge: read %s: %w", dir, err)
	}
	var files []string
	for _, e := range entries {
		m := shardFileRe.FindStringSubmatch(e.Name())
		if m == nil || e.IsDir() {
			continue
		}
		i, _ := strconv.Atoi(m[1])
		n, _ := strconv.Atoi(m[2])
		if sh.count != 0 && n != sh.count {
			return nil, fmt.Errorf("merge: %s holds summaries of %d and %d shards; remove the stale ones (from an older array job) and merge again", dir, sh.count, n)
		}
		sh.count = n
		sh.seen[i] = true
		files = append(files, filepath.Join(dir, e.Name()))
	}
	if len(files) > 0 {
		return files, nil
	}
	p := filepath.Join(dir, "summary.json")
	if _, err := os.Stat(p); err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("merge: %s has no summary-shard-*.json nor summary.json; is it a batch --out folder?", dir)
		}
		return nil, fmt.Errorf("merge: %w", err)
	}
	return []string{p}, nil
}

// missing lists the shards of 0..count-1 that have no summary.
func (sh *shardSet) missing() []int {
	var missing []int
	for i := 0; i < sh.count; i++ {
		if !sh.seen[i] {
			missing = append(missing, i)
		}
	}
	return missing
}

// combine merges the parts' totals, notes and rows (a run found twice
// keeps its most recently finished row; Out is rewritten relative to the
// merged folder), sorted by run path.
func combine(outDir, outAbs string, parts []mergePart) (*Result, error) {
	merged := &Result{Out: outDir}
	byKey := map[string]int{}
	var rows []jobs.RunSummary
	roots, options, notes := map[string]bool{}, map[string]bool{}, map[string]bool{}
	unfinished := 0
	for _, p := range parts {
		r := p.res
		roots[r.Root], options[r.Options] = true, true
		if merged.Started.IsZero() || (!r.Started.IsZero() && r.Started.Before(merged.Started)) {
			merged.Started = r.Started
		}
		if r.Finished.After(merged.Finished) {
			merged.Finished = r.Finished
		}
		merged.Evaluated += r.Evaluated
		merged.Skipped += r.Skipped
		merged.Interrupted = merged.Interrupted || r.Interrupted
		unfinished += max(r.Total-len(r.Runs), 0)
		for _, n := range r.Notes {
			if !notes[n] {
				notes[n] = true
				merged.Notes = append(merged.Notes, n)
			}
		}
		for _, row := range r.Runs {
			abs, err := filepath.Abs(filepath.Join(p.dir, filepath.FromSlash(row.Out)))
			if err != nil {
				return nil, fmt.Errorf("merge: run %s: %w", row.Name, err)
			}
			if rel, err := filepath.Rel(outAbs, abs); err == nil {
				row.Out = filepath.ToSlash(rel)
			} else {
				row.Out = filepath.ToSlash(abs)
			}
			if i, ok := byKey[abs]; ok {
				if row.Finished.After(rows[i].Finished) {
					rows[i] = row
				}
				continue
			}
			byKey[abs] = len(rows)
			rows = append(rows, row)
		}
	}
	sort.SliceStable(rows, func(i, j int) bool { return rows[i].Dir < rows[j].Dir })
	merged.Runs = rows
	for i := range rows {
		merged.countStatus(rows[i].Status)
	}
	merged.Total = len(rows) + unfinished
	if len(roots) == 1 {
		for r := range roots {
			merged.Root = r
		}
	}
	if len(options) == 1 {
		for o := range options {
			merged.Options = o
		}
	} else {
		merged.Notes = append(merged.Notes, "the shards were run with different options")
	}
	return merged, nil
}
