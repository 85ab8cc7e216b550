package loaders

import (
	"bytes"
	"fmt"
	"math"
	"os"
	"path/filepath"

	"github.com/rleval/rleval/loaders/internal/pickle"
	"github.com/rleval/rleval/loaders/internal/torchzip"
)

// Temperature is what a SAC run saved of its entropy tuning.
type Temperature struct {
	// Alpha is the entropy temperature; LogAlpha its log, the parameter
	// trained when alpha is tuned (NaN when the run used a fixed alpha).
	// Both are NaN when the run saved neither.
	Alpha, LogAlpha float64
	// TargetEntropy is the entropy alpha was tuned towards, NaN when the
	// run does not say.
	TargetEntropy float64
	// Path is the file or zip member alpha was read from ("" if none).
	Path string
}

func newTemperature() *Temperature {
	return &Temperature{Alpha: math.NaN(), LogAlpha: math.NaN(), TargetEntropy: math.NaN()}
}

// setLog sets the temperature from its log.
func (t *Temperature) setLog(logAlpha float64, path string) {
	t.LogAlpha, t.Alpha, t.Path = logAlpha, math.Exp(logAlpha), path
}

// oneValue returns the value of the one-element tensor at key in a torch
// file's tensors ("" for a file holding just that tensor).
func oneValue(path string, v pickle.Value, key string) (float64, bool, error) {
	ts, err := torchzip.Tensors(v)
	if err != nil {
		return 0, false, fmt.Errorf("load %s: %w", path, err)
	}
	t, ok := ts[key]
	if !ok {
		return 0, false, nil
	}
	if t.Numel() != 1 {
		return 0, false, fmt.Errorf("load %s: %s holds %d values, want 1: %w", path, key, t.Numel(), ErrInvalid)
	}
	x, err := t.Scalar()
	if err != nil {
		return 0, false, fmt.Errorf("load %s: %s: %w", path, key, err)
	}
	return x, true, nil
}

// loadUpstreamTemperature reads a gen-2 SAC run's agent_sac/log_alpha.pt
// (a bare tensor) and the config's algorithm.target_entropy. A missing
// file leaves alpha unknown; a broken one is an error.
func (r *Run) loadUpstreamTemperature() {
	if !r.sacAgent() {
		return
	}
	t := newTemperature()
	if r.Config.V != nil && r.Config.V.Algorithm.TargetEntropy != nil {
		t.TargetEntropy = *r.Config.V.Algorithm.TargetEntropy
	} else if a := r.Net(RoleActor); r.Config.V != nil && r.Config.V.Algorithm.AutoEntropy && a != nil {
		t.TargetEntropy = autoTargetEntropy(a.ActDim)
	}
	r.Temperature.V = t
	p := filepath.Join(r.agentDir(), "log_alpha.pt")
	if _, err := os.Stat(p); err != nil {
		return
	}
	v, err := torchzip.ReadFile(p)
	if err != nil {
		r.Temperature.Err = err
		return
	}
	la, err := soleValue(p, v)
	if err != nil {
		r.Temperature.Err = err
		return
	}
	t.setLog(la, p)
}

// autoTargetEntropy is SAC's target_entropy "auto": −dim(A), as
// Stable-Baselines3 and the upstream trainer compute it.
func autoTargetEntropy(actDim int) float64 { return -float64(actDim) }

// soleValue returns the value of a file that holds one value: a bare
// one-element tensor (torch.save(log_alpha)), or the only one-element
// tensor among the file's (a dict or state dict holding log_alpha).
func soleValue(path string, v pickle.Value) (float64, error) {
	if x, ok, err := oneValue(path, v, ""); ok || err != nil {
		return x, err
	}
	ts, err := torchzip.Tensors(v)
	if err != nil {
		return 0, fmt.Errorf("load %s: %w", path, err)
	}
	var key string
	n := 0
	for k, t := range ts {
		if t.Numel() == 1 {
			key, n = k, n+1
		}
	}
	if n != 1 {
		return 0, fmt.Errorf("load %s: %d one-value tensors, want log_alpha alone: %w", path, n, ErrInvalid)
	}
	x, _, err := oneValue(path, v, key)
	return x, err
}

// readSB3Temperature reads SAC's and TQC's pytorch_variables.pth member
// (tensors.pth in 2020 files), at path: log_ent_coef when ent_coef was
// tuned ("auto"), else ent_coef_tensor; target_entropy comes from the data
// JSON.
func (m *SB3Model) readSB3Temperature(path string, b []byte) error {
	v, err := torchzip.ReadReader(path, bytes.NewReader(b), int64(len(b)))
	if err != nil {
		return err
	}
	t := newTemperature()
	if te, ok := m.Numbers["target_entropy"]; ok {
		t.TargetEntropy = te
	} else if len(m.Low) > 0 {
		// A number the user gave is saved as one; "auto" becomes −dim(A),
		// which TQC (and older SAC) keep as a numpy float32 that data holds
		// only pickled.
		t.TargetEntropy = autoTargetEntropy(len(m.Low))
	}
	m.Temperature = t
	if la, ok, err := oneValue(path, v, "log_ent_coef"); err != nil {
		return err
	} else if ok {
		t.setLog(la, path+"#log_ent_coef")
		return nil
	}
	if a, ok, err := oneValue(path, v, "ent_coef_tensor"); err != nil {
		return err
	} else if ok {
		t.Alpha, t.Path = a, path+"#ent_coef_tensor"
	}
	return nil
}
