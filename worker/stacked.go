package worker

import (
	"fmt"
	"time"

	"github.com/rleval/rleval/graph"
	"github.com/rleval/rleval/loaders"
)

// What a stacked request evaluates.
const (
	stackPolicy  uint32 = 1
	stackQ       uint32 = 2
	stackQPolicy uint32 = 3
)

// maxStack bounds the networks of one stacked request, checked before
// allocating: far above a sweep's hundreds of runs.
const maxStack = 1 << 14

// StackedPolicy evaluates k actors of one architecture on their own blocks
// of obs in one request per chunk; see graph.Stacked.
func (rem *Remote) StackedPolicy(actors []*loaders.Network, obs []float32, n int, act []float32) error {
	return rem.stacked(stackPolicy, actors, nil, nil, obs, nil, n, act, nil, nil)
}

// StackedQ evaluates k pairs of critics on their own blocks of (obs, act);
// c2 and q2 may be nil.
func (rem *Remote) StackedQ(c1, c2 []*loaders.Network, obs, act []float32, n int, q1, q2 []float32) error {
	return rem.stacked(stackQ, nil, c1, c2, obs, act, n, nil, q1, q2)
}

// StackedQPolicy evaluates k actors and their critics on their own blocks
// of obs, the actions staying on the device in between.
func (rem *Remote) StackedQPolicy(actors, c1, c2 []*loaders.Network, obs []float32, n int, act, q1, q2 []float32) error {
	return rem.stacked(stackQPolicy, actors, c1, c2, obs, nil, n, act, q1, q2)
}

var _ graph.Stacked = (*Remote)(nil)

// stacked sends one stacked request per chunk of rows: each chunk carries
// rows lo..hi of every network's block.
func (rem *Remote) stacked(what uint32, actors, c1, c2 []*loaders.Network, obs, act []float32, n int, aout, q1, q2 []float32) error {
	if c2 == nil {
		q2 = nil
	}
	actIn := act
	if what != stackQ {
		actIn = aout
	}
	k, err := graph.CheckStack(actors, c1, c2, n, obs, actIn, q1, q2)
	if err != nil {
		return err
	}
	if k > maxStack {
		return fmt.Errorf("stack of %d networks, over the limit of %d", k, maxStack)
	}
	if n == 0 {
		return nil
	}
	first := actors
	if first == nil {
		first = c1
	}
	od, ad := first[0].ObsDim, first[0].ActDim
	rem.mu.Lock()
	defer rem.mu.Unlock()
	ids := make([][]uint32, 3) // nil where there are no such networks
	for i, nets := range [][]*loaders.Network{actors, c1, c2} {
		if len(nets) == 0 {
			continue
		}
		var err error
		if ids[i], err = rem.loadAll(nets...); err != nil {
			return err
		}
	}
	in, out := od, 0
	if what == stackQ {
		in += ad
	}
	if what != stackQ {
		out += ad
	}
	if what != stackPolicy {
		out += 2
	}
	sample := []*loaders.Network{first[0]}
	if c1 != nil {
		sample = append(sample, c1[0])
	}
	step := rem.chunkRowsStacked(k, in, out, sample...)
	var outs [][]float32
	for lo := 0; lo < n; lo += step {
		hi := min(lo+step, n)
		m := hi - lo
		rem.out.b = rem.out.b[:0]
		rem.out.u32(what)
		rem.out.u32(uint32(k))
		switch what {
		case stackPolicy:
			rem.putIDs(ids[0])
		case stackQ:
			rem.putIDs(ids[1])
			rem.putIDs(zeroIDs(ids[2], k))
		case stackQPolicy:
			rem.putIDs(ids[0])
			rem.putIDs(ids[1])
			rem.putIDs(zeroIDs(ids[2], k))
		}
		rem.out.u32(uint32(m))
		for j := range k {
			rem.out.floats(obs[(j*n+lo)*od : (j*n+hi)*od])
		}
		if what == stackQ {
			for j := range k {
				rem.out.floats(act[(j*n+lo)*ad : (j*n+hi)*ad])
			}
		}
		outs = outs[:0]
		if what != stackQ {
			for j := range k {
				outs = append(outs, aout[(j*n+lo)*ad:(j*n+hi)*ad])
			}
		}
		if what != stackPolicy {
			for j := range k {
				outs = append(outs, q1[j*n+lo:j*n+hi])
			}
			if q2 != nil {
				for j := range k {
					outs = append(outs, q2[j*n+lo:j*n+hi])
				}
			}
		}
		if err := rem.evaluate(opStacked, k*m, outs...); err != nil {
			return fmt.Errorf("stack of %d (%s) rows %d..%d: %w", k, first[0].Path, lo, hi, err)
		}
	}
	return nil
}

func (rem *Remote) putIDs(ids []uint32) {
	for _, id := range ids {
		rem.out.u32(id)
	}
}

func zeroIDs(ids []uint32, k int) []uint32 {
	if ids != nil {
		return ids
	}
	return make([]uint32, k)
}

// chunkRowsStacked is chunkRows for k networks per row: each row carries
// k times the floats and takes k times the device memory.
func (rem *Remote) chunkRowsStacked(k, inFloats, outFloats int, nets ...*loaders.Network) int {
	rows := rem.chunkRows(k*inFloats, k*outFloats)
	if rem.info.FreeMem > 0 {
		rows = min(rows, max(rem.chunkRows(inFloats, outFloats, nets...)/k, 1))
	}
	return rows
}

// stacked decodes and runs a stacked request on the served backend (its
// own graph.Stacked evaluation, or a loop over its per-network calls).
func (s *wireServer) stacked(d *wireDec) (func(*wireEnc), error) {
	what, k := d.u32("what"), int(d.u32("networks"))
	if d.err != nil {
		return nil, d.err
	}
	if what < stackPolicy || what > stackQPolicy {
		return nil, fmt.Errorf("unknown stacked evaluation %d", what)
	}
	if k <= 0 || k > maxStack {
		return nil, fmt.Errorf("%d networks, want 1..%d", k, maxStack)
	}
	actors, c1, c2, err := s.stackNets(d, what, k)
	if err != nil {
		return nil, err
	}
	n := int(d.u32("rows"))
	first := actors
	if first == nil {
		first = c1
	}
	od, ad := first[0].ObsDim, first[0].ActDim
	width := od
	if what == stackQ {
		width += ad
	}
	if err := wireRows(d, k*n, width, "stacked input"); err != nil {
		return nil, err
	}
	s.obs = wireGrow(s.obs, k*n*od)
	d.floatsInto(s.obs, "obs")
	s.act = wireGrow(s.act, k*n*ad)
	if what == stackQ {
		d.floatsInto(s.act, "act")
	}
	var q1, q2 []float32
	if what != stackPolicy {
		s.q1 = wireGrow(s.q1, k*n)
		q1 = s.q1
		if c2 != nil {
			s.q2 = wireGrow(s.q2, k*n)
			q2 = s.q2
		}
	}
	st := graph.AsStacked(s.b)
	start := time.Now()
	switch what {
	case stackPolicy:
		err = st.StackedPolicy(actors, s.obs, n, s.act)
	case stackQ:
		err = st.StackedQ(c1, c2, s.obs, s.act, n, q1, q2)
	case stackQPolicy:
		err = st.StackedQPolicy(actors, c1, c2, s.obs, n, s.act, q1, q2)
	}
	if err != nil {
		return nil, err
	}
	t := graph.DeviceTiming{Compute: time.Since(start)}
	if lt, ok := s.b.(graph.Timer); ok {
		if _, own := s.b.(graph.Stacked); own {
			t = lt.LastTiming()
		}
	}
	return func(e *wireEnc) {
		e.timing(t)
		if what != stackQ {
			e.floats(s.act)
		}
		e.floats(q1)
		e.floats(q2)
	}, nil
}

// stackNets decodes the ids of a stacked request's k networks of each role
// it evaluates: actors, first critics, and second critics (all or none).
func (s *wireServer) stackNets(d *wireDec, what uint32, k int) (actors, c1, c2 []*loaders.Network, err error) {
	if what != stackQ {
		if actors, err = s.netIDs(d, k, "actor", loaders.KindActor, loaders.KindSACActor); err != nil {
			return nil, nil, nil, err
		}
	}
	if what == stackPolicy {
		return actors, nil, nil, nil
	}
	if c1, err = s.netIDs(d, k, "critic 1", criticKinds...); err != nil {
		return nil, nil, nil, err
	}
	zero := 0
	var c2ids []uint32
	for range k {
		id := d.u32("critic 2 id")
		c2ids = append(c2ids, id)
		if id == 0 {
			zero++
		}
	}
	if d.err != nil {
		return nil, nil, nil, d.err
	}
	switch zero {
	case k:
	case 0:
		for _, id := range c2ids {
			net, err := s.net(id, "critic 2", criticKinds...)
			if err != nil {
				return nil, nil, nil, err
			}
			c2 = append(c2, net)
		}
	default:
		return nil, nil, nil, fmt.Errorf("%d of %d second critics are none: all or none", zero, k)
	}
	return actors, c1, c2, nil
}

// netIDs decodes k network ids of one role (want) and returns their
// networks, which must be of one of kinds.
func (s *wireServer) netIDs(d *wireDec, k int, want string, kinds ...loaders.NetKind) ([]*loaders.Network, error) {
	out := make([]*loaders.Network, 0, k)
	for range k {
		id := d.u32(want + " id")
		if d.err != nil {
			return nil, d.err
		}
		net, err := s.net(id, want, kinds...)
		if err != nil {
			return nil, err
		}
		out = append(out, net)
	}
	return out, nil
}
