package jobs

import (
	"errors"
	"runtime"
	"strings"
	"testing"
)

func TestOptionsValidateNamesTheFlag(t *testing.T) {
	if err := DefaultOptions().Validate(); err != nil {
		t.Fatalf("defaults: %v", err)
	}
	for flag, mod := range map[string]func(*Options){
		"--grid":   func(o *Options) { o.Grid = 1 },
		"--line":   func(o *Options) { o.Line = 0 },
		"--format": func(o *Options) { o.Formats = []string{"gif"} },
		"--preset": func(o *Options) { o.Plane.Preset = "cartpole" },
	} {
		o := DefaultOptions()
		mod(&o)
		if err := o.Validate(); err == nil || !errors.Is(err, ErrUsage) || !strings.Contains(err.Error(), flag) {
			t.Errorf("%s: %v, want a usage error naming it", flag, err)
		}
	}
}

func TestFingerprintChangesWithWhatChangesOutputs(t *testing.T) {
	a := DefaultOptions()
	b := a
	b.Logf = func(string, ...any) {}
	if a.Fingerprint() != b.Fingerprint() {
		t.Error("the fingerprint depends on options that change no output")
	}
	seen := map[string]bool{a.Fingerprint(): true}
	for _, mod := range []func(*Options){
		func(o *Options) { o.Grid = 64 },
		func(o *Options) { o.Formats = []string{"png", "svg"} },
		func(o *Options) { o.Plane.Preset = "none" },
		func(o *Options) { o.Plane.Axes = []AxisSpec{{Dim: "0", Lo: -1, Hi: 1, Ranged: true}, {Dim: "2"}} },
		func(o *Options) { o.Plane.Fix = map[string]float64{"1": 0.25, "3": -0.1} },
	} {
		o := DefaultOptions()
		mod(&o)
		if f := o.Fingerprint(); seen[f] {
			t.Errorf("fingerprint %q repeats", f)
		} else {
			seen[f] = true
		}
	}
	o := DefaultOptions()
	o.Plane.Fix = map[string]float64{"3": -0.1, "1": 0.25}
	if f := o.Fingerprint(); !seen[f] {
		t.Errorf("fingerprint %q depends on map order", f)
	}
}

func TestThreadsPerRunSplitsTheCores(t *testing.T) {
	n := runtime.NumCPU()
	for _, tt := range []struct{ threads, runs, want int }{
		{3, 8, 3}, {0, 1, n}, {0, n, 1}, {0, 4 * n, 1}, {0, 0, n},
	} {
		if got := ThreadsPerRun(tt.threads, tt.runs); got != tt.want {
			t.Errorf("ThreadsPerRun(%d, %d) = %d, want %d", tt.threads, tt.runs, got, tt.want)
		}
	}
}
