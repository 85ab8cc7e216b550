package graph

import (
	"errors"
	"time"

	"github.com/rleval/rleval/loaders"
)

// Backend evaluates networks on one device. Slices are row-major float32:
// obs holds n×ObsDim values, act n×ActDim, q1 and q2 n values each.
// A Backend caches whatever it prepares per *loaders.Network (weights
// uploaded, buffers sized), so callers pass the same pointers every chunk.
// Implementations are safe for concurrent use.
type Backend interface {
	// Name identifies the device, e.g. "cpu (openblas, 2 workers)" or
	// "cuda: NVIDIA H100 80GB HBM3".
	Name() string
	// Policy writes the actor's deterministic action for n rows into act.
	Policy(actor *loaders.Network, obs []float32, n int, act []float32) error
	// Q writes the critics' values at (obs, act) into q1 and q2. c2 and q2
	// may be nil to evaluate one critic.
	Q(c1, c2 *loaders.Network, obs, act []float32, n int, q1, q2 []float32) error
	// QPolicy computes a = actor(obs) and then the critics at (obs, a),
	// writing all three; the actions never leave the device in between.
	// c2 and q2 may be nil.
	QPolicy(actor, c1, c2 *loaders.Network, obs []float32, n int, act, q1, q2 []float32) error
	// Close releases the device.
	Close() error
}

// The capabilities a Backend may have beyond evaluating, each an interface
// the callers that use it test for: the Engine (Forgetter, StdBackend), the
// worker's server, which relays them over its pipe (all five), the
// benchmarks (DeviceInfoer), and the returns job (Roller).

// Forgetter is implemented by backends that cache per-network state (plans,
// weights on a GPU): Forget releases what they hold for net.
type Forgetter interface {
	Forget(net *loaders.Network) error
}

// StdBackend is implemented by backends that evaluate a SAC actor's policy
// standard deviation; the Engine's PolicyStd runs on the CPU plan for
// backends that do not.
type StdBackend interface {
	// PolicyStd writes exp(clamp(log_std, LogStdMin, LogStdMax)) of a SAC
	// actor for n rows of obs into std (n×ActDim).
	PolicyStd(actor *loaders.Network, obs []float32, n int, std []float32) error
}

// DeviceInfoer is implemented by backends on a GPU (the CUDA device, and
// the worker's client, which reports the device behind it).
type DeviceInfoer interface {
	// DeviceInfo describes the device, its free memory as of now.
	DeviceInfo() DeviceInfo
}

// Timer is implemented by backends that split the time of their last
// evaluation into its phases (the CUDA device).
type Timer interface {
	// LastTiming returns the split of the last evaluation's time.
	LastTiming() DeviceTiming
}

// Roller is implemented by backends that roll actors out in an
// environment on their device (the CUDA device, and the worker's client,
// which forwards to it): the states, observations, actions and returns
// stay on the device for the whole rollout, the environment stepped by a
// kernel of its own, and only the results come back. The rollout follows
// envs.Env.Run: from each state up to the horizon or a terminal state,
// Return = Σ_{t<T} γᵗ r_t, the discount multiplied up step by step.
// Callers drive it in segments of steps (Rollout.Step), so they can show
// progress and stop it.
type Roller interface {
	// BeginRollout uploads the states and returns the rollout, not yet
	// stepped. An environment the backend has no kernels for is an error.
	BeginRollout(r RolloutRequest) (Rollout, error)
}

// RolloutRequest is a rollout of K actors sharing an architecture (one
// run's, or many runs' stacked, as Stacked evaluates them) from N states
// each.
type RolloutRequest struct {
	// Env names the environment's kernels (envs.Env.Device).
	Env string
	// Actors are the K ≥ 1 actors; their sizes must be the environment's.
	Actors []*loaders.Network
	// States holds K blocks of N states, block j actor j's, each state
	// the environment's float64 values.
	States []float64
	// N is the states per actor.
	N int
	// Gamma discounts reward t by Gammaᵗ.
	Gamma float64
}

// Rollout is a rollout under way on a device. Its methods must not be
// called concurrently with each other.
type Rollout interface {
	// Step advances every live state by steps steps (a terminal state
	// stops), returning how many states are still live.
	Step(steps int) (live int, err error)
	// End frees the rollout on the device, first copying its results into
	// res (K×N values each, in the request's order) unless res is nil: a
	// rollout stopped early.
	End(res *RolloutResult) error
}

// RolloutResult is what a rollout found per state, as envs.Result.
type RolloutResult struct {
	// Return is Σ_{t<T} γᵗ r_t, T = Steps.
	Return []float64
	// Steps is the steps taken: every Step's, or fewer for a state that
	// reached a terminal one.
	Steps []int32
	// Terminated says whether the state reached a terminal state.
	Terminated []bool
}

// DeviceInfo describes the device behind a backend.
type DeviceInfo struct {
	// Name is the device's name, e.g. "NVIDIA H100 80GB HBM3".
	Name string
	// TotalMem and FreeMem are the device memory in bytes; 0 when unknown
	// (a CPU), in which case the worker's client chunks only by frame
	// size.
	TotalMem, FreeMem int64
	// DriverVersion is the CUDA driver API version, e.g. 12020 for 12.2; 0
	// for a CPU.
	DriverVersion int
	// ComputeCapability is major*10+minor, e.g. 90 for an H100; 0 if unknown.
	ComputeCapability int
}

// DeviceTiming splits the time a backend spent on one evaluation.
type DeviceTiming struct {
	// HostToDevice is the time copying inputs to the device.
	HostToDevice time.Duration
	// Compute is the time running the network, kernels synchronised.
	Compute time.Duration
	// DeviceToHost is the time copying outputs back.
	DeviceToHost time.Duration
}

// ErrNoCUDA reports that no CUDA worker could be started or kept running:
// the binary is missing, the machine has no usable GPU, or the worker died.
// Callers that can evaluate on the CPU instead test for it with errors.Is.
var ErrNoCUDA = errors.New("no CUDA device")
