package loaders

import (
	"fmt"
	"math"

	"github.com/rleval/rleval/loaders/internal/datafile"
	"github.com/rleval/rleval/loaders/internal/npy"
	"github.com/rleval/rleval/loaders/internal/pickle"
	"github.com/rleval/rleval/loaders/internal/torchzip"
)

// loadPickleFile decodes a plain pickle file (no persistent ids) without
// running anything.
func loadPickleFile(path string) (pickle.Value, error) {
	f, size, err := datafile.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	v, _, err := pickle.Decode(f, size, pickle.Options{Rebuild: torchzip.Rebuild})
	if err != nil {
		return nil, fmt.Errorf("load %s: %w", path, err)
	}
	return v, nil
}

// attrs returns the attribute lookup of a pickled object (its BUILD state
// or, for a plain dict, the dict itself).
func attrs(v pickle.Value) (func(string) (pickle.Value, bool), bool) {
	switch x := v.(type) {
	case *pickle.Object:
		return x.Attr, true
	case *pickle.Dict:
		return func(k string) (pickle.Value, bool) { return x.Get(k) }, true
	}
	return nil, false
}

func attrArray(get func(string) (pickle.Value, bool), name string) (*npy.NDArray, error) {
	v, ok := get(name)
	if !ok {
		return nil, datafile.Invalidf("no %q", name)
	}
	a, ok := v.(*npy.NDArray)
	if !ok {
		return nil, datafile.Invalidf("%q is a %s, not a numpy array", name, pickle.TypeName(v))
	}
	return a, nil
}

func attrInt(get func(string) (pickle.Value, bool), name string) (int, error) {
	v, ok := get(name)
	if !ok {
		return 0, datafile.Invalidf("no %q", name)
	}
	switch x := v.(type) {
	case int64:
		if x < 0 || x > 1<<40 {
			return 0, datafile.Invalidf("%q is %d", name, x)
		}
		return int(x), nil
	case bool:
		if x {
			return 1, nil
		}
		return 0, nil
	}
	return 0, datafile.Invalidf("%q is a %s, not an int", name, pickle.TypeName(v))
}

func attrFloat(get func(string) (pickle.Value, bool), name string) (float64, error) {
	v, ok := get(name)
	if !ok {
		return 0, datafile.Invalidf("no %q", name)
	}
	switch x := v.(type) {
	case float64:
		return x, nil
	case int64:
		return float64(x), nil
	case *npy.NDArray:
		f, err := x.Float64s()
		if err == nil && len(f) == 1 {
			return f[0], nil
		}
	}
	return 0, datafile.Invalidf("%q is a %s, not a number", name, pickle.TypeName(v))
}

// LoadSB3ReplayBuffer reads a Stable-Baselines3 replay_buffer.pkl: a
// pickled ReplayBuffer whose arrays are (buffer_size, n_envs, ...), with
// pos, full, dones and timeouts. Rows become env-major transitions
// t*n_envs+e; Dones merges dones and timeouts as the upstream buffer
// does. SB3 stores actions scaled to [-1, 1]: with low and high given they
// are mapped back to the env's units.
func LoadSB3ReplayBuffer(path string, low, high []float32) (*ReplayBuffer, error) {
	v, err := loadPickleFile(path)
	if err != nil {
		return nil, err
	}
	b, err := sb3Buffer(v, low, high)
	if err != nil {
		return nil, fmt.Errorf("load %s: replay buffer: %w", path, err)
	}
	b.Path = path
	return b, nil
}

func sb3Buffer(v pickle.Value, low, high []float32) (*ReplayBuffer, error) {
	get, ok := attrs(v)
	if !ok {
		return nil, datafile.Invalidf("file holds a %s, not a ReplayBuffer", pickle.TypeName(v))
	}
	bufSize, err := attrInt(get, "buffer_size")
	if err != nil {
		return nil, err
	}
	pos, err := attrInt(get, "pos")
	if err != nil {
		return nil, err
	}
	full, err := attrInt(get, "full")
	if err != nil {
		return nil, err
	}
	obs, err := attrArray(get, "observations")
	if err != nil {
		return nil, err
	}
	if len(obs.Shape) < 2 || obs.Shape[0] != bufSize {
		return nil, datafile.Invalidf("observations of shape %v, want (buffer_size %d, n_envs, ...)", obs.Shape, bufSize)
	}
	nEnvs := obs.Shape[1]
	obsDim, _ := npy.ShapeLen(obs.Shape[2:])
	rows := pos
	if full != 0 {
		rows = bufSize
	}
	if pos > bufSize {
		return nil, datafile.Invalidf("pos %d beyond buffer_size %d", pos, bufSize)
	}
	b := &ReplayBuffer{Capacity: bufSize * nEnvs, Size: rows * nEnvs, Index: pos * nEnvs, ObsDim: obsDim}
	if b.Index == b.Capacity {
		b.Index = 0
	}
	read := func(name string, per int) ([]float32, error) {
		a, err := attrArray(get, name)
		if err != nil {
			return nil, err
		}
		n, err := npy.ShapeLen(a.Shape)
		if err != nil {
			return nil, err
		}
		if len(a.Shape) < 2 || a.Shape[0] != bufSize || a.Shape[1] != nEnvs || n != bufSize*nEnvs*per {
			return nil, datafile.Invalidf("%s of shape %v, want (%d, %d) × %d", name, a.Shape, bufSize, nEnvs, per)
		}
		f, err := a.Float32s()
		if err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		return f[:b.Size*per], nil
	}
	if b.Obs, err = read("observations", obsDim); err != nil {
		return nil, err
	}
	act, err := attrArray(get, "actions")
	if err != nil {
		return nil, err
	}
	if len(act.Shape) < 2 {
		return nil, datafile.Invalidf("actions of shape %v", act.Shape)
	}
	b.ActDim, _ = npy.ShapeLen(act.Shape[2:])
	if b.Actions, err = read("actions", b.ActDim); err != nil {
		return nil, err
	}
	if b.Rewards, err = read("rewards", 1); err != nil {
		return nil, err
	}
	if _, ok := get("next_observations"); ok {
		if b.NextObs, err = read("next_observations", obsDim); err != nil {
			return nil, err
		}
	} else if b.NextObs, err = nextRowObs(get, len(b.Obs), nEnvs*obsDim); err != nil {
		return nil, err
	}
	dones, err := read("dones", 1)
	if err != nil {
		return nil, err
	}
	var timeouts []float32
	if _, ok := get("timeouts"); ok {
		if timeouts, err = read("timeouts", 1); err != nil {
			return nil, err
		}
	}
	b.Dones = make([]bool, b.Size)
	for i := range b.Dones {
		b.Dones[i] = dones[i] != 0 || (timeouts != nil && timeouts[i] != 0)
	}
	if low != nil {
		if err := unscaleActions(b, low, high); err != nil {
			return nil, err
		}
	}
	return b, nil
}

// nextRowObs gives optimize_memory_usage buffers, which store no
// next_observations, the next time step's observations: n values, step
// values per time step.
func nextRowObs(get func(string) (pickle.Value, bool), n, step int) ([]float32, error) {
	all, err := attrArray(get, "observations")
	if err != nil {
		return nil, err
	}
	f, err := all.Float32s()
	if err != nil {
		return nil, err
	}
	if step <= 0 || n > len(f) || len(f)%step != 0 {
		return nil, datafile.Invalidf("observations do not split into time steps")
	}
	next := make([]float32, n)
	for i := 0; i+step <= n; i += step {
		src := (i + step) % len(f)
		copy(next[i:i+step], f[src:src+step])
	}
	return next, nil
}

// unscaleActions maps SB3's stored actions, scaled to [-1, 1], back to
// the env's bounds.
func unscaleActions(b *ReplayBuffer, low, high []float32) error {
	if len(low) != b.ActDim || len(high) != b.ActDim {
		return datafile.Invalidf("buffer has %d actions but the action space %d", b.ActDim, len(low))
	}
	for i, a := range b.Actions {
		j := i % b.ActDim
		b.Actions[i] = low[j] + 0.5*(a+1)*(high[j]-low[j])
	}
	return nil
}

// LoadVecNormalize reads RL Zoo's vecnormalize.pkl (a pickled VecNormalize:
// obs_rms mean and var, epsilon, clip_obs, norm_obs) as the InputNorm the
// networks apply; nil when norm_obs is false.
func LoadVecNormalize(path string) (*InputNorm, error) {
	v, err := loadPickleFile(path)
	if err != nil {
		return nil, err
	}
	n, err := vecNormalize(v)
	if err != nil {
		return nil, fmt.Errorf("load %s: VecNormalize: %w", path, err)
	}
	return n, nil
}

func vecNormalize(v pickle.Value) (*InputNorm, error) {
	get, ok := attrs(v)
	if !ok {
		return nil, datafile.Invalidf("file holds a %s, not a VecNormalize", pickle.TypeName(v))
	}
	if on, ok := get("norm_obs"); ok && on == false {
		return nil, nil
	}
	rmsV, ok := get("obs_rms")
	if !ok {
		return nil, datafile.Invalidf("no obs_rms")
	}
	rms, ok := attrs(rmsV)
	if !ok {
		return nil, datafile.Invalidf("obs_rms is a %s (dict observation spaces are not read)", pickle.TypeName(rmsV))
	}
	mean, err := attrArray(rms, "mean")
	if err != nil {
		return nil, fmt.Errorf("obs_rms: %w", err)
	}
	variance, err := attrArray(rms, "var")
	if err != nil {
		return nil, fmt.Errorf("obs_rms: %w", err)
	}
	m, err := mean.Float64s()
	if err != nil {
		return nil, err
	}
	va, err := variance.Float64s()
	if err != nil {
		return nil, err
	}
	if len(m) != len(va) || len(m) == 0 {
		return nil, datafile.Invalidf("obs_rms mean has %d values, var %d", len(m), len(va))
	}
	eps, err := attrFloat(get, "epsilon")
	if err != nil {
		return nil, err
	}
	clip, err := attrFloat(get, "clip_obs")
	if err != nil {
		return nil, err
	}
	// Statistics that would turn every normalised observation into NaN
	// (or an infinite clip range into nothing) are refused here, where
	// they enter, rather than as all-NaN maps downstream.
	for i := range m {
		switch {
		case math.IsNaN(m[i]) || math.IsInf(m[i], 0):
			return nil, datafile.Invalidf("obs_rms mean[%d] is %v, not a finite number", i, m[i])
		case math.IsNaN(va[i]) || math.IsInf(va[i], 0) || va[i] < 0:
			return nil, datafile.Invalidf("obs_rms var[%d] is %v, not a finite number >= 0", i, va[i])
		}
	}
	if math.IsNaN(eps) || math.IsInf(eps, 0) || eps < 0 {
		return nil, datafile.Invalidf("epsilon is %v, not a finite number >= 0", eps)
	}
	if math.IsNaN(clip) || clip <= 0 {
		return nil, datafile.Invalidf("clip_obs is %v, not a number > 0", clip)
	}
	n := &InputNorm{Mean: make([]float32, len(m)), Std: make([]float32, len(m)), Clip: float32(clip)}
	for i := range m {
		if va[i]+eps == 0 {
			return nil, datafile.Invalidf("obs_rms var[%d] and epsilon are 0: observation %d would divide by zero", i, i)
		}
		n.Mean[i] = float32(m[i])
		n.Std[i] = float32(math.Sqrt(va[i] + eps))
	}
	return n, nil
}
