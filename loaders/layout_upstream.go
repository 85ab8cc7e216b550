package loaders

import (
	"os"
	"path/filepath"
	"sync"
)

const upstreamLayout = "upstream"

// The upstream training code's runs (FORMATS.md): config.yaml, a
// train.jsonl log, models/*.pth (gen-1) or agent_<algo>/*.pt (gen-2) and
// data/replay_buffer.pth.
func init() {
	RegisterLayout(Layout{
		Name:    upstreamLayout,
		Library: "nn_laser_stabilizer",
		Looks:   "config.yaml, models/, agent_<algo>/, actor.pt with critic1.pt, train_logs/ or data/replay_buffer.pth",
		Detect:  detectUpstream,
		Load:    func(dir, _ string, opt LoadOptions) (*Run, error) { return loadUpstream(dir, opt), nil },
	})
}

func detectUpstream(dir string) []string {
	if _, _, ok := ParseRunName(filepath.Base(filepath.Clean(dir))); ok {
		return []string{""}
	}
	for _, p := range []string{"config.yaml", "models", "train_logs", "train.jsonl", filepath.Join("data", "replay_buffer.pth")} {
		if _, err := os.Stat(filepath.Join(dir, p)); err == nil {
			return []string{""}
		}
	}
	if agents, _ := filepath.Glob(filepath.Join(dir, "agent_*")); len(agents) > 0 {
		return []string{""}
	}
	// An agent saved flat (the trainer's sac agent: actor.pt, critic1.pt...).
	if fileExists(filepath.Join(dir, "actor.pt")) && fileExists(filepath.Join(dir, "critic1.pt")) {
		return []string{""}
	}
	return nil
}

// loadUpstream loads whatever exists of an upstream run directory.
func loadUpstream(dir string, opt LoadOptions) *Run {
	r := newRun(dir)
	r.Started, _, _ = ParseRunName(r.Name)

	r.Config.Path = filepath.Join(dir, "config.yaml")
	r.Config.V, r.Config.Err = LoadConfig(r.Config.Path)

	r.Log.Path = r.findLog()
	r.loadLogs = sync.OnceFunc(func() {
		r.Log.V, r.Log.Err = LoadTrainLog(r.Log.Path)
		for _, p := range OtherLogs(r.Log.Path) {
			if lg, err := loadLog(p, false); err == nil {
				r.OtherLogs = append(r.OtherLogs, lg)
			} else {
				r.OtherLogErrs = append(r.OtherLogErrs, err)
			}
		}
	})
	if !opt.LogsLater {
		r.LoadLogs()
	}

	r.loadNetworks()
	r.loadUpstreamTemperature()

	r.Buffer.Path = filepath.Join(dir, "data", "replay_buffer.pth")
	if !opt.SkipBuffer {
		r.Buffer.V, r.Buffer.Err = LoadReplayBuffer(r.Buffer.Path)
		r.acceptBuffer()
	}
	return r
}

func newRun(dir string) *Run {
	return &Run{Dir: dir, Name: filepath.Base(filepath.Clean(dir)),
		Nets: map[Role]Part[*Network]{}}
}

// acceptBuffer keeps a loaded buffer only when it fits the networks.
func (r *Run) acceptBuffer() {
	if r.Buffer.Err == nil && r.Buffer.V != nil {
		r.Buffer.Err = r.checkBuffer()
		if r.Buffer.Err != nil {
			r.Buffer.V = nil
		}
	}
}
