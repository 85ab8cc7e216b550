package envs

import (
	"math"
	"math/rand/v2"
)

// Pendulum-v1 as Gymnasium 1.0 defines it (gymnasium/envs/classic_control/
// pendulum.py at commit 04b863d; unchanged since gym 0.21's v1): state
// (θ, θ̇) in float64, g = 10, m = l = 1, dt = 0.05, |θ̇| ≤ 8, |u| ≤ 2;
//
//	u  = clip(a, −2, 2)            (a float32, as the action array is)
//	r  = −(angle_normalize(θ)² + 0.1·θ̇² + 0.001·u²)
//	θ̇' = clip(θ̇ + (3g/(2l)·sin θ + 3/(ml²)·u)·dt, −8, 8)
//	θ' = θ + θ̇'·dt
//
// observation [cos θ, sin θ, θ̇] in float32, never terminal, 200-step time
// limit, reset θ ~ U(−π, π), θ̇ ~ U(−1, 1). The arithmetic is NumPy 1.x's
// on Gymnasium's scalars: float64, u at its float32 value and u² rounded
// to float32 (NumPy 2's NEP 50 would also keep 0.001·u² and 3·u in
// float32: one float32 rounding of the torque term, about 1e-8 of a step,
// apart).
//
// An observation stands for a state when (cos θ, sin θ) lies within 1 % of
// the unit circle (θ = atan2(sin θ, cos θ)) and |θ̇| ≤ 8, the observation
// space's bound.
var Pendulum = &Env{
	Name: "Pendulum-v1", Aliases: []string{"Pendulum-v0"},
	Source:   "Gymnasium 1.0 gymnasium/envs/classic_control/pendulum.py",
	StateDim: 2, ObsDim: 3, ActDim: 1, MaxSteps: 200,
	Preset: "pendulum", Unnamed: true, Device: "pendulum",
	ObsLow: []float64{-1, -1, -pendMaxSpeed}, ObsHigh: []float64{1, 1, pendMaxSpeed},
	Reset: func(rng *rand.Rand, s []float64) {
		s[0] = uniform(rng, -math.Pi, math.Pi)
		s[1] = uniform(rng, -1, 1)
	},
	Obs:     pendulumObs,
	Step:    pendulumStep,
	FromObs: pendulumFromObs,
}

func init() { Register(Pendulum) }

const (
	pendG, pendM, pendL, pendDt = 10.0, 1.0, 1.0, 0.05
	pendMaxSpeed, pendMaxTorque = 8.0, 2.0
)

// uniform is numpy's Generator.uniform(lo, hi): lo + (hi−lo)·U[0, 1).
func uniform(rng *rand.Rand, lo, hi float64) float64 { return lo + (hi-lo)*rng.Float64() }

func pendulumObs(s []float64, n int, obs []float32) {
	for i := 0; i < n; i++ {
		th, thdot := s[2*i], s[2*i+1]
		obs[3*i], obs[3*i+1], obs[3*i+2] = float32(math.Cos(th)), float32(math.Sin(th)), float32(thdot)
	}
}

func pendulumStep(s []float64, act []float32, n int, reward []float64, done []bool) {
	for i := 0; i < n; i++ {
		th, thdot := s[2*i], s[2*i+1]
		u := float64(min(max(act[i], -pendMaxTorque), pendMaxTorque))
		an := angleNormalize(th)
		u32 := float32(u)
		reward[i] = -(an*an + 0.1*thdot*thdot + 0.001*float64(u32*u32))
		newthdot := thdot + (3*pendG/(2*pendL)*math.Sin(th)+3.0/(pendM*pendL*pendL)*u)*pendDt
		newthdot = min(max(newthdot, -pendMaxSpeed), pendMaxSpeed)
		s[2*i], s[2*i+1] = th+newthdot*pendDt, newthdot
		done[i] = false
	}
}

// angleNormalize is ((x + π) mod 2π) − π with Python's floored modulo.
func angleNormalize(x float64) float64 {
	r := math.Mod(x+math.Pi, 2*math.Pi)
	if r < 0 {
		r += 2 * math.Pi
	}
	return r - math.Pi
}

func pendulumFromObs(obs, s []float64) bool {
	c, sn, thdot := obs[0], obs[1], obs[2]
	if math.Abs(math.Hypot(c, sn)-1) > 0.01 || !(math.Abs(thdot) <= pendMaxSpeed) {
		return false
	}
	s[0], s[1] = math.Atan2(sn, c), thdot
	return true
}
