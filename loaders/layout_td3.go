package loaders

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// Fujimoto's original TD3 code (sfujim/TD3): models/<policy>_<env>_<seed>_actor
// and _critic (+ _optimizer files; .pth in the 2018 code), and
// results/<policy>_<env>_<seed>.npy. A folder holds one run per prefix; a
// run is addressed as <folder>/<prefix>.
func init() {
	RegisterLayout(Layout{
		Name:    "td3",
		Library: "sfujim/TD3",
		Looks:   "models/<policy>_<env>_<seed>_actor with _critic",
		Detect:  td3Prefixes,
		Load:    loadTD3Run,
		Optional: map[PartName]string{
			PartName(RoleActorTarget):   "original TD3 saves no target networks",
			PartName(RoleCritic1Target): "original TD3 saves no target networks",
			PartName(RoleCritic2Target): "original TD3 saves no target networks",
			PartBuffer:                  "original TD3 saves no replay buffer",
		},
	})
}

// td3EvalFreq is the original code's default --eval_freq.
const td3EvalFreq = 5000

// td3MaxAction holds max_action (the action bound, not stored in the
// files) of Gymnasium's continuous-control envs, by name without version.
var td3MaxAction = map[string]float64{
	"Pendulum": 2, "MountainCarContinuous": 1, "LunarLanderContinuous": 1,
	"BipedalWalker": 1, "BipedalWalkerHardcore": 1, "CarRacing": 1,
	"HalfCheetah": 1, "Hopper": 1, "Walker2d": 1, "Ant": 1, "Reacher": 1,
	"Swimmer": 1, "Pusher": 2, "InvertedPendulum": 3,
	"InvertedDoublePendulum": 1, "Humanoid": 0.4, "HumanoidStandup": 0.4,
}

// td3Prefixes lists the run prefixes of a folder: those with both an
// _actor and a _critic file in models/.
func td3Prefixes(dir string) []string {
	entries, err := os.ReadDir(filepath.Join(dir, "models"))
	if err != nil {
		return nil
	}
	files := map[string]bool{}
	for _, e := range entries {
		files[e.Name()] = true
	}
	var out []string
	for name := range files {
		for _, ext := range []string{"", ".pth"} {
			if p, ok := strings.CutSuffix(name, "_actor"+ext); ok && p != "" && files[p+"_critic"+ext] {
				out = append(out, p)
			}
		}
	}
	sort.Strings(out)
	return out
}

// splitTD3Prefix splits <policy>_<env>_<seed>.
func splitTD3Prefix(p string) (policy, env, seed string) {
	i, j := strings.IndexByte(p, '_'), strings.LastIndexByte(p, '_')
	if i < 0 || j <= i {
		return "", p, ""
	}
	return p[:i], p[i+1 : j], p[j+1:]
}

func loadTD3Run(dir, id string, opt LoadOptions) (*Run, error) {
	ids := td3Prefixes(dir)
	if id == "" && len(ids) == 1 {
		id = ids[0]
	}
	found := false
	for _, x := range ids {
		found = found || x == id
	}
	if !found {
		return nil, fmt.Errorf("run %s: no models/%s_actor and _critic (runs here: %s): %w", RunPath(dir, id), id, strings.Join(ids, ", "), ErrNotExist)
	}
	r := newRun(dir)
	r.Name, r.ID = id, id
	policy, env, _ := splitTD3Prefix(id)
	c := ForeignConfig()
	c.ExperimentName, c.Env.Name, c.Algorithm.Type = id, env, strings.ToLower(policy)
	c.Training.LogDir, c.Training.LogFile = "results", id+".npy"
	c.Evaluation.Frequency = td3EvalFreq
	r.Config.V, r.Config.Path = &c, filepath.Join(dir, "models")

	maxAction := opt.MaxAction
	if maxAction <= 0 {
		name, _, _ := strings.Cut(env, "-v")
		if v, ok := td3MaxAction[name]; ok {
			maxAction = v
		} else {
			maxAction = 1
		}
	}
	ext := ""
	if !fileExists(filepath.Join(dir, "models", id+"_actor")) {
		ext = ".pth"
	}
	actorPath := filepath.Join(dir, "models", id+"_actor"+ext)
	criticPath := filepath.Join(dir, "models", id+"_critic"+ext)
	a, err := LoadNetworkAs(actorPath, KindActor, 0)
	if err == nil {
		a.Low, a.High = make([]float32, a.ActDim), make([]float32, a.ActDim)
		for i := range a.Low {
			a.Low[i], a.High[i] = float32(-maxAction), float32(maxAction)
		}
	}
	r.Nets[RoleActor] = Part[*Network]{Path: actorPath, V: a, Err: err}
	q1, q2, err := loadTD3Critics(criticPath, r.Net(RoleActor))
	r.Nets[RoleCritic1] = Part[*Network]{Path: criticPath + "#q1", V: q1, Err: err}
	if err != nil || q2 != nil {
		r.Nets[RoleCritic2] = Part[*Network]{Path: criticPath + "#q2", V: q2, Err: err}
	} // else OurDDPG's one critic
	r.checkShapes()
	for _, role := range []Role{RoleActorTarget, RoleCritic1Target, RoleCritic2Target} {
		r.Nets[role] = Part[*Network]{Path: actorPath, Err: fmt.Errorf("%s: original TD3 saves no target networks: %w", filepath.Join(dir, "models"), ErrNotExist)}
	}
	r.Log.Path = filepath.Join(dir, "results", id+".npy")
	r.Log.V, r.Log.Err = LoadTD3Results(r.Log.Path, td3EvalFreq)
	r.Buffer.Path = filepath.Join(dir, "models")
	r.Buffer.Err = fmt.Errorf("%s: original TD3 saves no replay buffer: %w", dir, ErrNotExist)
	return r, nil
}

// loadTD3Critics reads the critic file of the original TD3 code: TD3's twin
// critic (l1..l3 and l4..l6), or the one critic of its OurDDPG baseline
// (l1..l3 of cat(s, a)) or of its DDPG.py baseline (the action entering at
// l2, Network.ActionAt 1), returned as q1 with q2 nil (Q is Q1, as for
// DDPG in the other layouts). actor, when loaded, tells the observation
// size.
func loadTD3Critics(path string, actor *Network) (q1, q2 *Network, err error) {
	qs, err := LoadNetworks(path)
	if err != nil {
		return nil, nil, err
	}
	if qs["q1"] != nil && qs["q2"] != nil {
		return qs["q1"], qs["q2"], nil
	}
	obs := 0
	if actor != nil {
		obs = actor.ObsDim
	}
	q, err := LoadNetworkAs(path, KindCritic, obs)
	if err != nil {
		return nil, nil, fmt.Errorf("%w (neither TD3's twin critic l1..l6 nor OurDDPG's or DDPG.py's critic l1..l3)", err)
	}
	return q, nil, nil
}
