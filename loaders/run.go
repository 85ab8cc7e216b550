package loaders

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"time"
)

// Role names a network of a run.
type Role string

// The six networks of a TD3 run (SAC has no actor target).
const (
	RoleActor         Role = "actor"
	RoleActorTarget   Role = "actor_target"
	RoleCritic1       Role = "critic1"
	RoleCritic2       Role = "critic2"
	RoleCritic1Target Role = "critic1_target"
	RoleCritic2Target Role = "critic2_target"
)

// Roles lists the roles in report order.
var Roles = []Role{RoleActor, RoleActorTarget, RoleCritic1, RoleCritic2, RoleCritic1Target, RoleCritic2Target}

// Run is a loaded run directory: whatever exists of it, with an error per
// part that is missing or broken. A Run is never all-or-nothing.
type Run struct {
	// Dir is the run directory and Name its base name.
	Dir, Name string
	// Started is the date and time in a `<YYYY-MM-DD>_<HH-MM-SS>_<name>`
	// directory name (zero when the name has none).
	Started time.Time

	// Config is the run's configuration, Log its training log.
	Config Part[*Config]
	Log    Part[*TrainLog]
	// OtherLogs are the other *.jsonl files beside the log (the
	// trainer's environment logs), read the same way; unreadable ones are
	// left out, with their errors in OtherLogErrs.
	OtherLogs    []*TrainLog
	OtherLogErrs []error
	// loadLogs reads the logs once, when LoadRun left them for later.
	loadLogs func()

	// Layout is the registered layout that loaded the run ("upstream",
	// "sb3", "cleanrl", "td3") and Library the training code that wrote it.
	Layout, Library string
	// NetDir is the folder of an upstream run's networks: "models" (gen-1),
	// "agent_<algo>" (gen-2) or "flat" (an agent's actor.pt, critic1.pt...
	// at the run folder's root); "" when none was found and for other
	// layouts.
	NetDir string
	// ID names the run inside a folder holding several (original TD3's
	// `<policy>_<env>_<seed>` prefix); "" for a one-run folder.
	ID string
	// Checkpoints lists the snapshots saved along training (RL Zoo's
	// rl_model_<N>_steps.zip), by step; Checkpoint is the step of the one
	// loaded (0: the final model).
	Checkpoints []Snapshot
	Checkpoint  int64
	// FinalStep is the training step of the final model where the run
	// says (SB3's num_timesteps), else 0.
	FinalStep int64
	// Nets holds each network looked for, by role: V is nil when it did
	// not load (see Net).
	Nets map[Role]Part[*Network]

	// StateDependentNoise is true for an actor trained with generalised
	// state-dependent exploration (SB3's use_sde): its noise depends on
	// sampled weights, and rleval evaluates its deterministic action.
	StateDependentNoise bool

	// ObsLow and ObsHigh are the observation space's bounds as the run
	// records them (Stable-Baselines3's data member), ±Inf where unbounded;
	// nil when the run does not say.
	ObsLow, ObsHigh []float64

	// Buffer is the replay buffer.
	Buffer Part[*ReplayBuffer]

	// Temperature is what a SAC run saved of its entropy tuning (V is nil
	// for other runs; Err says why a file that holds it could not be read,
	// and Path is unset: Temperature.Path says where alpha came from).
	// Only the SAC analysis needs it.
	Temperature Part[*Temperature]

	// Optional is the layout's Layout.Optional: the parts its library
	// never saves or saves only when asked, each with why.
	Optional map[PartName]string
}

// Part is one thing a run reads: where it was looked for, what it held,
// why it did not load.
type Part[T any] struct {
	// Path is where it was looked for: a file, a zip member
	// (`model.zip#data`) or a pattern; "" when the layout does not say.
	Path string
	// V is what it held: the zero value (nil) when it did not load.
	V T
	// Err says why it did not load: nil when it did, and when the run
	// simply has none of it (a SAC run's actor target).
	Err error
}

// Net returns the network of the role, nil when it did not load.
func (r *Run) Net(role Role) *Network { return r.Nets[role].V }

// netFailed records why the role's network did not load, dropping it and
// keeping where it was looked for.
func (r *Run) netFailed(role Role, err error) {
	p := r.Nets[role]
	p.V, p.Err = nil, err
	r.Nets[role] = p
}

// PartName names a file, or a network, of a run, for Layout.Optional:
// "config", "log", "buffer", "temperature", or a Role.
type PartName string

// The parts of a run besides its networks (each network is PartName(role)).
const (
	PartConfig      PartName = "config"
	PartLog         PartName = "log"
	PartBuffer      PartName = "buffer"
	PartTemperature PartName = "temperature"
)

// partErr is the error of one part of a run.
type partErr struct {
	part PartName
	err  error
}

// partErrs lists the error of every part that failed, in a stable order.
// A Part added to Run is added here (TestProblemsReportEveryPart fails
// until it is).
func (r *Run) partErrs() []partErr {
	var out []partErr
	add := func(p PartName, err error) {
		if err != nil {
			out = append(out, partErr{p, err})
		}
	}
	add(PartConfig, r.Config.Err)
	add(PartLog, r.Log.Err)
	for _, err := range r.OtherLogErrs {
		add(PartLog, err)
	}
	for _, role := range Roles {
		add(PartName(role), r.Nets[role].Err)
	}
	add(PartBuffer, r.Buffer.Err)
	add(PartTemperature, r.Temperature.Err)
	return out
}

// notSaved says whether pe is a part the run's library never saves, or
// saves only when asked, and that is absent.
func (r *Run) notSaved(pe partErr) bool {
	_, optional := r.Optional[pe.part]
	return optional && errors.Is(pe.err, ErrNotExist)
}

// Problems lists every part that failed, missing files included, in a
// stable order, leaving out the absent parts the layout declares optional
// (see NotSaved), each cause once: a model zip that holds all six networks
// and the config, or a bad vecnormalize.pkl that the networks need, is one
// problem, not seven.
func (r *Run) Problems() []error {
	var out []error
	seen := map[string]bool{}
	for _, pe := range r.partErrs() {
		if !r.notSaved(pe) && !seen[pe.err.Error()] {
			seen[pe.err.Error()] = true
			out = append(out, pe.err)
		}
	}
	return out
}

// NotSaved lists, as notes, the absent parts that the run's library never
// saves or saves only when asked (Layout.Optional): the analyses that need
// them are skipped, but the run is not the worse for it.
func (r *Run) NotSaved() []string {
	var out []string
	for _, pe := range r.partErrs() {
		if r.notSaved(pe) {
			out = append(out, fmt.Sprintf("%s: %v (%s)", pe.part, pe.err, r.Optional[pe.part]))
		}
	}
	return out
}

// Broken lists the failures of files that exist but could not be read,
// leaving out the ones that are simply absent and the sound files that hold
// a network rleval does not evaluate.
func (r *Run) Broken() []error {
	var out []error
	for _, err := range r.Problems() {
		if !errors.Is(err, ErrNotExist) && !errors.Is(err, ErrUnsupported) {
			out = append(out, err)
		}
	}
	return out
}

var runNameRE = regexp.MustCompile(`^(\d{4}-\d{2}-\d{2})_(\d{2}-\d{2}-\d{2})_(.+)$`)

// ParseRunName splits a `<YYYY-MM-DD>_<HH-MM-SS>_<name>` directory name.
func ParseRunName(base string) (started time.Time, name string, ok bool) {
	m := runNameRE.FindStringSubmatch(base)
	if m == nil {
		return time.Time{}, base, false
	}
	t, err := time.Parse("2006-01-02_15-04-05", m[1]+"_"+m[2])
	if err != nil {
		return time.Time{}, base, false
	}
	return t, m[3], true
}

// Snapshot is a model saved along training.
type Snapshot struct {
	// Step is the training step it was saved at; Path its file.
	Step int64  `json:"step"`
	Path string `json:"path"`
}

// LoadOptions selects what LoadRun reads.
type LoadOptions struct {
	// SkipBuffer leaves the replay buffer unread (inspect of many runs).
	SkipBuffer bool
	// Layout, when not empty, forces a registered layout (--layout) instead
	// of recognising the folder by its content.
	Layout string
	// Checkpoint, when > 0, loads the snapshot saved at that step
	// (rl_model_<N>_steps.zip) instead of the final model.
	Checkpoint int64
	// MaxAction, when > 0, is original TD3's max_action (not stored in its
	// files); otherwise it comes from the env's table entry, else 1.
	MaxAction float64
	// LogsLater leaves a run's training logs unread until Run.LoadLogs, so
	// that a caller can read them while it does other work. Layouts whose
	// logs come with their other files read them at once regardless.
	LogsLater bool
}

// LoadLogs reads the logs LoadRun left for later (LoadOptions.LogsLater):
// Log and OtherLogs are set when it returns, and must not be read
// before. It does nothing when no log is left, and may be called again.
func (r *Run) LoadLogs() {
	if r.loadLogs != nil {
		r.loadLogs()
	}
}

// findLog returns where the config says the log is, falling back to the
// usual places when the config is missing or the file is not there.
func (r *Run) findLog() string {
	d := DefaultConfig().Training
	cands := []string{}
	if r.Config.V != nil {
		cands = append(cands, filepath.Join(r.Dir, r.Config.V.Training.LogDir, r.Config.V.Training.LogFile))
	}
	cands = append(cands, filepath.Join(r.Dir, d.LogDir, d.LogFile), filepath.Join(r.Dir, d.LogFile))
	for _, c := range cands {
		if _, err := os.Stat(c); err == nil {
			return c
		}
	}
	return cands[0]
}

// loadNetworks finds the checkpoint layout and loads each role.
func (r *Run) loadNetworks() {
	gen1 := filepath.Join(r.Dir, "models")
	agents, _ := filepath.Glob(filepath.Join(r.Dir, "agent_*"))
	sort.Strings(agents)
	var dir, ext string
	switch {
	case isDir(gen1):
		dir, ext, r.NetDir = gen1, ".pth", "models"
	case len(agents) == 0 && fileExists(filepath.Join(r.Dir, "actor.pt")):
		// An agent's files saved straight into the folder (agent.save(dir)).
		dir, ext, r.NetDir = r.Dir, ".pt", flatLayout
	case len(agents) > 0:
		dir = agents[0]
		// Prefer the agent directory of the configured algorithm.
		if r.Config.V != nil {
			want := "agent_" + strings.ToLower(r.Config.V.Algorithm.Type)
			for _, a := range agents {
				if filepath.Base(a) == want {
					dir = a
				}
			}
		}
		ext, r.NetDir = ".pt", filepath.Base(dir)
	default:
		for _, role := range Roles {
			p := filepath.Join(gen1, string(role)+".pth")
			r.Nets[role] = Part[*Network]{Path: p, Err: fmt.Errorf("load %s: no models/ or agent_<algo>/ directory: %w", p, ErrNotExist)}
		}
		return
	}
	sac := r.sacAgent()
	for _, role := range Roles {
		p := filepath.Join(dir, string(role)+ext)
		r.Nets[role] = Part[*Network]{Path: p}
		if sac && role == RoleActorTarget {
			if _, err := os.Stat(p); err != nil {
				continue // SAC has no actor target: not a problem
			}
		}
		kind := KindCritic
		if role == RoleActor || role == RoleActorTarget {
			kind = KindActor
			if sac {
				kind = KindSACActor
			}
		}
		n, err := LoadNetworkAs(p, kind, 0)
		r.Nets[role] = Part[*Network]{Path: p, V: n, Err: err}
	}
	r.checkShapes()
}

// flatLayout is Run.NetDir for an agent's files at the run folder's root.
const flatLayout = "flat"

// agentDir is the folder of an upstream run's networks.
func (r *Run) agentDir() string {
	if r.NetDir == flatLayout {
		return r.Dir
	}
	return filepath.Join(r.Dir, r.NetDir)
}

// sacAgent says whether the upstream run's networks are a SAC agent's: an
// agent_sac folder, or, for flat files, a config saying sac, a
// log_alpha.pt beside them, or an actor with SAC's (mean, log_std) head.
func (r *Run) sacAgent() bool {
	if r.NetDir != flatLayout {
		return strings.Contains(r.NetDir, "sac")
	}
	if r.Config.V != nil && r.Config.Err == nil {
		return strings.EqualFold(r.Config.V.Algorithm.Type, "sac")
	}
	if fileExists(filepath.Join(r.Dir, "log_alpha.pt")) {
		return true
	}
	a, err := LoadNetwork(filepath.Join(r.Dir, "actor.pt"))
	return err == nil && a.Kind == KindSACActor
}

// checkShapes verifies that critics take the actor's observation and
// action sizes, and that a critic without its own split gets it from the
// actor.
func (r *Run) checkShapes() {
	var actor *Network
	for _, role := range []Role{RoleActor, RoleActorTarget} {
		if n := r.Net(role); n != nil {
			actor = n
			break
		}
	}
	if actor == nil {
		return
	}
	for _, role := range Roles {
		n := r.Net(role)
		if n == nil {
			continue
		}
		if n.Kind == KindCritic || n.Kind == KindQuantileCritic {
			in := n.InputWidth()
			if in != actor.ObsDim+actor.ActDim || n.ActionAt > 0 && n.ObsDim != actor.ObsDim {
				r.netFailed(role, fmt.Errorf("load %s: critic input size %d does not match the actor's obs %d + action %d (%s): %w",
					r.Nets[role].Path, in, actor.ObsDim, actor.ActDim, actor.Path, ErrInvalid))
				continue
			}
			n.ObsDim, n.ActDim = actor.ObsDim, actor.ActDim
		} else if n.ObsDim != actor.ObsDim || n.ActDim != actor.ActDim {
			r.netFailed(role, fmt.Errorf("load %s: %s has obs %d, action %d but %s has obs %d, action %d: %w",
				r.Nets[role].Path, role, n.ObsDim, n.ActDim, actor.Path, actor.ObsDim, actor.ActDim, ErrInvalid))
		}
	}
}

// checkBuffer verifies the buffer's dimensions against the networks.
func (r *Run) checkBuffer() error {
	b := r.Buffer.V
	for _, role := range []Role{RoleActor, RoleCritic1} {
		if n := r.Net(role); n != nil && (n.ObsDim != b.ObsDim || n.ActDim != b.ActDim) {
			return fmt.Errorf("load %s: buffer has obs %d, action %d but %s expects obs %d, action %d: %w",
				r.Buffer.Path, b.ObsDim, b.ActDim, n.Path, n.ObsDim, n.ActDim, ErrInvalid)
		}
	}
	return nil
}

func isDir(p string) bool {
	st, err := os.Stat(p)
	return err == nil && st.IsDir()
}
