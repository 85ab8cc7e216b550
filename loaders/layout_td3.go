package loaders

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/rleval/rleval/loaders/internal/torchzip"
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
		Optional: map[Part]string{
			Part(RoleActorTarget):   "original TD3 saves no target networks",
			Part(RoleCritic1Target): "original TD3 saves no target networks",
			Part(RoleCritic2Target): "original TD3 saves no target networks",
			PartBuffer:              "original TD3 saves no replay buffer",
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
	r.Config, r.ConfigPath = &c, filepath.Join(dir, "models")

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
	r.NetPaths[RoleActor] = actorPath
	if a, err := LoadNetworkAs(actorPath, KindActor, 0); err != nil {
		r.NetErrs[RoleActor] = err
	} else {
		a.Low, a.High = make([]float32, a.ActDim), make([]float32, a.ActDim)
		for i := range a.Low {
			a.Low[i], a.High[i] = float32(-maxAction), float32(maxAction)
		}
		r.Nets[RoleActor] = a
	}
	r.NetPaths[RoleCritic1], r.NetPaths[RoleCritic2] = criticPath+"#q1", criticPath+"#q2"
	if q1, q2, err := loadTD3Critics(criticPath, r.Nets[RoleActor]); err != nil {
		r.NetErrs[RoleCritic1], r.NetErrs[RoleCritic2] = err, err
	} else {
		r.Nets[RoleCritic1] = q1
		if q2 != nil {
			r.Nets[RoleCritic2] = q2
		} else {
			delete(r.NetPaths, RoleCritic2) // OurDDPG's one critic
		}
	}
	r.checkShapes()
	for _, role := range []Role{RoleActorTarget, RoleCritic1Target, RoleCritic2Target} {
		r.NetPaths[role] = actorPath
		r.NetErrs[role] = fmt.Errorf("%s: original TD3 saves no target networks: %w", filepath.Join(dir, "models"), ErrNotExist)
	}
	r.LogPath = filepath.Join(dir, "results", id+".npy")
	r.Log, r.LogErr = LoadTD3Results(r.LogPath, td3EvalFreq)
	r.BufferPath = filepath.Join(dir, "models")
	r.BufferErr = fmt.Errorf("%s: original TD3 saves no replay buffer: %w", dir, ErrNotExist)
	return r, nil
}

// loadTD3Critics reads the critic file of the original TD3 code: TD3's twin
// critic (l1..l3 and l4..l6), or the one critic of its OurDDPG baseline
// (l1..l3 of cat(s, a)), returned as q1 with q2 nil (Q is Q1, as for DDPG
// in the other layouts). Its DDPG.py baseline's critic
// takes the action at l2, a network rleval does not evaluate: that is
// ErrUnsupported. actor, when loaded, tells the observation size.
func loadTD3Critics(path string, actor *Network) (q1, q2 *Network, err error) {
	qs, err := LoadNetworks(path)
	if err != nil {
		if ddpgCritic(path, actor) {
			return nil, nil, fmt.Errorf("load %s: the critic of the DDPG.py baseline takes the action at its second layer (l2), "+
				"which rleval does not evaluate; the actor's analyses still run: %w", path, ErrUnsupported)
		}
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
		return nil, nil, fmt.Errorf("%w (neither TD3's twin critic l1..l6 nor OurDDPG's critic l1..l3)", err)
	}
	return q, nil, nil
}

// ddpgCritic reports a DDPG.py critic: l1 takes the observation and l2 the
// output of l1 and the action.
func ddpgCritic(path string, actor *Network) bool {
	if actor == nil {
		return false
	}
	root, err := torchzip.ReadFile(path)
	if err != nil {
		return false
	}
	sd, ok := toStateDict(root)
	if !ok || sd.has("l4.weight") {
		return false
	}
	w1, w2 := sd.tensors["l1.weight"], sd.tensors["l2.weight"]
	return w1 != nil && w2 != nil && len(w1.Shape) == 2 && len(w2.Shape) == 2 &&
		w1.Shape[1] == actor.ObsDim && w2.Shape[1] == w1.Shape[0]+actor.ActDim
}
