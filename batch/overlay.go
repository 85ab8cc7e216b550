package batch

import (
	"bufio"
	"encoding/binary"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/rleval/rleval/jobs"
	"github.com/rleval/rleval/plotting"
)

// overlayPoints is the most points of one run's curve the batch page's
// overlay embeds: 500 runs × a dozen fields stay a few MB.
const overlayPoints = 60

// overlayData reads every run's curve_<field>.npy files under its output
// folder (resolved against base) for the batch page's overlay, each reduced
// to overlayPoints bin means; groups may be nil. A curve that cannot be
// read is left out (the run's report names the problem).
func overlayData(res *Result, groups *Groups, base string) *plotting.OverlayData {
	d := &plotting.OverlayData{}
	groupOf := map[string]int{}
	if groups != nil {
		for gi, g := range groups.Groups {
			d.Groups = append(d.Groups, g.Name)
			for _, out := range g.Outs {
				groupOf[out] = gi
			}
		}
	}
	field := map[string]int{}
	for i := range res.Runs {
		s := &res.Runs[i]
		if s.Out == "" || s.Status == jobs.StatusFailed {
			continue
		}
		dir := runDir(base, s.Out)
		files, _ := filepath.Glob(filepath.Join(dir, "curve_*.npy"))
		run := plotting.OverlayRun{Name: s.Name, Group: -1, Curves: map[int][2][]float64{}}
		if g, ok := groupOf[s.Out]; ok {
			run.Group = g
		}
		for _, f := range files {
			name := strings.TrimSuffix(strings.TrimPrefix(filepath.Base(f), "curve_"), ".npy")
			if strings.HasSuffix(name, "_time") || strings.HasSuffix(name, "_episodes") {
				continue // not a curve anyone compares runs by
			}
			x, y, err := readCurveBinned(f, overlayPoints)
			if err != nil || len(x) == 0 {
				continue
			}
			k, ok := field[name]
			if !ok {
				k = len(d.Fields)
				field[name] = k
				d.Fields = append(d.Fields, name)
			}
			run.Curves[k] = [2][]float64{x, y}
		}
		if len(run.Curves) > 0 {
			d.Runs = append(d.Runs, run)
		}
	}
	// Fields in name order, the runs' indices renumbered to match.
	sorted := slices.Clone(d.Fields)
	slices.Sort(sorted)
	renum := make(map[int]int, len(sorted))
	for i, f := range sorted {
		renum[field[f]] = i
	}
	for r := range d.Runs {
		c := make(map[int][2][]float64, len(d.Runs[r].Curves))
		for k, v := range d.Runs[r].Curves {
			c[renum[k]] = v
		}
		d.Runs[r].Curves = c
	}
	d.Fields = sorted
	return d
}

// readCurveBinned reads a curve array (float32, shape (n, 2): step, value)
// row by row and returns at most bins points: the mean step and mean
// finite value of the rows in each of bins equal spans of steps.
func readCurveBinned(path string, bins int) (x, y []float64, err error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, nil, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, nil, err
	}
	var pre [10]byte
	if _, err := io.ReadFull(f, pre[:]); err != nil || string(pre[:6]) != "\x93NUMPY" || pre[6] != 1 {
		return nil, nil, fmt.Errorf("%s: not a .npy (format 1.0) file", path)
	}
	hl := int64(binary.LittleEndian.Uint16(pre[8:]))
	hdr := make([]byte, hl)
	if _, err := io.ReadFull(f, hdr); err != nil {
		return nil, nil, fmt.Errorf("%s: truncated header", path)
	}
	h := string(hdr)
	m := npyShapeRe.FindStringSubmatch(h)
	if m == nil || m[2] != "2" || m[3] != "" || !strings.Contains(h, "'descr': '<f4'") || !strings.Contains(h, "'fortran_order': False") {
		return nil, nil, fmt.Errorf("%s: not a float32 (n, 2) curve", path)
	}
	n, _ := strconv.ParseInt(m[1], 10, 64)
	body := int64(10) + hl
	if n <= 0 || st.Size() != body+8*n {
		return nil, nil, fmt.Errorf("%s: shape (%d, 2) does not match its size", path, n)
	}
	row := func(i int64) (float64, float64, error) {
		var b [8]byte
		if _, err := f.ReadAt(b[:], body+8*i); err != nil {
			return 0, 0, err
		}
		return float64(math.Float32frombits(binary.LittleEndian.Uint32(b[:]))), float64(math.Float32frombits(binary.LittleEndian.Uint32(b[4:]))), nil
	}
	x0, _, err := row(0)
	if err != nil {
		return nil, nil, err
	}
	x1, _, err := row(n - 1)
	if err != nil {
		return nil, nil, err
	}
	span := x1 - x0
	sx, sy, cnt := make([]float64, bins), make([]float64, bins), make([]int, bins)
	r := bufio.NewReaderSize(io.NewSectionReader(f, body, 8*n), 1<<16)
	var b [8]byte
	for range n {
		if _, err := io.ReadFull(r, b[:]); err != nil {
			return nil, nil, err
		}
		xv := float64(math.Float32frombits(binary.LittleEndian.Uint32(b[:])))
		yv := float64(math.Float32frombits(binary.LittleEndian.Uint32(b[4:])))
		if math.IsNaN(xv) || math.IsInf(xv, 0) || math.IsNaN(yv) || math.IsInf(yv, 0) {
			continue
		}
		k := 0
		if span > 0 {
			k = min(max(int((xv-x0)/span*float64(bins)), 0), bins-1)
		}
		sx[k] += xv
		sy[k] += yv
		cnt[k]++
	}
	for k := range bins {
		if cnt[k] > 0 {
			x = append(x, sx[k]/float64(cnt[k]))
			y = append(y, sy[k]/float64(cnt[k]))
		}
	}
	return x, y, nil
}
