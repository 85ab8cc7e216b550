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
