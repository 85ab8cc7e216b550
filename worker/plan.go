package worker

import (
	"errors"
	"fmt"

	"github.com/rleval/rleval/graph"
	"github.com/rleval/rleval/loaders"
)

// ErrUnsupported marks a network the CUDA worker cannot evaluate: its
// Gorgonia graph holds an op the lowering has no fused kernel for (the CPU
// evaluates such a network on Gorgonia's TapeMachine). Remote refuses it
// before uploading anything, so a CUDA run fails with a message naming the
// op instead of returning other values than the CPU; callers that can
// evaluate on the CPU instead test for it with errors.Is.
var ErrUnsupported = errors.New("cuda worker: not supported")

// lowerForDevice lowers net from its Gorgonia graph (graph.Lower), as the
// CPU backend does, into the plan the worker receives: the worker runs
// exactly the CPU plan's steps, epilogues and input normalisation.
func lowerForDevice(net *loaders.Network) (*graph.Plan, error) {
	p, err := graph.Lower(net)
	if errors.Is(err, graph.ErrNotLowered) {
		return nil, fmt.Errorf("%w: %s: %v (it evaluates on the CPU only)", ErrUnsupported, net.Path, err)
	}
	if err != nil {
		return nil, fmt.Errorf("upload %s: %w", net.Path, err)
	}
	if err := graph.CheckPlan(p, net.ObsDim, net.ActDim); err != nil {
		return nil, fmt.Errorf("%w: %s: %v", ErrUnsupported, net.Path, err)
	}
	return p, nil
}
