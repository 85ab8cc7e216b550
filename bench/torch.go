package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"time"
)

// TorchDevice is the device name of the rows AddTorch merges.
const TorchDevice = "torch-cpu"

// PythonEnv names the environment variable that picks the python FindPython
// returns.
const PythonEnv = "RLEVAL_PYTHON"

// DefaultTorchScript is the reference script's path in the repository.
const DefaultTorchScript = "bench/reference/torch_bench.py"

// ErrNoTorch reports that no python3 with PyTorch was found.
var ErrNoTorch = errors.New("PyTorch not found: install python3-torch (Debian) or pip install torch, or set " + PythonEnv)

// TorchInfo describes the torch run merged into a report.
type TorchInfo struct {
	// Version is torch.__version__.
	Version string `json:"version"`
	// Threads is torch's intra-op thread count.
	Threads int `json:"threads"`
	// Python and Script are what ran.
	Python string `json:"python"`
	Script string `json:"script"`
}

// TorchRow is one cell of the reference script's output.
type TorchRow struct {
	Workload       Workload `json:"workload"`
	Batch          int      `json:"batch"`
	RowsPerS       float64  `json:"rows_per_s"`
	LatencyMedianS float64  `json:"latency_median_s"`
	LatencyP95S    float64  `json:"latency_p95_s"`
}

// TorchResult is the reference script's output: one JSON object.
type TorchResult struct {
	TorchVersion string     `json:"torch_version"`
	Threads      int        `json:"threads"`
	Results      []TorchRow `json:"results"`
	// Python and Script are set by RunTorch.
	Python string `json:"-"`
	Script string `json:"-"`
}

// FindPython returns a python that imports torch: $RLEVAL_PYTHON if set
// (an error if it cannot), else /usr/bin/python3, else python3 on $PATH.
// The error wraps ErrNoTorch.
func FindPython() (string, error) {
	if p := os.Getenv(PythonEnv); p != "" {
		if err := importsTorch(p); err != nil {
			return "", fmt.Errorf("%w ($%s=%s: %v)", ErrNoTorch, PythonEnv, p, err)
		}
		return p, nil
	}
	var tried []string
	cands := []string{"/usr/bin/python3"}
	if p, err := exec.LookPath("python3"); err == nil && p != cands[0] {
		cands = append(cands, p)
	}
	for _, p := range cands {
		err := importsTorch(p)
		if err == nil {
			return p, nil
		}
		tried = append(tried, fmt.Sprintf("%s: %v", p, err))
	}
	if len(tried) == 0 {
		return "", ErrNoTorch
	}
	return "", fmt.Errorf("%w (tried %s)", ErrNoTorch, strings.Join(tried, "; "))
}

// importsTorch checks that python can import torch.
func importsTorch(python string) error {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	out, err := exec.CommandContext(ctx, python, "-c", "import torch").CombinedOutput()
	if err != nil {
		msg := strings.TrimSpace(string(out))
		if i := strings.LastIndexByte(msg, '\n'); i >= 0 {
			msg = msg[i+1:]
		}
		if msg != "" {
			return fmt.Errorf("%v: %s", err, msg)
		}
		return err
	}
	return nil
}

// TorchArgs returns the reference script's arguments for cfg: the same
// batch sizes, rows, thread count and networks (the run directory when
// set, else the synthetic sizes read from the actor).
func TorchArgs(cfg Config) []string {
	cfg.defaults()
	batches := make([]string, len(cfg.Batches))
	for i, b := range cfg.Batches {
		batches[i] = strconv.Itoa(b)
	}
	args := []string{
		"--batch", strings.Join(batches, ","),
		"--rows", strconv.Itoa(cfg.Rows),
		"--threads", strconv.Itoa(cfg.Threads),
	}
	if a := cfg.Nets.Actor; a != nil {
		w := a.Widths()
		hidden := make([]string, 0, len(w))
		for _, h := range w[1 : len(w)-1] {
			hidden = append(hidden, strconv.Itoa(h))
		}
		args = append(args, "--hidden", strings.Join(hidden, ","),
			"--obs-dim", strconv.Itoa(a.ObsDim), "--act-dim", strconv.Itoa(a.ActDim))
	}
	if cfg.RunDir != "" {
		args = append(args, "--run", cfg.RunDir)
	}
	return args
}

// RunTorch runs the reference script with python and TorchArgs(cfg),
// waits for it (timeout bounds it; 0 means none) and parses its output.
// The script's stderr goes to stderr when not nil.
func RunTorch(python, script string, cfg Config, timeout time.Duration, stderr io.Writer) (*TorchResult, error) {
	if python == "" {
		p, err := FindPython()
		if err != nil {
			return nil, err
		}
		python = p
	}
	if script == "" {
		script = DefaultTorchScript
	}
	if _, err := os.Stat(script); err != nil {
		return nil, fmt.Errorf("bench: torch reference script: %w (run from the repository root or pass its path)", err)
	}
	ctx := context.Background()
	if timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, timeout)
		defer cancel()
	}
	cmd := exec.CommandContext(ctx, python, append([]string{script}, TorchArgs(cfg)...)...)
	var out, errTail bytes.Buffer
	cmd.Stdout = &out
	cmd.Stderr = &errTail
	if stderr != nil {
		cmd.Stderr = io.MultiWriter(stderr, &errTail)
	}
	if err := cmd.Run(); err != nil {
		tail := strings.TrimSpace(errTail.String())
		if len(tail) > 2000 {
			tail = "…" + tail[len(tail)-2000:]
		}
		return nil, fmt.Errorf("bench: %s %s: %w\n%s", python, script, err, tail)
	}
	res, err := ParseTorch(&out)
	if err != nil {
		return nil, fmt.Errorf("bench: %s %s: %w", python, script, err)
	}
	res.Python, res.Script = python, script
	return res, nil
}

// ParseTorch reads the reference script's output: one JSON object, on its
// own or as the last line that parses among other printed lines.
func ParseTorch(r io.Reader) (*TorchResult, error) {
	data, err := io.ReadAll(r)
	if err != nil {
		return nil, fmt.Errorf("read torch output: %w", err)
	}
	var res TorchResult
	err = json.Unmarshal(data, &res)
	if err != nil {
		lines := bytes.Split(data, []byte("\n"))
		for i := len(lines) - 1; i >= 0; i-- {
			l := bytes.TrimSpace(lines[i])
			if len(l) == 0 || l[0] != '{' {
				continue
			}
			res = TorchResult{}
			if json.Unmarshal(l, &res) == nil {
				err = nil
				break
			}
		}
	}
	if err != nil {
		return nil, fmt.Errorf("torch output is not one JSON object: %w", err)
	}
	if res.Threads < 0 {
		return nil, fmt.Errorf("torch output: threads %d is negative", res.Threads)
	}
	for i, row := range res.Results {
		if !row.Workload.valid() {
			return nil, fmt.Errorf("torch output: result %d: unknown workload %q", i, row.Workload)
		}
		if row.Batch <= 0 {
			return nil, fmt.Errorf("torch output: result %d: batch %d is not positive", i, row.Batch)
		}
		for _, v := range []float64{row.RowsPerS, row.LatencyMedianS, row.LatencyP95S} {
			if !(v > 0) || math.IsInf(v, 0) {
				return nil, fmt.Errorf("torch output: result %d (%s, batch %d): %v is not a positive finite number",
					i, row.Workload, row.Batch, v)
			}
		}
	}
	return &res, nil
}

// AddTorch merges torch's rows into the report as device TorchDevice,
// replacing any merged before, with GFLOP/s counted on the report's
// networks, and sets VsTorch on our rows that have a torch row of the same
// workload and batch.
func (r *Report) AddTorch(tr *TorchResult) {
	r.Torch = &TorchInfo{Version: tr.TorchVersion, Threads: tr.Threads, Python: tr.Python, Script: tr.Script}
	kept := r.Results[:0]
	for _, res := range r.Results {
		if res.Device != TorchDevice {
			kept = append(kept, res)
		}
	}
	r.Results = kept
	type key struct {
		w Workload
		b int
	}
	torch := map[key]float64{}
	for _, row := range tr.Results {
		fpr := r.Nets.FLOPsPerRow[row.Workload]
		r.Results = append(r.Results, Result{
			Device:         TorchDevice,
			Workload:       row.Workload,
			Batch:          row.Batch,
			RowsPerS:       row.RowsPerS,
			LatencyMedianS: row.LatencyMedianS,
			LatencyP95S:    row.LatencyP95S,
			FLOPsPerRow:    fpr,
			GFLOPS:         row.RowsPerS * float64(fpr) / 1e9,
		})
		torch[key{row.Workload, row.Batch}] = row.RowsPerS
	}
	for i := range r.Results {
		res := &r.Results[i]
		res.VsTorch = nil
		if res.Device == TorchDevice {
			continue
		}
		if t, ok := torch[key{res.Workload, res.Batch}]; ok {
			res.VsTorch = ptr(res.RowsPerS / t)
		}
	}
	r.shareOfCeiling()
}
