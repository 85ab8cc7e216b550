package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rleval/rleval/internal/fixture"
)

func cli(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var o, e bytes.Buffer
	code = run(args, &o, &e)
	return code, o.String(), e.String()
}

func TestUsageErrorsExit2(t *testing.T) {
	for _, args := range [][]string{
		{},
		{"frobnicate"},
		{"inspect", "--no-such-flag"},
		{"run", "--grid", "1"},
		{"run", "--format", "gif"},
		{"heatmap", "--what", "nothing"},
		{"heatmap", "--axes", "0:3:1,1:0:1"},
		{"run", "--fix", "1"},
		{"eval", "--preset", "cartpole"},
		{"batch", "--axes", "0", "dir"},
		{"eval", "a", "b"},
		{"run", "--device", "tpu"},
	} {
		code, _, stderr := cli(t, args...)
		if code != exitUsage {
			t.Errorf("rleval %v: exit %d, want %d (stderr %q)", args, code, exitUsage, stderr)
		}
	}
	if code, out, _ := cli(t, "--help"); code != 0 || !strings.Contains(out, "inspect") {
		t.Errorf("--help: exit %d, %q", code, out)
	}
	if code, _, errs := cli(t, "run", "-h"); code != 0 || !strings.Contains(errs, "--out") && !strings.Contains(errs, "-out") {
		t.Errorf("run -h: exit %d, %q", code, errs)
	}
}

func TestInspectPrintsArchitecturesAndCounts(t *testing.T) {
	dir := fixture.Path(t, "runs", "2026-02-14_13-38-10_pendulum-v1")
	code, out, stderr := cli(t, "inspect", "--graph", dir)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	if !strings.Contains(out, "MatMul, BroadcastAdd, Tanh") {
		t.Errorf("inspect --graph shows no actor graph:\n%s", out)
	}
	for _, want := range []string{"Algorithm: td3", "3→256→256→1", "67,073", "4→256→256→1", "67,329", "size 15000 / capacity 30000", "Evaluations: 30 records"} {
		if !strings.Contains(out, want) {
			t.Errorf("inspect output lacks %q:\n%s", want, out)
		}
	}
	code, out, _ = cli(t, "inspect", "--json", dir)
	var v struct {
		Networks []struct {
			Role   string `json:"role"`
			Params int    `json:"params"`
		} `json:"networks"`
	}
	if code != 0 || json.Unmarshal([]byte(out), &v) != nil || len(v.Networks) != 6 || v.Networks[0].Params != 67073 {
		t.Errorf("inspect --json: exit %d, %+v", code, v)
	}
}

func TestInspectBrokenRunExits1NamingTheFile(t *testing.T) {
	src := fixture.Path(t, "runs", "2026-02-14_13-38-10_pendulum-v1")
	dir := filepath.Join(t.TempDir(), "run")
	os.MkdirAll(filepath.Join(dir, "models"), 0o755)
	b := fixture.Read(t, filepath.Join(src, "config.yaml"))
	os.WriteFile(filepath.Join(dir, "config.yaml"), b, 0o644)
	hostile := fixture.Read(t, fixture.Path(t, "bad", "pickle_os_system.pkl"))
	os.WriteFile(filepath.Join(dir, "models", "actor.pth"), hostile, 0o644)
	code, out, stderr := cli(t, "inspect", dir)
	if code != exitFailure {
		t.Fatalf("exit %d, want 1", code)
	}
	if !strings.Contains(out, "actor.pth") || !strings.Contains(out, "Experiment: pendulum-v1") {
		t.Errorf("output does not name the broken file or lost the config:\n%s\n%s", out, stderr)
	}
}

func TestEvalWritesTheCoreArrays(t *testing.T) {
	dir := fixture.Path(t, "runs", "2026-03-01_10-00-00_pendulum-legacy")
	out := t.TempDir()
	code, _, stderr := cli(t, "eval", "-q", "--device", "cpu", "--grid", "32", "--out", out, dir)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	for _, f := range []string{"policy_1d.npy", "policy_grid.npy", "target_grid.npy", "q_grid.npy", "q_buffer.npy", "q_policy.npy"} {
		if _, err := os.Stat(filepath.Join(out, filepath.Base(dir), f)); err != nil {
			t.Errorf("%s: %v", f, err)
		}
	}
	if _, err := os.Stat(filepath.Join(out, filepath.Base(dir), "report.html")); err == nil {
		t.Error("eval wrote a report")
	}
}

func TestCudaDeviceWithoutGPUIsAClearError(t *testing.T) {
	t.Setenv("RLEVAL_CUDA_WORKER", filepath.Join(t.TempDir(), "missing-worker"))
	t.Setenv("PATH", t.TempDir())
	code, _, stderr := cli(t, "heatmap", "-q", "--device", "cuda", "--grid", "8", "--out", filepath.Join(t.TempDir(), "x.png"))
	if code != exitFailure || !strings.Contains(stderr, "CUDA") {
		t.Errorf("exit %d, stderr %q", code, stderr)
	}
}

func TestBatchExitCodesAndResume(t *testing.T) {
	src := fixture.Path(t, "runs", "2026-03-01_10-00-00_pendulum-legacy")
	root := t.TempDir()
	good := filepath.Join(root, "2026-03-01_10-00-00_good")
	bad := filepath.Join(root, "2026-03-02_10-00-00_hostile")
	for _, d := range []string{good, bad} {
		if err := os.CopyFS(d, os.DirFS(src)); err != nil {
			t.Fatal(err)
		}
	}
	hostile := fixture.Read(t, fixture.Path(t, "bad", "ckpt_os_system.pth"))
	os.WriteFile(filepath.Join(bad, "models", "actor.pth"), hostile, 0o644)
	out := filepath.Join(t.TempDir(), "out")
	args := []string{"batch", "-q", "--no-returns", "--device", "cpu", "--grid", "16", "--line", "16", "--out", out, root}
	code, stdout, stderr := cli(t, args...)
	if code != exitSomeFailed {
		t.Fatalf("exit %d, want %d: %s %s", code, exitSomeFailed, stdout, stderr)
	}
	if !strings.Contains(stdout, "failed: 2026-03-02_10-00-00_hostile") || !strings.Contains(stdout, "actor.pth") {
		t.Errorf("stdout does not name the failed run and file:\n%s", stdout)
	}
	for _, f := range []string{"summary.json", "summary.csv", "index.html", "2026-03-01_10-00-00_good/report.html"} {
		if _, err := os.Stat(filepath.Join(out, f)); err != nil {
			t.Error(err)
		}
	}
	code, stdout, _ = cli(t, args...)
	if code != exitSomeFailed || !strings.Contains(stdout, "0 evaluated, 2 up to date") {
		t.Errorf("second batch: exit %d, %s", code, stdout)
	}
	if code, _, _ := cli(t, "batch", "--shard", "2/2", "--out", out, root); code != exitUsage {
		t.Errorf("--shard 2/2: exit %d, want %d", code, exitUsage)
	}
	shardOut := filepath.Join(t.TempDir(), "shards")
	for _, s := range []string{"0/2", "1/2"} {
		cli(t, "batch", "-q", "--no-returns", "--device", "cpu", "--grid", "16", "--line", "16", "--shard", s, "--out", shardOut, root)
	}
	code, stdout, stderr = cli(t, "merge", shardOut)
	if code != exitSomeFailed || !strings.Contains(stdout, "2 runs: 1 ok, 0 partial, 1 failed") {
		t.Errorf("merge: exit %d, %s %s", code, stdout, stderr)
	}
}

func TestBenchWritesTableAndFiles(t *testing.T) {
	out := t.TempDir()
	code, stdout, stderr := cli(t, "bench", "-q", "--device", "cpu", "--batch", "4,16", "--rows", "64", "--hidden", "8,8", "--min-time", "1ms", "--threads", "1", "--out", out)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	for _, col := range []string{"device", "workload", "batch", "rows/s", "p50", "p95", "GFLOP/s", "%ceiling", "q_full"} {
		if !strings.Contains(stdout, col) {
			t.Errorf("table lacks %q:\n%s", col, stdout)
		}
	}
	b, err := os.ReadFile(filepath.Join(out, "bench.json"))
	if err != nil {
		t.Fatal(err)
	}
	var rep struct {
		Results []struct {
			Workload string  `json:"workload"`
			RowsPerS float64 `json:"rows_per_s"`
		} `json:"results"`
	}
	if err := json.Unmarshal(b, &rep); err != nil || len(rep.Results) != 6 {
		t.Fatalf("bench.json: %v, %d results", err, len(rep.Results))
	}
	for _, r := range rep.Results {
		if !(r.RowsPerS > 0) {
			t.Errorf("%s: rows/s %v", r.Workload, r.RowsPerS)
		}
	}
	if code, _, _ := cli(t, "bench", "--batch", "0"); code != exitUsage {
		t.Errorf("--batch 0: exit %d", code)
	}
}

// fakeNoGPUWorker writes a worker that behaves as rleval-cuda does on a
// machine without a GPU: the driver's message on stdout, exit status 1.
func fakeNoGPUWorker(t *testing.T) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "rleval-cuda")
	script := "#!/bin/sh\necho 'Error in initialization, please refer to \"https://docs.nvidia.com/cuda/cuda-driver-api/group__CUDA__INITIALIZE.html\" for details on: NoDevice'\nexit 1\n"
	if err := os.WriteFile(p, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestEvalDeviceCudaWithoutGPUExits1WithOneLine(t *testing.T) {
	dir := fixture.Path(t, "runs", "2026-03-01_10-00-00_pendulum-legacy")
	for name, worker := range map[string]string{"no worker": "", "no GPU": fakeNoGPUWorker(t)} {
		t.Run(name, func(t *testing.T) {
			if worker == "" {
				worker = filepath.Join(t.TempDir(), "missing-worker")
			}
			t.Setenv("RLEVAL_CUDA_WORKER", worker)
			out := t.TempDir()
			code, _, stderr := cli(t, "eval", "-q", "--device", "cuda", "--grid", "8", "--out", out, dir)
			lines := strings.Split(strings.TrimSpace(stderr), "\n")
			if code != exitFailure || len(lines) != 1 || !strings.Contains(stderr, "CUDA") {
				t.Errorf("exit %d, want %d with one line saying why; stderr:\n%s", code, exitFailure, stderr)
			}
			if name == "no GPU" && !strings.Contains(stderr, "NoDevice") {
				t.Errorf("the worker's own reason is lost: %q", stderr)
			}
			if entries, _ := os.ReadDir(filepath.Join(out, filepath.Base(dir))); len(entries) != 0 {
				t.Errorf("a failed eval wrote %d files", len(entries))
			}
		})
	}
}

func TestEvalDeviceAutoWithoutGPUFallsBackToCPU(t *testing.T) {
	dir := fixture.Path(t, "runs", "2026-03-01_10-00-00_pendulum-legacy")
	t.Setenv("RLEVAL_CUDA_WORKER", fakeNoGPUWorker(t))
	out := t.TempDir()
	code, _, stderr := cli(t, "eval", "--device", "auto", "--grid", "8", "--out", out, dir)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	if !strings.Contains(stderr, "device auto") || !strings.Contains(stderr, "NoDevice") || !strings.Contains(stderr, "using cpu") {
		t.Errorf("no notice of the fallback and its reason in:\n%s", stderr)
	}
	if _, err := os.Stat(filepath.Join(out, filepath.Base(dir), "q_grid.npy")); err != nil {
		t.Errorf("auto on the CPU wrote no arrays: %v", err)
	}
}
