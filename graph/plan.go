package graph

import (
	"fmt"
	"strings"

	"github.com/rleval/rleval/loaders"
)

// smallK is the widest layer input evaluated by direct loops instead of a
// GEMM: a first layer reading a 3–8 wide observation does too little work
// per output for a GEMM call to pay for its packing.
const smallK = 8

// Op names one kind of execution step of a Plan.
type Op string

// The ops a Plan is made of.
const (
	// OpDirect is a layer evaluated by direct loops over a transposed weight
	// copy (first layers with a narrow input).
	OpDirect Op = "direct"
	// OpGEMM is a layer evaluated as one GEMM over the chunk, its output
	// prefilled with the bias rows.
	OpGEMM Op = "gemm"
	// OpGEMV is a one-output layer evaluated as one matrix-vector product.
	OpGEMV Op = "gemv"
)

// Epilogue names the element-wise function fused after a step.
type Epilogue string

// The epilogues a step may carry.
const (
	EpNone  Epilogue = "none"
	EpReLU  Epilogue = "relu"
	EpTanh  Epilogue = "tanh"
	EpScale Epilogue = "tanh-scale" // low + (tanh(v)+1)*(high-low)/2
	// EpStd turns a SAC actor's log_std half into its standard deviation,
	// exp(clamp(log_std, -20, 2)).
	EpStd Epilogue = "exp-clamp-std"
)

// The clamp SAC applies to log_std before exponentiating it (the bounds of
// Stable-Baselines3's LOG_STD_MIN and LOG_STD_MAX and of the upstream code).
const (
	LogStdMin = -20
	LogStdMax = 2
)

// Step is one layer of a Plan: y = epilogue(x·Wᵀ + b).
type Step struct {
	// Op says how the layer is evaluated.
	Op Op
	// Layer indexes the network's Layers.
	Layer int
	// In and Out are the step's input and output widths; Out may be less
	// than the layer's width for a SAC actor's mean head.
	In, Out int
	// Epilogue is the element-wise function applied to the output.
	Epilogue Epilogue
}

// Plan is a network lowered into execution steps: the form the CPU backend
// runs and the CUDA worker mirrors.
type Plan struct {
	// Net is the network the plan evaluates.
	Net *loaders.Network
	// In is the input width: ObsDim for actors, ObsDim+ActDim for critics.
	In int
	// Out is the output width: ActDim for actors, 1 for critics.
	Out int
	// MaxWidth is the widest hidden activation, the scratch row size.
	MaxWidth int
	// Steps run in order, each reading the previous step's output.
	Steps []Step
}

// Lower checks a network's shapes and lowers it into a Plan.
func Lower(net *loaders.Network) (*Plan, error) {
	if err := Validate(net); err != nil {
		return nil, err
	}
	p := &Plan{Net: net, In: net.Layers[0].In}
	hidden := EpReLU
	if net.Hidden == loaders.Tanh {
		hidden = EpTanh
	}
	last := len(net.Layers) - 1
	for i, l := range net.Layers {
		s := Step{Layer: i, In: l.In, Out: l.Out, Epilogue: hidden, Op: OpGEMM}
		if i == last {
			s.Epilogue = EpNone
			switch net.Kind {
			case loaders.KindActor, loaders.KindSACActor:
				s.Out = net.ActDim
				s.Epilogue = EpScale
			}
		} else if p.MaxWidth < l.Out {
			p.MaxWidth = l.Out
		}
		switch {
		case s.Out == 1:
			s.Op = OpGEMV
		case i == 0 && l.In <= smallK:
			s.Op = OpDirect
		}
		p.Steps = append(p.Steps, s)
	}
	p.Out = p.Steps[last].Out
	return p, nil
}

// LowerStd lowers a SAC actor into the Plan of its standard deviation:
// the same layers, the last one kept whole (mean and log_std) and finished
// by EpStd, which writes exp(clamp(log_std)) of the log_std half.
func LowerStd(net *loaders.Network) (*Plan, error) {
	p, err := Lower(net)
	if err != nil {
		return nil, err
	}
	if net.Kind != loaders.KindSACActor {
		return nil, fmt.Errorf("graph: %s is a %s: only a SAC actor has a policy std", net.Path, net.Kind)
	}
	last := len(p.Steps) - 1
	s := &p.Steps[last]
	s.Out, s.Epilogue, s.Op = 2*net.ActDim, EpStd, OpGEMM
	if last == 0 && s.In <= smallK {
		s.Op = OpDirect
	}
	return p, nil
}

// Validate reports whether a network is one graph can evaluate: a chain of
// Linear layers whose widths, weights and action bounds agree with its kind.
func Validate(net *loaders.Network) error {
	if net == nil {
		return fmt.Errorf("graph: nil network")
	}
	where := net.Path
	if where == "" {
		where = "network"
	}
	if len(net.Layers) == 0 {
		return fmt.Errorf("%s: no Linear layers: the checkpoint holds no MLP graph can evaluate", where)
	}
	switch net.Hidden {
	case loaders.ReLU, loaders.Tanh, "":
	default:
		return fmt.Errorf("%s: hidden activation %q is not supported (relu, tanh)", where, net.Hidden)
	}
	for i, l := range net.Layers {
		if l.In <= 0 || l.Out <= 0 {
			return fmt.Errorf("%s: layer %d (%s) has shape %d×%d", where, i, l.Name, l.Out, l.In)
		}
		if len(l.W) != l.In*l.Out || len(l.B) != l.Out {
			return fmt.Errorf("%s: layer %d (%s): weight has %d values and bias %d, want %d×%d and %d",
				where, i, l.Name, len(l.W), len(l.B), l.Out, l.In, l.Out)
		}
		if i > 0 && l.In != net.Layers[i-1].Out {
			return fmt.Errorf("%s: layer %d (%s) reads %d inputs but layer %d writes %d",
				where, i, l.Name, l.In, i-1, net.Layers[i-1].Out)
		}
	}
	in, out := net.Layers[0].In, net.Layers[len(net.Layers)-1].Out
	switch net.Kind {
	case loaders.KindActor, loaders.KindSACActor:
		want := net.ActDim
		if net.Kind == loaders.KindSACActor {
			want = 2 * net.ActDim
		}
		if net.ActDim <= 0 || out != want {
			return fmt.Errorf("%s: %s writes %d outputs, want %d for action size %d", where, net.Kind, out, want, net.ActDim)
		}
		if in != net.ObsDim {
			return fmt.Errorf("%s: %s reads %d inputs, want observation size %d", where, net.Kind, in, net.ObsDim)
		}
		if len(net.Low) != net.ActDim || len(net.High) != net.ActDim {
			return fmt.Errorf("%s: action bounds have %d and %d values, want %d", where, len(net.Low), len(net.High), net.ActDim)
		}
	case loaders.KindCritic:
		if out != 1 {
			return fmt.Errorf("%s: critic writes %d outputs, want 1", where, out)
		}
		if net.ObsDim == 0 && net.ActDim == 0 {
			return fmt.Errorf("%s: critic of %d inputs does not say how they split into observation and action: load it with loaders.LoadNetworkAs and the actor's observation size", where, in)
		}
		if in != net.ObsDim+net.ActDim {
			return fmt.Errorf("%s: critic reads %d inputs, want observation %d + action %d", where, in, net.ObsDim, net.ActDim)
		}
	default:
		return fmt.Errorf("%s: unknown network kind %q", where, net.Kind)
	}
	return nil
}

// String lists the plan's steps, one a line.
func (p *Plan) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "plan %s: %d → %d\n", p.Net.Kind, p.In, p.Out)
	for _, s := range p.Steps {
		fmt.Fprintf(&b, "  %-6s %-12s %4d → %-4d %s\n", s.Op, p.Net.Layers[s.Layer].Name, s.In, s.Out, s.Epilogue)
	}
	return b.String()
}
