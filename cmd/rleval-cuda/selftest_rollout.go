//go:build rlcuda

package main

import (
	"context"
	"fmt"
	"io"
	"math"
	"time"

	"github.com/rleval/rleval/envs"
	"github.com/rleval/rleval/graph"
	"github.com/rleval/rleval/graph/cuda"
	"github.com/rleval/rleval/loaders"
)

// rolloutSelftest rolls random actors out on the device, with the
// environment kernels (graph.Roller), one actor and a stack of four, and
// compares every state with envs.Env.Run of the same actor on the CPU: the
// returns within 1e-4 relative and the steps and terminations equal on
// ≥ 99 % of the states (the device's float32 GEMM rounds the actions
// otherwise than the CPU's, and the pendulum is chaotic near its
// separatrix: a few states may part ways, as the returns job's reference
// test allows). It then times a 512² pendulum grid × 1000 steps of a
// 256×256 actor, the benchmark, on the device alone.
func rolloutSelftest(dev *cuda.Device, w io.Writer) bool {
	ok := true
	cpu := graph.NewCPU(graph.Options{})
	for _, env := range []*envs.Env{envs.Pendulum, envs.MountainCarContinuous} {
		for _, k := range []int{1, 4} {
			const n, horizon, gamma = 4096, 300, 0.99
			var actors []*loaders.Network
			for j := range k {
				a := graph.RandomNetwork(loaders.KindActor, []int{env.ObsDim, 64, 64, env.ActDim}, env.ObsDim, env.ActDim, uint64(11*j+k))
				actors = append(actors, a)
			}
			states := env.ResetStates(uint64(k), k*n)
			if env == envs.MountainCarContinuous { // half near the goal: some rollouts terminate
				for i := 0; i < k*n; i += 2 {
					states[2*i], states[2*i+1] = 0.2+0.3*float64(i%97)/96, 0.04
				}
			}
			got, err := deviceRollout(dev, env, actors, states, n, horizon, gamma)
			if err != nil {
				fmt.Fprintf(w, "  rollout %s ×%d: FAIL: %v\n", env.Name, k, err)
				ok = false
				continue
			}
			off, term, worst := 0, 0, 0.0
			for j, a := range actors {
				pol := func(obs []float32, m int, act []float32) error { return cpu.Policy(a, obs, m, act) }
				want, err := env.Run(context.Background(), pol, states[j*n*env.StateDim:(j+1)*n*env.StateDim], n, envs.Rollout{Steps: horizon, Gamma: gamma})
				if err != nil {
					fmt.Fprintf(w, "  rollout %s ×%d: FAIL: cpu: %v\n", env.Name, k, err)
					return false
				}
				for i := range n {
					g := j*n + i
					d := math.Abs(got.Return[g]-want.Return[i]) / math.Max(math.Abs(want.Return[i]), 1e-2)
					worst = math.Max(worst, d)
					if d > 1e-4 || got.Steps[g] != want.Steps[i] || got.Terminated[g] != want.Terminated[i] {
						off++
					}
					if want.Terminated[i] {
						term++
					}
				}
			}
			good := off <= k*n/100
			fmt.Fprintf(w, "  rollout %s, %d actor(s) × %d states × %d steps, device kernels vs envs.Run on the cpu: %s, %d states apart (1e-4 relative, steps, termination), %d terminated, worst relative |d| %.3g\n",
				env.Name, k, n, horizon, okWord(good), off, term, worst)
			ok = ok && good
		}
	}
	return timeRollout(dev, w) && ok
}

// deviceRollout runs a whole rollout on the device in segments of 50
// steps.
func deviceRollout(dev *cuda.Device, env *envs.Env, actors []*loaders.Network, states []float64, n, horizon int, gamma float64) (*graph.RolloutResult, error) {
	r, err := dev.BeginRollout(graph.RolloutRequest{Env: env.Device, Actors: actors, States: states, N: n, Gamma: gamma})
	if err != nil {
		return nil, err
	}
	for t := 0; t < horizon; t += 50 {
		live, err := r.Step(min(50, horizon-t))
		if err != nil {
			r.End(nil)
			return nil, err
		}
		if live == 0 {
			break
		}
	}
	m := len(actors) * n
	res := &graph.RolloutResult{Return: make([]float64, m), Steps: make([]int32, m), Terminated: make([]bool, m)}
	return res, r.End(res)
}

// timeRollout times the benchmark on the device: a 512² grid of
// pendulum states × 1000 steps of a 256×256 actor.
func timeRollout(dev *cuda.Device, w io.Writer) bool {
	const side, horizon = 512, 1000
	env := envs.Pendulum
	actor := graph.RandomNetwork(loaders.KindActor, []int{3, 256, 256, 1}, 3, 1, 5)
	s := make([]float64, 0, 2*side*side)
	for i := range side * side {
		s = append(s, -math.Pi+2*math.Pi*float64(i%side)/(side-1), -8+16*float64(i/side)/(side-1))
	}
	if _, err := deviceRollout(dev, env, []*loaders.Network{actor}, s, side*side, 2, 0.99); err != nil { // warm
		fmt.Fprintf(w, "  rollout timing: FAIL: %v\n", err)
		return false
	}
	t0 := time.Now()
	res, err := deviceRollout(dev, env, []*loaders.Network{actor}, s, side*side, horizon, 0.99)
	el := time.Since(t0)
	if err != nil {
		fmt.Fprintf(w, "  rollout timing: FAIL: %v\n", err)
		return false
	}
	fmt.Fprintf(w, "  rollout timing: %d² pendulum states × %d steps of a 256×256 actor on the device: %.3fs, %.4g state-steps/s (return[0] %.6g)\n",
		side, horizon, el.Seconds(), float64(side*side*horizon)/el.Seconds(), res.Return[0])
	return true
}
