package envs

import (
	"math"
	"math/rand/v2"
)

// MountainCarContinuous-v0 as Gymnasium 1.0 defines it (gymnasium/envs/
// classic_control/continuous_mountain_car.py at commit 076886e): state
// (x, v), power 0.0015, goal x ≥ 0.45 with v ≥ 0;
//
//	f  = clip(a, −1, 1)
//	v' = clip(v + f·0.0015 − 0.0025·cos 3x, −0.07, 0.07)
//	x' = clip(x + v', −1.2, 0.6);  v' = 0 if x' = −1.2 and v' < 0
//	terminal when x' ≥ 0.45 and v' ≥ 0
//	r  = 100·[terminal] − 0.1·a²   (a unclipped, as Gymnasium's reward)
//
// and Gymnasium stores the new state as float32, so each step ends with
// (x', v') rounded to float32 (the reset state, x ~ U(−0.6, −0.4), v = 0,
// stays float64 until the first step). 999-step time limit; observation =
// state in float32. The arithmetic is NumPy 1.x's on Gymnasium's scalars:
// float64, except 3·x, a float32 product when x is a stored float32 (NumPy
// 2's NEP 50 would keep more of it in float32: at most a float32 rounding
// per step apart, the size of the state's own float32 storage).
//
// An observation stands for a state when it lies in the observation
// space: x in [−1.2, 0.6], v in [−0.07, 0.07].
var MountainCarContinuous = &Env{
	Name:     "MountainCarContinuous-v0",
	Source:   "Gymnasium 1.0 gymnasium/envs/classic_control/continuous_mountain_car.py",
	StateDim: 2, ObsDim: 2, ActDim: 1, MaxSteps: 999,
	Preset: "mountaincar", Device: "mountaincar_continuous",
	ObsLow: []float64{mcMinPos, -mcMaxSpeed}, ObsHigh: []float64{mcMaxPos, mcMaxSpeed},
	Reset: func(rng *rand.Rand, s []float64) {
		s[0], s[1] = uniform(rng, -0.6, -0.4), 0
	},
	Obs: func(s []float64, n int, obs []float32) {
		for i := range 2 * n {
			obs[i] = float32(s[i])
		}
	},
	Step: mountainCarStep,
	FromObs: func(obs, s []float64) bool {
		if !(obs[0] >= mcMinPos && obs[0] <= mcMaxPos && math.Abs(obs[1]) <= mcMaxSpeed) {
			return false
		}
		s[0], s[1] = obs[0], obs[1]
		return true
	},
}

func init() { Register(MountainCarContinuous) }

const (
	mcMinPos, mcMaxPos, mcMaxSpeed = -1.2, 0.6, 0.07
	mcGoalPos, mcPower             = 0.45, 0.0015
)

func mountainCarStep(s []float64, act []float32, n int, reward []float64, done []bool) {
	for i := 0; i < n; i++ {
		x, v := s[2*i], s[2*i+1]
		a := float64(act[i])
		f := min(max(a, -1), 1)
		x3 := 3 * x
		if x == float64(float32(x)) { // a float32 scalar times 3 stays float32
			x3 = float64(float32(x3))
		}
		v += f*mcPower - 0.0025*math.Cos(x3)
		v = min(max(v, -mcMaxSpeed), mcMaxSpeed)
		x += v
		x = min(max(x, mcMinPos), mcMaxPos)
		if x == mcMinPos && v < 0 {
			v = 0
		}
		term := x >= mcGoalPos && v >= 0
		r := -a * a * 0.1
		if term {
			r = 100 - a*a*0.1
		}
		reward[i], done[i] = r, term
		s[2*i], s[2*i+1] = float64(float32(x)), float64(float32(v))
	}
}
