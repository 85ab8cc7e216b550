package envs

import (
	"context"
	"errors"
	"math"
	"testing"
)

func step1(e *Env, s []float64, a float32) (r float64, done bool) {
	rew, d := make([]float64, 1), make([]bool, 1)
	e.Step(s, []float32{a}, 1, rew, d)
	return rew[0], d[0]
}

func near(t *testing.T, what string, got, want float64) {
	t.Helper()
	if math.Abs(got-want) > 1e-12*math.Max(1, math.Abs(want)) {
		t.Errorf("%s = %.17g, want %.17g", what, got, want)
	}
}

func TestPendulumStep(t *testing.T) {
	s := []float64{math.Pi / 2, 0}
	r, done := step1(Pendulum, s, 1)
	near(t, "θ̇'", s[1], (15+3)*0.05)
	near(t, "θ'", s[0], math.Pi/2+0.9*0.05)
	near(t, "reward", r, -(math.Pi*math.Pi/4 + 0.001))
	if done {
		t.Error("the pendulum never terminates")
	}
	// Torque and speed are clipped.
	s = []float64{math.Pi / 2, 7.9}
	r, _ = step1(Pendulum, s, 5)
	near(t, "clipped θ̇'", s[1], 8)
	near(t, "clipped θ'", s[0], math.Pi/2+8*0.05)
	near(t, "reward at clipped torque", r, -(math.Pi*math.Pi/4 + 0.1*7.9*7.9 + 0.004))
	// The angle cost wraps: θ = 2π is upright.
	s = []float64{2 * math.Pi, 0}
	r, _ = step1(Pendulum, s, 0)
	if math.Abs(r) > 1e-20 {
		t.Errorf("reward upright at 2π = %g, want 0", r)
	}
}

func TestAngleNormalize(t *testing.T) {
	for _, c := range []struct{ x, want float64 }{{0, 0}, {-0.5, -0.5}, {3 * math.Pi / 2, -math.Pi / 2}, {-3 * math.Pi / 2, math.Pi / 2}, {math.Pi, -math.Pi}} {
		near(t, "angle_normalize", angleNormalize(c.x), c.want)
	}
}

func TestPendulumObsAndFromObs(t *testing.T) {
	obs := make([]float32, 3)
	Pendulum.Obs([]float64{1, -2}, 1, obs)
	if obs[0] != float32(math.Cos(1)) || obs[1] != float32(math.Sin(1)) || obs[2] != -2 {
		t.Errorf("obs = %v", obs)
	}
	s := make([]float64, 2)
	if !Pendulum.FromObs([]float64{math.Cos(2), math.Sin(2), 3}, s) || math.Abs(s[0]-2) > 1e-15 || s[1] != 3 {
		t.Errorf("FromObs of a state's observation = %v", s)
	}
	for _, o := range [][]float64{{0.5, 0.5, 0}, {1, 0, 8.5}, {0, 0, 0}, {1, 0, math.NaN()}} {
		if Pendulum.FromObs(o, s) {
			t.Errorf("FromObs(%v) accepted an observation of no state", o)
		}
	}
}

func TestMountainCarStep(t *testing.T) {
	e := MountainCarContinuous
	// At the left wall, a leftward velocity stops.
	s := []float64{-1.2, -0.07}
	r, done := step1(e, s, -2)
	if s[0] != float64(float32(-1.2)) || s[1] != 0 || done {
		t.Errorf("left wall: state %v done %v, want [-1.2 0] false", s, done)
	}
	near(t, "reward of an unclipped action", r, -0.4)
	// Reaching the goal terminates with +100.
	s = []float64{0.44, 0.02}
	r, done = step1(e, s, 0.5)
	if !done {
		t.Errorf("goal not reached: %v", s)
	}
	near(t, "goal reward", r, 100-0.025)
	// One ordinary step, by hand; the state is stored as float32.
	s = []float64{-0.5, 0.01}
	v := 0.01 + 0.3*0.0015 - 0.0025*math.Cos(-1.5)
	x := -0.5 + v
	step1(e, s, 0.3)
	if s[0] != float64(float32(x)) || s[1] != float64(float32(v)) {
		t.Errorf("state %v, want float32 of [%v %v]", s, x, v)
	}
	// Speed is clipped to 0.07.
	s = []float64{math.Pi / 6, 0.0699}
	step1(e, s, 1)
	if s[1] != float64(float32(0.07)) {
		t.Errorf("speed %v, want 0.07", s[1])
	}
	o := make([]float64, 2)
	if e.FromObs([]float64{0.7, 0}, o) || e.FromObs([]float64{0, 0.08}, o) || !e.FromObs([]float64{-1.2, 0.07}, o) {
		t.Error("FromObs must accept exactly the observation space")
	}
}

func TestRegistry(t *testing.T) {
	if ByName("pendulum-V1") != Pendulum || ByName("Pendulum-v0") != Pendulum || ByName("mountaincarcontinuous-v0") != MountainCarContinuous {
		t.Error("ByName must match ids and aliases without case")
	}
	if ByName("CartPole-v1") != nil {
		t.Error("ByName of an unknown environment")
	}
	if For("", "pendulum", 3) != Pendulum || For("", "mountaincar", 2) != nil || For("Pendulum-v1", "", 4) != nil {
		t.Error("For: unnamed runs take only an Unnamed environment of their preset, and obs sizes must agree")
	}
	defer func() {
		if recover() == nil {
			t.Error("registering Pendulum twice must panic")
		}
	}()
	Register(&Env{Name: "pendulum-v1", Reset: Pendulum.Reset, Obs: Pendulum.Obs, Step: Pendulum.Step, FromObs: Pendulum.FromObs,
		StateDim: 2, ObsDim: 3, ActDim: 1, MaxSteps: 1, ObsLow: Pendulum.ObsLow, ObsHigh: Pendulum.ObsHigh})
}

// testPolicy is a fixed nonlinear policy of the observation.
func testPolicy(obs []float32, n int, act []float32) error { return policyN(0)(obs, n, act) }

// policyN is the p-th of a family of fixed nonlinear policies of the
// observation (one action per row, as both environments take).
func policyN(p int) Policy {
	return func(obs []float32, n int, act []float32) error {
		d := len(obs) / n
		for i := 0; i < n; i++ {
			v := float32(0)
			for j := 0; j < d; j++ {
				v += obs[i*d+j] * float32(j+1+p) * 7
			}
			act[i] = float32(math.Sin(float64(v))) * (1.5 - 0.25*float32(p))
		}
		return nil
	}
}

// scalarRollout is one state at a time, as Gymnasium steps.
func scalarRollout(e *Env, s0 []float64, steps int, gamma float64) (ret float64, n int32, term bool) {
	return scalarRolloutOf(e, testPolicy, s0, steps, gamma)
}

// scalarRolloutOf is scalarRollout of policy pol.
func scalarRolloutOf(e *Env, pol Policy, s0 []float64, steps int, gamma float64) (ret float64, n int32, term bool) {
	s := append([]float64(nil), s0...)
	obs, act := make([]float32, e.ObsDim), make([]float32, e.ActDim)
	disc := 1.0
	for t := 0; t < steps; t++ {
		e.Obs(s, 1, obs)
		pol(obs, 1, act)
		r, d := step1(e, s, act[0])
		ret += disc * r
		disc *= gamma
		if d {
			return ret, int32(t + 1), true
		}
	}
	return ret, int32(steps), false
}

func TestRunMatchesScalarSteps(t *testing.T) {
	for _, e := range []*Env{Pendulum, MountainCarContinuous} {
		const n, steps = 300, 400
		states := e.ResetStates(7, n)
		if e == MountainCarContinuous { // start some near the goal so they terminate at different steps
			for i := 0; i < n; i += 3 {
				states[2*i], states[2*i+1] = 0.3+0.001*float64(i%50), 0.03
			}
		}
		last := -1
		r, err := e.Run(context.Background(), testPolicy, states, n, Rollout{Steps: steps, Gamma: 0.99, Chunk: 7, Workers: 3,
			Progress: func(done, total int) {
				if done <= last || total != steps {
					t.Errorf("progress %d/%d after %d", done, total, last)
				}
				last = done
			}})
		if err != nil {
			t.Fatal(err)
		}
		if last != steps {
			t.Errorf("%s: progress ended at %d of %d", e.Name, last, steps)
		}
		terms := 0
		for i := 0; i < n; i++ {
			ret, k, term := scalarRollout(e, states[2*i:2*i+2], steps, 0.99)
			if r.Return[i] != ret || r.Steps[i] != k || r.Terminated[i] != term {
				t.Fatalf("%s state %d: got (%v, %d, %v), want (%v, %d, %v)", e.Name, i, r.Return[i], r.Steps[i], r.Terminated[i], ret, k, term)
			}
			if term {
				terms++
			}
		}
		if e == MountainCarContinuous && (terms < 50 || terms == n) {
			t.Errorf("%d of %d states terminated: the test must mix both", terms, n)
		}
	}
}

func TestRunPolicyError(t *testing.T) {
	boom := errors.New("boom")
	_, err := Pendulum.Run(context.Background(), func([]float32, int, []float32) error { return boom }, Pendulum.ResetStates(1, 10), 10, Rollout{Steps: 5, Gamma: 1})
	if !errors.Is(err, boom) {
		t.Errorf("err = %v, want the policy's", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := Pendulum.Run(ctx, testPolicy, Pendulum.ResetStates(1, 10), 10, Rollout{Steps: 5, Gamma: 1}); err == nil {
		t.Error("a cancelled rollout must fail")
	}
}

func TestResetStates(t *testing.T) {
	a, b := Pendulum.ResetStates(3, 1000), Pendulum.ResetStates(3, 1000)
	for i := range a {
		if a[i] != b[i] {
			t.Fatal("the same seed must give the same states")
		}
	}
	for i := 0; i < 1000; i++ {
		if math.Abs(a[2*i]) > math.Pi || math.Abs(a[2*i+1]) > 1 {
			t.Fatalf("reset state %v outside U(−π, π) × U(−1, 1)", a[2*i:2*i+2])
		}
	}
	m := MountainCarContinuous.ResetStates(3, 100)
	for i := 0; i < 100; i++ {
		if m[2*i] < -0.6 || m[2*i] > -0.4 || m[2*i+1] != 0 {
			t.Fatalf("mountain car reset %v", m[2*i:2*i+2])
		}
	}
}
