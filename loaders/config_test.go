package loaders

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestParseConfigDefaultsAndUnknownKeys(t *testing.T) {
	cfg, err := ParseConfig("config.yaml", []byte(`
experiment_name: pendulum-v1
env: {name: Pendulum-v1, max_steps: 200}
algorithm: {type: sac, gamma: 0.99}
training: {log_dir: ".", log_frequency: 50}
something_new: {nested: [1, 2]}
`))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.ExperimentName != "pendulum-v1" || cfg.Env.Name != "Pendulum-v1" || cfg.Algorithm.Type != "sac" {
		t.Errorf("fields: %+v", cfg)
	}
	if cfg.Algorithm.Gamma != 0.99 || cfg.Algorithm.Tau != 0.005 || cfg.Algorithm.PolicyFreq != 2 {
		t.Errorf("algorithm defaults not kept: %+v", cfg.Algorithm)
	}
	if cfg.Training.LogDir != "." || cfg.Training.LogFile != "train.jsonl" || cfg.Training.LogFrequency != 50 || cfg.Training.TrainStartStep != 2000 {
		t.Errorf("training: %+v", cfg.Training)
	}
	if cfg.Exploration.Steps != 2000 || cfg.Evaluation.Frequency != 500 || cfg.Buffer.Capacity != 1000000 {
		t.Errorf("defaults: %+v", cfg)
	}
}

func TestParseConfigAcceptsEnvAsAName(t *testing.T) {
	cfg, err := ParseConfig("config.yaml", []byte("env: Pendulum-v1\nexploration: {steps: 3000.0}\n"))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Env.Name != "Pendulum-v1" || cfg.Exploration.Steps != 3000 {
		t.Errorf("env %+v, exploration %+v", cfg.Env, cfg.Exploration)
	}
}

func TestParseConfigErrorNamesFileAndLine(t *testing.T) {
	for name, in := range map[string]string{
		"syntax":  "experiment_name: x\nenv: {name: [unclosed\n",
		"type":    "experiment_name: x\ntraining:\n  log_frequency: often\n",
		"empty":   "  \n",
		"aliases": "a: &a [x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]\nc: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b]\nd: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c]\ne: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d]\nf: &f [*e, *e, *e, *e, *e, *e, *e, *e, *e]\ng: &g [*f, *f, *f, *f, *f, *f, *f, *f, *f]\nenv: *g\n",
	} {
		t.Run(name, func(t *testing.T) {
			_, err := ParseConfig("runs/x/config.yaml", []byte(in))
			if err == nil {
				t.Fatal("no error")
			}
			if !strings.Contains(err.Error(), "runs/x/config.yaml") || !errors.Is(err, ErrInvalid) {
				t.Errorf("error %q does not name the file or wrap ErrInvalid", err)
			}
			if name == "syntax" || name == "type" {
				if !strings.Contains(err.Error(), "line") {
					t.Errorf("error %q has no line", err)
				}
			}
		})
	}
}

func TestLoadConfigMissingFile(t *testing.T) {
	_, err := LoadConfig(filepath.Join(t.TempDir(), "config.yaml"))
	if !errors.Is(err, ErrNotExist) || !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("err = %v", err)
	}
}

// TestSACTargetEntropyAsTheLibraryComputesIt: a number is kept; "auto",
// or autotune_alpha without a target, is −dim(A) once the actor is known
// (the upstream SAC fixture tunes alpha and names no target).
func TestSACTargetEntropyAsTheLibraryComputesIt(t *testing.T) {
	for _, tc := range []struct {
		yaml string
		num  *float64
		auto bool
	}{
		{"algorithm: {type: sac, target_entropy: -2.5}", ptr(-2.5), false},
		{"algorithm: {type: sac, target_entropy: -3}", ptr(-3), false},
		{"algorithm: {type: sac, target_entropy: auto}", nil, true},
		{"algorithm: {type: sac, autotune_alpha: true}", nil, true},
		{"algorithm: {type: sac, autotune_alpha: false}", nil, false},
		{"algorithm: {type: sac, autotune_alpha: true, target_entropy: -0.5}", ptr(-0.5), false},
	} {
		c, err := ParseConfig("config.yaml", []byte(tc.yaml))
		if err != nil {
			t.Fatalf("%s: %v", tc.yaml, err)
		}
		a := c.Algorithm
		if (a.TargetEntropy == nil) != (tc.num == nil) || (tc.num != nil && *a.TargetEntropy != *tc.num) || a.AutoEntropy != tc.auto || a.Gamma != 0.98 {
			t.Errorf("%s: %+v", tc.yaml, a)
		}
	}
	if _, err := ParseConfig("config.yaml", []byte("algorithm: {target_entropy: lots}")); err == nil || !strings.Contains(err.Error(), "target_entropy") {
		t.Errorf("target_entropy: lots: err %v", err)
	}
	r, err := LoadRun(filepath.Join("..", "testdata", "runs", "2026-07-01_08-00-00_pendulum-sac"), LoadOptions{SkipBuffer: true})
	if err != nil {
		t.Fatal(err)
	}
	if r.Temperature.V == nil || r.Temperature.V.TargetEntropy != -1 {
		t.Errorf("upstream SAC with autotune_alpha: temperature %+v, want target entropy -1 (−dim(A))", r.Temperature.V)
	}
}

func ptr(f float64) *float64 { return &f }
