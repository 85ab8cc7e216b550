package envs

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
)

// stackOf evaluates policy j on block j, as a stacked backend does.
func stackOf(e *Env, pols []Policy) StackedPolicy {
	od, ad := e.ObsDim, e.ActDim
	return func(obs []float32, k, n int, act []float32) error {
		for j := 0; j < k; j++ {
			if err := pols[j](obs[j*n*od:(j+1)*n*od], n, act[j*n*ad:(j+1)*n*ad]); err != nil {
				return err
			}
		}
		return nil
	}
}

// stackStates returns k blocks of n states: block 0 from the reset
// distribution; for the mountain car, block 1 with every third state
// near the goal and block 2 with all of them there, so that the blocks
// of one chunk terminate at different steps and block 2 empties first.
func stackStates(e *Env, k, n int) []float64 {
	var s []float64
	for j := 0; j < k; j++ {
		b := e.ResetStates(uint64(11+j), n)
		if e == MountainCarContinuous && j > 0 {
			for i := 0; i < n; i++ {
				if j == 2 || i%3 == 0 {
					b[2*i], b[2*i+1] = 0.3+0.001*float64(i%50), 0.03
				}
			}
		}
		s = append(s, b...)
	}
	return s
}

// TestRunStackedEqualsRunPerBlock: each block of a stacked rollout is,
// bit for bit, Run of its own policy alone and Gymnasium's one state at
// a time, with one policy call per step and chunk for all k blocks, also
// when the blocks' states terminate at different steps (the mountain car)
// and the emptied blocks are padded.
func TestRunStackedEqualsRunPerBlock(t *testing.T) {
	const n, steps, chunk = 300, 400, 7
	for _, e := range []*Env{Pendulum, MountainCarContinuous} {
		for _, k := range []int{1, 3} {
			t.Run(fmt.Sprintf("%s/k=%d", e.Name, k), func(t *testing.T) {
				pols := make([]Policy, k)
				for j := range pols {
					pols[j] = policyN(j)
				}
				states := stackStates(e, k, n)
				var mu sync.Mutex
				calls := 0
				stack := stackOf(e, pols)
				counted := func(obs []float32, kk, rows int, act []float32) error {
					mu.Lock()
					calls++
					mu.Unlock()
					if kk != k || rows < 1 || rows > chunk {
						return fmt.Errorf("call with %d blocks of %d rows, want %d of 1 to %d", kk, rows, k, chunk)
					}
					return stack(obs, kk, rows, act)
				}
				got, err := e.RunStacked(context.Background(), counted, k, states, n, Rollout{Steps: steps, Gamma: 0.99, Chunk: chunk, Workers: 3})
				if err != nil {
					t.Fatal(err)
				}
				if nchunks := (n + chunk - 1) / chunk; calls > nchunks*steps {
					t.Errorf("%d policy calls, want at most one per step and chunk (%d)", calls, nchunks*steps)
				}
				sd := e.StateDim
				terms := make([]int, k)
				for j := 0; j < k; j++ {
					block := states[j*n*sd : (j+1)*n*sd]
					want, err := e.Run(context.Background(), pols[j], block, n, Rollout{Steps: steps, Gamma: 0.99, Chunk: 64, Workers: 2})
					if err != nil {
						t.Fatal(err)
					}
					for i := 0; i < n; i++ {
						g := got[j]
						if g.Return[i] != want.Return[i] || g.Steps[i] != want.Steps[i] || g.Terminated[i] != want.Terminated[i] {
							t.Fatalf("block %d state %d: stacked (%v, %d, %v), alone (%v, %d, %v)", j, i,
								g.Return[i], g.Steps[i], g.Terminated[i], want.Return[i], want.Steps[i], want.Terminated[i])
						}
						ret, st, term := scalarRolloutOf(e, pols[j], block[i*sd:(i+1)*sd], steps, 0.99)
						if g.Return[i] != ret || g.Steps[i] != st || g.Terminated[i] != term {
							t.Fatalf("block %d state %d: stacked (%v, %d, %v), one at a time (%v, %d, %v)", j, i, g.Return[i], g.Steps[i], g.Terminated[i], ret, st, term)
						}
						if g.Terminated[i] {
							terms[j]++
						}
					}
				}
				if e == MountainCarContinuous && k == 3 {
					last := int32(0)
					for _, s := range got[2].Steps {
						last = max(last, s)
					}
					// Block 2 empties while blocks 0 and 1 still run:
					// their later steps pad it.
					if terms[2] != n || last >= steps || terms[1] == n || terms[1] == 0 || terms[0] == n {
						t.Errorf("terminated per block %v (block 2's last at step %d): the test needs uneven blocks", terms, last)
					}
				}
			})
		}
	}
}

// TestRunStackedProgressAndErrors: progress counts the steps of all
// blocks' states; a policy's error, a cancelled context and bad sizes
// fail the rollout.
func TestRunStackedProgressAndErrors(t *testing.T) {
	e := MountainCarContinuous
	const k, n, steps = 3, 50, 120
	states := stackStates(e, k, n)
	pols := []Policy{policyN(0), policyN(1), policyN(2)}
	last := -1
	_, err := e.RunStacked(context.Background(), stackOf(e, pols), k, states, n, Rollout{Steps: steps, Gamma: 1, Chunk: 16, Workers: 2,
		Progress: func(done, total int) {
			if done <= last || total != steps {
				t.Errorf("progress %d/%d after %d", done, total, last)
			}
			last = done
		}})
	if err != nil || last != steps {
		t.Fatalf("progress ended at %d of %d (err %v)", last, steps, err)
	}
	boom := errors.New("boom")
	if _, err := e.RunStacked(context.Background(), func([]float32, int, int, []float32) error { return boom }, k, states, n, Rollout{Steps: 5}); !errors.Is(err, boom) {
		t.Errorf("err = %v, want the policy's", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := e.RunStacked(ctx, stackOf(e, pols), k, states, n, Rollout{Steps: 5}); err == nil {
		t.Error("a cancelled rollout must fail")
	}
	for _, c := range []struct {
		k, n int
	}{{0, n}, {4, n}, {k, -1}} {
		if _, err := e.RunStacked(context.Background(), stackOf(e, pols), c.k, states, c.n, Rollout{Steps: 5}); err == nil {
			t.Errorf("%d blocks of %d states out of %d values: no error", c.k, c.n, len(states))
		}
	}
}
