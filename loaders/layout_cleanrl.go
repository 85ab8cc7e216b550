package loaders

import (
	"fmt"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/rleval/rleval/loaders/internal/pickle"
	"github.com/rleval/rleval/loaders/internal/torchzip"
)

// CleanRL runs, runs/<env>__<exp>__<seed>__<time>/: <exp>.cleanrl_model is
// torch.save of the tuple of state dicts (actor, qf1[, qf2]); the curves are
// TensorBoard event files. No target networks and no buffer are saved.
func init() {
	RegisterLayout(Layout{
		Name:    "cleanrl",
		Library: "cleanrl",
		Looks:   "a *.cleanrl_model file",
		Detect: func(dir string) []string {
			if m, _ := filepath.Glob(filepath.Join(dir, "*.cleanrl_model")); len(m) > 0 {
				return []string{""}
			}
			return nil
		},
		Load: loadCleanRLRun,
		Optional: map[PartName]string{
			PartName(RoleActorTarget):   "CleanRL saves no target networks",
			PartName(RoleCritic1Target): "CleanRL saves no target networks",
			PartName(RoleCritic2Target): "CleanRL saves no target networks",
			PartBuffer:                  "CleanRL saves no replay buffer",
		},
	})
}

func loadCleanRLRun(dir, _ string, opt LoadOptions) (*Run, error) {
	models, _ := filepath.Glob(filepath.Join(dir, "*.cleanrl_model"))
	if len(models) == 0 {
		return nil, fmt.Errorf("run %s: no *.cleanrl_model: %w", dir, ErrNoRun)
	}
	sort.Strings(models)
	path := models[0]
	r := newRun(dir)
	exp := strings.TrimSuffix(filepath.Base(path), ".cleanrl_model")
	c := ForeignConfig()
	c.ExperimentName = exp
	parts := strings.Split(r.Name, "__")
	if len(parts) >= 4 {
		c.Env.Name = parts[0]
		if sec, err := strconv.ParseInt(parts[len(parts)-1], 10, 64); err == nil {
			r.Started = time.Unix(sec, 0).UTC()
		}
	}
	c.Algorithm.Type = strings.SplitN(exp, "_", 2)[0]
	c.Training.LogDir, c.Training.LogFile = ".", "events.out.tfevents.*"
	r.Config.V, r.Config.Path = &c, path

	roles := []Role{RoleActor, RoleCritic1, RoleCritic2}
	for _, role := range Roles {
		r.Nets[role] = Part[*Network]{Path: path}
	}
	nets, err := cleanRLNetworks(path)
	if err != nil {
		for _, role := range roles {
			r.Nets[role] = Part[*Network]{Path: path, Err: err}
		}
	} else {
		// DDPG's one critic leaves critic2 empty: Q is Q1.
		for i, role := range roles[:len(nets)] {
			r.Nets[role] = Part[*Network]{Path: nets[i].Path, V: nets[i]}
		}
		r.checkShapes()
	}
	for _, role := range []Role{RoleActorTarget, RoleCritic1Target, RoleCritic2Target} {
		r.Nets[role] = Part[*Network]{Path: path, Err: fmt.Errorf("%s: CleanRL saves no target networks: %w", path, ErrNotExist)}
	}
	r.Log.V, r.Log.Err = LoadEventFiles(dir)
	r.Log.Path = filepath.Join(dir, "events.out.tfevents.*")
	if r.Log.V != nil {
		r.Log.Path = r.Log.V.Path
	}
	r.Buffer.Path = dir
	r.Buffer.Err = fmt.Errorf("%s: CleanRL saves no replay buffer: %w", dir, ErrNotExist)
	return r, nil
}

// cleanRLNames names the elements of CleanRL's saved tuple.
var cleanRLNames = []string{"actor", "qf1", "qf2"}

// cleanRLNetworks reads the (actor, qf1[, qf2]) tuple of a .cleanrl_model.
func cleanRLNetworks(path string) ([]*Network, error) {
	root, err := torchzip.ReadFile(path)
	if err != nil {
		return nil, err
	}
	t, ok := root.(pickle.Tuple)
	if l, isList := root.(*pickle.List); isList {
		t, ok = pickle.Tuple(l.Items), true
	}
	if !ok || len(t) < 2 || len(t) > 3 {
		return nil, fmt.Errorf("load %s: holds a %s, not the (actor, qf1[, qf2]) tuple of state dicts: %w", path, pickle.TypeName(root), ErrInvalid)
	}
	var out []*Network
	for i, part := range t {
		want := KindCritic
		if i == 0 {
			want = ""
		}
		nets, err := networksFromRoot(fmt.Sprintf("%s#%d", path, i), part, want, 0)
		if err != nil {
			return nil, err
		}
		if len(nets) != 1 {
			return nil, fmt.Errorf("load %s: element %d holds %d networks: %w", path, i, len(nets), ErrInvalid)
		}
		n := nets[0].net
		n.Path = fmt.Sprintf("%s#%s", path, cleanRLNames[i])
		if i == 0 && n.Kind == KindCritic {
			return nil, fmt.Errorf("load %s: the first state dict is a critic, not the actor: %w", path, ErrInvalid)
		}
		out = append(out, n)
	}
	return out, nil
}
