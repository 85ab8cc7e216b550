package worker

import (
	"errors"
	"fmt"

	"github.com/rleval/rleval/graph"
	"github.com/rleval/rleval/loaders"
)

// ErrUnsupported marks a network whose lowered plan holds a feature the
// CUDA worker does not evaluate. Remote refuses such a network before
// uploading it, so a CUDA run fails with a message naming the feature
// instead of returning values that ignore it; callers that can evaluate
// on the CPU instead test for it with errors.Is.
var ErrUnsupported = errors.New("cuda worker: not supported")

// checkDevicePlan lowers net from its Gorgonia graph (graph.Lower), as the
// CPU backend does, and returns an error wrapping ErrUnsupported that names
// the first part of the plan the worker cannot evaluate: the worker runs
// ReLU or Tanh hidden layers (the network's Hidden activation after every
// layer but the last), an actor's tanh-scale head without a mean clamp
// and a critic's single linear output, and nothing before the first layer.
func checkDevicePlan(net *loaders.Network) error {
	p, err := graph.Lower(net)
	if errors.Is(err, graph.ErrNotLowered) {
		return fmt.Errorf("%w: %s: %v", ErrUnsupported, net.Path, err)
	}
	if err != nil {
		return err
	}
	unsupported := func(what string, args ...any) error {
		return fmt.Errorf("%w: %s: %s", ErrUnsupported, net.Path, fmt.Sprintf(what, args...))
	}
	if p.Norm != nil {
		return unsupported("input normalisation (a network with InputNorm evaluates on the CPU only)")
	}
	hidden := graph.EpReLU
	switch net.Hidden {
	case loaders.ReLU, "":
	case loaders.Tanh:
		hidden = graph.EpTanh
	default:
		return unsupported("%s hidden activation", net.Hidden)
	}
	last := len(p.Steps) - 1
	for i, s := range p.Steps[:last] {
		if s.Epilogue != hidden {
			return unsupported("%s epilogue on hidden layer %d (%s)", s.Epilogue, i, s.Name)
		}
	}
	s := p.Steps[last]
	switch net.Kind {
	case loaders.KindActor, loaders.KindSACActor:
		if s.Epilogue != graph.EpScale {
			return unsupported("%s actor head", s.Epilogue)
		}
		if s.Clip > 0 {
			return unsupported("mean clamp ±%g before the tanh-scale head", s.Clip)
		}
		if s.Col != 0 {
			return unsupported("actor head reading output columns from %d", s.Col)
		}
	case loaders.KindCritic:
		if s.Epilogue != graph.EpNone || s.Out != 1 {
			return unsupported("critic output %s over %d values", s.Epilogue, s.Out)
		}
	default:
		return unsupported("%s (its output is the %s of %d values)", net.Kind, s.Epilogue, s.Out)
	}
	return nil
}
