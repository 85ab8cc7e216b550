package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/rleval/rleval/envs"
	"github.com/rleval/rleval/jobs"
)

// returnsFlags are the returns job's flags: run and batch take them with
// --no-returns, rollout without.
type returnsFlags struct {
	registered, rollout bool
	no                  bool
	episodes, horizon   int
	bufferStates        int
	seed                uint64
	hostSteps           bool
}

func (f *returnsFlags) register(fs *flag.FlagSet) {
	f.registered = true
	d := jobs.DefaultReturnsOptions()
	if !f.rollout {
		fs.BoolVar(&f.no, "no-returns", false, "skip the true returns (rollouts in the run's environment: "+strings.Join(envs.Names(), ", ")+")")
	}
	fs.IntVar(&f.episodes, "episodes", d.Episodes, "true returns: episodes from the environment's reset distribution")
	fs.IntVar(&f.horizon, "horizon", d.Horizon, "true returns: steps H of the discounted return from each grid and buffer state (the time limit ignored)")
	fs.IntVar(&f.bufferStates, "buffer-states", d.BufferStates, "true returns: buffer states rolled out (a seeded sample; 0: none)")
	fs.Uint64Var(&f.seed, "returns-seed", 0, "true returns: seed of the reset states, the buffer sample and the bootstrap")
	fs.BoolVar(&f.hostSteps, "host-steps", false, "true returns: step the environment on the host even where the device could (--device cuda steps it on the GPU)")
}

// apply sets opt.Returns from the flags, if they were registered.
func (f *returnsFlags) apply(opt *jobs.Options) error {
	if !f.registered {
		return nil
	}
	// jobs takes 0 for the default: a 0 given here is refused instead.
	if f.episodes < 1 {
		return usagef("--episodes %d: want at least 1", f.episodes)
	}
	if f.horizon < 1 {
		return usagef("--horizon %d: want at least 1", f.horizon)
	}
	if f.bufferStates < 0 {
		return usagef("--buffer-states %d: want 0 (none) or more", f.bufferStates)
	}
	opt.Returns = jobs.ReturnsOptions{Enabled: !f.no, Episodes: f.episodes, Horizon: f.horizon, BufferStates: f.bufferStates, Seed: f.seed, HostSteps: f.hostSteps}
	if f.bufferStates == 0 {
		opt.Returns.BufferStates = -1 // none; jobs takes 0 for the default
	}
	return nil
}

func cmdRollout(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("rollout", "RUN_DIR...", "Rolls each run's deterministic policy out in rleval's own vectorised copy of its\nenvironment ("+strings.Join(envs.Names(), ", ")+", as Gymnasium 1.0 steps them):\n--episodes episodes from the reset distribution (the policy's true return: mean,\nmedian and IQM with 95% bootstrap intervals), the discounted return over --horizon\nsteps from the state of every cell of the maps' plane (value_grid.npy) and the\ncritics' error against it (value_error_grid.npy = q_grid − value_grid), and the\nsame from a sample of buffer states. Writes <out>/<run-name>/returns.json (every\nnumber with its definition), the arrays, plots/ and report.html. `rleval run` and\n`rleval batch` include this unless --no-returns.\nExit status: 0 every run rolled out, 1 (one run) or 3 (several) some could not\nbe, 2 usage, 130 interrupted.", stderr)
	var ef evalFlags
	ef.returns.rollout = true
	ef.register(fs, true)
	out := fs.String("out", "rleval-out", "output directory")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) == 0 {
		return usagef("rollout takes one or more run directories")
	}
	p := newProgress(stderr, ef.quiet)
	opt, err := ef.options(p)
	if err != nil {
		return err
	}
	opt.Only = []string{"returns"}
	eng, err := ef.engine(p)
	if err != nil {
		return err
	}
	defer eng.Backend().Close()
	// The returns job reports its rollouts' steps through the engine.
	eng.Progress = p.steps("rollout", "steps")
	opt.Engine = eng
	ctx, stop := interruptible()
	defer stop()
	failed := 0
	for _, dir := range pos {
		name := filepath.Base(filepath.Clean(dir))
		dst := filepath.Join(*out, name)
		sum, err := jobs.Evaluate(ctx, dir, dst, opt)
		if ctx.Err() != nil {
			return errInterrupted
		}
		if why := rolloutOutcome(sum, err); why != "" {
			failed++
			fmt.Fprintf(stdout, "%s: not rolled out: %s\n", name, why)
			continue
		}
		var res jobs.Returns
		b, err := os.ReadFile(filepath.Join(dst, "returns.json"))
		if err == nil {
			err = json.Unmarshal(b, &res)
		}
		if err != nil {
			return err
		}
		m := res.Episodes.Mean
		fmt.Fprintf(stdout, "%s: true return %.6g [%.6g, %.6g] (mean over %d episodes, 95%% CI) → %s\n", name, float64(m.Value), float64(m.Lo), float64(m.Hi),
			res.Episodes.N, filepath.Join(dst, "returns.json"))
	}
	switch {
	case failed == 0:
		return nil
	case len(pos) == 1:
		return exitError{exitFailure, nil}
	}
	return exitError{exitSomeFailed, fmt.Errorf("%d of %d runs not rolled out", failed, len(pos))}
}

// rolloutOutcome says why a run was not rolled out, "" when it was.
func rolloutOutcome(sum *jobs.RunSummary, err error) string {
	if err != nil {
		return err.Error()
	}
	for _, j := range sum.Jobs {
		if j.Name == "returns" {
			if j.Status == "ok" {
				return ""
			}
			return j.Status + ": " + j.Reason
		}
	}
	return "its environment is none rleval has (config env.name; rleval has " + strings.Join(envs.Names(), ", ") + ") or its actor does not fit it"
}
