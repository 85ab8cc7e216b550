package jobs

import (
	"sync"

	"github.com/rleval/rleval/graph"
	"github.com/rleval/rleval/loaders"
)

// shared is the provider of the evaluations that several jobs ask for.
// Each is computed the first time a job asks and kept for the others, so
// the order of the jobs never matters.
type shared struct {
	gridPolicy func() ([]float32, error)
	gridQ      func() (*GridQ, error)
	bufferQ    func() (*BufferQ, error)
}

// GridQ is the critics at (s, π(s)) over the state grid.
type GridQ struct {
	// Act is the actor's action per cell (ActDim values each).
	Act []float32
	// Q1 and Q2 are each critic's value (Q2 nil for one critic); Q is
	// their combination (see combineQ).
	Q1, Q2, Q []float32
}

// BufferQ is the critics over the replay buffer: Q at the stored actions
// and at the policy's actions.
type BufferQ struct {
	AtBuffer, AtPolicy []float32
}

func newShared(c *Context) *shared {
	s := &shared{}
	s.gridQ = sync.OnceValues(func() (*GridQ, error) { return evalGridQ(c) })
	s.gridPolicy = sync.OnceValues(func() ([]float32, error) {
		// With critics, the Q pass computes the actions anyway.
		if c.Run.Net(loaders.RoleCritic1) != nil {
			gq, err := s.gridQ()
			if err != nil {
				return nil, err
			}
			return gq.Act, nil
		}
		act := make([]float32, c.Grid().Len()*c.Run.Net(loaders.RoleActor).ActDim)
		return act, c.Engine.Policy(c.Run.Net(loaders.RoleActor), c.Grid(), act)
	})
	s.bufferQ = sync.OnceValues(func() (*BufferQ, error) { return evalBufferQ(c) })
	return s
}

// GridPolicy returns the actor's action over the state grid.
func (c *Context) GridPolicy() ([]float32, error) { return c.shared.gridPolicy() }

// GridQ returns the critics at (s, π(s)) over the state grid.
func (c *Context) GridQ() (*GridQ, error) { return c.shared.gridQ() }

// BufferQ returns the critics over the replay buffer.
func (c *Context) BufferQ() (*BufferQ, error) { return c.shared.bufferQ() }

// critics returns the run's critics: c2 is nil for a single critic (DDPG).
func (c *Context) critics() (c1, c2 *loaders.Network) {
	return c.Run.Net(loaders.RoleCritic1), c.Run.Net(loaders.RoleCritic2)
}

// twinMean says whether twin critics combine by their mean rather than
// their minimum: quantile critics (TQC) do.
func twinMean(c1 *loaders.Network) bool { return c1.Kind == loaders.KindQuantileCritic }

// combineQ is Q of one or two critics: Q1 alone, the mean of quantile
// critics, min(Q1, Q2) of twin critics (already in qm when the engine
// computed it).
func combineQ(c1 *loaders.Network, q1, q2, qm []float32) []float32 {
	switch {
	case q2 == nil:
		return q1
	case twinMean(c1):
		for i := range qm {
			qm[i] = (q1[i] + q2[i]) / 2
		}
	}
	return qm
}

func evalGridQ(c *Context) (*GridQ, error) {
	g := c.Grid()
	actor := c.Run.Net(loaders.RoleActor)
	c1, c2 := c.critics()
	n := g.Len()
	r := &GridQ{Act: make([]float32, n*actor.ActDim), Q1: make([]float32, n)}
	var qm []float32
	if c2 != nil {
		r.Q2, qm = make([]float32, n), make([]float32, n)
	}
	if err := c.Engine.QPolicy(actor, c1, c2, g, r.Act, r.Q1, r.Q2, qm); err != nil {
		return nil, err
	}
	r.Q = combineQ(c1, r.Q1, r.Q2, qm)
	return r, nil
}

func evalBufferQ(c *Context) (*BufferQ, error) {
	b := c.Run.Buffer.V
	actor := c.Run.Net(loaders.RoleActor)
	c1, c2 := c.critics()
	obs, acts, err := graph.BufferRows(b)
	if err != nil {
		return nil, err
	}
	n := b.Size
	r := &BufferQ{AtBuffer: make([]float32, n), AtPolicy: make([]float32, n)}
	if c2 == nil || !twinMean(c1) {
		// One pass: the actor and the critic passes per chunk, nothing but
		// the two combined values kept.
		return r, c.Engine.QFull(actor, c1, c2, obs, acts, r.AtBuffer, r.AtPolicy)
	}
	q1, q2 := make([]float32, n), make([]float32, n)
	if err := c.Engine.Q(c1, c2, obs, acts, q1, q2, nil); err != nil {
		return nil, err
	}
	combineQ(c1, q1, q2, r.AtBuffer)
	if err := c.Engine.QPolicy(actor, c1, c2, obs, nil, q1, q2, nil); err != nil {
		return nil, err
	}
	combineQ(c1, q1, q2, r.AtPolicy)
	return r, nil
}
