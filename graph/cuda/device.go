//go:build rlcuda

package cuda

import (
	"errors"
	"fmt"
	"os"
	"time"
	"unsafe"

	"gorgonia.org/cu"

	"github.com/rleval/rleval/loaders"
	"github.com/rleval/rleval/worker"
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
	info worker.DeviceInfo

	nets   map[*loaders.Network]*devNet
	stacks map[string]*devStack
	s      scratch
	host   []float32 // staging for stacked requests' interleaving
	last   worker.DeviceTiming
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

// devNet is a network's weights on the device.
type devNet struct {
	net    *loaders.Network
	layers []devLayer
	act    int64 // hidden activation code
	low    buf   // actor bounds: low and (high-low)/2
	half   buf
	maxW   int
}

type devLayer struct {
	w, b    buf
	in, out int
}

func (n *devNet) free() {
	for i := range n.layers {
		n.layers[i].w.free()
		n.layers[i].b.free()
	}
	n.low.free()
	n.half.free()
}

// scratch holds the per-request device buffers, grown to the largest
// request seen.
type scratch struct {
	obs, act, cat, h0, h1, q1, q2 buf
}

func (s *scratch) free() {
	for _, b := range []*buf{&s.obs, &s.act, &s.cat, &s.h0, &s.h1, &s.q1, &s.q2} {
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

// DeviceInfo describes the GPU; worker.Serve sends it in the hello reply.
func (d *Device) DeviceInfo() worker.DeviceInfo {
	d.info.FreeMem, _, _ = cu.MemInfo()
	return d.info
}

// LastTiming returns the split of the last evaluation's time.
func (d *Device) LastTiming() worker.DeviceTiming { return d.last }

// Forget frees net's weights on the device.
func (d *Device) Forget(net *loaders.Network) {
	if dn, ok := d.nets[net]; ok {
		dn.free()
		delete(d.nets, net)
	}
	d.forgetStacks(net)
}

// Close frees every allocation and destroys the context.
func (d *Device) Close() error {
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

// prepare uploads net's weights on first use.
func (d *Device) prepare(net *loaders.Network) (*devNet, error) {
	if dn, ok := d.nets[net]; ok {
		return dn, nil
	}
	dn := &devNet{net: net}
	switch net.Hidden {
	case loaders.ReLU, "":
		dn.act = actReLU
	case loaders.Tanh:
		dn.act = actTanh
	default:
		return nil, fmt.Errorf("network %s: activation %q not supported on CUDA", net.Path, net.Hidden)
	}
	for _, l := range net.Layers {
		if len(l.W) != l.In*l.Out || len(l.B) != l.Out {
			dn.free()
			return nil, fmt.Errorf("network %s: layer %s is %d×%d with %d weights and %d biases", net.Path, l.Name, l.Out, l.In, len(l.W), len(l.B))
		}
		w, err := upload(l.W)
		if err != nil {
			dn.free()
			return nil, fmt.Errorf("network %s: %w", net.Path, err)
		}
		b, err := upload(l.B)
		if err != nil {
			w.free()
			dn.free()
			return nil, fmt.Errorf("network %s: %w", net.Path, err)
		}
		dn.layers = append(dn.layers, devLayer{w: w, b: b, in: l.In, out: l.Out})
		dn.maxW = max(dn.maxW, l.In, l.Out)
	}
	if net.Kind != loaders.KindCritic {
		if len(net.Low) != net.ActDim || len(net.High) != net.ActDim {
			dn.free()
			return nil, fmt.Errorf("network %s: bounds have %d/%d values, want %d", net.Path, len(net.Low), len(net.High), net.ActDim)
		}
		half := make([]float32, net.ActDim)
		for j := range half {
			half[j] = (net.High[j] - net.Low[j]) / 2
		}
		var err error
		if dn.low, err = upload(net.Low); err == nil {
			dn.half, err = upload(half)
		}
		if err != nil {
			dn.free()
			return nil, fmt.Errorf("network %s: %w", net.Path, err)
		}
	}
	d.nets[net] = dn
	return dn, nil
}

// gemm computes y (n×out) = x (n×in)·Wᵀ on the device; see layerGemm.
func (d *Device) gemm(l devLayer, x, y cu.DevicePtr, n int) error {
	return d.mm.gemm(layerGemm(l.in, l.out, n), l.w.p, x, y)
}

// forward runs dn on x (n rows on the device). The hidden layers ping-pong
// between the scratch buffers h0 and h1; the last layer's product goes to
// last when it is set (a critic's q buffer) and to the next scratch buffer
// otherwise, before its bias, which the caller adds. It returns where the
// last product is.
func (d *Device) forward(dn *devNet, x cu.DevicePtr, n int, last cu.DevicePtr) (cu.DevicePtr, error) {
	if err := d.s.h0.ensure(n * dn.maxW); err != nil {
		return 0, err
	}
	if err := d.s.h1.ensure(n * dn.maxW); err != nil {
		return 0, err
	}
	cur := x
	for i, l := range dn.layers {
		y := d.s.h0.p
		if i%2 == 1 {
			y = d.s.h1.p
		}
		final := i == len(dn.layers)-1
		if final && last != 0 {
			y = last
		}
		if err := d.gemm(l, cur, y, n); err != nil {
			return 0, fmt.Errorf("network %s layer %d: %w", dn.net.Path, i, err)
		}
		if !final {
			if err := d.k.biasActRows(y, l.b.p, n, l.out, dn.act); err != nil {
				return 0, fmt.Errorf("network %s layer %d bias: %w", dn.net.Path, i, err)
			}
		}
		cur = y
	}
	return cur, nil
}

// actor computes the actions of dn for n rows of obs (on the device) into
// d.s.act.
func (d *Device) actor(dn *devNet, obs cu.DevicePtr, n int) error {
	if err := d.s.act.ensure(n * dn.net.ActDim); err != nil {
		return err
	}
	y, err := d.forward(dn, obs, n, 0)
	if err != nil {
		return err
	}
	l := dn.layers[len(dn.layers)-1]
	if err := d.k.headRows(y, l.b.p, dn.low.p, dn.half.p, d.s.act.p, n, l.out, dn.net.ActDim); err != nil {
		return fmt.Errorf("network %s head: %w", dn.net.Path, err)
	}
	return nil
}

// critic computes dn at the concatenated input in d.s.cat into q.
func (d *Device) critic(dn *devNet, n int, q *buf) error {
	if err := q.ensure(n); err != nil {
		return err
	}
	if _, err := d.forward(dn, d.s.cat.p, n, q.p); err != nil {
		return err
	}
	l := dn.layers[len(dn.layers)-1]
	if err := d.k.biasActRows(q.p, l.b.p, n, 1, actIdentity); err != nil {
		return fmt.Errorf("network %s output bias: %w", dn.net.Path, err)
	}
	return nil
}

// timer splits a request's wall time into the three phases.
type timer struct {
	t    *worker.DeviceTiming
	mark time.Time
}

func (d *Device) startTimer() timer {
	d.last = worker.DeviceTiming{}
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
