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
	EpNone      Epilogue = "none"
	EpReLU      Epilogue = "relu"
	EpTanh      Epilogue = "tanh"
	EpELU       Epilogue = "elu"        // v > 0 ? v : expm1(v)
	EpSiLU      Epilogue = "silu"       // v·sigmoid(v)
	EpLeakyReLU Epilogue = "leaky-relu" // v ≥ 0 ? v : Alpha·v
	// EpScale is an actor's head, low + (tanh(v)+1)*(high-low)/2, with v
	// clamped to ±Clip first when Clip > 0.
	EpScale Epilogue = "tanh-scale"
	// EpStd is a SAC actor's policy std, exp(clamp(v, Lo, Hi)).
	EpStd Epilogue = "exp-clamp"
	// EpMean is a quantile critic's output: the mean of a row's values.
	EpMean Epilogue = "mean"
)

// The clamp SAC applies to log_std before exponentiating it (the bounds of
// Stable-Baselines3's LOG_STD_MIN and LOG_STD_MAX and of the upstream code).
const (
	LogStdMin = -20
	LogStdMax = 2
)

// Step is one layer of a Plan: y = epilogue(x·W + b).
type Step struct {
	// Op says how the layer is evaluated.
	Op Op
	// Name is the layer's state-dict prefix.
	Name string
	// In and Out are the step's input and output widths.
	In, Out int
	// Col is the first of the layer's outputs the step computes: a SAC
	// actor's mean head computes outputs 0..ActDim-1, its std head
	// ActDim..2·ActDim-1.
	Col int
	// W holds In×Out weights, row k the weights of input k (the graph's
	// transposed weight node, cut to the step's columns); B holds Out biases.
	W, B []float32
	// Epilogue is the element-wise function applied to the output.
	Epilogue Epilogue
	// Alpha is EpLeakyReLU's slope.
	Alpha float32
	// Clip, when > 0, clamps EpScale's input to ±Clip.
	Clip float32
	// Lo and Hi are EpStd's clamp.
	Lo, Hi float32
	// Low and Half are EpScale's low and (high-low)/2.
	Low, Half []float32
	// XFrom and XTo, when XTo > 0, are the columns [XFrom, XTo) of the
	// plan's input (after its normalisation) the step reads: alone in the
	// first step (a critic whose first layer sees only the observation),
	// after the previous step's output in a later one (the action entering
	// sfujim/TD3 DDPG.py's critic at its second layer). In counts them.
	XFrom, XTo int
}

// Norm is a plan's input normalisation: its first Cols values become
// clamp((x - Mean) / Std, ±Clip); the rest pass unchanged.
type Norm struct {
	Cols      int
	Mean, Std []float32
	Clip      float32
}

// Plan is a network's Gorgonia graph lowered into execution steps: the form
// the CPU backend runs and the CUDA worker mirrors. It holds everything it
// evaluates (weights, biases, heads), copied out of the graph.
type Plan struct {
	// Name is the network's path, for messages.
	Name string
	// Kind is the kind of the network the plan evaluates.
	Kind loaders.NetKind
	// In is the input width: ObsDim for actors, ObsDim+ActDim for critics.
	In int
	// Out is the output width: ActDim for actors, 1 for critics.
	Out int
	// MaxWidth is the widest hidden activation, the scratch row size.
	MaxWidth int
	// Norm, when not nil, normalises the input first.
	Norm *Norm
	// Steps run in order, each reading the previous step's output.
	Steps []Step
}

// Lower builds a network's Gorgonia graph and lowers its output into a Plan
// (see LowerGraph).
func Lower(net *loaders.Network) (*Plan, error) {
	gr, err := Build(net, 2)
	if err != nil {
		return nil, err
	}
	return gr.Plan()
}

// LowerStd lowers a SAC actor's policy std output into a Plan: the same
// layers, the last one cut to its log_std half and finished by EpStd.
func LowerStd(net *loaders.Network) (*Plan, error) {
	if net != nil && net.Kind != loaders.KindSACActor {
		return nil, fmt.Errorf("graph: %s is a %s: only a SAC actor has a policy std", net.Path, net.Kind)
	}
	gr, err := Build(net, 2)
	if err != nil {
		return nil, err
	}
	return gr.StdPlan()
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
	if _, ok := activation(net.Hidden); !ok {
		return fmt.Errorf("%s: hidden activation %q is not supported (relu, tanh, elu, silu, leaky_relu, sigmoid, softplus)", where, net.Hidden)
	}
	for i, l := range net.Layers {
		if l.In <= 0 || l.Out <= 0 {
			return fmt.Errorf("%s: layer %d (%s) has shape %d×%d", where, i, l.Name, l.Out, l.In)
		}
		if len(l.W) != l.In*l.Out || len(l.B) != l.Out {
			return fmt.Errorf("%s: layer %d (%s): weight has %d values and bias %d, want %d×%d and %d",
				where, i, l.Name, len(l.W), len(l.B), l.Out, l.In, l.Out)
		}
		if i > 0 && i == net.ActionAt && l.In != net.Layers[i-1].Out+net.ActDim {
			return fmt.Errorf("%s: layer %d (%s), which the action enters, reads %d inputs but layer %d writes %d and the action has %d",
				where, i, l.Name, l.In, i-1, net.Layers[i-1].Out, net.ActDim)
		}
		if i > 0 && i != net.ActionAt && l.In != net.Layers[i-1].Out {
			return fmt.Errorf("%s: layer %d (%s) reads %d inputs but layer %d writes %d",
				where, i, l.Name, l.In, i-1, net.Layers[i-1].Out)
		}
	}
	if net.ActionAt < 0 || net.ActionAt >= len(net.Layers) || net.ActionAt > 0 && !isCritic(net.Kind) {
		return fmt.Errorf("%s: %s with its action entering layer %d of %d", where, net.Kind, net.ActionAt, len(net.Layers))
	}
	in, out := net.InputWidth(), net.Layers[len(net.Layers)-1].Out
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
		if net.MeanClip < 0 {
			return fmt.Errorf("%s: mean clamp %g is negative", where, net.MeanClip)
		}
	case loaders.KindCritic, loaders.KindQuantileCritic:
		if out != 1 && net.Kind == loaders.KindCritic {
			return fmt.Errorf("%s: critic writes %d outputs, want 1", where, out)
		}
		if net.ObsDim == 0 && net.ActDim == 0 {
			return fmt.Errorf("%s: critic of %d inputs does not say how they split into observation and action: load it with loaders.LoadNetworkAs and the actor's observation size", where, in)
		}
		if in != net.ObsDim+net.ActDim || net.ActionAt > 0 && net.Layers[0].In != net.ObsDim {
			return fmt.Errorf("%s: critic reads %d inputs, want observation %d + action %d", where, in, net.ObsDim, net.ActDim)
		}
	default:
		return fmt.Errorf("%s: unknown network kind %q", where, net.Kind)
	}
	if nm := net.InputNorm; nm != nil {
		if len(nm.Mean) != net.ObsDim || len(nm.Std) != net.ObsDim {
			return fmt.Errorf("%s: input normalisation has %d means and %d stds, want %d", where, len(nm.Mean), len(nm.Std), net.ObsDim)
		}
		if !(nm.Clip > 0) {
			return fmt.Errorf("%s: input normalisation clip %g, want > 0", where, nm.Clip)
		}
	}
	return nil
}

// String lists the plan's steps, one a line.
func (p *Plan) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "plan %s: %d → %d\n", p.Kind, p.In, p.Out)
	if p.Norm != nil {
		fmt.Fprintf(&b, "  norm   %d inputs, clip ±%g\n", p.Norm.Cols, p.Norm.Clip)
	}
	for i, s := range p.Steps {
		fmt.Fprintf(&b, "  %-6s %-12s %4d → %-4d %s", s.Op, s.Name, s.In, s.Out, s.Epilogue)
		switch {
		case s.XTo > 0 && i == 0:
			fmt.Fprintf(&b, " (input columns %d:%d)", s.XFrom, s.XTo)
		case s.XTo > 0:
			fmt.Fprintf(&b, " (+ input columns %d:%d)", s.XFrom, s.XTo)
		}
		b.WriteByte('\n')
	}
	return b.String()
}
