package jobs

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rleval/rleval/loaders"
)

func TestInspectPrintsStepsAsIntegers(t *testing.T) {
	for _, c := range []struct {
		v    float64
		want string
	}{{1000999, "1000999"}, {1000, "1000"}, {0, "0"}, {2.5, "2.5"}, {1e20, "1e+20"}} {
		if got := fmtStep(c.v); got != c.want {
			t.Errorf("fmtStep(%v) = %q, want %q", c.v, got, c.want)
		}
	}
}

// TestInspectShowsWhatAnRLZooRunSays: an SB3 run's evaluation frequency
// is RL Zoo's eval_freq from args.yml, and with none recorded inspect
// prints none — never the upstream trainer's defaults (500, 100).
func TestInspectShowsWhatAnRLZooRunSays(t *testing.T) {
	src := filepath.Join(testdata, "layouts", "logs", "td3", "Pendulum-v1_1")
	text := func(dir string) string {
		r, err := loaders.LoadRun(dir, loaders.LoadOptions{SkipBuffer: true})
		if err != nil {
			t.Fatal(err)
		}
		var b bytes.Buffer
		Inspect(r).WriteText(&b, false)
		return b.String()
	}
	r, err := loaders.LoadRun(filepath.Join(testdata, "layouts", "logs", "ddpg", "Pendulum-v1_1"), loaders.LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	Inspect(r).WriteText(&b, false)
	if out := b.String(); !strings.Contains(out, "Not saved by stable-baselines3") || !strings.Contains(out, "replay_buffer.pkl") || strings.Contains(out, "Problems:") {
		t.Errorf("inspect of an RL Zoo run without a buffer: want it noted as not saved, not as a problem:\n%s", out)
	}
	out := text(src)
	if strings.Contains(out, "Evaluation frequency") || strings.Contains(out, "Log frequency") || !strings.Contains(out, "Train start step: 100") {
		t.Errorf("inspect of an RL Zoo run without eval_freq:\n%s", out)
	}
	dir := filepath.Join(t.TempDir(), "Pendulum-v1_1")
	if err := os.CopyFS(dir, os.DirFS(src)); err != nil {
		t.Fatal(err)
	}
	args := "!!python/object/apply:collections.OrderedDict\n- - - algo\n    - td3\n  - - eval_freq\n    - 10000\n  - - env\n    - Pendulum-v1\n"
	if err := os.WriteFile(filepath.Join(dir, "Pendulum-v1", "args.yml"), []byte(args), 0o644); err != nil {
		t.Fatal(err)
	}
	if out := text(dir); !strings.Contains(out, "Evaluation frequency: 10000\n") || strings.Contains(out, "Log frequency") {
		t.Errorf("inspect of an RL Zoo run with eval_freq 10000:\n%s", out)
	}
}
