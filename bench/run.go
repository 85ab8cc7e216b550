package bench

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/rleval/rleval/graph"
	"github.com/rleval/rleval/worker"
)

// Defaults for the Config fields left zero.
const (
	DefaultRows        = 1_000_000
	DefaultMinReps     = 5
	DefaultMinTime     = 500 * time.Millisecond
	DefaultMaxTime     = 10 * time.Second
	DefaultWarmup      = 100 * time.Millisecond
	DefaultCeilingTime = time.Second
)

// DefaultBatches are the batch sizes measured when Config.Batches is empty.
var DefaultBatches = []int{1, 64, 1024, 16384, 262144}

// minBatches is the fewest timed batches a cell reports, even when MaxTime
// runs out first: fewer make the median and p95 meaningless.
const minBatches = 5

// minSplitRows is the smallest share of a batch handed to one worker. Waking
// a goroutine costs microseconds and 256 rows of a 256-wide network are
// about a millisecond of work, so splitting pays above it; smaller batches
// stay on one core, as they would in graph's Engine.
const minSplitRows = 256

// TransferStats is implemented by backends that time host↔device transfers
// apart from compute, as worker.Remote does; Run shows the split per batch.
type TransferStats interface {
	// Stats returns the costs accumulated since the backend was opened.
	Stats() worker.Stats
}

// Config says what Run measures.
type Config struct {
	// Devices are opened one after another with Open, e.g. ["cpu", "cuda"];
	// empty means ["cpu"].
	Devices []string
	// Open returns the backend for a device name; Run closes it. Nil means
	// graph.Open with Threads workers on the CPU and the device's own
	// preference elsewhere.
	Open func(device string) (graph.Backend, error)
	// Nets are the networks evaluated.
	Nets Nets
	// Source describes the networks in the header, e.g. the run directory
	// or "synthetic, seed 1".
	Source string
	// RunDir, when set, is the run the networks came from; RunTorch passes
	// it to the reference script so that torch evaluates the same weights.
	RunDir string
	// Batches are the batch sizes; empty means DefaultBatches.
	Batches []int
	// Rows is the number of rows in one pass; 0 means DefaultRows. A pass
	// is ceil(Rows/batch) batches.
	Rows int
	// Threads is the CPU thread count the caller opened the CPU backend
	// with and the torch reference runs with; the GEMM ceiling is measured
	// at 1 thread, at Threads and at each CPU backend's worker count. 0
	// means GOMAXPROCS.
	Threads int
	// Workloads are measured in this order; empty means Workloads.
	Workloads []Workload
	// MinReps and MinTime: a cell is timed until it has made at least
	// MinReps passes over Rows and run for MinTime (0: the defaults).
	MinReps int
	MinTime time.Duration
	// MaxTime stops a cell early, once it has run this long and timed at
	// least 5 batches (batch size 1 over a million rows would otherwise
	// take minutes); 0 means DefaultMaxTime.
	MaxTime time.Duration
	// Warmup is run, untimed, before each cell (at least 2 batches); 0
	// means DefaultWarmup.
	Warmup time.Duration
	// CeilingTime is spent measuring the GEMM ceiling per thread count;
	// 0 means DefaultCeilingTime, negative skips the ceiling.
	CeilingTime time.Duration
	// Progress, when set, is called after each measured cell.
	Progress func(r Result)
}

func (c *Config) defaults() {
	if len(c.Devices) == 0 {
		c.Devices = []string{"cpu"}
	}
	if len(c.Batches) == 0 {
		c.Batches = DefaultBatches
	}
	if c.Rows <= 0 {
		c.Rows = DefaultRows
	}
	if c.Threads <= 0 {
		c.Threads = ThisMachine().GOMAXPROCS
	}
	if len(c.Workloads) == 0 {
		c.Workloads = Workloads
	}
	if c.MinReps <= 0 {
		c.MinReps = DefaultMinReps
	}
	if c.MinTime <= 0 {
		c.MinTime = DefaultMinTime
	}
	if c.MaxTime <= 0 {
		c.MaxTime = DefaultMaxTime
	}
	if c.Warmup <= 0 {
		c.Warmup = DefaultWarmup
	}
	if c.CeilingTime == 0 {
		c.CeilingTime = DefaultCeilingTime
	}
	if c.Open == nil {
		threads := c.Threads
		c.Open = func(device string) (graph.Backend, error) {
			opts := graph.Options{}
			if device == "cpu" {
				opts.Workers = threads
			}
			return graph.Open(device, opts)
		}
	}
}

// Device describes one benchmarked device.
type Device struct {
	// Device is the name Open was called with, e.g. "cpu"; results carry it.
	Device string `json:"device"`
	// Name is the backend's own description, e.g. "cpu (openblas, 2 workers)".
	Name string `json:"name"`
	// Workers is the number of concurrent calls a batch is split over.
	Workers int `json:"workers"`
	// GPU describes the device behind a GPU backend (one implementing
	// graph.DeviceInfoer); nil on the CPU, whose results get a ceiling share.
	GPU *graph.DeviceInfo `json:"gpu,omitempty"`
}

// NetsInfo describes the benchmarked networks.
type NetsInfo struct {
	// Source is Config.Source.
	Source string `json:"source"`
	// Actor and Critic give layer widths, e.g. "3-256-256-1".
	Actor  string `json:"actor"`
	Critic string `json:"critic"`
	// Critics is 2, or 1 when the run has no second critic.
	Critics int `json:"critics"`
	// FLOPsPerRow maps each workload to its operations per row.
	FLOPsPerRow map[Workload]int64 `json:"flop_per_row"`
}

// Result is one measured cell: a device, a workload and a batch size.
type Result struct {
	// Device is the device name ("cpu", "cuda", "torch-cpu").
	Device string `json:"device"`
	// Workload is what each batch evaluated.
	Workload Workload `json:"workload"`
	// Batch is the rows per batch.
	Batch int `json:"batch"`
	// Batches is the number of timed batches (warm-up excluded).
	Batches int `json:"batches"`
	// Seconds is the total timed wall time.
	Seconds float64 `json:"seconds"`
	// RowsPerS is Batches·Batch/Seconds.
	RowsPerS float64 `json:"rows_per_s"`
	// LatencyMedianS and LatencyP95S are the median and 95th percentile
	// wall time of one batch, in seconds.
	LatencyMedianS float64 `json:"latency_median_s"`
	LatencyP95S    float64 `json:"latency_p95_s"`
	// FLOPsPerRow is the workload's cost per row (Nets.FLOPsPerRow).
	FLOPsPerRow int64 `json:"flop_per_row"`
	// GFLOPS is RowsPerS·FLOPsPerRow/1e9.
	GFLOPS float64 `json:"gflops"`
	// CeilingShare is GFLOPS over the GEMM ceiling at the device's thread
	// count (a fraction); nil off the CPU or without a ceiling.
	CeilingShare *float64 `json:"ceiling_share,omitempty"`
	// HostToDeviceS, ComputeS and DeviceToHostS split a batch's device time
	// (mean per batch, seconds) on backends implementing TransferStats.
	HostToDeviceS *float64 `json:"h2d_s,omitempty"`
	ComputeS      *float64 `json:"compute_s,omitempty"`
	DeviceToHostS *float64 `json:"d2h_s,omitempty"`
	// VsTorch is RowsPerS over torch's for the same workload and batch;
	// set by AddTorch on our rows.
	VsTorch *float64 `json:"vs_torch,omitempty"`
}

// Report is the outcome of Run, possibly with torch's rows added.
type Report struct {
	// Time is when the run started (UTC).
	Time time.Time `json:"time"`
	// Machine is the host.
	Machine Machine `json:"machine"`
	// BLAS names the BLAS graph's CPU plan uses in this build.
	BLAS string `json:"blas"`
	// Ceilings are the GEMM ceilings measured, by thread count.
	Ceilings []Ceiling `json:"ceilings"`
	// Devices are the devices measured, in order.
	Devices []Device `json:"devices"`
	// Nets describes the networks.
	Nets NetsInfo `json:"nets"`
	// Rows, Threads, MinReps and MinTimeS echo the configuration.
	Rows     int     `json:"rows"`
	Threads  int     `json:"threads"`
	MinReps  int     `json:"min_reps"`
	MinTimeS float64 `json:"min_time_s"`
	// Torch describes the reference run merged by AddTorch; nil without.
	Torch *TorchInfo `json:"torch,omitempty"`
	// Results are the measured cells: by device, then workload, then batch.
	Results []Result `json:"results"`
}

// Run measures every device, workload and batch size of cfg. A device that
// fails to open or to evaluate stops the run with an error naming it.
func Run(cfg Config) (*Report, error) {
	cfg.defaults()
	if err := cfg.Nets.check(); err != nil {
		return nil, err
	}
	for _, b := range cfg.Batches {
		if b <= 0 {
			return nil, fmt.Errorf("bench: batch size %d: batch sizes must be positive", b)
		}
	}
	for _, w := range cfg.Workloads {
		if !w.valid() {
			return nil, fmt.Errorf("bench: unknown workload %q (want actor, critic or q_full)", w)
		}
	}
	rep := &Report{
		Time:     time.Now().UTC(),
		Machine:  ThisMachine(),
		BLAS:     BLASName(),
		Rows:     cfg.Rows,
		Threads:  cfg.Threads,
		MinReps:  cfg.MinReps,
		MinTimeS: cfg.MinTime.Seconds(),
		Nets:     netsInfo(cfg.Source, cfg.Nets),
	}
	ceilThreads := []int{1, cfg.Threads}
	for _, dev := range cfg.Devices {
		d, err := runDevice(&cfg, dev, rep)
		if err != nil {
			return nil, err
		}
		if d.GPU == nil {
			ceilThreads = append(ceilThreads, d.Workers)
		}
	}
	if cfg.CeilingTime > 0 {
		slices.Sort(ceilThreads)
		for _, t := range slices.Compact(ceilThreads) {
			c, err := MeasureSGEMMCeiling(t, cfg.CeilingTime)
			if err != nil {
				return nil, err
			}
			rep.Ceilings = append(rep.Ceilings, c)
		}
	}
	rep.shareOfCeiling()
	return rep, nil
}

func netsInfo(source string, n Nets) NetsInfo {
	info := NetsInfo{Source: source, Actor: widthsString(n.Actor), Critic: widthsString(n.Critic1),
		Critics: 1, FLOPsPerRow: map[Workload]int64{}}
	if n.Critic2 != nil {
		info.Critics = 2
	}
	for _, w := range Workloads {
		info.FLOPsPerRow[w] = n.FLOPsPerRow(w)
	}
	return info
}

// shareOfCeiling sets CeilingShare on every CPU result whose thread count
// has a measured ceiling.
func (r *Report) shareOfCeiling() {
	// Threads of each CPU device; GPUs have no CPU ceiling to compare with.
	cpuThreads := map[string]int{}
	for _, d := range r.Devices {
		if d.GPU == nil {
			cpuThreads[d.Device] = d.Workers
		}
	}
	if r.Torch != nil {
		cpuThreads[TorchDevice] = r.Torch.Threads
	}
	for i := range r.Results {
		res := &r.Results[i]
		res.CeilingShare = nil
		threads, ok := cpuThreads[res.Device]
		if !ok {
			continue
		}
		if c, ok := r.ceiling(threads); ok {
			res.CeilingShare = ptr(res.GFLOPS / c.GFLOPS)
		}
	}
}

// ceiling returns the ceiling measured at threads.
func (r *Report) ceiling(threads int) (Ceiling, bool) {
	for _, c := range r.Ceilings {
		if c.Threads == threads && c.GFLOPS > 0 {
			return c, true
		}
	}
	return Ceiling{}, false
}

func ptr(v float64) *float64 { return &v }

// runDevice opens one device, measures all its cells into rep and closes it.
func runDevice(cfg *Config, dev string, rep *Report) (d Device, err error) {
	b, err := cfg.Open(dev)
	if err != nil {
		return d, fmt.Errorf("bench: open device %q: %w", dev, err)
	}
	defer func() {
		if cerr := b.Close(); cerr != nil && err == nil {
			err = fmt.Errorf("bench: close device %q: %w", dev, cerr)
		}
	}()
	d = Device{Device: dev, Name: b.Name(), Workers: 1}
	chunk := 0
	if p, ok := b.(graph.Preferences); ok {
		chunk, d.Workers = p.Preferred()
		d.Workers = max(d.Workers, 1)
	}
	if gi, ok := b.(graph.DeviceInfoer); ok {
		info := gi.DeviceInfo()
		d.GPU = &info
	}
	rep.Devices = append(rep.Devices, d)
	for _, w := range cfg.Workloads {
		for _, batch := range cfg.Batches {
			c := newCell(b, cfg.Nets, w, batch, chunk, d.Workers)
			res, err := c.measure(cfg)
			if err != nil {
				return d, fmt.Errorf("bench: device %q, %s, batch %d: %w", dev, w, batch, err)
			}
			res.Device = dev
			rep.Results = append(rep.Results, res)
			if cfg.Progress != nil {
				cfg.Progress(res)
			}
		}
	}
	return d, nil
}

// cell evaluates one workload at one batch size on one backend, a batch
// split into calls of at most perCall rows run by up to workers goroutines.
type cell struct {
	b       graph.Backend
	nets    Nets
	w       Workload
	batch   int
	perCall int
	workers int

	obs, act, act2   []float32
	q1, q2, q1p, q2p []float32
	od, ad           int
}

func newCell(b graph.Backend, nets Nets, w Workload, batch, chunk, workers int) *cell {
	c := &cell{b: b, nets: nets, w: w, batch: batch, workers: workers,
		od: nets.Actor.ObsDim, ad: nets.Actor.ActDim}
	c.perCall = batch
	if chunk > 0 {
		per := (batch + workers - 1) / workers
		c.perCall = min(chunk, max(minSplitRows, per), batch)
	}
	// Inputs like a replay buffer's: observations in [-1, 1], actions in
	// Pendulum's [-2, 2]. The values do not change the cost.
	rng := rand.New(rand.NewPCG(uint64(batch), 5))
	c.obs = make([]float32, batch*c.od)
	for i := range c.obs {
		c.obs[i] = float32(rng.Float64()*2 - 1)
	}
	c.act = make([]float32, batch*c.ad)
	for i := range c.act {
		c.act[i] = float32(rng.Float64()*4 - 2)
	}
	c.act2 = make([]float32, batch*c.ad)
	c.q1, c.q2 = make([]float32, batch), make([]float32, batch)
	c.q1p, c.q2p = make([]float32, batch), make([]float32, batch)
	return c
}

// call evaluates rows [s, s+n) of the batch.
func (c *cell) call(s, n int) error {
	obs, act := c.obs[s*c.od:(s+n)*c.od], c.act[s*c.ad:(s+n)*c.ad]
	q1, q2 := c.q1[s:s+n], c.q2[s:s+n]
	switch c.w {
	case WorkloadActor:
		return c.b.Policy(c.nets.Actor, obs, n, c.act2[s*c.ad:(s+n)*c.ad])
	case WorkloadCritic:
		return c.b.Q(c.nets.Critic1, nil, obs, act, n, q1, nil)
	default:
		if c.nets.Critic2 == nil {
			q2 = nil
		}
		if err := c.b.Q(c.nets.Critic1, c.nets.Critic2, obs, act, n, q1, q2); err != nil {
			return err
		}
		q1p, q2p := c.q1p[s:s+n], c.q2p[s:s+n]
		if c.nets.Critic2 == nil {
			q2p = nil
		}
		return c.b.QPolicy(c.nets.Actor, c.nets.Critic1, c.nets.Critic2, obs, n, c.act2[s*c.ad:(s+n)*c.ad], q1p, q2p)
	}
}

// do evaluates one batch.
func (c *cell) do() error {
	parts := (c.batch + c.perCall - 1) / c.perCall
	if parts == 1 {
		return c.call(0, c.batch)
	}
	var (
		next  atomic.Int64
		wg    sync.WaitGroup
		mu    sync.Mutex
		first error
	)
	work := func() {
		defer wg.Done()
		for {
			k := int(next.Add(1) - 1)
			if k >= parts {
				return
			}
			s := k * c.perCall
			if err := c.call(s, min(c.perCall, c.batch-s)); err != nil {
				mu.Lock()
				if first == nil {
					first = err
				}
				mu.Unlock()
				return
			}
		}
	}
	g := min(c.workers, parts)
	wg.Add(g)
	for range g - 1 {
		go work()
	}
	work()
	wg.Wait()
	return first
}

// measure warms the cell up, then times batches until the Config's limits.
func (c *cell) measure(cfg *Config) (Result, error) {
	res := Result{Workload: c.w, Batch: c.batch, FLOPsPerRow: c.nets.FLOPsPerRow(c.w)}
	t0 := time.Now()
	for i := 0; i < 2 || time.Since(t0) < cfg.Warmup; i++ {
		if err := c.do(); err != nil {
			return res, err
		}
	}
	ts, hasStats := c.b.(TransferStats)
	var s0 worker.Stats
	if hasStats {
		s0 = ts.Stats()
	}
	perPass := (cfg.Rows + c.batch - 1) / c.batch
	want := max(cfg.MinReps*perPass, minBatches)
	lat := make([]time.Duration, 0, min(want, 1<<20))
	start := time.Now()
	var elapsed time.Duration
	for {
		t := time.Now()
		if err := c.do(); err != nil {
			return res, err
		}
		now := time.Now()
		lat = append(lat, now.Sub(t))
		elapsed = now.Sub(start)
		if len(lat) >= want && elapsed >= cfg.MinTime {
			break
		}
		if len(lat) >= minBatches && elapsed >= cfg.MaxTime {
			break
		}
	}
	if elapsed <= 0 {
		return res, fmt.Errorf("timer did not advance over %d batches", len(lat))
	}
	n := float64(len(lat))
	res.Batches = len(lat)
	res.Seconds = elapsed.Seconds()
	res.RowsPerS = n * float64(c.batch) / res.Seconds
	slices.Sort(lat)
	res.LatencyMedianS = medianSorted(lat).Seconds()
	res.LatencyP95S = lat[(len(lat)*95+99)/100-1].Seconds()
	res.GFLOPS = res.RowsPerS * float64(res.FLOPsPerRow) / 1e9
	if hasStats {
		s1 := ts.Stats()
		res.HostToDeviceS = ptr((s1.HostToDevice - s0.HostToDevice).Seconds() / n)
		res.ComputeS = ptr((s1.Compute - s0.Compute).Seconds() / n)
		res.DeviceToHostS = ptr((s1.DeviceToHost - s0.DeviceToHost).Seconds() / n)
	}
	for _, v := range []float64{res.RowsPerS, res.LatencyMedianS, res.LatencyP95S, res.GFLOPS} {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return res, fmt.Errorf("measured a non-finite value (%v): timer trouble?", v)
		}
	}
	return res, nil
}

// medianSorted returns the median of sorted durations.
func medianSorted(d []time.Duration) time.Duration {
	n := len(d)
	if n == 0 {
		return 0
	}
	if n%2 == 1 {
		return d[n/2]
	}
	return (d[n/2-1] + d[n/2]) / 2
}

// medianDuration returns the median of d, which it sorts.
func medianDuration(d []time.Duration) time.Duration {
	slices.Sort(d)
	return medianSorted(d)
}
