package cuda

// Host-side parts of the device's plan evaluation: pure Go, built with or
// without the rlcuda tag, so they are tested without a GPU (plan_test.go).

import (
	"fmt"

	"github.com/rleval/rleval/graph"
)

// torchLayout returns a step's In×Out plan weights as Out×In (row o the
// weights of output o), the layout layerGemm and stackGemm multiply.
func torchLayout(s *graph.Step) []float32 {
	w := make([]float32, len(s.W))
	for k := 0; k < s.In; k++ {
		for o := 0; o < s.Out; o++ {
			w[o*s.In+k] = s.W[k*s.Out+o]
		}
	}
	return w
}

// devIn is the width of the rows step i of p reads on the device: a step
// reading input columns (Step.XTo) reads whole input rows there, behind
// the previous step's output (joined by the concat kernel) for a later
// step, its weights zero for the columns outside XFrom:XTo (devWeights).
func devIn(p *graph.Plan, i int) int {
	s := &p.Steps[i]
	switch {
	case s.XTo == 0:
		return s.In
	case i == 0:
		return p.In
	default:
		return s.In - (s.XTo - s.XFrom) + p.In
	}
}

// devWeights returns step i's weights as the device multiplies them:
// torch's Out×In layout (torchLayout), widened to devIn columns for a
// step reading input columns.
func devWeights(p *graph.Plan, i int) []float32 {
	s := &p.Steps[i]
	w := torchLayout(s)
	in := devIn(p, i)
	if in == s.In {
		return w
	}
	prev := s.In - (s.XTo - s.XFrom) // the previous step's outputs: 0 for a first step
	if i == 0 {
		prev = 0
	}
	out := make([]float32, s.Out*in)
	for o := 0; o < s.Out; o++ {
		row, src := out[o*in:(o+1)*in], w[o*s.In:(o+1)*s.In]
		copy(row[:prev], src[:prev])
		copy(row[prev+s.XFrom:prev+s.XTo], src[prev:])
	}
	return out
}

// stackable reports why plans cannot run as one stack, or nil when they
// can: the same steps (widths, epilogues and their parameters), the same
// head bounds and the same input normalisation, or none. Networks that
// differ only in weights and biases, as a sweep's runs do, stack.
func stackable(plans []*graph.Plan) error {
	a := plans[0]
	for _, b := range plans[1:] {
		if len(b.Steps) != len(a.Steps) || (a.Norm == nil) != (b.Norm == nil) {
			return fmt.Errorf("%s and %s have different steps or normalisations", a.Name, b.Name)
		}
		if a.Norm != nil && (a.Norm.Cols != b.Norm.Cols || a.Norm.Clip != b.Norm.Clip ||
			!graph.SameFloats(a.Norm.Mean, b.Norm.Mean) || !graph.SameFloats(a.Norm.Std, b.Norm.Std)) {
			return fmt.Errorf("%s and %s normalise their inputs differently", a.Name, b.Name)
		}
		for i := range a.Steps {
			x, y := &a.Steps[i], &b.Steps[i]
			if x.In != y.In || x.Out != y.Out || x.XFrom != y.XFrom || x.XTo != y.XTo || x.Epilogue != y.Epilogue || x.Alpha != y.Alpha || x.Clip != y.Clip ||
				x.Lo != y.Lo || x.Hi != y.Hi || !graph.SameFloats(x.Low, y.Low) || !graph.SameFloats(x.Half, y.Half) {
				return fmt.Errorf("%s and %s differ in step %d", a.Name, b.Name, i)
			}
		}
	}
	return nil
}

// Activation codes of the bias_act kernel (ACT_* in kernels.cu).
const (
	actIdentity int64 = 0
	actReLU     int64 = 1
	actTanh     int64 = 2
	actELU      int64 = 3
	actSiLU     int64 = 4
	actLeaky    int64 = 5
)

// actCodes maps the plan's element-wise epilogues to bias_act's codes.
var actCodes = map[graph.Epilogue]int64{graph.EpNone: actIdentity, graph.EpReLU: actReLU, graph.EpTanh: actTanh,
	graph.EpELU: actELU, graph.EpSiLU: actSiLU, graph.EpLeakyReLU: actLeaky}

// kernelKind names one kernel launch of a plan's evaluation.
type kernelKind int

const (
	kNorm     kernelKind = iota // norm_rows
	kGemm                       // the step's GEMM (stackGemm)
	kBiasAct                    // bias_act in place: the step's bias and element-wise epilogue
	kHead                       // bias_tanh_scale, its bias zero
	kExpClamp                   // bias_exp_clamp, its bias zero
	kMean                       // bias_mean_rows, its bias zero
	kCat                        // concat: the previous step's output, then the input rows (Step.XTo)
)

// slot names a device buffer of a plan's evaluation.
type slot int

const (
	slotX   slot = iota // the input, rows×In
	slotXN              // the normalised input
	slotH0              // scratch activations, rows×widest
	slotH1              // the other scratch buffer
	slotOut             // the output, rows×plan.Out
	slotCat             // a step's input joined with the input rows, rows×catWidth
)

// kernelOp is one launch: kind on step's parameters, reading src and
// writing dst.
type kernelOp struct {
	kind     kernelKind
	step     int // -1 for the normalisation
	src, dst slot
	act      int64 // kBiasAct's activation code
	x        slot  // kCat's input rows (x or xn)
}

// planProgram returns the launches that evaluate p on the device, for one
// network or a stack of k sharing p's epilogues (rows interleaved, rows×k
// of width w seen as rows of width k·w): the input normalised into xn;
// per step (after a step that reads input columns besides its previous
// step's output, concat joining the two into cat, whose k·rows rows of
// one network each interleave as the GEMM's do) the GEMM of devIn inputs
// into h0 or h1 (alternately) and bias_act adding the
// bias with the step's element-wise epilogue; a head (tanh-scale, std,
// quantile mean) then reads that and writes the output, with a zero bias
// as the bias is already added, so f(v + 0) = f(v). A last step without a
// head writes the output directly. The device runs it (Device.forward);
// plan_test.go runs it on the host against the CPU plan.
func planProgram(p *graph.Plan) ([]kernelOp, error) {
	var ops []kernelOp
	cur := slotX
	if p.Norm != nil {
		ops = append(ops, kernelOp{kind: kNorm, step: -1, src: slotX, dst: slotXN})
		cur = slotXN
	}
	input := cur
	last := len(p.Steps) - 1
	for i, s := range p.Steps {
		if i > 0 && s.XTo > 0 {
			ops = append(ops, kernelOp{kind: kCat, step: i, src: cur, dst: slotCat, x: input})
			cur = slotCat
		}
		y := slotH0
		if i%2 == 1 {
			y = slotH1
		}
		code, elementwise := actCodes[s.Epilogue] // a head's: 0, identity
		if i == last && elementwise {
			y = slotOut
		}
		ops = append(ops, kernelOp{kind: kGemm, step: i, src: cur, dst: y},
			kernelOp{kind: kBiasAct, step: i, src: y, dst: y, act: code})
		if !elementwise {
			head := map[graph.Epilogue]kernelKind{graph.EpScale: kHead, graph.EpStd: kExpClamp, graph.EpMean: kMean}
			kk, ok := head[s.Epilogue]
			if !ok || i != last {
				return nil, fmt.Errorf("plan %s step %d: no kernel for epilogue %q there", p.Name, i, s.Epilogue)
			}
			ops = append(ops, kernelOp{kind: kk, step: i, src: y, dst: slotOut})
		}
		cur = y
	}
	return ops, nil
}

// stackParams returns, per step of k plans that stack (stackable), the k
// weight matrices in torch's layout one after another and the k bias
// vectors likewise, as the device uploads them.
func stackParams(plans []*graph.Plan) (w, b [][]float32) {
	for i := range plans[0].Steps {
		var ws, bs []float32
		for _, q := range plans {
			ws, bs = append(ws, devWeights(q, i)...), append(bs, q.Steps[i].B...)
		}
		w, b = append(w, ws), append(b, bs)
	}
	return w, b
}

// maxWidth is the widest input or step output of p: the scratch row size.
func maxWidth(p *graph.Plan) int {
	w := p.In
	for _, s := range p.Steps {
		w = max(w, s.In, s.Out)
	}
	return w
}

// catWidth is the widest row concat writes for p (devIn of a step joining
// input rows), 0 when none does.
func catWidth(p *graph.Plan) int {
	w := 0
	for i, s := range p.Steps {
		if i > 0 && s.XTo > 0 {
			w = max(w, devIn(p, i))
		}
	}
	return w
}
