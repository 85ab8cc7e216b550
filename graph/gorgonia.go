package graph

import (
	"fmt"
	"strings"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/rleval/rleval/loaders"
)

// Graph is a network as a Gorgonia expression graph in float32: the single
// description of a network that inspect prints, the TapeMachine reference
// runs, and Lower turns into a CPU plan.
type Graph struct {
	// Net is the network the graph describes.
	Net *loaders.Network
	// G is the expression graph.
	G *G.ExprGraph
	// Input is the Batch×In input node: observations for an actor,
	// concat(observation, action) for a critic.
	Input *G.Node
	// Output is the Batch×Out output node: actions or Q values.
	Output *G.Node
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

// Build makes the expression graph of net for batch rows: per layer
// h = h·Wᵀ + b with ReLU (or tanh) between layers; an actor's head is
// low + (tanh(h)+1)*(high-low)/2 on its first ActDim outputs (the mean of a
// SAC actor); a critic's output is its single value.
func Build(net *loaders.Network, batch int) (*Graph, error) {
	if err := Validate(net); err != nil {
		return nil, err
	}
	if batch < 1 {
		return nil, fmt.Errorf("graph: batch of %d rows", batch)
	}
	g := G.NewGraph()
	in := net.Layers[0].In
	x := G.NewMatrix(g, tensor.Float32, G.WithShape(batch, in), G.WithName("input"))
	gr := &Graph{Net: net, G: g, Input: x, Batch: batch}
	h := x
	last := len(net.Layers) - 1
	var err error
	for i, l := range net.Layers {
		gl := GraphLayer{Name: l.Name, In: l.In, Out: l.Out}
		// Weights are stored transposed (in×out) so the graph multiplies
		// without a Transpose op per run.
		wt := make([]float32, l.In*l.Out)
		for o := 0; o < l.Out; o++ {
			for k := 0; k < l.In; k++ {
				wt[k*l.Out+o] = l.W[o*l.In+k]
			}
		}
		w := G.NewMatrix(g, tensor.Float32, G.WithShape(l.In, l.Out), G.WithName(l.Name+".weightᵀ"),
			G.WithValue(tensor.New(tensor.WithShape(l.In, l.Out), tensor.WithBacking(wt))))
		b := G.NewMatrix(g, tensor.Float32, G.WithShape(1, l.Out), G.WithName(l.Name+".bias"),
			G.WithValue(tensor.New(tensor.WithShape(1, l.Out), tensor.WithBacking(append([]float32(nil), l.B...)))))
		if h, err = G.Mul(h, w); err != nil {
			return nil, fmt.Errorf("graph: build %s layer %s: %w", net.Path, l.Name, err)
		}
		if h, err = G.BroadcastAdd(h, b, nil, []byte{0}); err != nil {
			return nil, fmt.Errorf("graph: build %s layer %s: %w", net.Path, l.Name, err)
		}
		gl.Ops = append(gl.Ops, "MatMul", "BroadcastAdd")
		if i < last {
			if net.Hidden == loaders.Tanh {
				h, err = G.Tanh(h)
				gl.Ops = append(gl.Ops, "Tanh")
			} else {
				h, err = G.Rectify(h)
				gl.Ops = append(gl.Ops, "ReLU")
			}
			if err != nil {
				return nil, fmt.Errorf("graph: build %s layer %s: %w", net.Path, l.Name, err)
			}
		}
		gr.Layers = append(gr.Layers, gl)
	}
	if net.Kind != loaders.KindCritic {
		ops := &gr.Layers[last].Ops
		if net.Kind == loaders.KindSACActor {
			if h, err = G.Slice(h, nil, G.S(0, net.ActDim)); err != nil {
				return nil, fmt.Errorf("graph: build %s mean head: %w", net.Path, err)
			}
			*ops = append(*ops, fmt.Sprintf("Slice[:, 0:%d] (mean)", net.ActDim))
		}
		if h, err = scaleNode(g, h, net); err != nil {
			return nil, fmt.Errorf("graph: build %s action head: %w", net.Path, err)
		}
		*ops = append(*ops, "Tanh", "Add 1", "BroadcastHadamardProd (high-low)/2", "BroadcastAdd low")
	}
	gr.Output = h
	return gr, nil
}

// scaleNode appends low + (tanh(h)+1)*(high-low)/2 to the graph.
func scaleNode(g *G.ExprGraph, h *G.Node, net *loaders.Network) (*G.Node, error) {
	ad := net.ActDim
	half := make([]float32, ad)
	for j := range half {
		half[j] = (net.High[j] - net.Low[j]) / 2
	}
	halfN := G.NewMatrix(g, tensor.Float32, G.WithShape(1, ad), G.WithName("(high-low)/2"),
		G.WithValue(tensor.New(tensor.WithShape(1, ad), tensor.WithBacking(half))))
	lowN := G.NewMatrix(g, tensor.Float32, G.WithShape(1, ad), G.WithName("low"),
		G.WithValue(tensor.New(tensor.WithShape(1, ad), tensor.WithBacking(append([]float32(nil), net.Low...)))))
	t, err := G.Tanh(h)
	if err != nil {
		return nil, err
	}
	if t, err = G.Add(t, G.NewConstant(float32(1))); err != nil {
		return nil, err
	}
	if t, err = G.BroadcastHadamardProd(t, halfN, nil, []byte{0}); err != nil {
		return nil, err
	}
	return G.BroadcastAdd(t, lowN, nil, []byte{0})
}

// Plan lowers the graph into the CPU execution plan.
func (gr *Graph) Plan() (*Plan, error) { return Lower(gr.Net) }

// Describe lists the network, its layers and the ops of each, one layer a
// line, for inspect.
func (gr *Graph) Describe() string {
	var b strings.Builder
	net := gr.Net
	fmt.Fprintf(&b, "%s %v (obs %d, act %d, %d params, %d graph nodes)\n",
		net.Kind, net.Widths(), net.ObsDim, net.ActDim, net.NumParams(), len(gr.G.AllNodes()))
	if net.Kind == loaders.KindCritic {
		fmt.Fprintf(&b, "  input  concat(obs[%d], act[%d])\n", net.ObsDim, net.ActDim)
	} else {
		fmt.Fprintf(&b, "  input  obs[%d]\n", net.ObsDim)
	}
	for _, l := range gr.Layers {
		fmt.Fprintf(&b, "  %-14s Linear %4d → %-4d %s\n", l.Name, l.In, l.Out, strings.Join(l.Ops, ", "))
	}
	if net.Kind != loaders.KindCritic {
		fmt.Fprintf(&b, "  output action[%d], low %v, high %v\n", net.ActDim, net.Low, net.High)
	} else {
		b.WriteString("  output q\n")
	}
	return b.String()
}

// String implements fmt.Stringer with Describe.
func (gr *Graph) String() string { return gr.Describe() }
