package graph

import (
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/rleval/rleval/loaders"
)

// RandomNetwork returns a network with the given layer widths (input first)
// and ReLU between layers, its weights and biases drawn with a fixed seed
// like torch's default Linear init, U(-1/√fan_in, 1/√fan_in); actors get
// Pendulum's action bounds [-2, 2]. Benchmarks and tests evaluate these
// when no run is given. The same arguments give the same network.
func RandomNetwork(kind loaders.NetKind, widths []int, obsDim, actDim int, seed uint64) *loaders.Network {
	return randomNetwork(kind, widths, obsDim, actDim, 0, seed)
}

// RandomActionAtCritic is RandomNetwork's critic whose action enters layer
// at (sfujim/TD3 DDPG.py's, at 1): widths[0] is the observation size, and
// layer at reads widths[at] + actDim inputs.
func RandomActionAtCritic(widths []int, actDim, at int, seed uint64) *loaders.Network {
	net := randomNetwork(loaders.KindCritic, widths, widths[0], actDim, at, seed)
	net.ActionAt = at
	net.Path = fmt.Sprintf("synthetic:critic(action at %d):%v:seed=%d", at, widths, seed)
	return net
}

func randomNetwork(kind loaders.NetKind, widths []int, obsDim, actDim, at int, seed uint64) *loaders.Network {
	rng := rand.New(rand.NewPCG(seed, 0x9e3779b97f4a7c15))
	net := &loaders.Network{
		Path:   fmt.Sprintf("synthetic:%s:%v:seed=%d", kind, widths, seed),
		Format: "synthetic",
		Kind:   kind,
		Hidden: loaders.ReLU,
		ObsDim: obsDim, ActDim: actDim,
	}
	prefix := "net"
	if !isCritic(kind) {
		prefix = "net_body"
	}
	for i := 0; i+1 < len(widths); i++ {
		in, out := widths[i], widths[i+1]
		if at > 0 && i == at {
			in += actDim
		}
		bound := 1 / math.Sqrt(float64(max(in, 1)))
		l := loaders.Linear{Name: fmt.Sprintf("%s.%d", prefix, 2*i), In: in, Out: out,
			W: make([]float32, in*out), B: make([]float32, out)}
		for j := range l.W {
			l.W[j] = float32((rng.Float64()*2 - 1) * bound)
		}
		for j := range l.B {
			l.B[j] = float32((rng.Float64()*2 - 1) * bound)
		}
		net.Layers = append(net.Layers, l)
		net.Params = append(net.Params,
			loaders.Param{Name: l.Name + ".weight", Shape: []int{out, in}, Data: l.W},
			loaders.Param{Name: l.Name + ".bias", Shape: []int{out}, Data: l.B})
	}
	if !isCritic(kind) {
		net.Low, net.High = make([]float32, actDim), make([]float32, actDim)
		for j := range net.Low {
			net.Low[j], net.High[j] = -2, 2
		}
	}
	return net
}
