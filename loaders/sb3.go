package loaders

import (
	"archive/zip"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"

	"github.com/rleval/rleval/loaders/internal/datafile"
	"github.com/rleval/rleval/loaders/internal/torchzip"
)

// SB3Model is a Stable-Baselines3 (or sb3-contrib) model .zip as written by
// BaseAlgorithm.save: a `data` JSON member with the algorithm's attributes,
// `policy.pth` (the policy's state dict), optimizer files and
// `pytorch_variables.pth`.
type SB3Model struct {
	// Path is the .zip file.
	Path string
	// Version is the `_stable_baselines3_version` member ("" in 2020 files).
	Version string
	// Nets are policy.pth's networks by their name in the state dict:
	// "actor", "actor_target", "critic.qf0", ...
	Nets map[string]*Network
	// ObsShape is observation_space's shape and ObsLow, ObsHigh its bounds
	// (±Inf where unbounded; nil when data does not say); Low and High the
	// action space's bounds.
	ObsShape        []int
	ObsLow, ObsHigh []float64
	Low, High       []float32
	// NetArch is policy_kwargs' net_arch as written; Activation its
	// activation_fn (ReLU when not given).
	NetArch    json.RawMessage
	Activation Activation
	// UseSDE is true for generalised state-dependent exploration.
	UseSDE bool
	// ClipMean is SAC's clip_mean (2 unless policy_kwargs says otherwise).
	ClipMean float32
	// Temperature is SAC's and TQC's entropy temperature from
	// pytorch_variables.pth (nil for other algorithms); TemperatureErr
	// says why that member could not be read.
	Temperature    *Temperature
	TemperatureErr error
	// Numbers holds the data member's numeric attributes (gamma, tau,
	// buffer_size, learning_starts, policy_delay, num_timesteps, ...).
	Numbers map[string]float64
}

// maxSB3Data bounds the data JSON member (real ones are a few KB, plus
// serialised spaces and schedules).
const maxSB3Data = 64 << 20

// LoadSB3Zip reads a Stable-Baselines3 model zip. Nothing in it is run:
// cloudpickled entries of `data` are left alone and only their readable
// fields (SB3 writes the object's JSON-serialisable attributes beside the
// blob, and str() of the others) are used.
func LoadSB3Zip(path string) (*SB3Model, error) {
	f, size, err := datafile.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	m, err := ReadSB3Zip(path, f, size)
	if err != nil {
		return nil, fmt.Errorf("load %s: %w", path, err)
	}
	return m, nil
}

// ReadSB3Zip reads a model zip of size bytes from r; name is used in
// messages and as the networks' Path.
func ReadSB3Zip(name string, r io.ReaderAt, size int64) (*SB3Model, error) {
	zr, err := zip.NewReader(r, size)
	if err != nil {
		return nil, datafile.Invalidf("not a Stable-Baselines3 zip: %v", err)
	}
	limit := min(datafile.MaxInflateRatio*size+1<<20, datafile.MaxInflateTotal)
	members := map[string]*zip.File{}
	for _, zf := range zr.File {
		members[zf.Name] = zf
	}
	m := &SB3Model{Path: name, Activation: ReLU, ClipMean: sb3DefaultClipMean, Numbers: map[string]float64{}}
	if zf := members["_stable_baselines3_version"]; zf != nil {
		b, err := datafile.ReadZipMember(zf, size, 256)
		if err != nil {
			return nil, err
		}
		m.Version = strings.TrimSpace(string(b))
	}
	zf := members["data"]
	if zf == nil {
		return nil, datafile.Invalidf("no `data` member: not a Stable-Baselines3 model zip")
	}
	data, err := datafile.ReadZipMember(zf, size, min(limit, maxSB3Data))
	if err != nil {
		return nil, err
	}
	if err := m.parseData(data); err != nil {
		return nil, fmt.Errorf("data: %w", err)
	}
	pol := members["policy.pth"]
	if pol == nil {
		return nil, datafile.Invalidf("no policy.pth member: not a Stable-Baselines3 model zip")
	}
	pb, err := datafile.ReadZipMember(pol, size, limit)
	if err != nil {
		return nil, err
	}
	root, err := torchzip.ReadReader(name+"/policy.pth", bytes.NewReader(pb), int64(len(pb)))
	if err != nil {
		return nil, err
	}
	nets, err := networksFromRoot(name+"/policy.pth", root, "", 0)
	if err != nil {
		return nil, err
	}
	m.Nets = map[string]*Network{}
	for _, n := range nets {
		if n.net.Format != "sb3" {
			return nil, datafile.Invalidf("policy.pth is not a Stable-Baselines3 TD3/SAC/DDPG/TQC policy (network %q is %s)", n.name, n.net.Format)
		}
		// One file holds every network: name each within it.
		n.net.Path = name + "/policy.pth#" + n.name
		m.Nets[n.name] = n.net
	}
	if err := m.finish(); err != nil {
		return nil, err
	}
	pv := members["pytorch_variables.pth"]
	if pv == nil {
		pv = members["tensors.pth"] // its name in 2020 files
	}
	if pv != nil && (m.Algo() == "sac" || m.Algo() == "tqc") {
		b, err := datafile.ReadZipMember(pv, size, limit)
		if err == nil {
			err = m.readSB3Temperature(name+"/"+pv.Name, b)
		}
		m.TemperatureErr = err
	}
	return m, nil
}

// parseData reads the fields rleval needs from the data JSON.
func (m *SB3Model) parseData(b []byte) error {
	var d map[string]json.RawMessage
	if err := json.Unmarshal(b, &d); err != nil {
		return datafile.Invalidf("not JSON: %v", err)
	}
	for k, v := range d {
		var f float64
		if json.Unmarshal(v, &f) == nil {
			m.Numbers[k] = f
		}
	}
	if v, ok := d["use_sde"]; ok {
		_ = json.Unmarshal(v, &m.UseSDE)
	}
	if v, ok := d["action_space"]; ok {
		var sp map[string]json.RawMessage
		if err := json.Unmarshal(v, &sp); err != nil {
			return datafile.Invalidf("action_space: %v", err)
		}
		low, err1 := numpyField(sp["low"])
		high, err2 := numpyField(sp["high"])
		if err1 != nil || err2 != nil || len(low) != len(high) {
			return datafile.Invalidf("action_space: unreadable low/high (%v, %v)", err1, err2)
		}
		m.Low, m.High = toFloat32(low), toFloat32(high)
		if err := checkBounds(m.Low, m.High); err != nil {
			return fmt.Errorf("action_space: %w", err)
		}
	}
	if v, ok := d["observation_space"]; ok {
		var sp struct {
			Shape []int           `json:"_shape"`
			Low   json.RawMessage `json:"low"`
			High  json.RawMessage `json:"high"`
		}
		_ = json.Unmarshal(v, &sp)
		m.ObsShape = sp.Shape
		// Bounds are only a default for the maps' plane: unreadable ones
		// (a Dict space, an abbreviated array) are left out.
		low, err1 := numpyField(sp.Low)
		high, err2 := numpyField(sp.High)
		if err1 == nil && err2 == nil && len(low) == len(high) {
			m.ObsLow, m.ObsHigh = low, high
		}
	}
	if v, ok := d["policy_kwargs"]; ok {
		var pk map[string]json.RawMessage
		if json.Unmarshal(v, &pk) == nil {
			m.NetArch = pk["net_arch"]
			if a, ok := pk["activation_fn"]; ok {
				var s string
				_ = json.Unmarshal(a, &s)
				act, err := torchActivation(s)
				if err != nil {
					return err
				}
				m.Activation = act
			}
			if c, ok := pk["clip_mean"]; ok {
				var f float64
				if json.Unmarshal(c, &f) == nil {
					m.ClipMean = float32(f)
				}
			}
		}
	}
	return nil
}

// torchActivation maps str() of a torch.nn activation class, e.g.
// "<class 'torch.nn.modules.activation.Tanh'>", to an Activation.
func torchActivation(s string) (Activation, error) {
	name := strings.TrimSuffix(strings.TrimPrefix(s, "<class '"), "'>")
	if i := strings.LastIndexByte(name, '.'); i >= 0 {
		name = name[i+1:]
	}
	switch name {
	case "ReLU":
		return ReLU, nil
	case "Tanh":
		return Tanh, nil
	case "ELU":
		return ELU, nil
	case "SiLU":
		return SiLU, nil
	case "LeakyReLU":
		return LeakyReLU, nil
	}
	return "", datafile.Invalidf("policy_kwargs.activation_fn %q is not supported (ReLU, Tanh, ELU, SiLU, LeakyReLU)", s)
}

// numpyField reads a space's low/high as SB3's data_to_json writes them:
// str() of a numpy array ("[-2.]", "[-1. -1. -8.]") or a JSON list.
func numpyField(raw json.RawMessage) ([]float64, error) {
	if len(raw) == 0 {
		return nil, fmt.Errorf("missing")
	}
	var list []float64
	if json.Unmarshal(raw, &list) == nil {
		return list, nil
	}
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		return nil, err
	}
	if strings.Contains(s, "...") {
		return nil, fmt.Errorf("numpy abbreviated the array %q", s)
	}
	s = strings.NewReplacer("[", " ", "]", " ", ",", " ", "\n", " ").Replace(s)
	var out []float64
	for _, w := range strings.Fields(s) {
		w = strings.TrimSuffix(w, ".")
		f, err := strconv.ParseFloat(w, 64)
		if err != nil {
			return nil, fmt.Errorf("%q: %v", w, err)
		}
		out = append(out, f)
		if len(out) > 1<<16 {
			return nil, fmt.Errorf("too many values")
		}
	}
	return out, nil
}

func toFloat32(f []float64) []float32 {
	out := make([]float32, len(f))
	for i, v := range f {
		out[i] = float32(v)
	}
	return out
}

// finish applies what data says to the networks: activation, action
// bounds, the gSDE mean clamp.
func (m *SB3Model) finish() error {
	for name, n := range m.Nets {
		n.Hidden = m.Activation
		if n.Kind == KindActor || n.Kind == KindSACActor {
			if m.Low != nil {
				if len(m.Low) != n.ActDim {
					return datafile.Invalidf("%s has %d actions but action_space has %d", name, n.ActDim, len(m.Low))
				}
				n.Low, n.High = m.Low, m.High
			}
			if n.MeanClip > 0 {
				n.MeanClip = m.ClipMean
			}
		}
	}
	return nil
}

// Algo guesses the algorithm from the policy's networks: "tqc" (quantile
// critics), "sac" (latent_pi actor), "ddpg" (one critic) or "td3".
func (m *SB3Model) Algo() string {
	if c := m.Nets["critic.qf0"]; c != nil && c.Kind == KindQuantileCritic {
		return "tqc"
	}
	if _, ok := m.Nets["actor_target"]; !ok {
		return "sac"
	}
	if _, ok := m.Nets["critic.qf1"]; !ok {
		return "ddpg"
	}
	return "td3"
}

// foldActionScale makes a critic trained on actions scaled to [-1, 1]
// (Stable-Baselines3 rescales every Box action) take actions in the env's
// units: a_scaled = 2(a - low)/(high - low) - 1 is affine, so it folds into
// the first layer's weights and bias. The critic's Params keep the file's
// tensors. Unbounded actions are left as they are (false).
func foldActionScale(n *Network, low, high []float32) bool {
	if len(n.Layers) == 0 || len(low) != n.ActDim || n.ObsDim+n.ActDim != n.Layers[0].In {
		return false
	}
	for i := range low {
		if math.IsInf(float64(low[i]), 0) || math.IsInf(float64(high[i]), 0) || !(high[i] > low[i]) {
			return false
		}
	}
	l := &n.Layers[0]
	w := append([]float32(nil), l.W...)
	b := append([]float32(nil), l.B...)
	for r := 0; r < l.Out; r++ {
		for j := range low {
			c := n.ObsDim + j
			s := 2 / (high[j] - low[j])
			t := -2*low[j]/(high[j]-low[j]) - 1
			b[r] += w[r*l.In+c] * t
			w[r*l.In+c] *= s
		}
	}
	l.W, l.B = w, b
	return true
}
