package graph

import (
	"fmt"
	"strings"
	"sync"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/rleval/rleval/loaders"
)

// Graph is a network as a Gorgonia expression graph in float32: the single
// description of a network. inspect prints it, the TapeMachine evaluates it
// (Reference, --device gorgonia), and Plan lowers it into the CPU plan by
// walking its nodes.
type Graph struct {
	// Net is the network the graph describes.
	Net *loaders.Network
	// G is the expression graph.
	G *G.ExprGraph
	// Input is the Batch×In input node: observations for an actor,
	// concat(observation, action) for a critic.
	Input *G.Node
	// Action is the input's action columns, which a critic whose action
	// enters a later layer (Net.ActionAt) concatenates to that layer's
	// input; nil for other networks.
	Action *G.Node
	// Output is the output node: Batch×ActDim actions, Batch×1 Q values of
	// a critic, or Batch Q values (the quantiles' mean) of a quantile critic.
	Output *G.Node
	// Std is a SAC actor's Batch×ActDim policy standard deviation,
	// exp(clamp(log_std, LogStdMin, LogStdMax)); nil for other kinds.
	Std *G.Node
	// Batch is the number of rows the graph evaluates at once.
	Batch int
	// Layers lists, per Linear layer, the ops the graph applies.
	Layers []GraphLayer
}

// GraphLayer describes one Linear layer of a Graph.
type GraphLayer struct {
	// Name is the layer's state-dict prefix.
	Name string
	// In and Out are the layer's widths.
	In, Out int
	// Ops are the graph operations of the layer, in order, e.g.
	// ["MatMul", "BroadcastAdd", "ReLU"].
	Ops []string
}

// Build makes the expression graph of net for batch rows: observations
// normalised first when the network has an InputNorm; per layer
// h = h·Wᵀ + b with the hidden activation between layers; an actor's head
// low + (tanh(h)+1)*(high-low)/2 on its first ActDim outputs (the mean of a
// SAC actor, clamped to ±MeanClip when set), and a SAC actor's policy std
// from the other ActDim; a critic's single value, or the mean of a quantile
// critic's outputs.
func Build(net *loaders.Network, batch int) (*Graph, error) {
	if err := Validate(net); err != nil {
		return nil, err
	}
	if batch < 1 {
		return nil, fmt.Errorf("graph: batch of %d rows", batch)
	}
	gorgoniaMu.Lock()
	defer gorgoniaMu.Unlock()
	g := G.NewGraph()
	x := G.NewMatrix(g, tensor.Float32, G.WithShape(batch, net.InputWidth()), G.WithName("input"))
	gr := &Graph{Net: net, G: g, Input: x, Batch: batch}
	h, err := gr.normInput(x)
	if err == nil {
		h, err = gr.body(h)
	}
	if err == nil {
		err = gr.head(h)
	}
	if err != nil {
		return nil, fmt.Errorf("graph: build %s: %w", net.Path, err)
	}
	return gr, nil
}

// gorgoniaMu serialises building and running Gorgonia graphs: Gorgonia
// keeps package-level state while it builds a graph (the counter behind
// its op groups), which the CPU backend's workers would otherwise race on
// when they lower networks at once.
var gorgoniaMu sync.Mutex

// body appends the Linear layers and hidden activations.
func (gr *Graph) body(h *G.Node) (*G.Node, error) {
	net := gr.Net
	act, _ := activation(net.Hidden)
	last := len(net.Layers) - 1
	var err error
	for i, l := range net.Layers {
		gl := GraphLayer{Name: l.Name, In: l.In, Out: l.Out, Ops: []string{"MatMul", "BroadcastAdd"}}
		if i > 0 && i == net.ActionAt {
			// sfujim/TD3 DDPG.py: l2(cat([relu(l1(s)), a], 1)).
			if h, err = G.Concat(1, h, gr.Action); err != nil {
				return nil, fmt.Errorf("layer %s: concat action: %w", l.Name, err)
			}
			gl.Ops = append([]string{"Concat action"}, gl.Ops...)
		}
		if h, err = linearNode(gr.G, h, &l); err != nil {
			return nil, fmt.Errorf("layer %s: %w", l.Name, err)
		}
		if i < last {
			if h, err = act.build(h); err != nil {
				return nil, fmt.Errorf("layer %s: %w", l.Name, err)
			}
			gl.Ops = append(gl.Ops, act.name)
		}
		gr.Layers = append(gr.Layers, gl)
	}
	return h, nil
}

// head appends the output of the network's kind to the last layer's h.
func (gr *Graph) head(h *G.Node) error {
	net := gr.Net
	ops := &gr.Layers[len(gr.Layers)-1].Ops
	ad := net.ActDim
	var err error
	switch net.Kind {
	case loaders.KindCritic:
		gr.Output = h
	case loaders.KindQuantileCritic:
		if gr.Output, err = G.Mean(h, 1); err != nil {
			return fmt.Errorf("quantile mean: %w", err)
		}
		*ops = append(*ops, "Mean over quantiles")
	case loaders.KindSACActor:
		logStd, err := sliceCols(h, ad, 2*ad)
		if err != nil {
			return fmt.Errorf("log_std head: %w", err)
		}
		if gr.Std, err = stdNode(logStd, LogStdMin, LogStdMax); err != nil {
			return fmt.Errorf("log_std head: %w", err)
		}
		if h, err = sliceCols(h, 0, ad); err != nil {
			return fmt.Errorf("mean head: %w", err)
		}
		*ops = append(*ops, fmt.Sprintf("Slice[:, %d:%d] (log_std) → exp(clamp(%d, %d))", ad, 2*ad, LogStdMin, LogStdMax),
			fmt.Sprintf("Slice[:, 0:%d] (mean)", ad))
		fallthrough
	default: // actors
		if net.MeanClip > 0 {
			if h, err = clampNode(h, -net.MeanClip, net.MeanClip); err != nil {
				return fmt.Errorf("mean clamp: %w", err)
			}
			*ops = append(*ops, fmt.Sprintf("Clamp ±%g", net.MeanClip))
		}
		half, low := vecNode(gr.G, "(high-low)/2", halfRange(net)), vecNode(gr.G, "low", net.Low)
		if gr.Output, err = scaleNode(h, half, low); err != nil {
			return fmt.Errorf("action head: %w", err)
		}
		*ops = append(*ops, "Tanh", "Add 1", "BroadcastHadamardProd (high-low)/2", "BroadcastAdd low")
	}
	return nil
}

// normInput appends an InputNorm's clip((o-Mean)/Std, ±Clip) to the
// observation columns of x; x itself when the network has none.
func (gr *Graph) normInput(x *G.Node) (*G.Node, error) {
	nm := gr.Net.InputNorm
	od, in := gr.Net.ObsDim, x.Shape()[1]
	if gr.Net.ActionAt > 0 {
		// The first layer reads the observation alone; the action waits
		// for layer ActionAt, never normalised.
		var err error
		if gr.Action, err = sliceCols(x, od, in); err != nil {
			return nil, err
		}
		obs, err := sliceCols(x, 0, od)
		if err != nil || nm == nil {
			return obs, err
		}
		return normNode(obs, vecNode(gr.G, "obs mean", nm.Mean), vecNode(gr.G, "obs std", nm.Std), nm.Clip)
	}
	if nm == nil {
		return x, nil
	}
	obs := x
	var err error
	if od < in {
		if obs, err = sliceCols(x, 0, od); err != nil {
			return nil, err
		}
	}
	h, err := normNode(obs, vecNode(gr.G, "obs mean", nm.Mean), vecNode(gr.G, "obs std", nm.Std), nm.Clip)
	if err != nil || od == in {
		return h, err
	}
	act, err := sliceCols(x, od, in)
	if err != nil {
		return nil, err
	}
	return G.Concat(1, h, act)
}

// sliceCols appends h[:, a:b], kept a batch×(b-a) matrix (Gorgonia drops
// a dimension of extent one, and a one-row batch would become a scalar).
func sliceCols(h *G.Node, a, b int) (*G.Node, error) {
	s, err := G.Slice(h, nil, G.S(a, b))
	if err != nil {
		return nil, err
	}
	return G.Reshape(s, tensor.Shape{h.Shape()[0], b - a})
}

// linearNode appends h·Wᵀ + b. Weights are stored transposed (in×out) so
// the graph multiplies without a Transpose op per run.
func linearNode(g *G.ExprGraph, h *G.Node, l *loaders.Linear) (*G.Node, error) {
	wt := make([]float32, l.In*l.Out)
	for o := 0; o < l.Out; o++ {
		for k := 0; k < l.In; k++ {
			wt[k*l.Out+o] = l.W[o*l.In+k]
		}
	}
	w := G.NewMatrix(g, tensor.Float32, G.WithShape(l.In, l.Out), G.WithName(l.Name+weightSuffix),
		G.WithValue(tensor.New(tensor.WithShape(l.In, l.Out), tensor.WithBacking(wt))))
	h, err := G.Mul(h, w)
	if err != nil {
		return nil, err
	}
	return G.BroadcastAdd(h, vecNode(g, l.Name+".bias", l.B), nil, []byte{0})
}

// weightSuffix ends the name of a layer's weight node.
const weightSuffix = ".weightᵀ"

// vecNode makes a 1×len(v) constant row holding a copy of v.
func vecNode(g *G.ExprGraph, name string, v []float32) *G.Node {
	return G.NewMatrix(g, tensor.Float32, G.WithShape(1, len(v)), G.WithName(name),
		G.WithValue(tensor.New(tensor.WithShape(1, len(v)), tensor.WithBacking(append([]float32(nil), v...)))))
}

func halfRange(net *loaders.Network) []float32 {
	half := make([]float32, net.ActDim)
	for j := range half {
		half[j] = (net.High[j] - net.Low[j]) / 2
	}
	return half
}

func scalar(v float32) *G.Node { return G.NewConstant(v) }

// scaleNode appends low + (tanh(h)+1)*half, half and low 1×ActDim rows.
func scaleNode(h, half, low *G.Node) (*G.Node, error) {
	t, err := G.Tanh(h)
	if err != nil {
		return nil, err
	}
	if t, err = G.Add(t, scalar(1)); err != nil {
		return nil, err
	}
	if t, err = G.BroadcastHadamardProd(t, half, nil, []byte{0}); err != nil {
		return nil, err
	}
	return G.BroadcastAdd(t, low, nil, []byte{0})
}

// clampNode appends clamp(h, lo, hi) in Gorgonia's element-wise ops:
// h⊙[h≥lo]⊙[h≤hi] + lo⊙[h<lo] + hi⊙[h>hi], exact for finite h.
func clampNode(h *G.Node, lo, hi float32) (*G.Node, error) {
	ge, err := G.Gte(h, scalar(lo), true)
	if err != nil {
		return nil, err
	}
	le, err := G.Lte(h, scalar(hi), true)
	if err != nil {
		return nil, err
	}
	lt, err := G.Lt(h, scalar(lo), true)
	if err != nil {
		return nil, err
	}
	gt, err := G.Gt(h, scalar(hi), true)
	if err != nil {
		return nil, err
	}
	in, err := G.HadamardProd(h, ge)
	if err == nil {
		in, err = G.HadamardProd(in, le)
	}
	if err != nil {
		return nil, err
	}
	if lt, err = G.HadamardProd(lt, scalar(lo)); err != nil {
		return nil, err
	}
	if gt, err = G.HadamardProd(gt, scalar(hi)); err != nil {
		return nil, err
	}
	if in, err = G.Add(in, lt); err != nil {
		return nil, err
	}
	return G.Add(in, gt)
}

// stdNode appends exp(clamp(h, lo, hi)).
func stdNode(h *G.Node, lo, hi float32) (*G.Node, error) {
	c, err := clampNode(h, lo, hi)
	if err != nil {
		return nil, err
	}
	return G.Exp(c)
}

// normNode appends clamp((x - mean) / std, -clip, clip), mean and std rows.
func normNode(x, mean, std *G.Node, clip float32) (*G.Node, error) {
	h, err := G.BroadcastSub(x, mean, nil, []byte{0})
	if err != nil {
		return nil, err
	}
	if h, err = G.BroadcastHadamardDiv(h, std, nil, []byte{0}); err != nil {
		return nil, err
	}
	return clampNode(h, -clip, clip)
}

// hiddenAct is a hidden activation: how the graph builds it, the epilogue
// the lowering fuses it into (EpNone when the lowering has no kernel for
// it), and its name in Describe.
type hiddenAct struct {
	name  string
	ep    Epilogue
	build func(*G.Node) (*G.Node, error)
}

// activations lists the hidden activations graph builds, as torch defines
// them.
var activations = map[loaders.Activation]hiddenAct{
	loaders.ReLU: {"ReLU", EpReLU, G.Rectify},
	loaders.Tanh: {"Tanh", EpTanh, G.Tanh},
	// ELU(α=1): relu(h) + expm1(min(h, 0)), min(h, 0) = h - relu(h) exactly.
	loaders.ELU: {"ELU", EpELU, func(h *G.Node) (*G.Node, error) {
		r, err := G.Rectify(h)
		if err != nil {
			return nil, err
		}
		m, err := G.Sub(h, r)
		if err != nil {
			return nil, err
		}
		if m, err = G.Expm1(m); err != nil {
			return nil, err
		}
		return G.Add(r, m)
	}},
	// SiLU: h·sigmoid(h).
	loaders.SiLU: {"SiLU", EpSiLU, func(h *G.Node) (*G.Node, error) {
		s, err := G.Sigmoid(h)
		if err != nil {
			return nil, err
		}
		return G.HadamardProd(h, s)
	}},
	// LeakyReLU with torch's default slope.
	loaders.LeakyReLU: {"LeakyReLU(0.01)", EpLeakyReLU, func(h *G.Node) (*G.Node, error) { return G.LeakyRelu(h, 0.01) }},
	// Activations with no fused kernel: their networks evaluate on the
	// TapeMachine (SB3 accepts any torch activation_fn).
	Sigmoid:  {"Sigmoid", EpNone, G.Sigmoid},
	Softplus: {"Softplus", EpNone, G.Softplus},
}

// Activations graph builds that loaders does not name.
const (
	Sigmoid  loaders.Activation = "sigmoid"
	Softplus loaders.Activation = "softplus"
)

// activation returns the hidden activation named a ("" is ReLU).
func activation(a loaders.Activation) (hiddenAct, bool) {
	if a == "" {
		a = loaders.ReLU
	}
	act, ok := activations[a]
	return act, ok
}

// Plan lowers the graph's Output into an execution plan by walking its
// nodes (see LowerGraph).
func (gr *Graph) Plan() (*Plan, error) { return LowerGraph(gr, gr.Output) }

// StdPlan lowers a SAC actor's Std output into an execution plan.
func (gr *Graph) StdPlan() (*Plan, error) {
	if gr.Std == nil {
		return nil, fmt.Errorf("graph: %s is a %s: only a SAC actor has a policy std", gr.Net.Path, gr.Net.Kind)
	}
	return LowerGraph(gr, gr.Std)
}

// Describe lists the network, its layers and the ops of each, one layer a
// line, for inspect.
func (gr *Graph) Describe() string {
	var b strings.Builder
	net := gr.Net
	fmt.Fprintf(&b, "%s %v (obs %d, act %d, %d params, %d graph nodes)\n",
		net.Kind, net.Widths(), net.ObsDim, net.ActDim, net.NumParams(), len(gr.G.AllNodes()))
	if isCritic(net.Kind) && net.ActionAt > 0 {
		fmt.Fprintf(&b, "  input  obs[%d]; act[%d] enters at layer %s\n", net.ObsDim, net.ActDim, net.Layers[net.ActionAt].Name)
	} else if isCritic(net.Kind) {
		fmt.Fprintf(&b, "  input  concat(obs[%d], act[%d])\n", net.ObsDim, net.ActDim)
	} else {
		fmt.Fprintf(&b, "  input  obs[%d]\n", net.ObsDim)
	}
	if nm := net.InputNorm; nm != nil {
		fmt.Fprintf(&b, "  norm   obs → clip((obs - mean) / std, ±%g)\n", nm.Clip)
	}
	for _, l := range gr.Layers {
		fmt.Fprintf(&b, "  %-14s Linear %4d → %-4d %s\n", l.Name, l.In, l.Out, strings.Join(l.Ops, ", "))
	}
	switch {
	case net.Kind == loaders.KindQuantileCritic:
		fmt.Fprintf(&b, "  output q = mean of %d quantiles\n", net.Layers[len(net.Layers)-1].Out)
	case isCritic(net.Kind):
		b.WriteString("  output q\n")
	default:
		fmt.Fprintf(&b, "  output action[%d], low %v, high %v\n", net.ActDim, net.Low, net.High)
	}
	return b.String()
}

// String implements fmt.Stringer with Describe.
func (gr *Graph) String() string { return gr.Describe() }

// isCritic reports whether kind is a Q network.
func isCritic(kind loaders.NetKind) bool {
	return kind == loaders.KindCritic || kind == loaders.KindQuantileCritic
}
