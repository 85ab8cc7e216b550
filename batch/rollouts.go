package batch

import (
	"context"
	"fmt"
	"path/filepath"
	"slices"
	"sync"

	"github.com/rleval/rleval/envs"
	"github.com/rleval/rleval/graph"
	"github.com/rleval/rleval/internal/par"
	"github.com/rleval/rleval/jobs"
	"github.com/rleval/rleval/loaders"
)

// DefaultWave is Rollouts.Wave's default: 32 actors stacked fill a
// GPU's GEMMs, and 32 runs' episode and grid results (13 bytes a state:
// 17 MiB at a 200² pendulum grid) and actors (9 MiB at 256×256) are
// modest to hold while they wait for their runs; preparing a wave also
// holds each run's grid states, 20 MiB, until the stack runs.
const DefaultWave = 32

// Rollouts does the returns job's rollouts of a batch's runs before the
// runs are evaluated, those of runs that share them stacked: runs whose
// rollouts start from the same states (the same environment, --episodes
// and seed; the same plane and --grid) with the same horizon and γ, and
// whose actors share an architecture (graph.SameArchitecture), are rolled
// out together, the backend's stacked policy (graph.Stacked) called once
// per step for all their actors: on a GPU one strided-batched GEMM per
// layer; on the CPU a loop over the actors, which gains nothing (see
// NewRollouts).
//
// The batch hands its runs to its workers in waves of Wave runs, each
// wave's rollouts done before its runs start (while the previous wave's
// runs finish), and each run takes its own results as its returns job asks
// for them (Take, through jobs.Options.Rollouts); a run's results not
// taken are dropped once it is done. Rollouts from the buffer's states
// (a different sample for each run) and of runs whose plane follows from
// their buffer are left to each run. Whatever fails here (a run that
// cannot be loaded, a stacked rollout that fails) leaves its runs to do
// their own rollouts, which report their errors as their own.
type Rollouts struct {
	// Options are the options the batch's Evaluate evaluates runs with.
	Options jobs.Options
	// Backend evaluates the actors.
	Backend graph.Backend
	// Wave is the most runs whose rollouts are done at once (0:
	// DefaultWave); Workers the chunks of states stepped at once (0:
	// GOMAXPROCS).
	Wave, Workers int

	mu    sync.Mutex
	ready map[string][]preparedRollout // by readyKey
	keys  map[string][]string          // the ready keys of each run path
	taken int
}

// NewRollouts returns the Rollouts of a batch that evaluates its runs
// with opt on backend b, or nil when they gain nothing: when the returns
// job is off, or when b is no GPU (graph.DeviceInfoer). The CPU evaluates
// a stack one actor after another, as fast as each run's own rollouts,
// and doing a wave's rollouts first would only hold back its runs' other
// jobs and lose a wave's work, not a run's, to an interruption.
func NewRollouts(opt jobs.Options, b graph.Backend) *Rollouts {
	if _, gpu := b.(graph.DeviceInfoer); !gpu || !opt.Returns.Enabled {
		return nil
	}
	return &Rollouts{Options: opt, Backend: b}
}

// preparedRollout is a rollout done ahead and what it was done for.
type preparedRollout struct {
	req *jobs.RolloutRequest
	res *envs.Result
}

func readyKey(q *jobs.RolloutRequest) string { return q.Run + "\x00" + q.Actor.Path }

// Take returns the result of req done ahead, and forgets it; nil when
// none was (jobs.RolloutCache).
func (s *Rollouts) Take(req *jobs.RolloutRequest) *envs.Result {
	if s == nil {
		return nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	key := readyKey(req)
	list := s.ready[key]
	i := slices.IndexFunc(list, func(p preparedRollout) bool { return p.req.Same(req) })
	if i < 0 {
		return nil
	}
	res := list[i].res
	s.ready[key] = slices.Delete(list, i, i+1)
	s.taken++
	return res
}

// Taken returns how many rollouts done stacked runs have taken.
func (s *Rollouts) Taken() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.taken
}

// drop forgets run rd's results not taken. s may be nil.
func (s *Rollouts) drop(rd RunDir) {
	if s == nil {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, k := range s.keys[rd.Path] {
		delete(s.ready, k)
	}
	delete(s.keys, rd.Path)
}

// waves cuts the runs to feed into the waves whose rollouts are done
// together: one wave when there is nothing to do ahead.
func (b *Batch) waves(todo []int) [][]int {
	if b.Rollouts == nil || len(todo) == 0 {
		return [][]int{todo}
	}
	w := b.Rollouts.Wave
	if w <= 0 {
		w = DefaultWave
	}
	var out [][]int
	for len(todo) > 0 {
		n := min(w, len(todo))
		out = append(out, todo[:n])
		todo = todo[n:]
	}
	return out
}

// prepareRollouts does the stacked rollouts of a wave's runs that are not
// up to date.
func (b *Batch) prepareRollouts(ctx context.Context, runs []RunDir, wave []int) {
	if b.Rollouts == nil {
		return
	}
	var todo []RunDir
	for _, i := range wave {
		if !b.upToDate(runs[i]) {
			todo = append(todo, runs[i])
		}
	}
	b.Rollouts.prepare(ctx, todo)
}

// upToDate reports whether run rd's manifest says its outputs are up to
// date (runOne decides again under the run's lock).
func (b *Batch) upToDate(rd RunDir) bool {
	if b.Force {
		return false
	}
	inputs, err := ScanInputs(loaders.RunFolder(rd.Path))
	if err != nil {
		return false
	}
	m, err := ReadManifest(filepath.Join(b.Out, rd.OutName))
	return err == nil && m.Matches(inputs, b.Options)
}

// prepare plans the runs' rollouts, groups those that stack and does each
// group of two or more as one stacked rollout, keeping the results for
// the runs to take.
func (s *Rollouts) prepare(ctx context.Context, runs []RunDir) {
	planned := make([][]*jobs.RolloutRequest, len(runs))
	par.For(len(runs), func(i int) {
		if ctx.Err() == nil {
			// On an error the run's own evaluation says why.
			planned[i], _ = planRollouts(ctx, runs[i].Path, s.Options)
		}
	})
	var reqs []*jobs.RolloutRequest
	owner := map[*jobs.RolloutRequest]string{}
	for i, p := range planned {
		for _, q := range p {
			owner[q] = runs[i].Path
		}
		reqs = append(reqs, p...)
	}
	var used []*loaders.Network
	for _, g := range stackGroups(reqs) {
		if len(g) < 2 || ctx.Err() != nil {
			continue // alone, a run does its own
		}
		res, err := rolloutStacked(ctx, s.Backend, g, s.Workers)
		if err != nil {
			continue // each run does its own: the culprit fails alone
		}
		s.mu.Lock()
		if s.ready == nil {
			s.ready, s.keys = map[string][]preparedRollout{}, map[string][]string{}
		}
		for j, q := range g {
			key := readyKey(q)
			s.ready[key] = append(s.ready[key], preparedRollout{q, res[j]})
			if p := owner[q]; !slices.Contains(s.keys[p], key) {
				s.keys[p] = append(s.keys[p], key)
			}
			used = append(used, q.Actor)
		}
		s.mu.Unlock()
	}
	// The runs load their own actors: release what the backend prepared
	// for these (plans, weights and stacks on a GPU).
	if f, ok := s.Backend.(graph.Forgetter); ok {
		for _, a := range used {
			f.Forget(a)
		}
	}
}

// stackGroups groups requests that stack (jobs.RolloutRequest.StacksWith),
// in order. The requests of a group share their first one's states.
func stackGroups(reqs []*jobs.RolloutRequest) [][]*jobs.RolloutRequest {
	var groups [][]*jobs.RolloutRequest
	for _, q := range reqs {
		i := slices.IndexFunc(groups, func(g []*jobs.RolloutRequest) bool { return g[0].StacksWith(q) == nil })
		if i < 0 {
			groups = append(groups, []*jobs.RolloutRequest{q})
			continue
		}
		q.States = groups[i][0].States // equal: keep one copy
		groups[i] = append(groups[i], q)
	}
	return groups
}

// planRollouts is jobs.PlanRollouts with a panic (a bug) turned into an
// error: the run's own evaluation meets it again, where the batch
// reports it.
func planRollouts(ctx context.Context, dir string, opt jobs.Options) (reqs []*jobs.RolloutRequest, err error) {
	defer func() {
		if p := recover(); p != nil {
			reqs, err = nil, fmt.Errorf("panic: %v", p)
		}
	}()
	return jobs.PlanRollouts(ctx, dir, opt)
}

// rolloutStacked is jobs.RolloutStacked with a panic turned into an
// error, as planRollouts.
func rolloutStacked(ctx context.Context, b graph.Backend, g []*jobs.RolloutRequest, workers int) (res []*envs.Result, err error) {
	defer func() {
		if p := recover(); p != nil {
			res, err = nil, fmt.Errorf("panic: %v", p)
		}
	}()
	return jobs.RolloutStacked(ctx, b, g, workers)
}
