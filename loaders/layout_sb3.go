package loaders

import (
	"archive/zip"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// Stable-Baselines3 runs as RL Zoo writes them, logs/<algo>/<env>_<id>/:
// <env>.zip, best_model.zip, rl_model_<N>_steps.zip, <env>/config.yml,
// <env>/vecnormalize.pkl, evaluations.npz, 0.monitor.csv and
// replay_buffer.pkl. Any folder holding a model zip is one run.
func init() {
	RegisterLayout(Layout{
		Name:    "sb3",
		Library: "stable-baselines3",
		Looks:   "a model .zip with data and policy.pth members",
		Detect: func(dir string) []string {
			if len(sb3Zips(dir)) > 0 {
				return []string{""}
			}
			return nil
		},
		Load: loadSB3Run,
		Optional: map[PartName]string{
			PartBuffer: "RL Zoo writes replay_buffer.pkl only with --save-replay-buffer",
			PartLog:    "evaluations.npz needs an evaluation callback (RL Zoo: --eval-freq) and monitor files a Monitor wrapper; model.save() alone writes neither",
		},
	})
}

var checkpointRE = regexp.MustCompile(`^(.*)_(\d+)_steps\.zip$`)

// sb3Zips lists the model zips of dir (zips with a data member and a
// policy), sorted by name.
func sb3Zips(dir string) []string {
	zips, _ := filepath.Glob(filepath.Join(dir, "*.zip"))
	var out []string
	for _, p := range zips {
		f, size, err := openRegular(p)
		if err != nil {
			continue
		}
		zr, err := zip.NewReader(f, size)
		data, pol := false, false
		if err == nil {
			for _, zf := range zr.File {
				data = data || zf.Name == "data"
				pol = pol || zf.Name == "policy.pth"
			}
		}
		f.Close()
		if data && pol {
			out = append(out, p)
		}
	}
	sort.Strings(out)
	return out
}

// zooEnv is the env of an RL Zoo run folder <env>_<id>.
var zooRunRE = regexp.MustCompile(`^(.+)_(\d+)$`)

// pickSB3Model chooses the final model of a folder: <env>.zip, else a zip
// that is neither best_model nor a checkpoint, else best_model.zip, else
// the latest checkpoint. It also lists the checkpoints.
func pickSB3Model(dir string, zips []string) (final, env string, snaps []Snapshot) {
	base := filepath.Base(filepath.Clean(dir))
	if m := zooRunRE.FindStringSubmatch(base); m != nil {
		env = m[1]
	}
	var other, best string
	for _, p := range zips {
		name := filepath.Base(p)
		if m := checkpointRE.FindStringSubmatch(name); m != nil {
			if n, err := strconv.ParseInt(m[2], 10, 64); err == nil {
				snaps = append(snaps, Snapshot{Step: n, Path: p})
				continue
			}
		}
		switch {
		case env != "" && name == env+".zip":
			final = p
		case name == "best_model.zip":
			best = p
		case other == "":
			other = p
		}
	}
	sort.Slice(snaps, func(i, j int) bool { return snaps[i].Step < snaps[j].Step })
	switch {
	case final != "":
	case other != "":
		final = other
	case best != "":
		final = best
	case len(snaps) > 0:
		final = snaps[len(snaps)-1].Path
	}
	if env == "" {
		env = strings.TrimSuffix(filepath.Base(final), ".zip")
	}
	return final, env, snaps
}

func loadSB3Run(dir, _ string, opt LoadOptions) (*Run, error) {
	zips := sb3Zips(dir)
	if len(zips) == 0 {
		return nil, fmt.Errorf("run %s: no Stable-Baselines3 model zip: %w", dir, ErrNoRun)
	}
	r := newRun(dir)
	final, env, snaps := pickSB3Model(dir, zips)
	r.Checkpoints = snaps
	path, suffix := final, ""
	if opt.Checkpoint > 0 {
		path = ""
		for _, s := range snaps {
			if s.Step == opt.Checkpoint {
				path = s.Path
			}
		}
		if path == "" {
			return nil, fmt.Errorf("run %s: no checkpoint at step %d (have %s): %w", dir, opt.Checkpoint, snapList(snaps), ErrNotExist)
		}
		r.Checkpoint = opt.Checkpoint
		suffix = fmt.Sprintf("_%d_steps", opt.Checkpoint)
	}
	m, err := LoadSB3Zip(path)
	if err != nil {
		for _, role := range Roles {
			r.Nets[role] = Part[*Network]{Path: path, Err: err}
		}
	}

	norm, normErr := findVecNormalize(dir, env, path, suffix)
	if m != nil {
		if normErr != nil {
			// Without its normalisation the networks' outputs would be
			// wrong; the rest of the model zip is sound.
			for _, role := range Roles {
				r.Nets[role] = Part[*Network]{Path: path, Err: normErr}
			}
		} else {
			r.setSB3Nets(m, norm)
		}
		r.Temperature.V, r.Temperature.Err = m.Temperature, m.TemperatureErr
		r.ObsLow, r.ObsHigh = m.ObsLow, m.ObsHigh
		r.StateDependentNoise = m.UseSDE
		r.Config.V = sb3Config(m, env, filepath.Base(dir))
		if m.Algo() == "tqc" {
			r.Library = "sb3-contrib"
		}
		if n, ok := m.Numbers["num_timesteps"]; ok && n > 0 && n < 1<<53 && opt.Checkpoint == 0 {
			r.FinalStep = int64(n)
		}
		if ns, ok := m.Numbers["start_time"]; ok && ns > 1e18 {
			r.Started = time.Unix(0, int64(ns)).UTC()
		}
	}
	r.Config.Path = path + "#data"
	if p := filepath.Join(dir, env, "config.yml"); fileExists(p) {
		r.Config.Path = p
	}
	// What RL Zoo's command line said: its evaluation frequency (-1: no
	// evaluation callback) and where TensorBoard logs went.
	args, _ := ReadZooYAML(filepath.Join(dir, env, "args.yml"))
	if v, err := strconv.ParseFloat(args["eval_freq"], 64); err == nil && v > 0 && r.Config.V != nil {
		r.Config.V.Evaluation.Frequency = int(v)
	}
	algo := ""
	if m != nil {
		algo = m.Algo()
	}
	if m == nil {
		// The config comes from the zip's data member: the zip's own error
		// (Problems lists one cause once).
		r.Config.Err = err
	}

	r.loadSB3Curves(dir, sb3EventDirs(dir, env, algo, args["tensorboard_log"]))

	r.Buffer.Path = filepath.Join(dir, "replay_buffer.pkl")
	if p := filepath.Join(dir, "rl_model_replay_buffer"+suffix+".pkl"); suffix != "" && fileExists(p) {
		r.Buffer.Path = p
	}
	if !opt.SkipBuffer {
		var low, high []float32
		if m != nil {
			low, high = m.Low, m.High
		}
		r.Buffer.V, r.Buffer.Err = LoadSB3ReplayBuffer(r.Buffer.Path, low, high)
		r.acceptBuffer()
	}
	return r, nil
}

// findVecNormalize reads the VecNormalize statistics of a model: the
// checkpoint's own (rl_model_vecnormalize_<N>_steps.pkl), else the run's
// (<env>/vecnormalize.pkl); nil when the run has none.
func findVecNormalize(dir, env, model, suffix string) (*InputNorm, error) {
	cands := []string{filepath.Join(dir, env, "vecnormalize.pkl"), filepath.Join(dir, "vecnormalize.pkl")}
	if suffix != "" {
		own := strings.TrimSuffix(filepath.Base(model), suffix+".zip") + "_vecnormalize" + suffix + ".pkl"
		cands = append([]string{filepath.Join(dir, own)}, cands...)
	}
	for _, p := range cands {
		if fileExists(p) {
			return LoadVecNormalize(p)
		}
	}
	return nil, nil
}

func snapList(s []Snapshot) string {
	if len(s) == 0 {
		return "none"
	}
	var parts []string
	for _, x := range s {
		parts = append(parts, strconv.FormatInt(x.Step, 10))
	}
	return strings.Join(parts, ", ")
}

func fileExists(p string) bool {
	st, err := os.Stat(p)
	return err == nil && !st.IsDir()
}

// setSB3Nets maps the policy's networks to roles. Critics are made to take
// env-unit actions (SB3 trains them on actions scaled to [-1, 1]) so that
// they chain with the actors and the buffer, whose actions are in env
// units. DDPG has one critic (n_critics 1): Q is Q1, and the second
// critic's roles stay empty.
func (r *Run) setSB3Nets(m *SB3Model, norm *InputNorm) {
	actor := m.Nets["actor"]
	for name, n := range m.Nets {
		n.InputNorm = norm
		if (n.Kind == KindCritic || n.Kind == KindQuantileCritic) && actor != nil && m.Low != nil {
			n.ObsDim, n.ActDim = actor.ObsDim, actor.ActDim
			if !foldActionScale(n, m.Low, m.High) {
				r.netFailed(RoleCritic1, fmt.Errorf("load %s: %s: unbounded action space: %w", n.Path, name, ErrInvalid))
			}
		}
	}
	names := map[Role]string{
		RoleActor: "actor", RoleActorTarget: "actor_target",
		RoleCritic1: "critic.qf0", RoleCritic2: "critic.qf1",
		RoleCritic1Target: "critic_target.qf0", RoleCritic2Target: "critic_target.qf1",
	}
	for _, role := range Roles {
		name := names[role]
		p := r.Nets[role]
		p.Path = m.Path + "/policy.pth#" + name
		if p.Err == nil {
			p.V, p.Err = sb3Net(m, role, name)
		}
		r.Nets[role] = p
	}
	r.checkShapes()
}

// sb3Net returns the policy's network of the role, which is name in its
// state dict: nil and no error when the algorithm has none.
func sb3Net(m *SB3Model, role Role, name string) (*Network, error) {
	n := m.Nets[name]
	if n != nil {
		return n, nil
	}
	if role == RoleActorTarget && m.Algo() != "td3" && m.Algo() != "ddpg" {
		return nil, nil // SAC and TQC have no actor target: not a problem
	}
	if (role == RoleCritic2 || role == RoleCritic2Target) && m.Algo() == "ddpg" {
		return nil, nil // DDPG's one critic
	}
	return nil, fmt.Errorf("load %s: policy.pth has no %s: %w", m.Path, name, ErrNotExist)
}

// sb3Config fills the config fields the report shows from the data member.
func sb3Config(m *SB3Model, env, name string) *Config {
	c := ForeignConfig()
	c.ExperimentName = name
	c.Env.Name = env
	c.Algorithm.Type = m.Algo()
	num := func(k string, dst *float64) {
		if v, ok := m.Numbers[k]; ok {
			*dst = v
		}
	}
	num("gamma", &c.Algorithm.Gamma)
	num("tau", &c.Algorithm.Tau)
	num("target_policy_noise", &c.Algorithm.PolicyNoise)
	num("target_noise_clip", &c.Algorithm.NoiseClip)
	c.Algorithm.PolicyFreq = 1
	if v, ok := m.Numbers["policy_delay"]; ok {
		c.Algorithm.PolicyFreq = int(v)
	}
	if v, ok := m.Numbers["learning_starts"]; ok {
		c.Training.TrainStartStep, c.Exploration.Steps = int(v), int(v)
	}
	if v, ok := m.Numbers["buffer_size"]; ok {
		c.Buffer.Capacity = int(v)
	}
	var arch []int
	if json.Unmarshal(m.NetArch, &arch) == nil && len(arch) > 0 {
		c.Network.HiddenSizes = arch
	}
	c.Training.LogDir, c.Training.LogFile = ".", "evaluations.npz"
	return &c
}

// loadSB3Curves reads evaluations.npz, the monitor files and the event
// files of the folder and of eventDirs into one log.
func (r *Run) loadSB3Curves(dir string, eventDirs []string) {
	var logs []*TrainLog
	var errs []error
	add := func(lg *TrainLog, err error) {
		if err == nil {
			logs = append(logs, lg)
		} else if !errors.Is(err, ErrNotExist) {
			errs = append(errs, err)
		}
	}
	add(LoadEvaluationsNPZ(filepath.Join(dir, "evaluations.npz")))
	monitors, _ := filepath.Glob(filepath.Join(dir, "*monitor.csv"))
	sort.Strings(monitors)
	for _, p := range monitors {
		add(LoadMonitorCSV(p))
	}
	add(LoadEventFiles(dir))
	for _, d := range eventDirs {
		add(LoadEventFiles(d))
	}
	r.Log.Path = filepath.Join(dir, "evaluations.npz")
	r.Log.V = mergeLogs(logs...)
	if r.Log.V != nil {
		r.Log.Path = r.Log.V.Path
	}
	switch {
	case len(errs) > 0:
		r.Log.Err = errs[0]
	case r.Log.V == nil:
		r.Log.Err = fmt.Errorf("load %s: no evaluations.npz, monitor.csv or event files: %w", dir, ErrNotExist)
	}
}

// maxZooYAML bounds an RL Zoo args.yml or config.yml (a few hundred bytes).
const maxZooYAML = 1 << 20

// ReadZooYAML reads the scalar entries of an RL Zoo args.yml or config.yml:
// a YAML-tagged Python OrderedDict, written as a list of [key, value]
// pairs. The tag is only a name here: nothing is constructed. Values that
// are not scalars are left out.
func ReadZooYAML(path string) (map[string]string, error) {
	b, err := readLimited(path, maxZooYAML)
	if err != nil {
		return nil, err
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(b, &doc); err != nil {
		return nil, fmt.Errorf("load %s: invalid YAML: %v: %w", path, err, ErrInvalid)
	}
	n := &doc
	if n.Kind == yaml.DocumentNode && len(n.Content) == 1 {
		n = n.Content[0]
	}
	// OrderedDict(pairs): the apply's one argument is the list of pairs.
	if n.Kind == yaml.SequenceNode && len(n.Content) == 1 && n.Content[0].Kind == yaml.SequenceNode {
		n = n.Content[0]
	}
	out := map[string]string{}
	switch n.Kind {
	case yaml.SequenceNode:
		for _, p := range n.Content {
			if p.Kind == yaml.SequenceNode && len(p.Content) == 2 && p.Content[0].Kind == yaml.ScalarNode && p.Content[1].Kind == yaml.ScalarNode {
				out[p.Content[0].Value] = p.Content[1].Value
			}
		}
	case yaml.MappingNode: // a plain mapping, as a hand-written file has
		for i := 0; i+1 < len(n.Content); i += 2 {
			if k, v := n.Content[i], n.Content[i+1]; k.Kind == yaml.ScalarNode && v.Kind == yaml.ScalarNode {
				out[k.Value] = v.Value
			}
		}
	default:
		return nil, fmt.Errorf("load %s: neither an OrderedDict of pairs nor a mapping: %w", path, ErrInvalid)
	}
	return out, nil
}

// sb3EventDirs finds the TensorBoard logs of an SB3 run kept outside its
// folder: RL Zoo's --tensorboard-log TB writes TB/<env>/<ALGO>_<n>/, with n
// counting runs as the folder's <env>_<id> does, and a plain
// tensorboard_log=dir run <dir>/<ALGO>_<n>/. tb is args.yml's
// tensorboard_log ("" or "None" for none), absolute or relative to where
// RL Zoo ran: the folder holding logs/, else the run folder. Outside the
// run folder only the <ALGO>_<id> of the run's own id is taken, never
// guessed.
func sb3EventDirs(dir, env, algo, tb string) []string {
	base := filepath.Base(filepath.Clean(dir))
	id := ""
	if m := zooRunRE.FindStringSubmatch(base); m != nil {
		id = m[2]
	}
	var roots []string
	switch {
	case tb == "" || tb == "None" || tb == "null":
	case filepath.IsAbs(tb):
		roots = append(roots, filepath.Join(tb, env))
	default:
		zoo := filepath.Dir(filepath.Dir(filepath.Dir(filepath.Clean(dir)))) // the folder holding logs/<algo>/<run>
		roots = append(roots, filepath.Join(zoo, tb, env), filepath.Join(dir, tb, env))
	}
	roots = append(roots, dir) // tensorboard_log pointing into the run folder
	var out []string
	seen := map[string]bool{}
	for _, root := range roots {
		cands, _ := filepath.Glob(filepath.Join(root, strings.ToUpper(algo)+"_*"))
		pick := ""
		for _, c := range cands {
			if strings.TrimPrefix(filepath.Base(c), strings.ToUpper(algo)+"_") == id {
				pick = c
			}
		}
		if pick == "" && len(cands) == 1 && root == dir { // inside the run folder: its own
			pick = cands[0]
		}
		if pick != "" && algo != "" && isDir(pick) && !seen[pick] {
			seen[pick] = true
			out = append(out, pick)
		}
	}
	return out
}
