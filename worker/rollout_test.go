package worker

import (
	"context"
	"fmt"
	"math"
	"strings"
	"testing"

	"github.com/rleval/rleval/envs"
	"github.com/rleval/rleval/graph"
	"github.com/rleval/rleval/internal/hostroll"
	"github.com/rleval/rleval/loaders"
)

// rollActors returns k random actors of env's sizes, one architecture.
func rollActors(env *envs.Env, k int, seed uint64) []*loaders.Network {
	var a []*loaders.Network
	for j := range k {
		a = append(a, graph.RandomNetwork(loaders.KindActor, []int{env.ObsDim, 16, 16, env.ActDim}, env.ObsDim, env.ActDim, seed+uint64(j)))
	}
	return a
}

// rollStates returns k blocks of n states of env: reset states, and for the
// mountain car some near the goal, so that rollouts terminate.
func rollStates(env *envs.Env, k, n int) []float64 {
	s := env.ResetStates(7, k*n)
	if env == envs.MountainCarContinuous {
		for i := 0; i < k*n; i += 3 {
			s[2*i], s[2*i+1] = 0.3+0.15*float64(i%5)/4, 0.05
		}
	}
	return s
}

// rollAll rolls req out on rem for horizon steps, seg steps a segment,
// and returns the results of its k×N states.
func rollAll(t *testing.T, rem graph.Roller, req graph.RolloutRequest, horizon, seg int) graph.RolloutResult {
	t.Helper()
	r, err := rem.BeginRollout(req)
	if err != nil {
		t.Fatal(err)
	}
	for done := 0; done < horizon; done += seg {
		if _, err := r.Step(min(seg, horizon-done)); err != nil {
			t.Fatal(err)
		}
	}
	m := len(req.Actors) * req.N
	got := graph.RolloutResult{Return: make([]float64, m), Steps: make([]int32, m), Terminated: make([]bool, m)}
	if err := r.End(&got); err != nil {
		t.Fatal(err)
	}
	return got
}

// runEach rolls each actor out from its block of n states with
// envs.Env.Run on cpu, the results of the k blocks one after another.
func runEach(t *testing.T, cpu graph.Backend, env *envs.Env, actors []*loaders.Network, states []float64, n, horizon int, gamma float64) *envs.Result {
	t.Helper()
	all := &envs.Result{}
	for j, a := range actors {
		pol := func(obs []float32, m int, act []float32) error { return cpu.Policy(a, obs, m, act) }
		r, err := env.Run(context.Background(), pol, states[j*n*env.StateDim:(j+1)*n*env.StateDim], n, envs.Rollout{Steps: horizon, Gamma: gamma})
		if err != nil {
			t.Fatal(err)
		}
		all.Return = append(all.Return, r.Return...)
		all.Steps = append(all.Steps, r.Steps...)
		all.Terminated = append(all.Terminated, r.Terminated...)
	}
	return all
}

// TestRemoteRolloutMatchesRun rolls stacks of actors out over the
// protocol, in parts of a few rows and segments of steps, on the host
// stand-in of the device (hostroll), and compares every state's result
// with envs.Env.Run of its own actor on the CPU: bit for bit, as both step
// with envs' code and the CPU plan's actions do not depend on chunking
// (within ANALYSES.md's tolerance on OpenBLAS builds, whose rounding does).
func TestRemoteRolloutMatchesRun(t *testing.T) {
	for _, env := range []*envs.Env{envs.Pendulum, envs.MountainCarContinuous} {
		for _, chunk := range []int{0, 7} {
			t.Run(fmt.Sprintf("%s/chunk%d", env.Name, chunk), func(t *testing.T) {
				const k, n, horizon, seg, gamma = 3, 40, 60, 9, 0.97
				actors := rollActors(env, k, 10)
				states := rollStates(env, k, n)
				srv := hostroll.New(graph.NewCPU(graph.Options{}))
				rem := pipeRemote(t, srv, Options{MaxChunkRows: chunk})
				got := rollAll(t, rem, graph.RolloutRequest{Env: env.Device, Actors: actors, States: states, N: n, Gamma: gamma}, horizon, seg)
				cpu := graph.NewCPU(graph.Options{})
				want := runEach(t, cpu, env, actors, states, n, horizon, gamma)
				terminated := 0
				for g := range k * n {
					same := math.Float64bits(got.Return[g]) == math.Float64bits(want.Return[g])
					if !graph.BitReproducible { // OpenBLAS rounds a row by its place in a tile: ANALYSES.md's tolerance
						same = math.Abs(got.Return[g]-want.Return[g]) <= 1e-4*math.Abs(want.Return[g])
					}
					if !same || got.Steps[g] != want.Steps[g] || got.Terminated[g] != want.Terminated[g] {
						t.Errorf("actor %d state %d: %v over %d steps (%v), Run %v over %d (%v)", g/n, g%n, got.Return[g], got.Steps[g], got.Terminated[g], want.Return[g], want.Steps[g], want.Terminated[g])
					}
					if want.Terminated[g] {
						terminated++
					}
				}
				if env == envs.MountainCarContinuous && terminated == 0 {
					t.Error("no mountain-car rollout terminated: the test misses retirement")
				}
				parts := 1
				if chunk > 0 {
					parts = (n + chunk - 1) / chunk
				}
				if b, e := srv.Begun.Load(), srv.Ended.Load(); b != int32(parts) || e != int32(parts) {
					t.Errorf("the worker began %d rollouts and ended %d, want %d parts each", b, e, parts)
				}
			})
		}
	}
}

// TestRemoteRolloutStopsMidway ends a rollout after one segment without
// its results, as a cancelled job does: the worker frees every part and
// the Remote goes on serving.
func TestRemoteRolloutStopsMidway(t *testing.T) {
	env := envs.Pendulum
	actors := rollActors(env, 2, 3)
	srv := hostroll.New(graph.NewCPU(graph.Options{}))
	rem := pipeRemote(t, srv, Options{MaxChunkRows: 5})
	r, err := rem.BeginRollout(graph.RolloutRequest{Env: env.Device, Actors: actors, States: rollStates(env, 2, 12), N: 12, Gamma: 0.99})
	if err != nil {
		t.Fatal(err)
	}
	live, err := r.Step(4)
	if err != nil || live != 24 {
		t.Fatalf("Step = %d, %v; want every one of 24 pendulum states live", live, err)
	}
	if err := r.End(nil); err != nil {
		t.Fatal(err)
	}
	if b, e := srv.Begun.Load(), srv.Ended.Load(); b != 3 || e != 3 {
		t.Errorf("the worker began %d rollouts and ended %d, want 3 parts each", b, e)
	}
	if _, err := r.Step(1); err == nil {
		t.Error("a rollout stepped after End")
	}
	if err := r.End(nil); err == nil {
		t.Error("a rollout ended twice")
	}
	act := make([]float32, 1)
	if err := rem.Policy(actors[0], make([]float32, 3), 1, act); err != nil {
		t.Errorf("Policy after a stopped rollout: %v", err)
	}
}

// TestRemoteRolloutErrorsAreClean checks that a rollout the worker cannot
// run is an error naming why, and that the Remote stays usable.
func TestRemoteRolloutErrorsAreClean(t *testing.T) {
	actors := rollActors(envs.Pendulum, 1, 5)
	states := rollStates(envs.Pendulum, 1, 4)
	for _, c := range []struct {
		name string
		b    graph.Backend
		req  graph.RolloutRequest
		want string
	}{
		{"unknown environment", hostroll.New(graph.NewCPU(graph.Options{})),
			graph.RolloutRequest{Env: "CartPole", Actors: actors, States: states, N: 4}, `no device kernels for environment "CartPole"`},
		{"actor of other sizes", hostroll.New(graph.NewCPU(graph.Options{})),
			graph.RolloutRequest{Env: envs.MountainCarContinuous.Device, Actors: actors, States: states, N: 4}, "does not fit"},
		{"a backend without rollouts", graph.NewCPU(graph.Options{}),
			graph.RolloutRequest{Env: envs.Pendulum.Device, Actors: actors, States: states, N: 4}, "rolls out no environments"},
	} {
		t.Run(c.name, func(t *testing.T) {
			rem := pipeRemote(t, c.b, Options{})
			if _, err := rem.BeginRollout(c.req); err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("BeginRollout = %v, want an error saying %q", err, c.want)
			}
			if err := rem.Policy(actors[0], make([]float32, 3), 1, make([]float32, 1)); err != nil {
				t.Errorf("Policy after the failed rollout: %v", err)
			}
		})
	}
	rem := pipeRemote(t, graph.NewCPU(graph.Options{}), Options{})
	if _, err := rem.BeginRollout(graph.RolloutRequest{Env: "pendulum", Actors: actors, States: states[:7], N: 4}); err == nil || !strings.Contains(err.Error(), "7 state values") {
		t.Errorf("BeginRollout of 7 values for 4 states = %v", err)
	}
}

// TestServeWireChecksRolloutRequests sends malformed rollout frames.
func TestServeWireChecksRolloutRequests(t *testing.T) {
	actor := rollActors(envs.Pendulum, 1, 1)[0]
	for _, c := range []struct {
		name string
		op   wireOp
		fill func(e *wireEnc)
		want string
	}{
		{"step of no rollout", opRollStep, func(e *wireEnc) { e.u32(3); e.u32(1) }, "no rollout 3 under way"},
		{"end of no rollout", opRollEnd, func(e *wireEnc) { e.u32(1); e.u32(1) }, "no rollout 1 under way"},
		{"no actors", opRollBegin, func(e *wireEnc) { e.str("pendulum"); e.u32(0) }, "0 actors"},
		{"unknown actor", opRollBegin, func(e *wireEnc) { e.str("pendulum"); e.u32(1); e.u32(9) }, "no network loaded with id 9"},
		{"partial double", opRollBegin, func(e *wireEnc) {
			e.str("pendulum")
			e.u32(1)
			e.u32(1)
			e.u32(1)
			e.u64(0)
			e.u32(0)
		}, "not whole doubles"},
		{"CPU backend", opRollBegin, func(e *wireEnc) {
			e.str("pendulum")
			e.u32(1)
			e.u32(1)
			e.u32(1)
			e.u64(0)
			e.f64s([]float64{0, 0})
		}, "rolls out no environments"},
	} {
		t.Run(c.name, func(t *testing.T) {
			var b graph.Backend = hostroll.New(graph.NewCPU(graph.Options{}))
			if c.name == "CPU backend" {
				b = graph.NewCPU(graph.Options{})
			}
			ops, msgs, err := repliesOf(t, b, append(loadFrame(1, actor), frame(c.op, c.fill)...))
			if err != nil || len(ops) != 2 {
				t.Fatalf("Serve = %v with %d replies, want nil and 2", err, len(ops))
			}
			if ops[1] != opError || !strings.Contains(msgs[1], c.want) {
				t.Errorf("reply %v %q, want an error saying %q", ops[1], msgs[1], c.want)
			}
		})
	}
}

// TestCUDAWorkerRollsOutAsRun rolls stacks of actors out with the CUDA
// worker's environment kernels, in parts and segments, against envs.Env.Run
// of each actor on the CPU: the steps and terminations equal and the
// returns within 1e-4 relative on ≥ 99 % of the states (the GPU's GEMM
// rounds the actions otherwise, and the pendulum is chaotic near its
// separatrix). It needs a GPU (skipped without one).
func TestCUDAWorkerRollsOutAsRun(t *testing.T) {
	rem := cudaRemote(t, Options{MaxChunkRows: 300})
	cpu := graph.NewCPU(graph.Options{})
	for _, env := range []*envs.Env{envs.Pendulum, envs.MountainCarContinuous} {
		for _, k := range []int{1, 3} {
			const n, horizon, seg, gamma = 1000, 200, 32, 0.99
			actors := rollActors(env, k, uint64(20+k))
			states := rollStates(env, k, n)
			got := rollAll(t, rem, graph.RolloutRequest{Env: env.Device, Actors: actors, States: states, N: n, Gamma: gamma}, horizon, seg)
			want := runEach(t, cpu, env, actors, states, n, horizon, gamma)
			off := 0
			for g := range k * n {
				if got.Steps[g] != want.Steps[g] || got.Terminated[g] != want.Terminated[g] ||
					math.Abs(got.Return[g]-want.Return[g]) > 1e-4*math.Max(math.Abs(want.Return[g]), 1e-2) {
					off++
				}
			}
			t.Logf("%s, %d actors: %d of %d states apart from Run", env.Name, k, off, k*n)
			if off > k*n/100 {
				t.Errorf("%s, %d actors: %d of %d states apart from Run", env.Name, k, off, k*n)
			}
		}
	}
}
