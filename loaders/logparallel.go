package loaders

import (
	"bytes"
	"io"
	"math"
	"runtime"
	"sync"
)

// parallelMin is the size from which LoadTrainLog reads a log file in
// pieces, one per core: below it, starting goroutines costs more than it
// saves.
const parallelMin = 16 << 20

// readTrainLogParallel reads the log in r (size bytes) as up to parts
// pieces cut at line starts, in parallel, and joins them in file order:
// the result equals readTrainLog's.
func readTrainLogParallel(r io.ReaderAt, size int64, parts int, needSource bool) (*TrainLog, error) {
	bounds := []int64{0}
	for k := 1; k < parts; k++ {
		b, err := nextLineStart(r, size*int64(k)/int64(parts), size)
		if err != nil {
			return nil, err
		}
		if b > bounds[len(bounds)-1] && b < size {
			bounds = append(bounds, b)
		}
	}
	bounds = append(bounds, size)
	n := len(bounds) - 1
	logs, lines, errs := make([]*TrainLog, n), make([]int, n), make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			// The first piece's columns are sized for the whole file, as
			// the others join it: the room they do not fill is never
			// touched, and joining copies no column twice.
			room := bounds[i+1] - bounds[i]
			if i == 0 {
				room = size
			}
			logs[i], lines[i], errs[i] = readTrainLog(io.NewSectionReader(r, bounds[i], bounds[i+1]-bounds[i]), room, needSource)
		})
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return nil, err
		}
	}
	lg, offset := logs[0], lines[0]
	// Size the first piece's columns for every piece's records, so joining
	// copies each piece once.
	for _, t := range []func(*TrainLog) *Table{
		func(l *TrainLog) *Table { return &l.Steps },
		func(l *TrainLog) *Table { return &l.Evals },
		func(l *TrainLog) *Table { return &l.Finals },
	} {
		total := 0
		for _, l := range logs {
			total += t(l).Count
		}
		t(lg).reserve(total)
	}
	for i := 1; i < n; i++ {
		lg.join(logs[i], offset)
		logs[i] = nil // let its columns go as soon as they are copied
		offset += lines[i]
	}
	return lg, nil
}

// nextLineStart returns the offset of the first line that starts at or
// after off (size if none).
func nextLineStart(r io.ReaderAt, off, size int64) (int64, error) {
	if off <= 0 {
		return 0, nil
	}
	buf := make([]byte, 64<<10)
	for pos := off - 1; pos < size; {
		n, err := r.ReadAt(buf[:min(int64(len(buf)), size-pos)], pos)
		if i := bytes.IndexByte(buf[:n], '\n'); i >= 0 {
			return pos + int64(i) + 1, nil
		}
		if err != nil && err != io.EOF {
			return 0, err
		}
		if n == 0 {
			break
		}
		pos += int64(n)
	}
	return size, nil
}

// join appends the log read from the piece of the file that follows lg's,
// whose line numbers start after lineOffset lines.
func (lg *TrainLog) join(b *TrainLog, lineOffset int) {
	if b.Lines > 0 {
		lg.Lines = lineOffset + b.Lines
	}
	lg.Ignored += b.Ignored
	lg.SkippedCount += b.SkippedCount
	for _, s := range b.Skipped {
		if len(lg.Skipped) < MaxSkippedListed {
			lg.Skipped = append(lg.Skipped, SkippedLine{Line: s.Line + lineOffset, Reason: s.Reason})
		}
	}
	lg.Steps.join(&b.Steps)
	lg.Evals.join(&b.Evals)
	lg.Finals.join(&b.Finals)
	for _, t := range b.Others {
		if mine := lg.table(t.Source, t.Event); mine != nil {
			mine.join(t)
		}
	}
}

// join appends the records of b after t's.
func (t *Table) join(b *Table) {
	if b.Count == 0 {
		return
	}
	if t.index == nil {
		t.index = map[string]int{}
	}
	off := t.Count
	t.Count += b.Count
	t.Step = append(t.Step, b.Step...)
	if math.IsNaN(t.StepMin) || b.StepMin < t.StepMin {
		t.StepMin = b.StepMin
	}
	if math.IsNaN(t.StepMax) || b.StepMax > t.StepMax {
		t.StepMax = b.StepMax
	}
	for bi, name := range b.Names {
		bc := &b.cols[bi]
		i, ok := t.index[name]
		if !ok {
			i = len(t.cols)
			t.index[name] = i
			t.Names = append(t.Names, name)
			t.cols = append(t.cols, column{dense: off == 0})
		}
		c := &t.cols[i]
		if c.dense && len(c.vals) == off && bc.dense {
			c.vals = append(c.vals, bc.vals...)
			continue
		}
		c.sparse()
		for k := range bc.vals {
			r := k
			if !bc.dense {
				r = int(bc.rows[k])
			}
			c.rows = append(c.rows, int32(off+r))
		}
		c.vals = append(c.vals, bc.vals...)
	}
	t.pos = nil
}

// sparse gives a dense column its row numbers.
func (c *column) sparse() {
	if !c.dense {
		return
	}
	c.rows = make([]int32, len(c.vals), max(len(c.vals)+1, cap(c.vals)/2))
	for j := range c.rows {
		c.rows[j] = int32(j)
	}
	c.dense = false
}

// logParts is how many pieces LoadTrainLog reads at once.
func logParts() int { return min(runtime.GOMAXPROCS(0), 8) }
