package graph

import (
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"sync"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// ErrNotLowered marks a graph holding an op, or a chain of ops, that the
// lowering has no fused kernel for; such a network still evaluates, on the
// TapeMachine.
var ErrNotLowered = errors.New("no fused kernel for")

// LowerGraph lowers the part of gr that computes out (gr.Output or gr.Std)
// into a Plan by walking its Gorgonia nodes from out back to the input:
// every MatMul by a weight node starts a step, a BroadcastAdd of a row
// right after it is the step's bias, a Slice of its columns narrows its
// weights (SAC's mean and log_std halves), and the element-wise ops between
// one MatMul and the next are matched against the graph's own activations
// and heads, built on a placeholder, and fused into the step's epilogue.
// Ops before the first MatMul must be an input normalisation. Anything
// else is an error wrapping ErrNotLowered.
func LowerGraph(gr *Graph, out *G.Node) (*Plan, error) {
	gorgoniaMu.Lock() // templates build graphs
	defer gorgoniaMu.Unlock()
	l := &lowerer{vars: map[*G.Node]string{gr.Input: "x"}, memo: map[*G.Node]string{}, batch: gr.Input.Shape()[0],
		plan: &Plan{Name: gr.Net.Path, Kind: gr.Net.Kind, In: gr.Input.Shape()[1]}}
	e, err := l.expr(out)
	if err == nil {
		err = l.finish(e, true)
	}
	if err == nil && len(l.plan.Steps) == 0 {
		err = fmt.Errorf("%w a graph without a MatMul", ErrNotLowered)
	}
	if err != nil {
		return nil, fmt.Errorf("graph: lower %s: %w", gr.Net.Path, err)
	}
	p := l.plan
	last := p.Steps[len(p.Steps)-1]
	p.Out = last.Out
	switch last.Epilogue {
	case EpMean:
		p.Out = 1
	case EpScale:
		p.Out = len(last.Low)
	}
	for i, s := range p.Steps {
		if i < len(p.Steps)-1 {
			p.MaxWidth = max(p.MaxWidth, s.Out)
		}
		switch {
		case s.Out == 1:
			p.Steps[i].Op = OpGEMV
		case i == 0 && s.In <= smallK:
			p.Steps[i].Op = OpDirect
		default:
			p.Steps[i].Op = OpGEMM
		}
	}
	return p, nil
}

// lowerer walks one output of a graph. Expressions are strings in which
// the current step's pre-activation is {z:k}, a MatMul without its bias
// {m:k}, a constant row {v:i} (index into vecs), a scalar {s:value} and a
// column bound of the input {i:col}.
type lowerer struct {
	// batch is the graph's rows: a Reshape to batch×w only restores the
	// dimension a Slice dropped.
	batch int
	vars  map[*G.Node]string
	memo  map[*G.Node]string
	plan  *Plan
	vecs  [][]float32
}

func children(n *G.Node) []*G.Node {
	it := n.Graph().From(n.ID())
	var out []*G.Node
	for it.Next() {
		out = append(out, it.Node().(*G.Node))
	}
	return out
}

func (l *lowerer) expr(n *G.Node) (string, error) {
	if s, ok := l.memo[n]; ok {
		return s, nil
	}
	s, err := l.exprOf(n)
	if err != nil {
		return "", err
	}
	l.memo[n] = s
	return s, nil
}

func (l *lowerer) exprOf(n *G.Node) (string, error) {
	if v, ok := l.vars[n]; ok {
		return v, nil
	}
	op, kids := n.Op(), children(n)
	if op == nil {
		return l.constRow(n)
	}
	name := op.String()
	switch {
	case strings.HasPrefix(name, "const "):
		v, ok := n.Value().Data().(float32)
		if !ok {
			return "", fmt.Errorf("%w constant %v", ErrNotLowered, n.Value())
		}
		return fmt.Sprintf("{s:%v}", v), nil
	case strings.HasPrefix(name, "SizeOf"):
		return "size", nil
	case name == "A × B":
		return l.matmul(kids)
	case strings.HasPrefix(name, "T[") && strings.HasSuffix(name, ":...]") && len(kids) == 1:
		return l.expr(kids[0]) // every row or column
	case strings.HasPrefix(name, "T[") && len(kids) == 1:
		return l.slice(name, kids[0])
	}
	args := make([]string, len(kids))
	for i, k := range kids {
		s, err := l.expr(k)
		if err != nil {
			return "", err
		}
		args[i] = s
	}
	switch {
	case (strings.HasPrefix(name, "Reshape") || strings.HasPrefix(name, "Repeat")) && strings.HasPrefix(args[0], "{v:"):
		return args[0], nil // a row broadcast over the batch
	case strings.HasPrefix(name, "Reshape") && n.Shape().Dims() == 2 && n.Shape()[0] == l.batch &&
		n.Shape().TotalSize() == kids[0].Shape().TotalSize():
		return args[0], nil // rows kept rows
	case name == "+ false" && len(args) == 2:
		if s, ok := l.bias(args[0], args[1]); ok {
			return s, nil
		}
	}
	if len(args) == 2 && !strings.HasPrefix(name, "Concat") {
		return "(" + args[0] + " " + name + " " + args[1] + ")", nil
	}
	return name + "(" + strings.Join(args, ", ") + ")", nil
}

// constRow returns the expression of a value node: a 1×w row of constants.
func (l *lowerer) constRow(n *G.Node) (string, error) {
	t, ok := n.Value().(*tensor.Dense)
	if !ok || n.Shape().Dims() != 2 || n.Shape()[0] != 1 {
		return "", fmt.Errorf("%w input %s %v", ErrNotLowered, n.Name(), n.Shape())
	}
	l.vecs = append(l.vecs, t.Data().([]float32))
	return fmt.Sprintf("{v:%d}", len(l.vecs)-1), nil
}

// matmul starts a step: its input expression finishes the previous step.
// A first step may read a range of the input's columns, and a later one
// the previous step's output concatenated with such a range (Step.XFrom).
func (l *lowerer) matmul(kids []*G.Node) (string, error) {
	w := kids[1]
	t, ok := w.Value().(*tensor.Dense)
	if w.Op() != nil || !ok || w.Shape().Dims() != 2 {
		return "", fmt.Errorf("%w a MatMul by %s, not by a weight", ErrNotLowered, w.Name())
	}
	var xFrom, xTo int
	in, cat, err := l.concatInput(kids[0])
	if err == nil && !cat {
		in, err = l.expr(kids[0])
	}
	if err != nil {
		return "", err
	}
	if cat {
		xFrom, xTo, _ = inputCols(in[strings.LastIndexByte(in, '|')+1:])
		in = in[:strings.LastIndexByte(in, '|')]
		if nm := l.plan.Norm; nm != nil && nm.Cols > xFrom {
			return "", fmt.Errorf("%w a layer reading normalised input columns %d:%d after another layer", ErrNotLowered, xFrom, xTo)
		}
	} else if len(l.plan.Steps) == 0 {
		// A first layer reading the observation columns alone, maybe
		// normalised: the prologue sees the input.
		if m := firstColsRE.FindStringSubmatch(in); m != nil {
			if r := strings.ReplaceAll(in, m[0], "x"); !strings.Contains(r, "x[") {
				in, xTo = r, atoi(m[1])
			}
		}
	}
	if err := l.finish(in, false); err != nil {
		return "", err
	}
	sh := w.Shape()
	l.plan.Steps = append(l.plan.Steps, Step{Name: strings.TrimSuffix(w.Name(), weightSuffix),
		In: sh[0], Out: sh[1], W: append([]float32(nil), t.Data().([]float32)...), XFrom: xFrom, XTo: xTo})
	return fmt.Sprintf("{m:%d}", len(l.plan.Steps)-1), nil
}

var (
	// firstColsRE matches the input's first columns, x[:, 0:b].
	firstColsRE = regexp.MustCompile(`x\[\{i:0\}:\{i:(\d+)\}\]`)
	// colsRE matches a range of the input's columns, x[:, a:b].
	colsRE = regexp.MustCompile(`^x\[\{i:(\d+)\}:\{i:(\d+)\}\]$`)
)

func atoi(s string) int {
	v, _ := strconv.Atoi(s)
	return v
}

// inputCols parses x[:, a:b].
func inputCols(e string) (a, b int, ok bool) {
	m := colsRE.FindStringSubmatch(e)
	if m == nil {
		return 0, 0, false
	}
	a, b = atoi(m[1]), atoi(m[2])
	return a, b, b > a
}

// concatInput recognises a layer's input concat(h, x[:, a:b]) after a
// first step, h reading that step: it returns h's expression and the
// columns' as "h|x[...]", and cat set.
func (l *lowerer) concatInput(n *G.Node) (string, bool, error) {
	if n.Op() == nil || !strings.HasPrefix(n.Op().String(), "Concat") {
		return "", false, nil
	}
	kids := children(n)
	if len(kids) != 2 {
		return "", false, nil
	}
	cols, err := l.expr(kids[1])
	if err != nil {
		return "", false, err
	}
	if _, _, ok := inputCols(cols); !ok {
		return "", false, nil
	}
	h, err := l.expr(kids[0])
	if err != nil || !stepRE.MatchString(h) {
		return "", false, err
	}
	return h + "|" + cols, true, nil
}

// bias folds m + row into the step of m.
func (l *lowerer) bias(m, row string) (string, bool) {
	k := len(l.plan.Steps) - 1
	if m != fmt.Sprintf("{m:%d}", k) || !strings.HasPrefix(row, "{v:") {
		return "", false
	}
	i, _ := strconv.Atoi(strings.TrimSuffix(strings.TrimPrefix(row, "{v:"), "}"))
	st := &l.plan.Steps[k]
	if len(l.vecs[i]) != st.Out || st.B != nil {
		return "", false
	}
	st.B = append([]float32(nil), l.vecs[i]...)
	return fmt.Sprintf("{z:%d}", k), true
}

// slice narrows the current step to the columns a:b, or names columns of
// the input.
func (l *lowerer) slice(name string, kid *G.Node) (string, error) {
	var a, b, stride int
	if _, err := fmt.Sscanf(name, "T[:, %d:%d:%d...]", &a, &b, &stride); err != nil || stride > 1 {
		return "", fmt.Errorf("%w slice %s", ErrNotLowered, name)
	}
	e, err := l.expr(kid)
	if err != nil {
		return "", err
	}
	if e == "x" {
		return fmt.Sprintf("x[{i:%d}:{i:%d}]", a, b), nil
	}
	k := len(l.plan.Steps) - 1
	if e != fmt.Sprintf("{z:%d}", k) {
		return "", fmt.Errorf("%w slice %s of %s", ErrNotLowered, name, e)
	}
	st := &l.plan.Steps[k]
	if st.Col != 0 || st.Out != len(st.B) || b > st.Out || a >= b {
		return "", fmt.Errorf("%w a second slice %s of a layer", ErrNotLowered, name)
	}
	w := make([]float32, st.In*(b-a))
	for r := 0; r < st.In; r++ {
		copy(w[r*(b-a):], st.W[r*st.Out+a:r*st.Out+b])
	}
	st.W, st.B, st.Out, st.Col = w, st.B[a:b], b-a, a
	return e, nil
}

var (
	captureRE = regexp.MustCompile(`\{([a-z]):([^}]*)\}`)
	stepRE    = regexp.MustCompile(`\{[zm]:`)
)

// finish matches the expression e between the current step (or the
// input, before the first step) and the next MatMul, or the output when
// head is set, and records what it fuses into.
func (l *lowerer) finish(e string, head bool) error {
	k := len(l.plan.Steps) - 1
	if k < 0 {
		if e == "x" {
			return nil
		}
		return l.prologue(e)
	}
	e = strings.ReplaceAll(e, fmt.Sprintf("{z:%d}", k), "z")
	if stepRE.MatchString(e) {
		return fmt.Errorf("%w %s: a step's output read past the next layer", ErrNotLowered, e)
	}
	st := &l.plan.Steps[k]
	if st.B == nil {
		return fmt.Errorf("%w layer %s without a bias", ErrNotLowered, st.Name)
	}
	if e == "z" {
		st.Epilogue = EpNone
		return nil
	}
	key, caps := normalise(e)
	for _, t := range templates() {
		if t.key != key || (t.head && !head) || t.prologue {
			continue
		}
		return t.apply(l, st, caps)
	}
	return fmt.Errorf("%w %s", ErrNotLowered, e)
}

// prologue matches the ops before the first MatMul: an input normalisation.
func (l *lowerer) prologue(e string) error {
	key, caps := normalise(e)
	for _, t := range templates() {
		if t.key == key && t.prologue {
			return t.apply(l, nil, caps)
		}
	}
	return fmt.Errorf("%w %s before the first layer", ErrNotLowered, e)
}

// normalise returns e with every capture's value dropped, and the values.
func normalise(e string) (string, []string) {
	var caps []string
	for _, m := range captureRE.FindAllStringSubmatch(e, -1) {
		caps = append(caps, m[1]+":"+m[2])
	}
	return captureRE.ReplaceAllString(e, "{$1}"), caps
}

// template is a chain of element-wise ops the plan fuses: built by the
// same functions as the graph, on a placeholder, so the lowering knows
// exactly what Build writes.
type template struct {
	ep Epilogue
	// head templates end a network; prologue ones precede the first layer.
	head, prologue bool
	// build makes the chain on z (or x) with the parameters p.
	build func(t *tplGraph, p []float32) (*G.Node, error)
	// params recovers p from the scalars and column bounds of a match.
	params func(s, ints []float32) []float32
	// set records the match in the step (or, for a prologue, the plan).
	set func(pl *Plan, st *Step, p []float32, rows [][]float32)
	// def are parameters to build the template's key with.
	def []float32
	key string
}

// tplGraph holds the placeholders a template is built on.
type tplGraph struct {
	g          *G.ExprGraph
	z, x, v, w *G.Node
	vars       map[*G.Node]string
}

func newTplGraph(width int) *tplGraph {
	g := G.NewGraph()
	t := &tplGraph{g: g,
		z: G.NewMatrix(g, tensor.Float32, G.WithShape(2, 4), G.WithName("z")),
		x: G.NewMatrix(g, tensor.Float32, G.WithShape(2, width), G.WithName("x")),
		v: vecNode(g, "v", make([]float32, 4)), w: vecNode(g, "w", make([]float32, 4))}
	t.vars = map[*G.Node]string{t.z: "z", t.x: "x"}
	return t
}

// expression returns the template's expression for p, or "" if it cannot
// be built.
func (t *template) expression(p []float32) string {
	width := 4
	if len(p) == 3 {
		width = int(p[2])
	}
	if width < 1 || width > 1<<20 {
		return ""
	}
	tg := newTplGraph(width)
	n, err := t.build(tg, p)
	if err != nil {
		return ""
	}
	l := &lowerer{vars: tg.vars, memo: map[*G.Node]string{}, plan: &Plan{}, batch: 2}
	e, err := l.expr(n)
	if err != nil {
		return ""
	}
	return e
}

// apply checks that the matched expression is the template's with the
// parameters it carries, then records it.
func (t *template) apply(l *lowerer, st *Step, caps []string) error {
	var s, ints []float32
	var rows [][]float32
	var b strings.Builder
	for _, c := range caps {
		switch c[0] {
		case 'v':
			i, _ := strconv.Atoi(c[2:])
			rows = append(rows, l.vecs[i])
		case 's', 'i':
			f, err := strconv.ParseFloat(c[2:], 32)
			if err != nil {
				return fmt.Errorf("%w constant %s", ErrNotLowered, c)
			}
			if c[0] == 's' {
				s = append(s, float32(f))
			} else {
				ints = append(ints, float32(f))
			}
		}
		b.WriteString(c[:2])
	}
	var p []float32
	if t.params != nil {
		if p = t.params(s, ints); p == nil {
			return fmt.Errorf("%w %s with parameters %v %v", ErrNotLowered, t.ep, s, ints)
		}
	}
	_, wantCaps := normalise(t.expression(p))
	if len(wantCaps) != len(caps) {
		return fmt.Errorf("%w %s with parameters %v %v", ErrNotLowered, t.ep, s, ints)
	}
	for i, c := range wantCaps {
		if c[0] != caps[i][0] || (c[0] != 'v' && c != caps[i]) {
			return fmt.Errorf("%w %s: %s where the kernel has %s", ErrNotLowered, t.ep, caps[i], c)
		}
	}
	for _, r := range rows {
		if len(r) != len(rows[0]) {
			return fmt.Errorf("%w %s with rows of %d and %d values", ErrNotLowered, t.ep, len(rows[0]), len(r))
		}
	}
	t.set(l.plan, st, p, rows)
	return nil
}

func last(s []float32) []float32 {
	if len(s) == 0 {
		return nil
	}
	return s[len(s)-1:]
}

func hiddenTemplate(a hiddenAct) template {
	return template{ep: a.ep,
		build: func(t *tplGraph, _ []float32) (*G.Node, error) { return a.build(t.z) },
		set:   func(_ *Plan, st *Step, _ []float32, _ [][]float32) { st.Epilogue = a.ep }}
}

// templateList builds every template and its key once.
func templateList() []template {
	var ts []template
	for _, a := range activations {
		if a.ep != EpNone && a.ep != EpLeakyReLU {
			ts = append(ts, hiddenTemplate(a))
		}
	}
	ts = append(ts, headTemplates()...)
	ts = append(ts, normTemplates()...)
	for i := range ts {
		key, _ := normalise(ts[i].expression(ts[i].def))
		ts[i].key = key
	}
	return ts
}

// headTemplates are LeakyReLU (its slope a parameter) and the heads.
func headTemplates() []template {
	return []template{{ep: EpLeakyReLU,
		build: func(t *tplGraph, p []float32) (*G.Node, error) { return G.LeakyRelu(t.z, float64(p[0])) },
		params: func(s, _ []float32) []float32 {
			if len(s) == 0 {
				return nil
			}
			return last(s)
		},
		set: func(_ *Plan, st *Step, p []float32, _ [][]float32) { st.Epilogue, st.Alpha = EpLeakyReLU, p[0] },
		def: []float32{0.01}},
		{ep: EpScale, head: true,
			build: func(t *tplGraph, _ []float32) (*G.Node, error) { return scaleNode(t.z, t.v, t.w) },
			set: func(_ *Plan, st *Step, _ []float32, rows [][]float32) {
				st.Epilogue, st.Half, st.Low = EpScale, rows[0], rows[1]
			}},
		{ep: EpScale, head: true,
			build: func(t *tplGraph, p []float32) (*G.Node, error) {
				c, err := clampNode(t.z, -p[0], p[0])
				if err != nil {
					return nil, err
				}
				return scaleNode(c, t.v, t.w)
			},
			params: func(s, _ []float32) []float32 {
				if len(s) == 0 || s[0] >= 0 {
					return nil
				}
				return []float32{-s[0]}
			},
			set: func(_ *Plan, st *Step, p []float32, rows [][]float32) {
				st.Epilogue, st.Clip, st.Half, st.Low = EpScale, p[0], rows[0], rows[1]
			}, def: []float32{2}},
		{ep: EpStd, head: true,
			build: func(t *tplGraph, p []float32) (*G.Node, error) { return stdNode(t.z, p[0], p[1]) },
			params: func(s, _ []float32) []float32 {
				if len(s) < 2 || !(s[0] < s[1]) {
					return nil
				}
				return s[:2]
			},
			set: func(_ *Plan, st *Step, p []float32, _ [][]float32) { st.Epilogue, st.Lo, st.Hi = EpStd, p[0], p[1] },
			def: []float32{LogStdMin, LogStdMax}},
		{ep: EpMean, head: true,
			build: func(t *tplGraph, _ []float32) (*G.Node, error) { return G.Mean(t.z, 1) },
			set:   func(_ *Plan, st *Step, _ []float32, _ [][]float32) { st.Epilogue = EpMean }},
	}
}

// normTemplates are an actor's and a critic's input normalisation.
func normTemplates() []template {
	return []template{{ep: "input-norm", prologue: true,
		build: func(t *tplGraph, p []float32) (*G.Node, error) { return normNode(t.x, t.v, t.w, p[0]) },
		params: func(s, _ []float32) []float32 {
			if len(s) == 0 || s[0] >= 0 {
				return nil
			}
			return []float32{-s[0]}
		},
		set: setNorm, def: []float32{5}},
		{ep: "input-norm", prologue: true,
			build: func(t *tplGraph, p []float32) (*G.Node, error) {
				od, in := int(p[1]), int(p[2])
				obs, err := sliceCols(t.x, 0, od)
				if err != nil {
					return nil, err
				}
				mean := vecNode(t.g, "mean", make([]float32, od))
				std := vecNode(t.g, "std", make([]float32, od))
				h, err := normNode(obs, mean, std, p[0])
				if err != nil {
					return nil, err
				}
				act, err := sliceCols(t.x, od, in)
				if err != nil {
					return nil, err
				}
				return G.Concat(1, h, act)
			},
			params: func(s, ints []float32) []float32 {
				if len(s) == 0 || s[0] >= 0 || len(ints) < 2 || !(ints[1] > 0 && ints[1] < last(ints)[0]) {
					return nil
				}
				return []float32{-s[0], ints[1], last(ints)[0]}
			},
			set: setNorm, def: []float32{5, 2, 4}},
	}
}

func setNorm(pl *Plan, _ *Step, p []float32, rows [][]float32) {
	pl.Norm = &Norm{Cols: len(rows[0]), Mean: rows[0], Std: rows[1], Clip: p[0]}
}

var (
	templateOnce sync.Once
	templateSet  []template
)

// templates returns the templates, built on first use.
func templates() []template {
	templateOnce.Do(func() { templateSet = templateList() })
	return templateSet
}
