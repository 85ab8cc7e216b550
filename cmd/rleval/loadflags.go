package main

import (
	"flag"
	"slices"
	"strings"

	"github.com/rleval/rleval/loaders"
)

// loadFlags say how a run folder is read: every command that loads runs
// takes them.
type loadFlags struct {
	layout     string
	checkpoint int64
	maxAction  float64
}

func (f *loadFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&f.layout, "layout", "", "read run folders as this layout instead of recognising them by content: "+strings.Join(loaders.LayoutNames(), ", "))
	fs.Int64Var(&f.checkpoint, "checkpoint", 0, "evaluate the checkpoint saved at this step (RL Zoo rl_model_<N>_steps.zip; inspect lists them) instead of the final model")
	fs.Float64Var(&f.maxAction, "max-action", 0, "original TD3's max_action, which its files do not store (default: the environment's, else 1)")
}

// options returns the loaders' options, or a usage error.
func (f *loadFlags) options() (loaders.LoadOptions, error) {
	if f.layout != "" && !slices.Contains(loaders.LayoutNames(), f.layout) {
		return loaders.LoadOptions{}, usagef("--layout %q: want one of %s", f.layout, strings.Join(loaders.LayoutNames(), ", "))
	}
	if f.checkpoint < 0 {
		return loaders.LoadOptions{}, usagef("--checkpoint %d: want a step > 0", f.checkpoint)
	}
	if f.maxAction < 0 {
		return loaders.LoadOptions{}, usagef("--max-action %g: want a value > 0", f.maxAction)
	}
	return loaders.LoadOptions{Layout: f.layout, Checkpoint: f.checkpoint, MaxAction: f.maxAction}, nil
}
