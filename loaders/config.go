package loaders

import (
	"bytes"
	"fmt"
	"io"

	"go.yaml.in/yaml/v3"
)

// Config holds the fields of a run's config.yaml that the analyses use.
// Unknown keys are ignored; missing keys keep the defaults of DefaultConfig.
type Config struct {
	ExperimentName string      `yaml:"experiment_name" json:"experiment_name"`
	Env            EnvConfig   `yaml:"env" json:"env"`
	Algorithm      AlgoConfig  `yaml:"algorithm" json:"algorithm"`
	Network        NetConfig   `yaml:"network" json:"network"`
	Actor          NetConfig   `yaml:"actor" json:"actor"`
	Critic         NetConfig   `yaml:"critic" json:"critic"`
	Exploration    Exploration `yaml:"exploration" json:"exploration"`
	Training       Training    `yaml:"training" json:"training"`
	Evaluation     Evaluation  `yaml:"evaluation" json:"evaluation"`
	Buffer         BufferConf  `yaml:"buffer" json:"buffer"`
}

// EnvConfig is the config's env section.
type EnvConfig struct {
	Name string `yaml:"name" json:"name"`
}

// UnmarshalYAML accepts the env section as a mapping or, as older configs
// write it, as the bare environment name (`env: Pendulum-v1`).
func (e *EnvConfig) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind == yaml.ScalarNode {
		e.Name = n.Value
		return nil
	}
	type plain EnvConfig
	return n.Decode((*plain)(e))
}

// AlgoConfig is the config's algorithm section.
type AlgoConfig struct {
	Type        string  `yaml:"type" json:"type"`
	Gamma       float64 `yaml:"gamma" json:"gamma"`
	Tau         float64 `yaml:"tau" json:"tau"`
	PolicyFreq  int     `yaml:"policy_freq" json:"policy_freq"`
	PolicyNoise float64 `yaml:"policy_noise" json:"policy_noise"`
	NoiseClip   float64 `yaml:"noise_clip" json:"noise_clip"`
	// TargetEntropy is SAC's entropy target, when the config sets a number.
	TargetEntropy *float64 `yaml:"-" json:"target_entropy,omitempty"`
	// AutoEntropy is true when SAC tunes its temperature towards the usual
	// target, −dim(A): the config says autotune_alpha: true without a
	// target_entropy, or target_entropy: auto.
	AutoEntropy bool `yaml:"-" json:"auto_entropy,omitempty"`
}

// UnmarshalYAML reads the algorithm section; target_entropy may be a
// number or "auto".
func (a *AlgoConfig) UnmarshalYAML(n *yaml.Node) error {
	type plain AlgoConfig
	aux := struct {
		plain         `yaml:",inline"`
		TargetEntropy any   `yaml:"target_entropy"`
		Autotune      *bool `yaml:"autotune_alpha"`
	}{plain: plain(*a)}
	if err := n.Decode(&aux); err != nil {
		return err
	}
	*a = AlgoConfig(aux.plain)
	switch te := aux.TargetEntropy.(type) {
	case nil:
	case int:
		f := float64(te)
		a.TargetEntropy = &f
	case float64:
		a.TargetEntropy = &te
	case string:
		if te != "auto" {
			return fmt.Errorf("target_entropy %q: want a number or auto", te)
		}
		a.AutoEntropy = true
	default:
		return fmt.Errorf("target_entropy: want a number or auto, got a %T", te)
	}
	if aux.Autotune != nil && *aux.Autotune && a.TargetEntropy == nil {
		a.AutoEntropy = true
	}
	return nil
}

// NetConfig is a network/actor/critic section. The analyses read layer
// sizes from the checkpoints, never from here: this is for the report.
type NetConfig struct {
	Type        string  `yaml:"type" json:"type,omitempty"`
	HiddenSizes []int   `yaml:"hidden_sizes" json:"hidden_sizes,omitempty"`
	LR          float64 `yaml:"lr" json:"lr,omitempty"`
}

// Exploration is the config's exploration section.
type Exploration struct {
	Type  string `yaml:"type" json:"type"`
	Steps int    `yaml:"steps" json:"steps"`
}

// Training is the config's training section.
type Training struct {
	TrainStartStep int    `yaml:"train_start_step" json:"train_start_step"`
	SyncStartStep  int    `yaml:"sync_start_step" json:"sync_start_step"`
	NumSteps       int    `yaml:"num_steps" json:"num_steps"`
	LogFrequency   int    `yaml:"log_frequency" json:"log_frequency"`
	LogDir         string `yaml:"log_dir" json:"log_dir"`
	LogFile        string `yaml:"log_file" json:"log_file"`
}

// Evaluation is the config's evaluation section.
type Evaluation struct {
	Frequency int `yaml:"frequency" json:"frequency"`
	NumSteps  int `yaml:"num_steps" json:"num_steps"`
}

// BufferConf is the config's buffer section.
type BufferConf struct {
	Capacity int `yaml:"capacity" json:"capacity"`
}

// DefaultConfig returns the values a missing optional key falls back to
// (FORMATS.md).
func DefaultConfig() Config {
	return Config{
		Algorithm:   AlgoConfig{Type: "td3", Gamma: 0.98, Tau: 0.005, PolicyFreq: 2, PolicyNoise: 0.1, NoiseClip: 0.25},
		Network:     NetConfig{Type: "mlp", HiddenSizes: []int{256, 256}, LR: 0.001},
		Exploration: Exploration{Type: "random", Steps: 2000},
		Training: Training{TrainStartStep: 2000, SyncStartStep: 3000, NumSteps: -1,
			LogFrequency: 100, LogDir: "train_logs", LogFile: "train.jsonl"},
		Evaluation: Evaluation{Frequency: 500, NumSteps: 200},
		Buffer:     BufferConf{Capacity: 1000000},
	}
}

// NotRecorded is the value of a config number that the run does not
// record (another library's run has no exploration steps or evaluation
// frequency unless its own files say): shown as nothing, never as the
// upstream trainer's default.
const NotRecorded = -1

// ForeignConfig returns the config of another library's run before its
// files fill it: the upstream trainer's defaults where the analyses need a
// value, NotRecorded for the numbers only shown to the user.
func ForeignConfig() Config {
	c := DefaultConfig()
	c.Exploration.Steps, c.Training.TrainStartStep = NotRecorded, NotRecorded
	c.Training.LogFrequency, c.Evaluation.Frequency = NotRecorded, NotRecorded
	return c
}

// maxConfigBytes bounds what is read of a config.yaml: real ones are a few
// KB, and the YAML decoder would otherwise take whatever a file holds.
const maxConfigBytes = 16 << 20

// LoadConfig reads a config.yaml. Errors name the file and, for YAML
// syntax and type errors, the line.
func LoadConfig(path string) (*Config, error) {
	data, err := readLimited(path, maxConfigBytes)
	if err != nil {
		return nil, err
	}
	return ParseConfig(path, data)
}

// ParseConfig decodes config.yaml content; name is used in errors.
func ParseConfig(name string, data []byte) (*Config, error) {
	c := DefaultConfig()
	if len(bytes.TrimSpace(data)) == 0 {
		return nil, fmt.Errorf("load %s: empty config: %w", name, ErrInvalid)
	}
	// The YAML decoder expands aliases; yaml.v3 limits alias expansion
	// ("billion laughs") itself, so a hostile file fails instead of growing.
	if err := yaml.Unmarshal(data, &c); err != nil {
		return nil, fmt.Errorf("load %s: invalid YAML: %v: %w", name, err, ErrInvalid)
	}
	// An explicit null section leaves zero values; restore the defaults for
	// the fields the log path depends on.
	d := DefaultConfig()
	if c.Training.LogFile == "" {
		c.Training.LogFile = d.Training.LogFile
	}
	if c.Training.LogDir == "" {
		c.Training.LogDir = d.Training.LogDir
	}
	return &c, nil
}

// readLimited reads a whole file of at most limit bytes.
func readLimited(path string, limit int64) ([]byte, error) {
	f, size, err := openRegular(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	if size > limit {
		return nil, fmt.Errorf("load %s: file is %d bytes, more than the %d a config may have: %w", path, size, limit, ErrInvalid)
	}
	buf := make([]byte, 0, size)
	b := bytes.NewBuffer(buf)
	// A file growing while it is read is read up to the size it had.
	if _, err := b.ReadFrom(io.LimitReader(f, limit)); err != nil {
		return nil, fmt.Errorf("load %s: %w", path, err)
	}
	return b.Bytes(), nil
}
