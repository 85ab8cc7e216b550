package bench

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

const torchJSON = `{"torch_version": "1.13.1", "threads": 2, "results": [
 {"workload": "actor", "batch": 1, "rows_per_s": 5000.0, "latency_median_s": 0.0002, "latency_p95_s": 0.0003},
 {"workload": "actor", "batch": 7, "rows_per_s": 30000.0, "latency_median_s": 0.00023, "latency_p95_s": 0.0004},
 {"workload": "critic", "batch": 64, "rows_per_s": 200000.0, "latency_median_s": 0.00032, "latency_p95_s": 0.0005},
 {"workload": "q_full", "batch": 64, "rows_per_s": 50000.0, "latency_median_s": 0.00128, "latency_p95_s": 0.002},
 {"workload": "q_full", "batch": 4096, "rows_per_s": 90000.0, "latency_median_s": 0.045, "latency_p95_s": 0.05}
]}`

// fakeTorch writes a shell script that records its arguments in args.txt
// and prints out; RunTorch runs it with /bin/sh as the "python".
func fakeTorch(t *testing.T, out string, exit int) (script, argsFile string) {
	t.Helper()
	dir := t.TempDir()
	script = filepath.Join(dir, "torch_bench.sh")
	argsFile = filepath.Join(dir, "args.txt")
	body := "#!/bin/sh\nprintf '%s\\n' \"$@\" > '" + argsFile + "'\ncat <<'EOF'\n" + out + "\nEOF\necho 'a warning on stderr' >&2\nexit " +
		string(rune('0'+exit)) + "\n"
	if err := os.WriteFile(script, []byte(body), 0o755); err != nil {
		t.Fatal(err)
	}
	return script, argsFile
}

func TestRunTorchPassesTheSameSettingsAndParses(t *testing.T) {
	script, argsFile := fakeTorch(t, "torch: using 2 threads\n"+strings.ReplaceAll(torchJSON, "\n", ""), 0)
	cfg := tinyConfig()
	cfg.RunDir = "/runs/r1"
	tr, err := RunTorch("/bin/sh", script, cfg, 0, nil)
	if err != nil {
		t.Fatal(err)
	}
	if tr.TorchVersion != "1.13.1" || tr.Threads != 2 || len(tr.Results) != 5 || tr.Python != "/bin/sh" || tr.Script != script {
		t.Errorf("parsed %+v", tr)
	}
	args, err := os.ReadFile(argsFile)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"--batch", "1,7,64", "--rows", "64", "--threads", "2", "--hidden", "8,8",
		"--obs-dim", "3", "--act-dim", "1", "--run", "/runs/r1"}
	if got := strings.Fields(string(args)); !slices.Equal(got, want) {
		t.Errorf("script got args %v, want %v", got, want)
	}
}

func TestRunTorchReportsScriptFailureWithStderr(t *testing.T) {
	script, _ := fakeTorch(t, "{}", 3)
	_, err := RunTorch("/bin/sh", script, tinyConfig(), 0, nil)
	if err == nil || !strings.Contains(err.Error(), "a warning on stderr") || !strings.Contains(err.Error(), "exit status 3") {
		t.Errorf("error %v, want the exit status and the script's stderr", err)
	}
	if _, err := RunTorch("/bin/sh", filepath.Join(t.TempDir(), "missing.py"), tinyConfig(), 0, nil); err == nil {
		t.Error("a missing script gave no error")
	}
}

func TestParseTorchRejectsMalformedOutput(t *testing.T) {
	tests := []struct{ name, in, want string }{
		{"not json", "Traceback (most recent call last):", "not one JSON object"},
		{"unknown workload", `{"results":[{"workload":"policy","batch":1,"rows_per_s":1,"latency_median_s":1,"latency_p95_s":1}]}`, "unknown workload"},
		{"zero batch", `{"results":[{"workload":"actor","batch":0,"rows_per_s":1,"latency_median_s":1,"latency_p95_s":1}]}`, "batch 0"},
		{"zero rate", `{"results":[{"workload":"actor","batch":1,"rows_per_s":0,"latency_median_s":1,"latency_p95_s":1}]}`, "positive finite"},
		{"negative latency", `{"results":[{"workload":"critic","batch":1,"rows_per_s":1,"latency_median_s":-1,"latency_p95_s":1}]}`, "positive finite"},
		{"negative threads", `{"threads":-1,"results":[]}`, "negative"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseTorch(strings.NewReader(tt.in))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %v, want it to say %q", err, tt.want)
			}
		})
	}
}

func FuzzParseTorch(f *testing.F) {
	f.Add(torchJSON)
	f.Add("noise\n" + strings.ReplaceAll(torchJSON, "\n", "") + "\n")
	f.Add(`{"results":[{"workload":"actor","batch":1,"rows_per_s":1e308,"latency_median_s":1e-300,"latency_p95_s":1}]}`)
	f.Fuzz(func(t *testing.T, in string) {
		tr, err := ParseTorch(strings.NewReader(in))
		if err != nil {
			return
		}
		for _, r := range tr.Results {
			if !r.Workload.valid() || r.Batch <= 0 || !(r.RowsPerS > 0) {
				t.Errorf("accepted %+v", r)
			}
		}
	})
}

func TestAddTorchMergesRowsAndRatios(t *testing.T) {
	defer smallCeiling()()
	cfg := tinyConfig()
	cfg.Devices = []string{"cpu"}
	rep, err := Run(cfg)
	if err != nil {
		t.Fatal(err)
	}
	tr, err := ParseTorch(strings.NewReader(torchJSON))
	if err != nil {
		t.Fatal(err)
	}
	tr.Python, tr.Script = "/usr/bin/python3", DefaultTorchScript
	rep.AddTorch(tr)
	rep.AddTorch(tr) // merging again replaces, not duplicates
	ours, torch, ratios := 0, 0, 0
	for _, r := range rep.Results {
		switch r.Device {
		case TorchDevice:
			torch++
			if r.CeilingShare == nil || r.GFLOPS != r.RowsPerS*float64(rep.Nets.FLOPsPerRow[r.Workload])/1e9 {
				t.Errorf("torch row %+v: want GFLOP/s from our FLOP count and a ceiling share", r)
			}
		default:
			ours++
			if r.VsTorch != nil {
				ratios++
				if r.Workload == WorkloadActor && r.Batch == 1 && *r.VsTorch != r.RowsPerS/5000 {
					t.Errorf("actor batch 1: ratio %g, want %g", *r.VsTorch, r.RowsPerS/5000)
				}
			}
		}
	}
	// Torch rows for actor 1, actor 7, critic 64 and q_full 64 match ours;
	// q_full 4096 has no row of ours.
	if ours != 9 || torch != 5 || ratios != 4 {
		t.Errorf("%d rows of ours, %d of torch, %d ratios; want 9, 5, 4", ours, torch, ratios)
	}
	checkConsistent(t, rep, append(slices.Clone(allColumns[:8]), "vs_torch"))
	var tab bytes.Buffer
	rep.WriteTable(&tab)
	if !strings.Contains(tab.String(), "device torch-cpu: torch 1.13.1, 2 threads") {
		t.Errorf("table header lacks the torch line:\n%s", tab.String())
	}
}

func TestFindPythonExplainsMissingTorch(t *testing.T) {
	t.Setenv(PythonEnv, "/bin/false")
	_, err := FindPython()
	if !errors.Is(err, ErrNoTorch) || !strings.Contains(err.Error(), "install python3-torch") {
		t.Errorf("error %v, want ErrNoTorch with install advice", err)
	}
}
