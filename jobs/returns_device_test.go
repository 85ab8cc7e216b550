package jobs

import (
	"context"
	"errors"
	"math"
	"path/filepath"
	"testing"

	"github.com/rleval/rleval/envs"
	"github.com/rleval/rleval/graph"
	"github.com/rleval/rleval/internal/fixture"
	"github.com/rleval/rleval/internal/hostroll"
	"github.com/rleval/rleval/loaders"
)

// TestReturnsRollOutOnTheDeviceAsOnTheHost runs the returns job's
// rollouts on a backend that rolls out on its device (hostroll: the
// device's loop on the host, envs' code for its kernels) and with
// HostSteps on the same backend: the device path is taken when it can be,
// and gives the host path's value grid and episode returns bit for bit,
// with the progress Run reports.
func TestReturnsRollOutOnTheDeviceAsOnTheHost(t *testing.T) {
	for _, run := range []string{filepath.Join("runs", demoRun), filepath.Join("runs-rollout", "2026-09-01_10-00-00_mountaincar-pump")} {
		t.Run(filepath.Base(run), func(t *testing.T) {
			results := map[bool][]float64{}
			for _, host := range []bool{false, true} {
				opt := DefaultOptions()
				opt.Grid = 12
				opt.Returns = ReturnsOptions{Enabled: true, Episodes: 50, Horizon: 80, Seed: 2, HostSteps: host}
				c := returnsContext(t, fixture.Path(t, run), opt)
				dev := hostroll.New(graph.NewCPU(graph.Options{}))
				c.Engine = graph.NewEngine(dev, graph.Options{})
				var calls [][2]int
				c.Engine.Progress = func(done, total int) { calls = append(calls, [2]int{done, total}) }
				env := envOf(c)
				gamma, err := configGamma(c.Run.Dir)
				if err != nil {
					t.Fatal(err)
				}
				if _, err := gridValues(c, env, opt.Returns, gamma, &Output{}); err != nil {
					t.Fatal(err)
				}
				v32, _ := fixture.ReadNPY(t, filepath.Join(c.Out, "value_grid.npy"))
				ep, err := episodeReturns(c, env, opt.Returns)
				if err != nil {
					t.Fatal(err)
				}
				for _, v := range v32 {
					results[host] = append(results[host], float64(v))
				}
				results[host] = append(results[host], ep.returns...)
				if b := dev.Begun.Load(); host != (b == 0) || b != dev.Ended.Load() {
					t.Errorf("HostSteps %v: %d device rollouts begun, %d ended", host, b, dev.Ended.Load())
				}
				last := [2]int{}
				for _, p := range calls {
					if p[0] < last[0] && p[1] == last[1] || p[0] > p[1] {
						t.Errorf("progress %v after %v", p, last)
					}
					last = p
				}
				if last != [2]int{env.MaxSteps, env.MaxSteps} {
					t.Errorf("last progress %v, want the episodes' %d steps done", last, env.MaxSteps)
				}
			}
			dev, host := results[false], results[true]
			for i := range host {
				if math.Float64bits(dev[i]) != math.Float64bits(host[i]) {
					t.Fatalf("value %d: %v on the device, %v on the host", i, dev[i], host[i])
				}
			}
		})
	}
}

// TestDeviceRolloutStopsWhenCancelled cancels a device rollout after its
// first segment: the rollout ends with the context's error and frees the
// device's copy.
func TestDeviceRolloutStopsWhenCancelled(t *testing.T) {
	env := envs.Pendulum
	actor := graph.RandomNetwork(loaders.KindActor, []int{3, 8, 1}, 3, 1, 1)
	dev := hostroll.New(graph.NewCPU(graph.Options{}))
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	const n = 4096 // segments of maxSegment steps
	calls := 0
	progress := func(done, total int) {
		calls++
		cancel()
	}
	_, err := deviceRollout(ctx, dev, env, []*loaders.Network{actor}, env.ResetStates(1, n), n, 1000, 0.99, progress)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("deviceRollout = %v, want the cancellation", err)
	}
	if calls != 1 || dev.Begun.Load() != 1 || dev.Ended.Load() != 1 {
		t.Errorf("%d progress calls, %d rollouts begun, %d ended; want 1 each", calls, dev.Begun.Load(), dev.Ended.Load())
	}
}
