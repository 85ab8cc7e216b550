package envs

import (
	"bytes"
	"context"
	"encoding/binary"
	"math"
	"math/rand/v2"
	"os/exec"
	"testing"

	"github.com/rleval/rleval/internal/cxxtest"
)

// The device kernels of each environment (Env.Device) are checked here
// against the Go code they copy: graph/cuda/kernels.cu compiled as C++ on
// the host (graph/cuda/testdata/envs_host.cpp runs them). The host's libm
// computes sin and cos where the device uses CUDA's (within 2 ulp) and Go
// its own (within 1 ulp), so results may differ by an ulp or so of a sine
// carried through a step: 1e-12 relative bounds that with room, and an
// observation may differ by one float32 ulp when that ulp decides its
// rounding. Everything else is the same float64 arithmetic, operation by
// operation, so it agrees to the bit unless a sine did not.

// harnessEnv is the environment index envs_host.cpp knows an Env by.
var harnessEnv = map[string]int64{"pendulum": 0, "mountaincar_continuous": 1}

// buildHarness compiles envs_host.cpp (cxxtest.Build), with
// -ffp-contract=off: no fused multiply-adds, as on the device (kernels.cu
// rounds each operation) and in Go on amd64.
func buildHarness(t *testing.T) string {
	t.Helper()
	return cxxtest.Build(t, "../graph/cuda/testdata/envs_host.cpp", "-ffp-contract=off")
}

// runHarness sends the request built by put and returns the answer.
func runHarness(t *testing.T, bin string, put func(w *bytes.Buffer)) *bytes.Reader {
	t.Helper()
	var in bytes.Buffer
	put(&in)
	cmd := exec.Command(bin)
	cmd.Stdin = &in
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("host harness: %v: %s", err, stderr.String())
	}
	return bytes.NewReader(out)
}

func put(w *bytes.Buffer, vs ...any) {
	for _, v := range vs {
		if err := binary.Write(w, binary.LittleEndian, v); err != nil {
			panic(err)
		}
	}
}

func get[T any](t *testing.T, r *bytes.Reader, n int) []T {
	t.Helper()
	v := make([]T, n)
	if err := binary.Read(r, binary.LittleEndian, v); err != nil {
		t.Fatalf("read the harness's answer: %v", err)
	}
	return v
}

// deviceStates returns n states of e, with actions, that reach every
// branch of its step: for the pendulum angles far outside ±π (the angle
// wraps), speeds at and beyond ±8 under strong torque (the speed clips)
// and actions beyond ±2 (the torque clips); for the mountain car positions
// at both walls (the left one stops the car), at and past the goal, speeds
// at ±0.07, float32 and float64 positions (3x rounds only for the first),
// actions beyond ±1.
func deviceStates(e *Env, n int, seed uint64) ([]float64, []float32) {
	rng := rand.New(rand.NewPCG(seed, 5))
	u := func(lo, hi float64) float64 { return lo + (hi-lo)*rng.Float64() }
	s, a := make([]float64, 2*n), make([]float32, n)
	for i := range n {
		switch e.Device {
		case "pendulum":
			s[2*i], s[2*i+1] = u(-30, 30), u(-9, 9)
			if i%5 == 0 {
				s[2*i+1] = math.Copysign(8, s[2*i+1]) - u(0, 0.1)*math.Copysign(1, s[2*i+1])
			}
			a[i] = float32(u(-3, 3))
		case "mountaincar_continuous":
			s[2*i], s[2*i+1] = u(-1.25, 0.65), u(-0.075, 0.075)
			switch i % 4 {
			case 0:
				s[2*i] = float64(float32(s[2*i])) // a stored float32 state
			case 1:
				s[2*i], s[2*i+1] = u(0.4, 0.6), u(0, 0.07) // at the goal
			case 2:
				s[2*i], s[2*i+1] = u(-1.2, -1.15), u(-0.07, 0) // at the left wall
			case 3:
				s[2*i+1] = math.Copysign(u(0.0695, 0.075), s[2*i+1]) // at the speed limit
			}
			a[i] = float32(u(-2, 2))
		}
	}
	return s, a
}

// TestDeviceStepKernelsAreEnvsStep compares each environment's
// observation and step kernels with Obs and Step on a few thousand states.
func TestDeviceStepKernelsAreEnvsStep(t *testing.T) {
	bin := buildHarness(t)
	for _, e := range []*Env{Pendulum, MountainCarContinuous} {
		t.Run(e.Name, func(t *testing.T) {
			const n = 4000
			s, a := deviceStates(e, n, 1)
			alive := make([]int32, n)
			for i := range alive {
				alive[i] = int32(i%7&1 ^ 1) // most alive; dead states are not stepped
			}
			r := runHarness(t, bin, func(w *bytes.Buffer) { put(w, int64(1), harnessEnv[e.Device], int64(n), s, a, alive) })
			gotObs, gotS := get[float32](t, r, n*e.ObsDim), get[float64](t, r, 2*n)
			gotRew, gotDone := get[float64](t, r, n), get[int32](t, r, n)

			wantObs := make([]float32, n*e.ObsDim)
			e.Obs(s, n, wantObs)
			wantS := append([]float64(nil), s...)
			wantRew, wantDone := make([]float64, n), make([]bool, n)
			for i := range n {
				if alive[i] != 0 {
					e.Step(wantS[2*i:2*i+2], a[i:i+1], 1, wantRew[i:i+1], wantDone[i:i+1])
				}
			}
			bad, clipped, wrapped, goal, inexact := 0, 0, 0, 0, 0
			for i := range n {
				for j := range e.ObsDim {
					g, w := gotObs[i*e.ObsDim+j], wantObs[i*e.ObsDim+j]
					if g != w && math.Abs(float64(g-w)) > ulp32(w) {
						t.Errorf("state %d (%v): obs[%d] = %v, Obs gives %v", i, s[2*i:2*i+2], j, g, w)
						bad++
					}
				}
				if alive[i] == 0 {
					if gotS[2*i] != s[2*i] || gotS[2*i+1] != s[2*i+1] || gotDone[i] != 0 {
						t.Errorf("dead state %d was stepped", i)
						bad++
					}
					continue
				}
				if !near12(gotS[2*i], wantS[2*i]) || !near12(gotS[2*i+1], wantS[2*i+1]) || !near12(gotRew[i], wantRew[i]) || (gotDone[i] != 0) != wantDone[i] {
					t.Errorf("state %v action %v: kernel gives %v reward %.17g done %d, Step %v reward %.17g done %v",
						s[2*i:2*i+2], a[i], gotS[2*i:2*i+2], gotRew[i], gotDone[i], wantS[2*i:2*i+2], wantRew[i], wantDone[i])
					bad++
				}
				if gotS[2*i] != wantS[2*i] || gotS[2*i+1] != wantS[2*i+1] || gotRew[i] != wantRew[i] {
					inexact++
				}
				switch {
				case math.Abs(wantS[2*i+1]) == 8 || math.Abs(wantS[2*i+1]) == float64(float32(0.07)):
					clipped++
				case e == Pendulum && math.Abs(s[2*i]) > 3*math.Pi:
					wrapped++
				}
				if wantDone[i] {
					goal++
				}
				if bad > 10 {
					t.Fatal("more than 10 mismatches")
				}
			}
			t.Logf("%d of %d steps differ from Step's bits (a sine's ulp)", inexact, n)
			// The states reach the branches they are drawn for.
			if clipped < n/20 || e == Pendulum && wrapped < n/4 || e == MountainCarContinuous && goal < n/20 {
				t.Errorf("of %d states, %d speeds clipped, %d angles wrapped, %d reached the goal: the test misses branches", n, clipped, wrapped, goal)
			}
		})
	}
}

func near12(got, want float64) bool {
	return got == want || math.Abs(got-want) <= 1e-12*math.Max(1, math.Abs(want))
}

// ulp32 is the float32 spacing at w.
func ulp32(w float32) float64 {
	return float64(math.Nextafter32(float32(math.Abs(float64(w))), float32(math.Inf(1))) - float32(math.Abs(float64(w))))
}

// TestDeviceAccumulateKernel checks rollout_accumulate and count_alive: a
// live state adds disc·reward and one step, a done one is retired as
// terminated, a dead one is left alone, and the count is the live states
// left.
func TestDeviceAccumulateKernel(t *testing.T) {
	bin := buildHarness(t)
	ret := []float64{1, 2, 3, 4}
	steps := []int32{5, 5, 2, 0}
	alive := []int32{1, 1, 0, 1}
	term := []int32{0, 0, 1, 0}
	rew := []float64{-0.5, 100, 7, 0.25}
	done := []int32{0, 1, 1, 0}
	const disc = 0.9 * 0.9
	r := runHarness(t, bin, func(w *bytes.Buffer) { put(w, int64(2), int64(0), int64(4), disc, ret, steps, alive, term, rew, done) })
	gotRet, gotSteps := get[float64](t, r, 4), get[int32](t, r, 4)
	gotAlive, gotTerm, live := get[int32](t, r, 4), get[int32](t, r, 4), get[uint64](t, r, 1)
	wantRet := []float64{1 + disc*-0.5, 2 + disc*100, 3, 4 + disc*0.25}
	for i, c := range []struct {
		steps, alive, term int32
	}{{6, 1, 0}, {6, 0, 1}, {2, 0, 1}, {1, 1, 0}} {
		if gotRet[i] != wantRet[i] || gotSteps[i] != c.steps || gotAlive[i] != c.alive || gotTerm[i] != c.term {
			t.Errorf("state %d: return %v steps %d alive %d term %d, want %v %d %d %d", i, gotRet[i], gotSteps[i], gotAlive[i], gotTerm[i], wantRet[i], c.steps, c.alive, c.term)
		}
	}
	if live[0] != 2 {
		t.Errorf("count_alive = %d, want 2", live[0])
	}
}

// tanhActor is envs_host.cpp's policy: a one-hidden-layer tanh MLP in
// float64, its action rounded to float32.
type tanhActor struct {
	w1, b1, w2 []float64
	b2, bound  float64
}

func newTanhActor(e *Env, h int, seed uint64) *tanhActor {
	rng := rand.New(rand.NewPCG(seed, 9))
	r := func(n int, scale float64) []float64 {
		v := make([]float64, n)
		for i := range v {
			v[i] = (2*rng.Float64() - 1) * scale
		}
		return v
	}
	bound := 2.0
	if e == MountainCarContinuous {
		bound = 1
	}
	return &tanhActor{w1: r(h*e.ObsDim, 2), b1: r(h, 1), w2: r(h, 1), b2: 0.1, bound: bound}
}

func (p *tanhActor) policy(od int) Policy {
	return func(obs []float32, n int, act []float32) error {
		h := len(p.b1)
		for i := range n {
			y := p.b2
			for j := range h {
				z := p.b1[j]
				for k := range od {
					z += p.w1[j*od+k] * float64(obs[i*od+k])
				}
				y += p.w2[j] * math.Tanh(z)
			}
			act[i] = float32(p.bound * math.Tanh(y))
		}
		return nil
	}
}

// TestDeviceRolloutLoopIsRun runs the device's rollout loop on the host
// (envs_host.cpp mode 3: the kernels in the order graph/cuda's runSegment
// launches them, segments ending in count_alive) and compares it with Run
// on the same policy: the steps and terminations exactly, the discounted
// returns within 1e-9 relative (an ulp of a sine, grown by the dynamics
// over the horizon: the pendulum is chaotic near its separatrix, so a few
// states may move more; at most 1 % may).
func TestDeviceRolloutLoopIsRun(t *testing.T) {
	bin := buildHarness(t)
	for _, c := range []struct {
		e            *Env
		horizon, seg int
		gamma        float64
	}{{Pendulum, 120, 16, 0.99}, {MountainCarContinuous, 300, 7, 0.999}} {
		t.Run(c.e.Name, func(t *testing.T) {
			const n, h = 1500, 8
			e := c.e
			var s []float64
			if e == Pendulum {
				s, _ = deviceStates(e, n, 2)
			} else { // from the reset distribution and anywhere on the track
				s = e.ResetStates(3, n)
				for i := n / 2; i < n; i++ {
					s[2*i], s[2*i+1] = -1.2+1.8*float64(i-n/2)/float64(n/2), 0.07*math.Sin(float64(i))
				}
			}
			p := newTanhActor(e, h, 4)
			r := runHarness(t, bin, func(w *bytes.Buffer) {
				put(w, int64(3), harnessEnv[e.Device], int64(n), int64(c.horizon), int64(c.seg), c.gamma, int64(h), p.w1, p.b1, p.w2, p.b2, p.bound, s)
			})
			gotRet, gotSteps, gotTerm := get[float64](t, r, n), get[int32](t, r, n), get[int32](t, r, n)
			want, err := e.Run(context.Background(), p.policy(e.ObsDim), s, n, Rollout{Steps: c.horizon, Gamma: c.gamma, Chunk: 64})
			if err != nil {
				t.Fatal(err)
			}
			off, terminated := 0, 0
			for i := range n {
				if gotSteps[i] != want.Steps[i] || (gotTerm[i] != 0) != want.Terminated[i] ||
					math.Abs(gotRet[i]-want.Return[i]) > 1e-9*math.Max(1, math.Abs(want.Return[i])) {
					off++
					if off <= 5 {
						t.Logf("state %d: device loop %.17g over %d steps (terminated %d), Run %.17g over %d (%v)",
							i, gotRet[i], gotSteps[i], gotTerm[i], want.Return[i], want.Steps[i], want.Terminated[i])
					}
				}
				if want.Terminated[i] {
					terminated++
				}
			}
			t.Logf("%d of %d states apart from Run, %d terminated", off, n, terminated)
			if off > n/100 {
				t.Errorf("%d of %d states differ from Run", off, n)
			}
			if e == MountainCarContinuous && (terminated < n/20 || terminated > n-n/20) {
				t.Errorf("%d of %d rollouts terminated: the test should see both", terminated, n)
			}
		})
	}
}
