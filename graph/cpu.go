package graph

import (
	"errors"
	"fmt"
	"log"
	"runtime"
	"sync"

	"github.com/rleval/rleval/internal/plural"
	"github.com/rleval/rleval/loaders"
)

// DefaultCPUChunk is the Engine's rows per CPU call: enough rows that the
// per-call costs (filling inputs, delivering a chunk) vanish, few enough
// that a streamed grid holds only megabytes per worker.
const DefaultCPUChunk = 8192

// DefaultCPUTile is the rows the CPU plan pushes through all layers at once:
// a 256-wide activation tile of 512 rows is 512 KiB, so a layer's output is
// still in L2 when the ReLU pass and the next GEMM read it.
const DefaultCPUTile = 512

// gemmRowTile is the row tile of the plan's GEMMs: a GEMM step runs on its
// rows rounded up to a multiple of gemmRowTile (the rows past n are
// scratch), so a short call never reaches OpenBLAS's small-matrix kernels
// and every call of a layer holds whole kernel tiles. (That keeps the
// OpenBLAS build's rounding close across chunkings, not identical: see
// BitReproducible.)
const gemmRowTile = 64

// Options configure a Backend and the Engine over it.
type Options struct {
	// Workers is the number of chunks evaluated concurrently; 0 picks one
	// per core on the CPU and the device's preference on CUDA.
	Workers int
	// Chunk is the number of rows the Engine evaluates per backend call; 0
	// picks the backend's preference (DefaultCPUChunk on the CPU).
	Chunk int
	// Tile is the number of rows the CPU plan pushes through all layers at
	// once inside a call; 0 picks DefaultCPUTile.
	Tile int
	// Logf receives one-line notices, such as why "auto" fell back to the
	// CPU; nil means log.Printf.
	Logf func(format string, args ...any)
}

// Preferences is implemented by backends that know the chunk size and
// number of concurrent callers they run best with; the Engine uses it for
// Options left zero.
type Preferences interface {
	// Preferred returns rows per chunk and concurrent workers.
	Preferred() (chunk, workers int)
}

// CPU is the CPU Backend: every network lowered into a Plan of GEMMs (pure
// Go, or OpenBLAS with -tags openblas) and fused element-wise loops, run
// serially per call; the Engine runs one call per core. Scratch buffers are
// pooled, so calls allocate nothing after the first ones.
type CPU struct {
	chunk, tile, workers int

	mu   sync.RWMutex
	nets map[netKey]*cpuNet

	pool  chan *scratch
	logf  func(format string, args ...any)
	logMu sync.Mutex
}

// netKey names a prepared plan: a network's, or its policy std's.
type netKey struct {
	net *loaders.Network
	std bool
}

// cpuNet is a network prepared for the CPU plan.
type cpuNet struct {
	plan *Plan
	// bt and ldb hold, per GEMM step, the weights packed for the pure-Go
	// build's assembly kernel (nil where it is not used).
	bt  [][]float32
	ldb []int
	// tape, when set, evaluates the network on the Gorgonia TapeMachine:
	// its graph holds ops the plan has no kernels for.
	tape *Reference
	why  error
	net  *loaders.Network
	std  bool
}

// scratch holds one caller's buffers, sized for 2×tile rows so QFull can
// stack two inputs; it grows on first use only.
type scratch struct {
	h0, h1 []float32 // hidden activations, chunk × widest layer
	x      []float32 // critic input, chunk × (obs+act)
	xn     []float32 // the input normalised, chunk × input width
	v      []float32 // actor head before scaling, tile × act
	pad    []float32 // an input padded to a multiple of gemmRowTile rows
	cat    []float32 // a step's input joined with input columns (Step.XTo)
	pa     []float32 // QFull: the policy's actions, tile × act
	q1, q2 []float32 // QFull: stacked critic values, 2 × tile
}

// NewCPU returns the CPU backend.
func NewCPU(opts Options) *CPU {
	c := &CPU{chunk: opts.Chunk, tile: opts.Tile, workers: opts.Workers, nets: map[netKey]*cpuNet{}, logf: opts.Logf}
	if c.logf == nil {
		c.logf = log.Printf
	}
	if c.chunk <= 0 {
		c.chunk = DefaultCPUChunk
	}
	if c.tile <= 0 {
		c.tile = DefaultCPUTile
	}
	c.tile = roundUp(max(c.tile, gemmRowTile), gemmRowTile)
	if c.workers <= 0 {
		c.workers = runtime.GOMAXPROCS(0)
	}
	c.pool = make(chan *scratch, c.workers)
	return c
}

// Name implements Backend.
func (c *CPU) Name() string {
	return fmt.Sprintf("cpu (%s, %s, %s)", blasName, kernelsName, plural.N(c.workers, "worker"))
}

// Preferred implements Preferences.
func (c *CPU) Preferred() (chunk, workers int) { return c.chunk, c.workers }

// Close implements Backend.
func (c *CPU) Close() error { return nil }

// Forget drops the cached plan of net, so that a long batch does not keep
// every run's networks alive; a later call prepares it again.
func (c *CPU) Forget(net *loaders.Network) error {
	c.mu.Lock()
	delete(c.nets, netKey{net, false})
	delete(c.nets, netKey{net, true})
	c.mu.Unlock()
	return nil
}

// prepare returns the cached plan of net, lowering it on first use.
func (c *CPU) prepare(net *loaders.Network) (*cpuNet, error) {
	return c.prepareKey(netKey{net, false})
}

// prepareKey returns the cached plan of k, lowering it on first use.
func (c *CPU) prepareKey(k netKey) (*cpuNet, error) {
	net := k.net
	c.mu.RLock()
	cn := c.nets[k]
	c.mu.RUnlock()
	if cn != nil {
		return cn, nil
	}
	lower := Lower
	if k.std {
		lower = LowerStd
	}
	cn = &cpuNet{net: net, std: k.std}
	p, err := lower(net)
	switch {
	case errors.Is(err, ErrNotLowered):
		cn.tape, cn.why, cn.plan = NewReference(), err, shapeOnly(net)
	case err != nil:
		return nil, err
	default:
		cn.setPlan(p)
	}
	c.mu.Lock()
	old := c.nets[k]
	if old == nil {
		c.nets[k] = cn
	}
	c.mu.Unlock()
	if old != nil {
		return old, nil
	}
	if cn.tape != nil {
		c.logMu.Lock()
		c.logf("%v; evaluating it on Gorgonia's TapeMachine", cn.why)
		c.logMu.Unlock()
	}
	return cn, nil
}

// setPlan makes cn evaluate p, packing its GEMM weights.
func (cn *cpuNet) setPlan(p *Plan) {
	cn.plan = p
	cn.bt, cn.ldb = make([][]float32, len(p.Steps)), make([]int, len(p.Steps))
	for i, s := range p.Steps {
		if s.Op == OpGEMM || s.Op == OpDirect {
			cn.bt[i], cn.ldb[i] = packWeights(s.W, s.Out, s.In)
		}
	}
}

func (c *CPU) get() *scratch {
	select {
	case s := <-c.pool:
		return s
	default:
		return &scratch{}
	}
}

func (c *CPU) put(s *scratch) {
	select {
	case c.pool <- s:
	default:
	}
}

func roundUp(n, to int) int { return (n + to - 1) / to * to }

func growF32(b []float32, n int) []float32 {
	if cap(b) < n {
		return make([]float32, n)
	}
	return b[:n]
}

// forward evaluates cn on n ≤ 2×tile rows of x (row stride ldx) into out:
// n×Out values, dense.
func (c *CPU) forward(cn *cpuNet, s *scratch, x []float32, ldx, n int, out []float32) error {
	if cn.tape != nil {
		return c.taped(cn, x, ldx, n, out)
	}
	p := cn.plan
	if need := 2 * c.tile * p.MaxWidth; len(s.h0) < need {
		s.h0, s.h1 = growF32(s.h0, need), growF32(s.h1, need)
	}
	cur, ld := x, ldx
	if nm := p.Norm; nm != nil {
		s.xn = growF32(s.xn, 2*c.tile*p.In)
		normRows(x, ldx, n, p.In, nm, s.xn)
		cur, ld = s.xn, p.In
	}
	in, ldi := cur, ld // the input as the steps read it
	last := len(p.Steps) - 1
	for i := range p.Steps {
		st := &p.Steps[i]
		if st.XTo > 0 {
			cur, ld = c.withInputCols(s, st, i, cur, ld, in, ldi, n)
		}
		var dst []float32
		switch {
		case i < last && i%2 == 0:
			dst = s.h0
		case i < last:
			dst = s.h1
		case st.Op == OpGEMV && !headEpilogue(st.Epilogue):
			dst = out // one value a row, never padded
		default:
			s.v = growF32(s.v, 2*c.tile*st.Out)
			dst = s.v
		}
		c.layer(cn, i, s, cur, ld, n, dst)
		epilogue(st, dst, n, out)
		cur, ld = dst, st.Out
	}
	return nil
}

// withInputCols returns the input of step i (its XFrom:XTo > 0): the
// input's columns alone for a first step, else the previous step's output
// cur followed by them, row by row in s.cat.
func (c *CPU) withInputCols(s *scratch, st *Step, i int, cur []float32, ld int, in []float32, ldi, n int) ([]float32, int) {
	if i == 0 {
		return in[st.XFrom:], ldi
	}
	w, k := st.In-(st.XTo-st.XFrom), st.XTo-st.XFrom
	s.cat = growF32(s.cat, 2*c.tile*st.In)
	for r := range n {
		row := s.cat[r*st.In : (r+1)*st.In]
		copy(row[:w], cur[r*ld:r*ld+w])
		copy(row[w:], in[r*ldi+st.XFrom:r*ldi+st.XFrom+k])
	}
	return s.cat, st.In
}

// layer evaluates step i's x·W + b into dst (n rows, stride Out), with
// ReLU fused where the kernel does it; other epilogues are left to the
// caller.
func (c *CPU) layer(cn *cpuNet, i int, s *scratch, cur []float32, ld, n int, dst []float32) {
	st := &cn.plan.Steps[i]
	ldd := st.Out
	doReLU := st.Epilogue == EpReLU
	// m is the rows handed to a GEMM: n rounded up to whole row tiles, the
	// rows past n scratch, so that every row rounds the same whatever n.
	m := roundUp(n, gemmRowTile)
	switch st.Op {
	case OpDirect:
		if bt := cn.bt[i]; bt != nil {
			// The packed kernel is row-independent: no padding needed.
			prefillRows(dst, n, ldd, st.B)
			sgemmPacked(n, st.Out, st.In, cur, ld, bt, cn.ldb[i], dst, ldd)
			if doReLU {
				reluRows(dst, n, ldd, st.Out)
			}
		} else {
			direct(cur, n, st.In, ld, st.W, st.B, dst, ldd, doReLU)
		}
	case OpGEMV:
		outDot(cur, n, st.In, ld, st.W, st.B[0], dst[:n])
		if doReLU {
			relu(dst[:n])
		}
	default:
		if m > n && len(cur) < (m-1)*ld+st.In {
			// A caller's short input: copy it into rows that can be padded.
			s.pad = growF32(s.pad, m*ld)
			copy(s.pad, cur[:(n-1)*ld+st.In])
			cur = s.pad
		}
		prefillRows(dst, m, ldd, st.B)
		if bt := cn.bt[i]; bt != nil {
			sgemmPacked(m, st.Out, st.In, cur, ld, bt, cn.ldb[i], dst, ldd)
		} else {
			sgemmNN(m, st.Out, st.In, cur, ld, st.W, st.Out, dst, ldd)
		}
		if doReLU {
			reluRows(dst, n, ldd, st.Out)
		}
	}
}

// headEpilogue reports whether ep writes the network's output from its
// step's values (which then go to a scratch buffer) rather than in place.
func headEpilogue(ep Epilogue) bool { return ep == EpScale || ep == EpStd || ep == EpMean }

// epilogue applies a step's element-wise function (ReLU is fused into the
// layer) to its n rows in v, heads writing into out.
func epilogue(st *Step, v []float32, n int, out []float32) {
	w := st.Out
	switch st.Epilogue {
	case EpTanh:
		tanhRows(v, n, w, w)
	case EpELU:
		eluRows(v[:n*w])
	case EpSiLU:
		siluRows(v[:n*w])
	case EpLeakyReLU:
		leakyRows(v[:n*w], st.Alpha)
	case EpScale:
		scaleHead(v, n, w, st.Clip, st.Low, st.Half, out)
	case EpStd:
		stdHead(v, n, w, st.Lo, st.Hi, out)
	case EpMean:
		meanRows(v, n, w, out)
	}
}

// taped evaluates cn's network on the TapeMachine.
func (c *CPU) taped(cn *cpuNet, x []float32, ldx, n int, out []float32) error {
	in := cn.plan.In
	if ldx != in {
		packed := make([]float32, n*in)
		for r := 0; r < n; r++ {
			copy(packed[r*in:(r+1)*in], x[r*ldx:])
		}
		x = packed
	}
	return cn.tape.eval(cn.net, cn.std, x, n, out)
}

// shapeOnly returns the input and output widths of a network evaluated on
// the TapeMachine, as a Plan without steps.
func shapeOnly(net *loaders.Network) *Plan {
	p := &Plan{Name: net.Path, Kind: net.Kind, In: net.InputWidth(), Out: 1}
	if !isCritic(net.Kind) {
		p.Out = net.ActDim
	}
	return p
}

func checkLen(what string, s []float32, want int) error {
	if len(s) < want {
		return fmt.Errorf("graph: %s has %d values, want at least %d", what, len(s), want)
	}
	return nil
}

func (c *CPU) actor(net *loaders.Network) (*cpuNet, error) {
	cn, err := c.prepare(net)
	if err != nil {
		return nil, err
	}
	if net.Kind != loaders.KindActor && net.Kind != loaders.KindSACActor {
		return nil, fmt.Errorf("graph: %s is a %s, not an actor", net.Path, net.Kind)
	}
	return cn, nil
}

func (c *CPU) critics(c1, c2 *loaders.Network) (cn1, cn2 *cpuNet, err error) {
	if cn1, err = c.prepare(c1); err != nil {
		return nil, nil, err
	}
	if !isCritic(c1.Kind) {
		return nil, nil, fmt.Errorf("graph: %s is a %s, not a critic", c1.Path, c1.Kind)
	}
	if c2 == nil {
		return cn1, nil, nil
	}
	if cn2, err = c.prepare(c2); err != nil {
		return nil, nil, err
	}
	if c2.Kind != c1.Kind {
		return nil, nil, fmt.Errorf("graph: %s is a %s but %s a %s: twin critics are of one kind", c2.Path, c2.Kind, c1.Path, c1.Kind)
	}
	if c2.ObsDim != c1.ObsDim || c2.ActDim != c1.ActDim {
		return nil, nil, fmt.Errorf("graph: critics %s and %s read different inputs (%d+%d, %d+%d)",
			c1.Path, c2.Path, c1.ObsDim, c1.ActDim, c2.ObsDim, c2.ActDim)
	}
	return cn1, cn2, nil
}

// Policy implements Backend.
func (c *CPU) Policy(actor *loaders.Network, obs []float32, n int, act []float32) error {
	cn, err := c.actor(actor)
	if err != nil {
		return err
	}
	od, ad := actor.ObsDim, actor.ActDim
	if err := checkLen("obs", obs, n*od); err != nil {
		return err
	}
	if err := checkLen("act", act, n*ad); err != nil {
		return err
	}
	s := c.get()
	defer c.put(s)
	for off := 0; off < n; off += c.tile {
		m := min(c.tile, n-off)
		if err := c.forward(cn, s, obs[off*od:], od, m, act[off*ad:]); err != nil {
			return err
		}
	}
	return nil
}

// PolicyStd implements StdBackend.
func (c *CPU) PolicyStd(actor *loaders.Network, obs []float32, n int, std []float32) error {
	cn, err := c.prepareKey(netKey{actor, true})
	if err != nil {
		return err
	}
	od, ad := actor.ObsDim, actor.ActDim
	if err := checkLen("obs", obs, n*od); err != nil {
		return err
	}
	if err := checkLen("std", std, n*ad); err != nil {
		return err
	}
	s := c.get()
	defer c.put(s)
	for off := 0; off < n; off += c.tile {
		m := min(c.tile, n-off)
		if err := c.forward(cn, s, obs[off*od:], od, m, std[off*ad:]); err != nil {
			return err
		}
	}
	return nil
}

// Q implements Backend.
func (c *CPU) Q(c1, c2 *loaders.Network, obs, act []float32, n int, q1, q2 []float32) error {
	cn1, cn2, err := c.critics(c1, c2)
	if err != nil {
		return err
	}
	od, ad := c1.ObsDim, c1.ActDim
	if err := c.checkQ(obs, act, n, od, ad, q1, q2, cn2 != nil); err != nil {
		return err
	}
	s := c.get()
	defer c.put(s)
	for off := 0; off < n; off += c.tile {
		m := min(c.tile, n-off)
		if err := c.critique(cn1, s, obs[off*od:], act[off*ad:], m, q1[off:]); err != nil {
			return err
		}
		if cn2 != nil {
			if err := c.forward(cn2, s, s.x, od+ad, m, q2[off:]); err != nil {
				return err
			}
		}
	}
	return nil
}

func (c *CPU) checkQ(obs, act []float32, n, od, ad int, q1, q2 []float32, two bool) error {
	if err := checkLen("obs", obs, n*od); err != nil {
		return err
	}
	if err := checkLen("act", act, n*ad); err != nil {
		return err
	}
	if err := checkLen("q1", q1, n); err != nil {
		return err
	}
	if two {
		return checkLen("q2", q2, n)
	}
	return nil
}

// critique builds the critic input concat(obs, act) for m rows in s.x and
// evaluates the first critic into q1.
func (c *CPU) critique(cn1 *cpuNet, s *scratch, obs, act []float32, m int, q1 []float32) error {
	net := cn1.net
	od, ad := net.ObsDim, net.ActDim
	in := od + ad
	s.x = growF32(s.x, 2*c.tile*in)
	x := s.x
	for r := 0; r < m; r++ {
		xr := x[r*in : r*in+in]
		copy(xr[:od], obs[r*od:r*od+od])
		copy(xr[od:], act[r*ad:r*ad+ad])
	}
	return c.forward(cn1, s, x, in, m, q1)
}

// actorCritics prepares an actor and the critics it feeds, checking that
// they agree on the observation and action sizes.
func (c *CPU) actorCritics(actor, c1, c2 *loaders.Network) (ca, cn1, cn2 *cpuNet, err error) {
	if ca, err = c.actor(actor); err != nil {
		return nil, nil, nil, err
	}
	if cn1, cn2, err = c.critics(c1, c2); err != nil {
		return nil, nil, nil, err
	}
	if actor.ObsDim != c1.ObsDim || actor.ActDim != c1.ActDim {
		return nil, nil, nil, fmt.Errorf("graph: actor %s (%d→%d) does not match critic %s (%d+%d)",
			actor.Path, actor.ObsDim, actor.ActDim, c1.Path, c1.ObsDim, c1.ActDim)
	}
	return ca, cn1, cn2, nil
}

// QPolicy implements Backend.
func (c *CPU) QPolicy(actor, c1, c2 *loaders.Network, obs []float32, n int, act, q1, q2 []float32) error {
	ca, cn1, cn2, err := c.actorCritics(actor, c1, c2)
	if err != nil {
		return err
	}
	od, ad := c1.ObsDim, c1.ActDim
	if err := c.checkQ(obs, act, n, od, ad, q1, q2, cn2 != nil); err != nil {
		return err
	}
	s := c.get()
	defer c.put(s)
	for off := 0; off < n; off += c.tile {
		m := min(c.tile, n-off)
		if err := c.forward(ca, s, obs[off*od:], od, m, act[off*ad:]); err != nil {
			return err
		}
		if err := c.critique(cn1, s, obs[off*od:], act[off*ad:], m, q1[off:]); err != nil {
			return err
		}
		if cn2 != nil {
			if err := c.forward(cn2, s, s.x, od+ad, m, q2[off:]); err != nil {
				return err
			}
		}
	}
	return nil
}

// FullQ is implemented by backends that evaluate the critics at a buffer's
// actions and at the policy's actions in one pass; the Engine's QFull uses
// it when present and falls back to Q and QPolicy otherwise.
type FullQ interface {
	// QFull writes the twin critics' Q (see combineQ) at (obs, act) into
	// qBuffer and at (obs, actor(obs)) into qPolicy, n values each; with c2
	// nil, Q1 alone.
	QFull(actor, c1, c2 *loaders.Network, obs, act []float32, n int, qBuffer, qPolicy []float32) error
}

// QFull implements FullQ: per tile, the (s, a) and (s, π(s)) rows are
// stacked into one input, so each critic layer is one GEMM over both.
func (c *CPU) QFull(actor, c1, c2 *loaders.Network, obs, act []float32, n int, qBuffer, qPolicy []float32) error {
	ca, cn1, cn2, err := c.actorCritics(actor, c1, c2)
	if err != nil {
		return err
	}
	od, ad := c1.ObsDim, c1.ActDim
	if err := c.checkQ(obs, act, n, od, ad, qBuffer, qPolicy, true); err != nil {
		return err
	}
	s := c.get()
	defer c.put(s)
	in := od + ad
	s.pa = growF32(s.pa, c.tile*ad)
	s.x = growF32(s.x, 2*c.tile*in)
	s.q1, s.q2 = growF32(s.q1, 2*c.tile), growF32(s.q2, 2*c.tile)
	// Half a tile of rows per pass, so the stacked input is one tile and
	// the activations stay as L2-sized as in the other workloads.
	step := c.tile / 2
	for off := 0; off < n; off += step {
		m := min(step, n-off)
		o, a := obs[off*od:(off+m)*od], act[off*ad:(off+m)*ad]
		if err := c.forward(ca, s, o, od, m, s.pa); err != nil {
			return err
		}
		x := s.x
		for r := 0; r < m; r++ {
			xa, xp := x[r*in:(r+1)*in], x[(m+r)*in:(m+r+1)*in]
			copy(xa[:od], o[r*od:(r+1)*od])
			copy(xa[od:], a[r*ad:(r+1)*ad])
			copy(xp[:od], o[r*od:(r+1)*od])
			copy(xp[od:], s.pa[r*ad:(r+1)*ad])
		}
		if err := c.forward(cn1, s, x, in, 2*m, s.q1); err != nil {
			return err
		}
		q1 := s.q1[:2*m]
		if cn2 != nil {
			if err := c.forward(cn2, s, x, in, 2*m, s.q2); err != nil {
				return err
			}
			combineQ(c1.Kind, q1, s.q2[:2*m], q1)
		}
		copy(qBuffer[off:off+m], q1[:m])
		copy(qPolicy[off:off+m], q1[m:])
	}
	return nil
}
