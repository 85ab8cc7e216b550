package graph

import "math"

// The notebook's Pendulum-v1 grid, for graph's own tests against the
// PyTorch fixtures. The product's grids come from jobs' presets; graph
// itself knows no environment.

const pendulumMaxSpeed = 8.0

// pendulumObs maps (θ, θ̇) to Pendulum-v1's observation [cos θ, sin θ, θ̇].
func pendulumObs(theta, thetaDot float64, obs []float32) {
	obs[0] = float32(math.Cos(theta))
	obs[1] = float32(math.Sin(theta))
	obs[2] = float32(thetaDot)
}

// PendulumGrid returns the N×N Pendulum state grid: θ = linspace(-π, π, n)
// along X (columns) and θ̇ = linspace(-8, 8, n) along Y (rows).
func PendulumGrid(n int) *Grid {
	return &Grid{X: Axis{-math.Pi, math.Pi, n}, Y: Axis{-pendulumMaxSpeed, pendulumMaxSpeed, n}, ObsDim: 3, Map: pendulumObs}
}

// PendulumLine returns n θ points, linspace(-π, π, n), at θ̇ = 0.
func PendulumLine(n int) *Grid {
	return &Grid{X: Axis{-math.Pi, math.Pi, n}, Y: Axis{0, 0, 1}, ObsDim: 3, Map: pendulumObs}
}
