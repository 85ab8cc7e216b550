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
// worker's server, which relays them over its pipe (all four), and the
// benchmarks (DeviceInfoer).

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
