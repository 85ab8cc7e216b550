package bench

import (
	"errors"
	"fmt"

	"github.com/rleval/rleval/graph"
	"github.com/rleval/rleval/loaders"
)

// Nets are the networks a benchmark evaluates: a run's own or Synthetic ones.
// Critic2 may be nil; the full Q workload then makes two critic passes
// instead of four.
type Nets struct {
	Actor, Critic1, Critic2 *loaders.Network
}

// RunNets returns a loaded run's actor and critics for a benchmark; it
// needs the actor and critic1 (critic2 may be absent) and names the run
// and the load errors otherwise.
func RunNets(r *loaders.Run) (Nets, error) {
	n := Nets{Actor: r.Net(loaders.RoleActor), Critic1: r.Net(loaders.RoleCritic1), Critic2: r.Net(loaders.RoleCritic2)}
	if n.Actor == nil || n.Critic1 == nil {
		return Nets{}, fmt.Errorf("%s: bench needs the actor and critic1: %w", r.Dir, errors.Join(r.Nets[loaders.RoleActor].Err, r.Nets[loaders.RoleCritic1].Err))
	}
	return n, nil
}

// Synthetic returns an actor obsDim→hidden…→actDim and two critics
// (obsDim+actDim)→hidden…→1 with ReLU between layers and weights and biases
// drawn like torch's default Linear init, U(-1/√fan_in, 1/√fan_in). The
// actor's bounds are Pendulum's, [-2, 2]. The same seed gives the same
// networks; the three networks use seed, seed+1 and seed+2.
func Synthetic(obsDim, actDim int, hidden []int, seed int64) (actor, critic1, critic2 *loaders.Network) {
	aw := append(append([]int{obsDim}, hidden...), actDim)
	cw := append(append([]int{obsDim + actDim}, hidden...), 1)
	actor = graph.RandomNetwork(loaders.KindActor, aw, obsDim, actDim, uint64(seed))
	critic1 = graph.RandomNetwork(loaders.KindCritic, cw, obsDim, actDim, uint64(seed+1))
	critic2 = graph.RandomNetwork(loaders.KindCritic, cw, obsDim, actDim, uint64(seed+2))
	return actor, critic1, critic2
}

// SyntheticNets is Synthetic returning Nets.
func SyntheticNets(obsDim, actDim int, hidden []int, seed int64) Nets {
	a, c1, c2 := Synthetic(obsDim, actDim, hidden, seed)
	return Nets{Actor: a, Critic1: c1, Critic2: c2}
}

// Workload names what one measured batch evaluates.
type Workload string

// The workloads Run measures.
const (
	// WorkloadActor is the actor's policy on observations.
	WorkloadActor Workload = "actor"
	// WorkloadCritic is one critic at (observation, action).
	WorkloadCritic Workload = "critic"
	// WorkloadQFull is a full Q evaluation: both critics at the data's
	// actions, then the actor and both critics at its actions (actor + 4
	// critic passes).
	WorkloadQFull Workload = "q_full"
)

// Workloads lists every workload in the order reports show them.
var Workloads = []Workload{WorkloadActor, WorkloadCritic, WorkloadQFull}

func (w Workload) valid() bool {
	return w == WorkloadActor || w == WorkloadCritic || w == WorkloadQFull
}

// FLOPsPerRow returns the floating-point operations one row costs in net's
// Linear layers, 2·in·out per layer (a multiply and an add per weight);
// biases and activations are not counted. A nil network costs 0.
func FLOPsPerRow(net *loaders.Network) int64 {
	if net == nil {
		return 0
	}
	var f int64
	for _, l := range net.Layers {
		f += 2 * int64(l.In) * int64(l.Out)
	}
	return f
}

// FLOPsPerRow returns the operations per row of workload w on these
// networks: the actor, Critic1, or the actor plus two passes of each critic.
func (n Nets) FLOPsPerRow(w Workload) int64 {
	switch w {
	case WorkloadActor:
		return FLOPsPerRow(n.Actor)
	case WorkloadCritic:
		return FLOPsPerRow(n.Critic1)
	case WorkloadQFull:
		return FLOPsPerRow(n.Actor) + 2*FLOPsPerRow(n.Critic1) + 2*FLOPsPerRow(n.Critic2)
	}
	return 0
}

// check reports whether the networks can run the benchmark.
func (n Nets) check() error {
	if n.Actor == nil || n.Critic1 == nil {
		return fmt.Errorf("bench: need an actor and a critic (load the run's networks or use Synthetic)")
	}
	if n.Critic1.ObsDim != n.Actor.ObsDim || n.Critic1.ActDim != n.Actor.ActDim {
		return fmt.Errorf("bench: actor %s reads %d observations and writes %d actions, critic %s reads %d+%d",
			n.Actor.Path, n.Actor.ObsDim, n.Actor.ActDim, n.Critic1.Path, n.Critic1.ObsDim, n.Critic1.ActDim)
	}
	if n.Critic2 != nil && (n.Critic2.ObsDim != n.Critic1.ObsDim || n.Critic2.ActDim != n.Critic1.ActDim) {
		return fmt.Errorf("bench: critics %s and %s read different inputs", n.Critic1.Path, n.Critic2.Path)
	}
	return nil
}

// widthsString formats widths as "3-256-256-1".
func widthsString(net *loaders.Network) string {
	if net == nil {
		return "-"
	}
	s := ""
	for i, w := range net.Widths() {
		if i > 0 {
			s += "-"
		}
		s += fmt.Sprint(w)
	}
	return s
}
