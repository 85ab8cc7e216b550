package worker

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/rleval/rleval/graph"
	"github.com/rleval/rleval/loaders"
)

// BinaryName is the file name of the CUDA worker binary Remote starts.
const BinaryName = "rleval-cuda"

// PathEnv names the environment variable that, when set, gives the path
// of the worker binary and overrides the search.
const PathEnv = "RLEVAL_CUDA_WORKER"

// Options tunes a Remote. The zero value is ready to use.
type Options struct {
	// HelloTimeout bounds the handshake, which includes the worker creating
	// its CUDA context (seconds on a cold GPU); 0 means 60s.
	HelloTimeout time.Duration
	// MaxChunkRows caps the rows sent per request; 0 derives it from the
	// device's free memory and MaxFrameBytes only.
	MaxChunkRows int
	// Args are extra arguments passed to the worker (NewRemote only).
	Args []string
}

// Stats accumulates what a Remote's requests cost, for benchmarks
// that show transfers apart from compute.
type Stats struct {
	// Requests and Rows count evaluation frames sent and rows in them.
	Requests, Rows int64
	// Loads and LoadBytes count networks uploaded and their spec bytes.
	Loads, LoadBytes int64
	// HostToDevice, Compute and DeviceToHost sum the worker's own timings.
	HostToDevice, Compute, DeviceToHost time.Duration
	// RoundTrip sums the wall time of evaluation requests seen by the
	// client: device time plus encoding, the pipe and decoding.
	RoundTrip time.Duration
}

// Remote is a graph.Backend that evaluates networks in a worker process that
// owns the device, speaking the wire protocol of Serve over the
// worker's stdin and stdout. Each *loaders.Network is uploaded once, on
// first use, and identified by its pointer afterwards: do not mutate a
// network once evaluated. Requests are serialised (the worker is the one
// owner of the device), so a Remote is safe for concurrent use; large
// requests are split into chunks sized to the device memory.
type Remote struct {
	mu      sync.Mutex
	r       *bufio.Reader
	w       *bufio.Writer
	closer  io.Closer // the worker's stdin, or the test's writer
	rout    io.Closer // the worker's stdout, closed once it has exited
	cmd     *exec.Cmd
	stderr  *remoteTail
	exited  chan struct{} // closed when cmd has been waited for
	waitErr error
	killed  bool // we killed it: its exit status is ours, not its own

	info    graph.DeviceInfo
	opts    Options
	ids     map[*loaders.Network]uint32
	next    uint32
	broken  error // sticky: the stream is unusable
	closed  bool
	stats   Stats
	out     wireEnc
	buf     []byte
	workerP string
}

// PreferredChunk and PreferredWorkers are what a Remote asks of the Engine
// (Preferences): chunks large enough that the per-request pipe and launch
// overhead (tens of µs) is small against the transfer, and two callers so
// one encodes its next chunk while the other's is on the device.
const (
	PreferredChunk   = 1 << 16
	PreferredWorkers = 2
)

func init() {
	// The CUDA client behind graph.Open("cuda") and "auto".
	graph.RegisterDevice("cuda", func(graph.Options) (graph.Backend, error) {
		rem, err := NewRemote("", Options{})
		if err != nil {
			return nil, err
		}
		return rem, nil
	})
}

// Find returns the worker binary's path: $RLEVAL_CUDA_WORKER if set,
// else rleval-cuda next to the running executable, else rleval-cuda on
// $PATH. The error wraps graph.ErrNoCUDA.
func Find() (string, error) {
	if p := os.Getenv(PathEnv); p != "" {
		if _, err := os.Stat(p); err != nil {
			return "", fmt.Errorf("%w: $%s=%s: %v", graph.ErrNoCUDA, PathEnv, p, err)
		}
		return p, nil
	}
	var tried []string
	if exe, err := os.Executable(); err == nil {
		p := filepath.Join(filepath.Dir(exe), BinaryName)
		if st, err := os.Stat(p); err == nil && !st.IsDir() {
			return p, nil
		}
		tried = append(tried, filepath.Dir(exe))
	}
	if p, err := exec.LookPath(BinaryName); err == nil {
		return p, nil
	}
	tried = append(tried, "$PATH")
	return "", fmt.Errorf("%w: worker %s not found in %s: build it with `make cuda` (needs CUDA's cuda.h: Debian nvidia-cuda-dev) or set $%s",
		graph.ErrNoCUDA, BinaryName, strings.Join(tried, " or "), PathEnv)
}

// NewRemote starts the worker at workerPath (Find's choice when
// empty) and shakes hands with it. When the worker cannot start or exits
// (on a machine without a GPU it exits 1 before main) the error wraps
// graph.ErrNoCUDA and includes the worker's output.
func NewRemote(workerPath string, opts Options) (*Remote, error) {
	if workerPath == "" {
		p, err := Find()
		if err != nil {
			return nil, err
		}
		workerPath = p
	}
	cmd := exec.Command(workerPath, opts.Args...)
	// Our own pipes rather than cmd.StdinPipe/StdoutPipe: Wait must not
	// close stdout under a reader, and the pipes get larger buffers.
	inR, stdin, err := os.Pipe()
	if err != nil {
		return nil, fmt.Errorf("%w: start worker %s: %v", graph.ErrNoCUDA, workerPath, err)
	}
	stdout, outW, err := os.Pipe()
	if err != nil {
		inR.Close()
		stdin.Close()
		return nil, fmt.Errorf("%w: start worker %s: %v", graph.ErrNoCUDA, workerPath, err)
	}
	growPipe(stdin)
	growPipe(stdout)
	cmd.Stdin, cmd.Stdout = inR, outW
	tail := &remoteTail{max: 4096}
	cmd.Stderr = tail
	err = cmd.Start()
	inR.Close() // the child holds its own copies
	outW.Close()
	if err != nil {
		stdin.Close()
		stdout.Close()
		return nil, fmt.Errorf("%w: start worker %s: %v", graph.ErrNoCUDA, workerPath, err)
	}
	rem := &Remote{cmd: cmd, stderr: tail, workerP: workerPath, rout: stdout}
	// Keep what the worker prints before the handshake: the CUDA library
	// reports a missing device on stdout, which must reach the user.
	rec := &remoteHead{r: stdout, max: 4096}
	exited := make(chan struct{})
	go func() {
		rem.waitErr = cmd.Wait()
		close(exited)
	}()
	if err := rem.start(rec, stdin, opts); err != nil {
		// Give a worker that failed on its own time to exit, so its status
		// and output are reported rather than our kill.
		select {
		case <-exited:
		case <-time.After(2 * time.Second):
			rem.kill()
			<-exited
		}
		if !rem.killed {
			// It may have said why on stdout after all, where the failed
			// handshake never read: writing the hello fails first when
			// the worker has already gone (a broken pipe).
			stdout.SetReadDeadline(time.Now().Add(200 * time.Millisecond))
			io.Copy(io.Discard, io.LimitReader(rec, 4096))
		}
		stdin.Close()
		stdout.Close()
		out := strings.TrimSpace(rec.String() + "\n" + tail.String())
		if !rem.killed && out != "" {
			// It said why it exited; the protocol error adds nothing.
			return nil, fmt.Errorf("%w: worker %s exited: %s: %s", graph.ErrNoCUDA, workerPath, remoteExitString(rem.waitErr), remoteOneLine(out))
		}
		status := "was stopped"
		if !rem.killed {
			status = "exited: " + remoteExitString(rem.waitErr)
		}
		if out != "" {
			out = ": " + remoteOneLine(out)
		}
		return nil, fmt.Errorf("%w: worker %s %s: %v%s", graph.ErrNoCUDA, workerPath, status, err, out)
	}
	rem.exited = exited
	rec.stop()
	return rem, nil
}

// Dial returns a Remote speaking to a server already running at the
// other end of r and w, such as Serve on a pipe; Close closes w when it
// is an io.Closer. Used for in-process servers and tests.
func Dial(r io.Reader, w io.Writer, opts Options) (*Remote, error) {
	rem := &Remote{}
	if err := rem.start(r, w, opts); err != nil {
		if c, ok := w.(io.Closer); ok {
			c.Close()
		}
		return nil, err
	}
	return rem, nil
}

// start does the hello handshake within the timeout.
func (rem *Remote) start(r io.Reader, w io.Writer, opts Options) error {
	if opts.HelloTimeout <= 0 {
		opts.HelloTimeout = 60 * time.Second
	}
	rem.opts = opts
	rem.r = bufio.NewReaderSize(r, 1<<16)
	rem.w = bufio.NewWriterSize(w, 1<<16)
	if c, ok := w.(io.Closer); ok {
		rem.closer = c
	}
	rem.ids = map[*loaders.Network]uint32{}
	done := make(chan error, 1)
	go func() { done <- rem.hello() }()
	select {
	case err := <-done:
		return err
	case <-time.After(opts.HelloTimeout):
		// Unblock the handshake goroutine; it then returns and exits.
		if rem.closer != nil {
			rem.closer.Close()
		}
		rem.kill()
		return fmt.Errorf("no hello reply within %v", opts.HelloTimeout)
	}
}

func (rem *Remote) hello() error {
	rem.out.b = rem.out.b[:0]
	rem.out.u32(Version)
	p, err := rem.roundTrip(opHello)
	if err != nil {
		return fmt.Errorf("hello: %w", err)
	}
	d := &wireDec{b: p}
	v := d.u32("version")
	rem.info = graph.DeviceInfo{
		Name:              d.str("device name"),
		TotalMem:          int64(d.u64("total memory")),
		FreeMem:           int64(d.u64("free memory")),
		DriverVersion:     int(d.u32("driver version")),
		ComputeCapability: int(d.u32("compute capability")),
	}
	if err := d.end(); err != nil {
		return fmt.Errorf("hello reply: %w", err)
	}
	if v != Version {
		return fmt.Errorf("hello: worker speaks wire version %d, client %d: rebuild both from the same commit", v, Version)
	}
	return nil
}

// roundTrip sends rem.out as an op frame and reads the reply, which aliases
// rem.buf. An error frame is returned as *wireErrFrame and leaves the stream
// usable; any other failure marks the Remote broken.
func (rem *Remote) roundTrip(op wireOp) ([]byte, error) {
	if rem.broken != nil {
		return nil, rem.broken
	}
	if err := wireWriteFrame(rem.w, op, rem.out.b); err != nil {
		return nil, rem.breakWith(fmt.Errorf("send %v: %w", op, err))
	}
	if err := rem.w.Flush(); err != nil {
		return nil, rem.breakWith(fmt.Errorf("send %v: %w", op, err))
	}
	rop, p, buf, err := wireReadFrame(rem.r, rem.buf)
	rem.buf = buf
	if err != nil {
		return nil, rem.breakWith(fmt.Errorf("read %v reply: %w", op, err))
	}
	switch rop {
	case op | opReply:
		return p, nil
	case opError:
		d := &wireDec{b: p}
		msg := d.str("error message")
		if d.end() != nil {
			msg = fmt.Sprintf("unreadable error frame (%d bytes)", len(p))
		}
		return nil, &wireErrFrame{msg: "worker: " + msg}
	}
	return nil, rem.breakWith(fmt.Errorf("%v request answered by %v frame: out of sync", op, rop))
}

// breakWith records err as the reason the stream is unusable, adding the
// worker's exit status and stderr when it has died.
func (rem *Remote) breakWith(err error) error {
	if rem.exited != nil {
		select {
		case <-rem.exited:
			err = fmt.Errorf("%w: worker %s exited: %s: %v", graph.ErrNoCUDA, rem.workerP, remoteExitString(rem.waitErr), err)
			if s := strings.TrimSpace(rem.stderr.String()); s != "" {
				err = fmt.Errorf("%w: %s", err, remoteOneLine(s))
			}
		case <-time.After(time.Second):
		}
	}
	rem.broken = err
	return err
}

func (rem *Remote) kill() {
	if rem.cmd != nil && rem.cmd.Process != nil {
		rem.killed = true
		rem.cmd.Process.Kill()
	}
}

// Preferred returns PreferredChunk rows and PreferredWorkers callers.
func (rem *Remote) Preferred() (chunk, workers int) { return PreferredChunk, PreferredWorkers }

// Name returns "cuda: " and the device name reported by the worker.
func (rem *Remote) Name() string { return "cuda: " + rem.info.Name }

// graph.DeviceInfo returns the device description from the handshake.
func (rem *Remote) DeviceInfo() graph.DeviceInfo { return rem.info }

// Stats returns the costs accumulated so far.
func (rem *Remote) Stats() Stats {
	rem.mu.Lock()
	defer rem.mu.Unlock()
	return rem.stats
}

// load uploads net unless already loaded; rem.mu is held.
func (rem *Remote) load(net *loaders.Network) (uint32, error) {
	if net == nil {
		return 0, nil
	}
	if id, ok := rem.ids[net]; ok {
		return id, nil
	}
	p, err := lowerForDevice(net)
	if err != nil {
		return 0, err
	}
	rem.next++
	id := rem.next
	rem.out.b = rem.out.b[:0]
	rem.out.u32(id)
	wireEncodePlan(&rem.out, p, net.ObsDim, net.ActDim)
	n := len(rem.out.b)
	if _, err := rem.roundTrip(opLoad); err != nil {
		return 0, fmt.Errorf("upload %s: %w", net.Path, err)
	}
	rem.ids[net] = id
	rem.stats.Loads++
	rem.stats.LoadBytes += int64(n)
	return id, nil
}

// loadAll checks that the Remote is usable and uploads every net not yet
// on the device, returning their ids in order (0 for a nil net); rem.mu
// is held.
func (rem *Remote) loadAll(nets ...*loaders.Network) ([]uint32, error) {
	if err := rem.check(); err != nil {
		return nil, err
	}
	ids := make([]uint32, len(nets))
	for i, net := range nets {
		id, err := rem.load(net)
		if err != nil {
			return nil, err
		}
		ids[i] = id
	}
	return ids, nil
}

// Forget frees net's copy on the device; a later use uploads it again.
// The batch runner calls it when done with a checkpoint so device memory
// does not wireGrow with the number of runs.
func (rem *Remote) Forget(net *loaders.Network) error {
	rem.mu.Lock()
	defer rem.mu.Unlock()
	id, ok := rem.ids[net]
	if !ok {
		return nil
	}
	delete(rem.ids, net)
	rem.out.b = rem.out.b[:0]
	rem.out.u32(id)
	if _, err := rem.roundTrip(opUnload); err != nil {
		return fmt.Errorf("unload %s: %w", net.Path, err)
	}
	return nil
}

// chunkRows returns how many rows one request may carry: bounded by the
// frame limit for inFloats per row sent and outFloats per row returned,
// and by half the device's free memory for the worker's buffers (inputs,
// the concatenated critic input, two activations of the widest layer and
// the outputs), leaving the rest for cuBLAS workspace and other processes.
func (rem *Remote) chunkRows(inFloats, outFloats int, nets ...*loaders.Network) int {
	per := inFloats
	if outFloats > per {
		per = outFloats
	}
	rows := (MaxFrameBytes - 64) / (4 * per)
	if rem.info.FreeMem > 0 {
		maxW := 0
		obs, act, cat := 0, 0, 0
		for _, n := range nets {
			if n == nil {
				continue
			}
			obs, act = n.ObsDim, n.ActDim
			for _, w := range n.Widths() {
				maxW = max(maxW, w)
			}
			if n.ActionAt > 0 {
				cat = 1
			}
		}
		// The inputs (and their normalised copy), actions, the critic
		// input, two activations, the outputs; a layer's output joined
		// with the input for a critic whose action enters later.
		dev := 3*obs + 4*act + (2+cat)*maxW + cat*(obs+act) + 2
		rows = min(rows, int(rem.info.FreeMem/2/int64(4*dev)))
	}
	if rem.opts.MaxChunkRows > 0 {
		rows = min(rows, rem.opts.MaxChunkRows)
	}
	return max(rows, 1)
}

func (rem *Remote) check() error {
	if rem.closed {
		return errors.New("cuda backend used after Close")
	}
	return rem.broken
}

func remoteRowsIf(set bool, n int) int {
	if set {
		return n
	}
	return 0
}

func remoteCheckLen(what string, got, want int) error {
	if got < want {
		return fmt.Errorf("%s has %d values, want %d", what, got, want)
	}
	return nil
}

// evaluate runs one chunk request whose payload is in rem.out and decodes
// the timing and outputs into outs, in order, skipping nil ones.
func (rem *Remote) evaluate(op wireOp, rows int, outs ...[]float32) error {
	start := time.Now()
	p, err := rem.roundTrip(op)
	if err != nil {
		return err
	}
	d := &wireDec{b: p}
	t := d.timing()
	for _, o := range outs {
		if o != nil {
			d.floatsInto(o, "outputs")
		}
	}
	if err := d.end(); err != nil {
		return rem.breakWith(fmt.Errorf("%v reply: %w", op, err))
	}
	rem.stats.Requests++
	rem.stats.Rows += int64(rows)
	rem.stats.HostToDevice += t.HostToDevice
	rem.stats.Compute += t.Compute
	rem.stats.DeviceToHost += t.DeviceToHost
	rem.stats.RoundTrip += time.Since(start)
	return nil
}

// Policy writes the actor's deterministic action for n rows into act.
func (rem *Remote) Policy(actor *loaders.Network, obs []float32, n int, act []float32) error {
	if n == 0 {
		return nil
	}
	if err := errors.Join(remoteCheckLen("obs", len(obs), n*actor.ObsDim), remoteCheckLen("act", len(act), n*actor.ActDim)); err != nil {
		return fmt.Errorf("policy %s: %w", actor.Path, err)
	}
	rem.mu.Lock()
	defer rem.mu.Unlock()
	ids, err := rem.loadAll(actor)
	if err != nil {
		return err
	}
	id := ids[0]
	od, ad := actor.ObsDim, actor.ActDim
	step := rem.chunkRows(od, ad, actor)
	for lo := 0; lo < n; lo += step {
		hi := min(lo+step, n)
		rem.out.b = rem.out.b[:0]
		rem.out.u32(id)
		rem.out.u32(uint32(hi - lo))
		rem.out.floats(obs[lo*od : hi*od])
		if err := rem.evaluate(opPolicy, hi-lo, act[lo*ad:hi*ad]); err != nil {
			return fmt.Errorf("policy %s rows %d..%d: %w", actor.Path, lo, hi, err)
		}
	}
	return nil
}

// Q writes the critics' values at (obs, act) into q1 and q2; c2 and q2 may
// be nil.
func (rem *Remote) Q(c1, c2 *loaders.Network, obs, act []float32, n int, q1, q2 []float32) error {
	if n == 0 {
		return nil
	}
	if c2 == nil {
		q2 = nil // like the CPU backend: no second critic, q2 untouched
	}
	if err := errors.Join(remoteCheckLen("obs", len(obs), n*c1.ObsDim), remoteCheckLen("act", len(act), n*c1.ActDim),
		remoteCheckLen("q1", len(q1), n), remoteCheckLen("q2", len(q2), remoteRowsIf(c2 != nil, n))); err != nil {
		return fmt.Errorf("q %s: %w", c1.Path, err)
	}
	rem.mu.Lock()
	defer rem.mu.Unlock()
	ids, err := rem.loadAll(c1, c2)
	if err != nil {
		return err
	}
	id1, id2 := ids[0], ids[1]
	od, ad := c1.ObsDim, c1.ActDim
	step := rem.chunkRows(od+ad, 2, c1, c2)
	for lo := 0; lo < n; lo += step {
		hi := min(lo+step, n)
		rem.out.b = rem.out.b[:0]
		rem.out.u32(id1)
		rem.out.u32(id2)
		rem.out.u32(uint32(hi - lo))
		rem.out.floats(obs[lo*od : hi*od])
		rem.out.floats(act[lo*ad : hi*ad])
		var q2c []float32
		if q2 != nil {
			q2c = q2[lo:hi]
		}
		if err := rem.evaluate(opQ, hi-lo, q1[lo:hi], q2c); err != nil {
			return fmt.Errorf("q %s rows %d..%d: %w", c1.Path, lo, hi, err)
		}
	}
	return nil
}

// QPolicy computes a = actor(obs) and the critics at (obs, a) in one
// request per chunk, the actions staying on the device in between; c2 and
// q2 may be nil.
func (rem *Remote) QPolicy(actor, c1, c2 *loaders.Network, obs []float32, n int, act, q1, q2 []float32) error {
	if n == 0 {
		return nil
	}
	if c2 == nil {
		q2 = nil // like the CPU backend: no second critic, q2 untouched
	}
	if err := errors.Join(remoteCheckLen("obs", len(obs), n*actor.ObsDim), remoteCheckLen("act", len(act), n*actor.ActDim),
		remoteCheckLen("q1", len(q1), n), remoteCheckLen("q2", len(q2), remoteRowsIf(c2 != nil, n))); err != nil {
		return fmt.Errorf("qpolicy %s: %w", actor.Path, err)
	}
	rem.mu.Lock()
	defer rem.mu.Unlock()
	ids, err := rem.loadAll(actor, c1, c2)
	if err != nil {
		return err
	}
	ida, id1, id2 := ids[0], ids[1], ids[2]
	od, ad := actor.ObsDim, actor.ActDim
	step := rem.chunkRows(od, ad+2, actor, c1, c2)
	for lo := 0; lo < n; lo += step {
		hi := min(lo+step, n)
		rem.out.b = rem.out.b[:0]
		rem.out.u32(ida)
		rem.out.u32(id1)
		rem.out.u32(id2)
		rem.out.u32(uint32(hi - lo))
		rem.out.floats(obs[lo*od : hi*od])
		var q2c []float32
		if q2 != nil {
			q2c = q2[lo:hi]
		}
		if err := rem.evaluate(opQPolicy, hi-lo, act[lo*ad:hi*ad], q1[lo:hi], q2c); err != nil {
			return fmt.Errorf("qpolicy %s rows %d..%d: %w", actor.Path, lo, hi, err)
		}
	}
	return nil
}

// Close asks the worker to release the device and exit, and waits for it
// (killing it after 10s). Later calls return nil.
func (rem *Remote) Close() error {
	rem.mu.Lock()
	defer rem.mu.Unlock()
	if rem.closed {
		return nil
	}
	rem.closed = true
	var err error
	if rem.broken == nil {
		rem.out.b = rem.out.b[:0]
		if _, e := rem.roundTrip(opClose); e != nil {
			err = fmt.Errorf("close cuda worker: %w", e)
		}
	}
	if rem.closer != nil {
		rem.closer.Close()
	}
	if rem.cmd != nil {
		select {
		case <-rem.exited:
		case <-time.After(10 * time.Second):
			rem.kill()
			<-rem.exited
		}
		rem.rout.Close()
		if err == nil && rem.waitErr != nil && rem.broken == nil {
			err = fmt.Errorf("cuda worker %s: %s: %s", rem.workerP, remoteExitString(rem.waitErr), remoteOneLine(rem.stderr.String()))
		}
	}
	return err
}

func remoteExitString(err error) string {
	if err == nil {
		return "exit status 0"
	}
	return err.Error()
}

// remoteOneLine joins a process's output into one line for an error message.
func remoteOneLine(s string) string {
	return strings.Join(strings.Fields(strings.ReplaceAll(s, "\n", " | ")), " ")
}

// remoteTail keeps the last max bytes written to it.
type remoteTail struct {
	mu  sync.Mutex
	b   []byte
	max int
}

func (t *remoteTail) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.b = append(t.b, p...)
	if len(t.b) > t.max {
		t.b = append(t.b[:0], t.b[len(t.b)-t.max:]...)
	}
	return len(p), nil
}

func (t *remoteTail) String() string {
	if t == nil {
		return ""
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	return string(bytes.ToValidUTF8(t.b, []byte("?")))
}

// remoteHead passes reads through and keeps the first max bytes until
// stopped, so what a worker printed instead of a hello can be shown.
type remoteHead struct {
	r       io.Reader
	mu      sync.Mutex
	head    []byte
	max     int
	stopped bool
}

func (h *remoteHead) Read(p []byte) (int, error) {
	n, err := h.r.Read(p)
	h.mu.Lock()
	if !h.stopped && len(h.head) < h.max {
		h.head = append(h.head, p[:min(n, h.max-len(h.head))]...)
	}
	h.mu.Unlock()
	return n, err
}

func (h *remoteHead) String() string {
	h.mu.Lock()
	defer h.mu.Unlock()
	return string(bytes.ToValidUTF8(h.head, []byte("?")))
}

func (h *remoteHead) stop() {
	h.mu.Lock()
	h.stopped = true
	h.head = nil
	h.mu.Unlock()
}
