package graph

import (
	"errors"
	"fmt"

	"github.com/rleval/rleval/loaders"
)

// PlanAdopter is implemented by backends that evaluate a Plan lowered
// elsewhere: the CUDA worker receives plans, lowered by the client from
// the networks' Gorgonia graphs, rather than networks. Adopt makes the
// handle net (from PlanNetwork) evaluate as p in every Backend (and
// Stacked) call until Forget(net).
type PlanAdopter interface {
	Adopt(net *loaders.Network, p *Plan) error
}

// PlanNetwork returns a handle for a plan received without its network: a
// *loaders.Network with the plan's name, kind, observation and action
// sizes and its steps' widths as Layers (without weights), so that the
// checks of Backend and Stacked calls (kinds, sizes, SameArchitecture)
// apply to it. It evaluates only on a backend that adopted the plan.
func PlanNetwork(p *Plan, obsDim, actDim int) *loaders.Network {
	net := &loaders.Network{Path: p.Name, Format: "plan", Kind: p.Kind, ObsDim: obsDim, ActDim: actDim}
	for i, s := range p.Steps {
		net.Layers = append(net.Layers, loaders.Linear{Name: s.Name, In: s.In, Out: s.Out})
		if i > 0 && s.XTo > 0 {
			net.ActionAt = i
		}
	}
	return net
}

// CheckPlan reports whether p is a plan the CPU backend and the CUDA
// worker can evaluate for a network of obsDim observations and actDim
// actions: known ops and epilogues, widths that chain from the input to
// the kind's output, weights, biases and head parameters of the sizes
// the steps say, heads only last.
func CheckPlan(p *Plan, obsDim, actDim int) error {
	if obsDim <= 0 || actDim <= 0 {
		return fmt.Errorf("observation and action sizes %d and %d", obsDim, actDim)
	}
	in, out, head := obsDim, actDim, EpScale
	switch p.Kind {
	case loaders.KindActor, loaders.KindSACActor:
	case loaders.KindCritic:
		in, out, head = obsDim+actDim, 1, EpNone
	case loaders.KindQuantileCritic:
		in, out, head = obsDim+actDim, 1, EpMean
	default:
		return fmt.Errorf("unknown network kind %q", p.Kind)
	}
	if p.In != in || p.Out != out {
		return fmt.Errorf("%s plan maps %d inputs to %d outputs, want %d to %d", p.Kind, p.In, p.Out, in, out)
	}
	if nm := p.Norm; nm != nil {
		if nm.Cols <= 0 || nm.Cols > p.In || len(nm.Mean) != nm.Cols || len(nm.Std) != nm.Cols || !(nm.Clip > 0) {
			return fmt.Errorf("input normalisation of %d columns (%d means, %d stds, clip %g) for %d inputs",
				nm.Cols, len(nm.Mean), len(nm.Std), nm.Clip, p.In)
		}
	}
	if len(p.Steps) == 0 {
		return errors.New("plan without steps")
	}
	w, maxW := p.In, 0
	last := len(p.Steps) - 1
	for i, s := range p.Steps {
		if s.XTo > 0 {
			if s.XFrom < 0 || s.XFrom >= s.XTo || s.XTo > p.In {
				return fmt.Errorf("step %d (%s) reads input columns %d:%d of %d", i, s.Name, s.XFrom, s.XTo, p.In)
			}
			if i == 0 {
				w = 0
			} else if p.Norm != nil && p.Norm.Cols > s.XFrom {
				return fmt.Errorf("step %d (%s) reads normalised input columns %d:%d after step %d", i, s.Name, s.XFrom, s.XTo, i-1)
			}
			w += s.XTo - s.XFrom
		} else if s.XFrom != 0 {
			return fmt.Errorf("step %d (%s) reads from input column %d without an end", i, s.Name, s.XFrom)
		}
		if s.In != w || s.Out <= 0 {
			return fmt.Errorf("step %d (%s) is %d→%d, previous width %d", i, s.Name, s.In, s.Out, w)
		}
		if len(s.W) != s.In*s.Out || len(s.B) != s.Out {
			return fmt.Errorf("step %d (%s) is %d→%d with %d weights and %d biases", i, s.Name, s.In, s.Out, len(s.W), len(s.B))
		}
		switch s.Op {
		case OpDirect, OpGEMM:
		case OpGEMV:
			if s.Out != 1 {
				return fmt.Errorf("step %d (%s): %s of %d outputs", i, s.Name, s.Op, s.Out)
			}
		default:
			return fmt.Errorf("step %d (%s): unknown op %q", i, s.Name, s.Op)
		}
		switch s.Epilogue {
		case EpNone, EpReLU, EpTanh, EpELU, EpSiLU, EpLeakyReLU:
			if i == last && head != EpNone {
				return fmt.Errorf("%s plan ends in %s, want %s", p.Kind, s.Epilogue, head)
			}
		case EpScale, EpMean:
			if i != last || s.Epilogue != head {
				return fmt.Errorf("step %d of %d (%s): %s head in a %s plan", i, len(p.Steps), s.Name, s.Epilogue, p.Kind)
			}
		default:
			// EpStd is a policy std's head: the worker evaluates actions.
			return fmt.Errorf("step %d (%s): epilogue %q", i, s.Name, s.Epilogue)
		}
		if i < last {
			maxW = max(maxW, s.Out)
		}
		w = s.Out
	}
	s := p.Steps[last]
	if s.Epilogue == EpScale && (len(s.Low) != actDim || len(s.Half) != actDim || s.Out != actDim || !(s.Clip >= 0)) {
		return fmt.Errorf("actor head of %d outputs with %d bounds and clip %g, want %d", s.Out, len(s.Low), s.Clip, actDim)
	}
	if p.MaxWidth != maxW {
		return fmt.Errorf("plan's widest hidden layer is %d, says %d", maxW, p.MaxWidth)
	}
	return nil
}

// Adopt implements PlanAdopter: net evaluates as p, a plan that passed
// CheckPlan for net's sizes.
func (c *CPU) Adopt(net *loaders.Network, p *Plan) error {
	if err := CheckPlan(p, net.ObsDim, net.ActDim); err != nil {
		return fmt.Errorf("graph: plan %s: %w", p.Name, err)
	}
	cn := &cpuNet{net: net}
	cn.setPlan(p)
	c.mu.Lock()
	c.nets[netKey{net, false}] = cn
	c.mu.Unlock()
	return nil
}

// StackLoop returns a Stacked that evaluates a stack one network at a time
// on b's per-network calls: for a backend whose own stacked evaluation
// cannot serve a stack (the CUDA device's, for plans that differ in more
// than their weights).
func StackLoop(b Backend) Stacked { return stackLoop{b} }
