//go:build rlcuda

package cuda

import (
	"errors"
	"fmt"
	"os"
	"time"
	"unsafe"

	"gorgonia.org/cu"

	"github.com/rleval/rleval/graph"
	"github.com/rleval/rleval/loaders"
)

// Device is a graph.Backend on one GPU. It owns a CUDA context that is
// current on the OS thread that called Open: lock that goroutine to its
// thread (runtime.LockOSThread) and make every call from it. worker.Serve
// does. Device is therefore not safe for concurrent use, unlike the other
// Backends; Remote serialises callers in front of it.
type Device struct {
	dev  cu.Device
	ctx  cu.CUContext
	mm   gemmer
	k    *kernels
	info graph.DeviceInfo

	nets     map[*loaders.Network]*devNet
	stacks   map[string]*devStack
	rollouts map[*devRollout]bool // begun and not ended (rollout_device.go)
	s        scratch
	host     []float32 // staging for stacked requests' interleaving
	last     graph.DeviceTiming
}

// buf is a device allocation of n float32s.
type buf struct {
	p cu.DevicePtr
	n int
}

func (b *buf) free() {
	if b.p != 0 {
		cu.MemFree(b.p)
	}
	*b = buf{}
}

// ensure grows b to at least n floats, dropping its contents.
func (b *buf) ensure(n int) error {
	if b.n >= n {
		return nil
	}
	b.free()
	p, err := cu.MemAlloc(int64(n) * 4)
	if err != nil {
		return fmt.Errorf("allocate %d MiB on the device: %w", int64(n)*4>>20, err)
	}
	*b = buf{p: p, n: n}
	return nil
}

func upload(f []float32) (buf, error) {
	var b buf
	if len(f) == 0 {
		return b, nil
	}
	if err := b.ensure(len(f)); err != nil {
		return b, err
	}
	if err := cu.MemcpyHtoD(b.p, unsafe.Pointer(&f[0]), int64(len(f))*4); err != nil {
		b.free()
		return b, fmt.Errorf("copy %d floats to the device: %w", len(f), err)
	}
	return b, nil
}

func toDevice(dst buf, f []float32) error {
	if len(f) == 0 {
		return nil
	}
	return cu.MemcpyHtoD(dst.p, unsafe.Pointer(&f[0]), int64(len(f))*4)
}

func toHost(f []float32, src buf) error {
	if len(f) == 0 {
		return nil
	}
	return cu.MemcpyDtoH(unsafe.Pointer(&f[0]), src.p, int64(len(f))*4)
}

// devPlan is a plan on the device, for one network or a stack of k that
// share its epilogues (stackable): per step the k weight matrices in
// torch's out×in layout for stackGemm one after another, the k bias
// vectors likewise, the head's bounds; the input normalisation's mean and
// std; and the launches that evaluate it (planProgram).
type devPlan struct {
	plan      *graph.Plan // the first network's: shapes, epilogues, head
	k         int
	prog      []kernelOp
	steps     []devStep
	mean, std buf
	maxW      int
}

// devStep is one plan step on the device.
type devStep struct {
	w, b      buf
	low, half buf // EpScale's
}

func (dp *devPlan) free() {
	for i := range dp.steps {
		for _, b := range []*buf{&dp.steps[i].w, &dp.steps[i].b, &dp.steps[i].low, &dp.steps[i].half} {
			b.free()
		}
	}
	dp.mean.free()
	dp.std.free()
}

// uploadPlans copies k plans that stack (one, for a single network) to the
// device.
func uploadPlans(plans []*graph.Plan) (*devPlan, error) {
	p := plans[0]
	prog, err := planProgram(p)
	if err != nil {
		return nil, err
	}
	dp := &devPlan{plan: p, k: len(plans), prog: prog, maxW: maxWidth(p)}
	up := func(dst *buf, f []float32) {
		if err == nil {
			*dst, err = upload(f)
		}
	}
	if nm := p.Norm; nm != nil {
		up(&dp.mean, nm.Mean)
		up(&dp.std, nm.Std)
	}
	ws, bs := stackParams(plans)
	for i := range p.Steps {
		var ds devStep
		up(&ds.w, ws[i])
		up(&ds.b, bs[i])
		if s := &p.Steps[i]; s.Epilogue == graph.EpScale {
			up(&ds.low, s.Low)
			up(&ds.half, s.Half)
		}
		dp.steps = append(dp.steps, ds)
	}
	if err != nil {
		dp.free()
		return nil, fmt.Errorf("%d× %s: %w", len(plans), p.Name, err)
	}
	return dp, nil
}

// devNet is a network's plan on the device: the graph.Plan lowered from
// its Gorgonia graph (by the client, or by prepare).
type devNet struct {
	net *loaders.Network
	*devPlan
}

// scratch holds the per-request device buffers, grown to the largest
// request seen.
type scratch struct {
	obs, act, cat, h0, h1, q1, q2, xn, zero buf
	xc                                      buf // slotCat: a step's input joined with the input rows
}

func (s *scratch) free() {
	for _, b := range []*buf{&s.obs, &s.act, &s.cat, &s.h0, &s.h1, &s.q1, &s.q2, &s.xn, &s.zero, &s.xc} {
		b.free()
	}
}

// Open creates a context on GPU ordinal, loads the kernels and creates a
// cuBLAS handle. The calling goroutine must stay locked to its OS thread
// for the Device's lifetime.
func Open(ordinal int) (*Device, error) {
	count, err := cu.NumDevices()
	if err != nil {
		return nil, fmt.Errorf("count CUDA devices: %w", err)
	}
	if ordinal < 0 || ordinal >= count {
		return nil, fmt.Errorf("CUDA device %d requested, %d present", ordinal, count)
	}
	dev, err := cu.GetDevice(ordinal)
	if err != nil {
		return nil, fmt.Errorf("CUDA device %d: %w", ordinal, err)
	}
	d := &Device{dev: dev, nets: map[*loaders.Network]*devNet{}}
	if d.ctx, err = dev.MakeContext(cu.SchedBlockingSync); err != nil {
		return nil, fmt.Errorf("create context on CUDA device %d: %w", ordinal, err)
	}
	if d.k, err = loadKernels(); err != nil {
		d.ctx.Destroy()
		return nil, err
	}
	d.mm = openGemm(d.k)
	d.info.Name, _ = dev.Name()
	if _, ok := d.mm.(ptxGemm); ok {
		// The client shows the name from the hello: say it there.
		d.info.Name += " (no cuBLAS: PTX GEMM)"
	}
	d.info.TotalMem, _ = dev.TotalMem()
	d.info.FreeMem, _, _ = cu.MemInfo()
	d.info.DriverVersion = cu.Version()
	if major, minor, err := dev.ComputeCapability(); err == nil {
		d.info.ComputeCapability = 10*major + minor
	}
	return d, nil
}

// gemmer runs the worker's GEMMs: cuBLAS when found, else the PTX kernel.
type gemmer interface {
	gemm(g gemmArgs, a, b, c cu.DevicePtr) error
	name() string
	close() error
}

// openGemm loads cuBLAS (see cublasCandidates) and falls back to the PTX
// GEMM, saying why on stderr (which the client shows if the worker fails)
// and in GEMM, which Name and -info show.
func openGemm(k *kernels) gemmer {
	if os.Getenv("RLEVAL_CUDA_NO_CUBLAS") != "" {
		fmt.Fprintln(os.Stderr, "rleval-cuda: $RLEVAL_CUDA_NO_CUBLAS is set: using the built-in PTX GEMM kernel")
		return ptxGemm{k}
	}
	l, err := openCublas()
	if err != nil {
		fmt.Fprintf(os.Stderr, "rleval-cuda: %v: using the built-in PTX GEMM kernel instead\n", err)
		return ptxGemm{k}
	}
	return cublasGemm{l}
}

// cublasGemm runs the GEMMs on the cuBLAS found.
type cublasGemm struct{ l *cublasLib }

func (c cublasGemm) gemm(g gemmArgs, a, b, y cu.DevicePtr) error {
	return c.l.gemm(g, uintptr(a), uintptr(b), uintptr(y))
}
func (c cublasGemm) name() string { return c.l.name() }
func (c cublasGemm) close() error { return c.l.close() }

// GEMM says what runs the matrix products: the cuBLAS library loaded, or
// the built-in PTX kernel.
func (d *Device) GEMM() string { return d.mm.name() }

// Name returns "cuda: " and the GPU's name, with a note when no cuBLAS was
// found.
func (d *Device) Name() string { return "cuda: " + d.info.Name }

// DeviceInfo describes the GPU (graph.DeviceInfoer); the worker sends it
// in its hello reply.
func (d *Device) DeviceInfo() graph.DeviceInfo {
	d.info.FreeMem, _, _ = cu.MemInfo()
	return d.info
}

// LastTiming returns the split of the last evaluation's time
// (graph.Timer).
func (d *Device) LastTiming() graph.DeviceTiming { return d.last }

// Forget frees net's weights on the device (graph.Forgetter).
func (d *Device) Forget(net *loaders.Network) error {
	if err := d.rollingWith(net); err != nil {
		return err
	}
	if dn, ok := d.nets[net]; ok {
		dn.free()
		delete(d.nets, net)
	}
	d.forgetStacks(net)
	return nil
}

// Close frees every allocation and destroys the context.
func (d *Device) Close() error {
	for r := range d.rollouts {
		r.End(nil)
	}
	for net := range d.nets {
		d.Forget(net)
	}
	d.s.free()
	var errs []error
	for _, st := range d.stacks {
		st.free()
	}
	d.stacks = nil
	if d.mm != nil {
		errs = append(errs, d.mm.close())
	}
	if d.k != nil {
		errs = append(errs, d.k.mod.Unload())
	}
	errs = append(errs, d.ctx.Destroy())
	return errors.Join(errs...)
}

// Adopt implements graph.PlanAdopter: net, a handle from
// graph.PlanNetwork, evaluates as p, uploaded now.
func (d *Device) Adopt(net *loaders.Network, p *graph.Plan) error {
	if err := graph.CheckPlan(p, net.ObsDim, net.ActDim); err != nil {
		return fmt.Errorf("plan %s: %w", p.Name, err)
	}
	d.Forget(net)
	dp, err := uploadPlans([]*graph.Plan{p})
	if err != nil {
		return fmt.Errorf("network %s: %w", net.Path, err)
	}
	d.nets[net] = &devNet{net: net, devPlan: dp}
	return nil
}

// prepare returns net's plan on the device: the one adopted for it, or
// else (a caller in this process, such as -selftest) its Gorgonia graph
// lowered by graph.Lower and uploaded on first use.
func (d *Device) prepare(net *loaders.Network) (*devNet, error) {
	if dn, ok := d.nets[net]; ok {
		return dn, nil
	}
	p, err := graph.Lower(net)
	if err != nil {
		return nil, fmt.Errorf("network %s on CUDA: %w", net.Path, err)
	}
	if err := graph.CheckPlan(p, net.ObsDim, net.ActDim); err != nil {
		return nil, fmt.Errorf("network %s on CUDA: %w", net.Path, err)
	}
	dp, err := uploadPlans([]*graph.Plan{p})
	if err != nil {
		return nil, fmt.Errorf("network %s: %w", net.Path, err)
	}
	dn := &devNet{net: net, devPlan: dp}
	d.nets[net] = dn
	return dn, nil
}

// forward runs dp (a network, or a stack of dp.k with n×k interleaved
// rows) on x, n×k rows of plan.In on the device, and writes its output,
// n×k×plan.Out, to out: the launches of dp.prog on the scratch buffers.
func (d *Device) forward(dp *devPlan, x cu.DevicePtr, n int, out cu.DevicePtr) error {
	p, k := dp.plan, dp.k
	rows := n * k
	err := errors.Join(d.s.h0.ensure(rows*dp.maxW), d.s.h1.ensure(rows*dp.maxW), d.zeros(dp.maxW))
	if p.Norm != nil {
		err = errors.Join(err, d.s.xn.ensure(rows*p.In))
	}
	if cw := catWidth(p); cw > 0 {
		err = errors.Join(err, d.s.xc.ensure(rows*cw))
	}
	if err != nil {
		return err
	}
	slots := [...]cu.DevicePtr{slotX: x, slotXN: d.s.xn.p, slotH0: d.s.h0.p, slotH1: d.s.h1.p, slotOut: out, slotCat: d.s.xc.p}
	zero := d.s.zero.p
	for _, op := range dp.prog {
		src, dst := slots[op.src], slots[op.dst]
		var err error
		if op.kind == kNorm {
			nm := p.Norm
			err = d.k.normRows(src, dp.mean.p, dp.std.p, dst, rows, p.In, nm.Cols, nm.Clip)
		} else {
			s, ds := &p.Steps[op.step], &dp.steps[op.step]
			switch op.kind {
			case kGemm:
				err = d.mm.gemm(stackGemm(devIn(p, op.step), s.Out, n, k), ds.w.p, src, dst)
			case kCat:
				err = d.k.concatRows(src, slots[op.x], dst, rows, s.In-(s.XTo-s.XFrom), p.In)
			case kBiasAct:
				err = d.k.biasActRows(dst, ds.b.p, n, k*s.Out, op.act, s.Alpha)
			case kHead:
				err = d.k.headRows(src, zero, ds.low.p, ds.half.p, dst, rows, s.Out, len(s.Low), s.Clip)
			case kExpClamp:
				err = d.k.expClampRows(src, zero, dst, rows, s.Out, s.Lo, s.Hi)
			case kMean:
				err = d.k.meanOfRows(src, zero, dst, rows, s.Out)
			}
		}
		if err != nil {
			return fmt.Errorf("%d× %s step %d: %w", k, p.Name, op.step, err)
		}
	}
	return nil
}

// zeros makes d.s.zero hold at least n zeros (a head's bias once the
// step's bias is added; a fresh allocation is not zeroed).
func (d *Device) zeros(n int) error {
	if d.s.zero.n >= n {
		return nil
	}
	d.s.zero.free()
	z, err := upload(make([]float32, n))
	if err != nil {
		return err
	}
	d.s.zero = z
	return nil
}

// actor computes the actions of dn for n rows of obs (on the device) into
// d.s.act.
func (d *Device) actor(dn *devNet, obs cu.DevicePtr, n int) error {
	if err := d.s.act.ensure(n * dn.net.ActDim); err != nil {
		return err
	}
	return d.forward(dn.devPlan, obs, n, d.s.act.p)
}

// critic computes dn at the concatenated input in d.s.cat into q.
func (d *Device) critic(dn *devNet, n int, q *buf) error {
	if err := q.ensure(n); err != nil {
		return err
	}
	return d.forward(dn.devPlan, d.s.cat.p, n, q.p)
}

// timer splits a request's wall time into the three phases.
type timer struct {
	t    *graph.DeviceTiming
	mark time.Time
}

func (d *Device) startTimer() timer {
	d.last = graph.DeviceTiming{}
	return timer{t: &d.last, mark: time.Now()}
}

func (t *timer) lap(into *time.Duration) {
	now := time.Now()
	*into += now.Sub(t.mark)
	t.mark = now
}

func (d *Device) sync() error {
	if err := cu.Synchronize(); err != nil {
		return fmt.Errorf("CUDA kernels failed: %w", err)
	}
	return nil
}

func checkRows(what string, got, want int) error {
	if got < want {
		return fmt.Errorf("%s has %d values, want %d", what, got, want)
	}
	return nil
}

// Policy writes the actor's deterministic action for n rows into act.
func (d *Device) Policy(actor *loaders.Network, obs []float32, n int, act []float32) error {
	od, ad := actor.ObsDim, actor.ActDim
	if err := errors.Join(checkRows("obs", len(obs), n*od), checkRows("act", len(act), n*ad)); err != nil {
		return fmt.Errorf("policy %s: %w", actor.Path, err)
	}
	dn, err := d.prepare(actor)
	if err != nil || n == 0 {
		return err
	}
	t := d.startTimer()
	if err := d.s.obs.ensure(n * od); err != nil {
		return err
	}
	if err := toDevice(d.s.obs, obs[:n*od]); err != nil {
		return fmt.Errorf("policy %s: copy obs: %w", actor.Path, err)
	}
	t.lap(&t.t.HostToDevice)
	if err := d.actor(dn, d.s.obs.p, n); err != nil {
		return err
	}
	if err := d.sync(); err != nil {
		return err
	}
	t.lap(&t.t.Compute)
	if err := toHost(act[:n*ad], d.s.act); err != nil {
		return fmt.Errorf("policy %s: copy actions: %w", actor.Path, err)
	}
	t.lap(&t.t.DeviceToHost)
	return nil
}

// critics evaluates c1 and optionally c2 at d.s.cat and copies q1, q2 back.
func (d *Device) critics(c1, c2 *devNet, n int, q1, q2 []float32, t *timer) error {
	if err := d.critic(c1, n, &d.s.q1); err != nil {
		return err
	}
	if c2 != nil {
		if err := d.critic(c2, n, &d.s.q2); err != nil {
			return err
		}
	}
	if err := d.sync(); err != nil {
		return err
	}
	t.lap(&t.t.Compute)
	if err := toHost(q1[:n], d.s.q1); err != nil {
		return fmt.Errorf("copy q1: %w", err)
	}
	if c2 != nil {
		if err := toHost(q2[:n], d.s.q2); err != nil {
			return fmt.Errorf("copy q2: %w", err)
		}
	}
	t.lap(&t.t.DeviceToHost)
	return nil
}

func (d *Device) prepareCritics(c1, c2 *loaders.Network, q2 []float32) (dn1, dn2 *devNet, err error) {
	if dn1, err = d.prepare(c1); err != nil {
		return nil, nil, err
	}
	if c2 != nil {
		if q2 == nil {
			return nil, nil, fmt.Errorf("q %s: second critic given without q2", c1.Path)
		}
		if dn2, err = d.prepare(c2); err != nil {
			return nil, nil, err
		}
	}
	return dn1, dn2, nil
}

// Q writes the critics' values at (obs, act) into q1 and q2; c2 and q2 may
// be nil.
func (d *Device) Q(c1, c2 *loaders.Network, obs, act []float32, n int, q1, q2 []float32) error {
	od, ad := c1.ObsDim, c1.ActDim
	err := errors.Join(checkRows("obs", len(obs), n*od), checkRows("act", len(act), n*ad), checkRows("q1", len(q1), n))
	if c2 != nil {
		err = errors.Join(err, checkRows("q2", len(q2), n))
	}
	if err != nil {
		return fmt.Errorf("q %s: %w", c1.Path, err)
	}
	dn1, dn2, err := d.prepareCritics(c1, c2, q2)
	if err != nil || n == 0 {
		return err
	}
	t := d.startTimer()
	for _, e := range []error{d.s.obs.ensure(n * od), d.s.act.ensure(n * ad), d.s.cat.ensure(n * (od + ad))} {
		if e != nil {
			return e
		}
	}
	if err := errors.Join(toDevice(d.s.obs, obs[:n*od]), toDevice(d.s.act, act[:n*ad])); err != nil {
		return fmt.Errorf("q %s: copy inputs: %w", c1.Path, err)
	}
	t.lap(&t.t.HostToDevice)
	if err := d.k.concatRows(d.s.obs.p, d.s.act.p, d.s.cat.p, n, od, ad); err != nil {
		return fmt.Errorf("q %s: concat: %w", c1.Path, err)
	}
	if err := d.critics(dn1, dn2, n, q1, q2, &t); err != nil {
		return fmt.Errorf("q %s: %w", c1.Path, err)
	}
	return nil
}

// QPolicy computes a = actor(obs) and the critics at (obs, a); the actions
// stay on the device between the two and are copied back once.
func (d *Device) QPolicy(actor, c1, c2 *loaders.Network, obs []float32, n int, act, q1, q2 []float32) error {
	od, ad := actor.ObsDim, actor.ActDim
	err := errors.Join(checkRows("obs", len(obs), n*od), checkRows("act", len(act), n*ad), checkRows("q1", len(q1), n))
	if c2 != nil {
		err = errors.Join(err, checkRows("q2", len(q2), n))
	}
	if err != nil {
		return fmt.Errorf("qpolicy %s: %w", actor.Path, err)
	}
	for _, c := range []*loaders.Network{c1, c2} {
		if c != nil && (c.ObsDim != od || c.ActDim != ad) {
			return fmt.Errorf("qpolicy: critic %s takes %d+%d inputs, actor %s has %d+%d", c.Path, c.ObsDim, c.ActDim, actor.Path, od, ad)
		}
	}
	dna, err := d.prepare(actor)
	if err != nil {
		return err
	}
	dn1, dn2, err := d.prepareCritics(c1, c2, q2)
	if err != nil || n == 0 {
		return err
	}
	t := d.startTimer()
	for _, e := range []error{d.s.obs.ensure(n * od), d.s.cat.ensure(n * (od + ad))} {
		if e != nil {
			return e
		}
	}
	if err := toDevice(d.s.obs, obs[:n*od]); err != nil {
		return fmt.Errorf("qpolicy %s: copy obs: %w", actor.Path, err)
	}
	t.lap(&t.t.HostToDevice)
	if err := d.actor(dna, d.s.obs.p, n); err != nil {
		return err
	}
	if err := d.k.concatRows(d.s.obs.p, d.s.act.p, d.s.cat.p, n, od, ad); err != nil {
		return fmt.Errorf("qpolicy %s: concat: %w", actor.Path, err)
	}
	if err := d.critics(dn1, dn2, n, q1, q2, &t); err != nil {
		return fmt.Errorf("qpolicy %s: %w", actor.Path, err)
	}
	// The actions are copied after the q values; count them as transfer.
	if err := toHost(act[:n*ad], d.s.act); err != nil {
		return fmt.Errorf("qpolicy %s: copy actions: %w", actor.Path, err)
	}
	t.lap(&t.t.DeviceToHost)
	return nil
}

// MinQ writes min(q1, q2) element-wise into out on the device: the
// clipped double-Q value TD3 and SAC train on.
func (d *Device) MinQ(q1, q2, out []float32) error {
	n := len(out)
	if len(q1) < n || len(q2) < n {
		return fmt.Errorf("min of %d and %d values into %d", len(q1), len(q2), n)
	}
	if n == 0 {
		return nil
	}
	for _, e := range []error{d.s.q1.ensure(n), d.s.q2.ensure(n), d.s.cat.ensure(n)} {
		if e != nil {
			return e
		}
	}
	if err := errors.Join(toDevice(d.s.q1, q1[:n]), toDevice(d.s.q2, q2[:n])); err != nil {
		return err
	}
	if err := d.k.minOf(d.s.q1.p, d.s.q2.p, d.s.cat.p, n); err != nil {
		return err
	}
	if err := d.sync(); err != nil {
		return err
	}
	return toHost(out, d.s.cat)
}
