package jobs

import (
	"errors"
	"fmt"
	"runtime"
	"slices"
	"strings"
)

// ErrUsage marks errors caused by how the tool was called (a bad --shard,
// a bad --match pattern, an output folder inside a run): the CLI exits
// with ExitUsage for them.
var ErrUsage = errors.New("usage")

// Validate checks options that come from a command line, naming the flag
// of a bad value.
func (o Options) Validate() error {
	if o.Grid < 2 || o.Grid > 1<<16 {
		return fmt.Errorf("--grid %d: want 2 to 65536: %w", o.Grid, ErrUsage)
	}
	if o.Line < 2 {
		return fmt.Errorf("--line %d: want at least 2: %w", o.Line, ErrUsage)
	}
	for _, f := range o.Formats {
		if f != "png" && f != "svg" {
			return fmt.Errorf("--format %q: want png, svg or both (png,svg): %w", f, ErrUsage)
		}
	}
	if !(o.Smooth >= 0 && o.Smooth < 1) {
		return fmt.Errorf("--smooth %v: want 0 to 1 (1 excluded): %w", o.Smooth, ErrUsage)
	}
	if o.X != "" && o.X != "step" && o.X != "time" {
		return fmt.Errorf("--x %q: want step or time: %w", o.X, ErrUsage)
	}
	if o.Checkpoints.Set() && o.Load.Checkpoint > 0 {
		return fmt.Errorf("--checkpoint %d with --checkpoints %s: evaluate one checkpoint as the run, or all of them along the final model, not both: %w",
			o.Load.Checkpoint, o.Checkpoints, ErrUsage)
	}
	if err := o.Returns.Validate(); err != nil {
		return err
	}
	if p := o.Plane.Preset; p != "" && p != "none" && PresetByName(p) == nil {
		return fmt.Errorf("--preset %q: want one of %s or none: %w", p, strings.Join(PresetNames(), ", "), ErrUsage)
	}
	return nil
}

// Fingerprint identifies the rleval output version and the options that
// change outputs, for Batch.Options: a run evaluated on another device or
// with other workers is still up to date, one evaluated on another grid or
// plane is not.
func (o Options) Fingerprint() string {
	s := fmt.Sprintf("rleval/2 grid=%d line=%d formats=%s", o.Grid, o.Line, strings.Join(o.Formats, ","))
	if o.Smooth != DefaultOptions().Smooth || (o.X != "" && o.X != "step") {
		s += fmt.Sprintf(" smooth=%g x=%s", o.Smooth, o.X)
	}
	if o.Checkpoints.Set() {
		s += " checkpoints=" + o.Checkpoints.String()
	}
	s += o.Returns.fingerprint()
	p := o.Plane
	if p.Preset != "" {
		s += " preset=" + p.Preset
	}
	if len(p.Axes) > 0 {
		var ax []string
		for _, a := range p.Axes {
			if a.Ranged {
				ax = append(ax, fmt.Sprintf("%s:%g:%g", a.Dim, a.Lo, a.Hi))
			} else {
				ax = append(ax, a.Dim)
			}
		}
		s += " axes=" + strings.Join(ax, ",")
	}
	if len(p.Fix) > 0 {
		var fx []string
		for k, v := range p.Fix {
			fx = append(fx, fmt.Sprintf("%s=%g", k, v))
		}
		slices.Sort(fx)
		s += " fix=" + strings.Join(fx, ",")
	}
	return s
}

// ThreadsPerRun splits the machine's cores between runs evaluated at
// once: threads when set, else cores / runs, at least one.
func ThreadsPerRun(threads, runs int) int {
	if threads > 0 {
		return threads
	}
	return max(1, runtime.NumCPU()/max(runs, 1))
}
