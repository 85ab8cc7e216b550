package main

import (
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/rleval/rleval/bench"
	"github.com/rleval/rleval/graph"
	"github.com/rleval/rleval/loaders"
)

func cmdBench(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("bench", "[RUN_DIR]", "Measures inference throughput of the actor, one critic and the full Q workload\n(actor + 4 critic passes) by device and batch size: rows/s, latency per batch\n(median, p95), GFLOP/s and its share of this machine's measured GEMM ceiling.\nWith RUN_DIR it uses the run's own networks, otherwise synthetic ones of --hidden\nsizes (fixed seeds). Writes a table on stdout and bench.json, bench.csv and\nbench.png (rows/s against batch size, log–log) in --out.", stderr)
	device := fs.String("device", "auto", "devices, comma-separated: cpu, cuda; auto is cpu plus cuda when it opens")
	batches := fs.String("batch", "1,64,1024,16384,262144", "batch sizes, comma-separated")
	rows := fs.Int("rows", 1_000_000, "rows per pass")
	hidden := fs.String("hidden", "256,256", "hidden layer sizes of synthetic networks")
	obsDim := fs.Int("obs-dim", 3, "observation size of synthetic networks")
	actDim := fs.Int("act-dim", 1, "action size of synthetic networks")
	threads := fs.Int("threads", 0, "CPU threads for rleval and torch (0: one per core)")
	minTime := fs.Duration("min-time", 500*time.Millisecond, "least time measured per cell")
	out := fs.String("out", "rleval-bench", "output directory")
	torch := fs.Bool("compare-torch", false, "also run "+bench.DefaultTorchScript+" with PyTorch on the same networks, batches and threads")
	script := fs.String("torch-script", bench.DefaultTorchScript, "path of the PyTorch reference script")
	quiet := fs.Bool("q", false, "quiet: no progress output")
	var lf loadFlags
	lf.register(fs)
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) > 1 {
		return usagef("bench takes at most one run directory, got %d", len(pos))
	}
	cfg := bench.Config{Rows: *rows, Threads: *threads, MinTime: *minTime}
	if cfg.Batches, err = parseInts("batch", *batches); err != nil {
		return err
	}
	if *rows < 1 {
		return usagef("--rows %d: want at least 1", *rows)
	}
	p := newProgress(stderr, *quiet)
	if len(pos) == 1 {
		lo, err := lf.options()
		if err != nil {
			return err
		}
		lo.SkipBuffer = true
		r, err := loaders.LoadRun(pos[0], lo)
		if err != nil {
			return err
		}
		if cfg.Nets, err = bench.RunNets(r); err != nil {
			return err
		}
		cfg.Source, cfg.RunDir = pos[0], pos[0]
	} else {
		h, err := parseInts("hidden", *hidden)
		if err != nil {
			return err
		}
		if *obsDim < 1 || *actDim < 1 {
			return usagef("--obs-dim and --act-dim must be at least 1")
		}
		cfg.Nets = bench.SyntheticNets(*obsDim, *actDim, h, 1)
		cfg.Source = fmt.Sprintf("synthetic %d→%s→1 critic / →%d actor, seed 1", *obsDim, *hidden, *actDim)
	}
	if cfg.Devices, err = benchDevices(*device, p); err != nil {
		return err
	}
	if !*quiet {
		cfg.Progress = func(r bench.Result) {
			p.logf("%-5s %-7s batch %7d: %.4g rows/s", r.Device, r.Workload, r.Batch, r.RowsPerS)
		}
	}
	rep, err := bench.Run(cfg)
	if err != nil {
		return err
	}
	if *torch {
		tr, err := bench.RunTorch("", *script, cfg, 0, stderr)
		if err != nil {
			return fmt.Errorf("--compare-torch: %w", err)
		}
		rep.AddTorch(tr)
	}
	if err := rep.WriteTable(stdout); err != nil {
		return err
	}
	if err := os.MkdirAll(*out, 0o755); err != nil {
		return err
	}
	files, err := rep.WriteFiles(*out)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "\nwrote %s\n", strings.Join(files, ", "))
	return nil
}

// benchDevices parses --device: cpu, cuda, or auto (the CPU, and CUDA
// when it opens).
func benchDevices(flag string, p *progress) ([]string, error) {
	var devices []string
	for _, d := range strings.Split(flag, ",") {
		d = strings.TrimSpace(d)
		switch d {
		case "cpu", "cuda":
			devices = append(devices, d)
		case "auto":
			devices = append(devices, "cpu")
			if b, err := graph.Open("cuda", graph.Options{}); err == nil {
				b.Close()
				devices = append(devices, "cuda")
			} else {
				p.logf("%v: measuring the CPU only", err)
			}
		default:
			return nil, usagef("--device %q: want cpu, cuda or auto", d)
		}
	}
	return devices, nil
}

// parseInts parses a comma-separated list of positive integers.
func parseInts(name, s string) ([]int, error) {
	var out []int
	for _, f := range strings.Split(s, ",") {
		v, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || v < 1 {
			return nil, usagef("--%s %q: want positive integers separated by commas", name, s)
		}
		out = append(out, v)
	}
	return out, nil
}
