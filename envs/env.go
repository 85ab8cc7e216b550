// Package envs holds Gymnasium's classic-control environments rleval can
// roll a policy out in, vectorised: one call steps a batch of states held
// in float64, as Gymnasium keeps them, and observations are float32, as
// the policy saw them in training. An environment is one file that
// registers itself (Register) plus its test; nothing else branches on its
// name.
package envs

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
)

// Env is one environment, vectorised: n states of StateDim float64 values
// each, row-major.
type Env struct {
	// Name is the Gymnasium id ("Pendulum-v1"); Aliases are other config
	// env.name values that mean the same dynamics.
	Name    string
	Aliases []string
	// Source cites the Gymnasium file and version the dynamics follow.
	Source string
	// StateDim, ObsDim and ActDim are the sizes of a state, an observation
	// and an action.
	StateDim, ObsDim, ActDim int
	// MaxSteps is the TimeLimit of the registered id (gymnasium.make).
	MaxSteps int
	// Preset names the rleval plot preset whose plane describes this
	// environment's observations ("pendulum").
	Preset string
	// Unnamed makes the environment also apply to runs whose config names
	// none, when the preset does (the notebook's pendulum runs).
	Unnamed bool
	// ObsLow and ObsHigh bound the observation space (its Box).
	ObsLow, ObsHigh []float64
	// Device names the environment's kernels on a backend that rolls out
	// on its device (graph.Roller: the CUDA worker's pendulum_step and
	// pendulum_obs for "pendulum"), which compute exactly Step and Obs
	// (device_test.go); "" when there are none. A stable id: the wire
	// protocol carries it.
	Device string

	// Reset draws one initial state from the reset distribution.
	Reset func(rng *rand.Rand, state []float64)
	// Obs writes the observations of n states.
	Obs func(state []float64, n int, obs []float32)
	// Step advances n states by their actions in place, writing each
	// reward and whether the step reached a terminal state.
	Step func(state []float64, act []float32, n int, reward []float64, done []bool)
	// FromObs returns the state an observation (in float64) stands for,
	// or false when it stands for none (see each environment's doc).
	FromObs func(obs, state []float64) bool
}

var registry []*Env

// Register adds an environment; it panics on a duplicate or incomplete
// one (a programming error).
func Register(e *Env) {
	if e.Name == "" || e.Reset == nil || e.Obs == nil || e.Step == nil || e.FromObs == nil ||
		e.StateDim <= 0 || e.ObsDim <= 0 || e.ActDim <= 0 || e.MaxSteps <= 0 ||
		len(e.ObsLow) != e.ObsDim || len(e.ObsHigh) != e.ObsDim {
		panic("envs: Register of an incomplete environment " + e.Name)
	}
	for _, o := range registry {
		if o.matches(e.Name) || slices.ContainsFunc(e.Aliases, o.matches) || e.Device != "" && e.Device == o.Device {
			panic("envs: Register called twice for " + e.Name)
		}
	}
	registry = append(registry, e)
}

func (e *Env) matches(name string) bool {
	return strings.EqualFold(e.Name, name) || slices.ContainsFunc(e.Aliases, func(a string) bool { return strings.EqualFold(a, name) })
}

// ByName returns the environment a config's env.name names (compared
// without case), or nil.
func ByName(name string) *Env {
	for _, e := range registry {
		if e.matches(name) {
			return e
		}
	}
	return nil
}

// For returns the environment of a run: the one its config names, or,
// when the config names none, the Unnamed one of the run's plot preset
// with obsDim observation values; nil when rleval has none.
func For(configEnv, preset string, obsDim int) *Env {
	if configEnv != "" {
		if e := ByName(configEnv); e != nil && e.ObsDim == obsDim {
			return e
		}
		return nil
	}
	for _, e := range registry {
		if e.Unnamed && e.Preset == preset && e.ObsDim == obsDim {
			return e
		}
	}
	return nil
}

// ByDevice returns the environment whose device kernels are named device
// (Env.Device), or nil.
func ByDevice(device string) *Env {
	for _, e := range registry {
		if device != "" && e.Device == device {
			return e
		}
	}
	return nil
}

// Names lists the registered environments.
func Names() []string {
	var s []string
	for _, e := range registry {
		s = append(s, e.Name)
	}
	return s
}

// InSpace says whether obs lies in the observation space's bounds.
func (e *Env) InSpace(obs []float64) bool {
	for i, v := range obs {
		if !(v >= e.ObsLow[i] && v <= e.ObsHigh[i]) {
			return false
		}
	}
	return true
}

// ResetStates draws n initial states from a PCG stream seeded with seed:
// the same seed gives the same states.
func (e *Env) ResetStates(seed uint64, n int) []float64 {
	rng := rand.New(rand.NewPCG(seed, 0x72657475726e73)) // "returns"
	s := make([]float64, n*e.StateDim)
	for i := 0; i < n; i++ {
		e.Reset(rng, s[i*e.StateDim:(i+1)*e.StateDim])
	}
	return s
}

func (e *Env) String() string { return fmt.Sprintf("%s (%s)", e.Name, e.Source) }
