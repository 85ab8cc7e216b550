package loaders

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/rleval/rleval/internal/fixture"
	"github.com/rleval/rleval/loaders/internal/pickle"
	"github.com/rleval/rleval/loaders/internal/torchzip"
)

// The fixtures under testdata/ are produced by tools/make_fixtures.py with
// PyTorch; testdata/expected/<run>/ records what PyTorch reads from them.
// runsDir is where the fuzz targets find their seeds.
const runsDir = "../testdata/runs"

type fixtureMeta struct {
	Algorithm   string           `json:"algorithm"`
	Generation  int              `json:"generation"`
	ParamCounts map[string]int   `json:"param_counts"`
	Widths      map[string][]int `json:"widths"`
	Buffer      struct {
		Size, Capacity, Index int
	} `json:"buffer"`
}

// readJSON decodes a JSON file into v; a missing file fails the test.
func readJSON(t *testing.T, path string, v any) {
	t.Helper()
	fixture.DecodeJSON(t, path, v)
}

// netFile finds a network file of a fixture run in either generation's
// layout.
func netFile(t *testing.T, run, name string) string {
	t.Helper()
	for _, p := range []string{
		filepath.Join(runsDir, run, "models", name+".pth"),
	} {
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	matches, _ := filepath.Glob(filepath.Join(runsDir, run, "agent_*", name+".pt"))
	if len(matches) != 1 {
		t.Fatalf("fixture %s: no %s network (models/%[2]s.pth or agent_*/%[2]s.pt): %v", run, name, matches)
	}
	return matches[0]
}

// TestFixtureNetworksHaveTheirArchitecture loads every network of every
// fixture run and checks widths, parameter counts and roles.
func TestFixtureNetworksHaveTheirArchitecture(t *testing.T) {
	for _, run := range fixture.Runs(t) {
		t.Run(run, func(t *testing.T) {
			var meta fixtureMeta
			readJSON(t, fixture.Path(t, "expected", run, "meta.json"), &meta)
			if len(meta.ParamCounts) < 5 {
				t.Fatalf("meta.json lists %d networks, want at least actor, 2 critics and their targets", len(meta.ParamCounts))
			}
			for name, count := range meta.ParamCounts {
				t.Run(name, func(t *testing.T) {
					p := netFile(t, run, name)
					n, err := LoadNetwork(p)
					if err != nil {
						t.Fatal(err)
					}
					if n.NumParams() != count {
						t.Errorf("NumParams = %d, want %d", n.NumParams(), count)
					}
					if w := meta.Widths[name]; w != nil && !slices.Equal(n.Widths(), w) {
						t.Errorf("Widths = %v, want %v", n.Widths(), w)
					}
					total := 0
					for _, prm := range n.Params {
						total += len(prm.Data)
					}
					if total != count || len(n.Params) != 2*len(n.Layers) {
						t.Errorf("Params hold %d values in %d tensors", total, len(n.Params))
					}
					wantKind := KindCritic
					if strings.HasPrefix(name, "actor") {
						wantKind = KindActor
						if meta.Algorithm == "sac" {
							wantKind = KindSACActor
						}
					}
					if n.Kind != wantKind {
						t.Errorf("Kind = %s, want %s", n.Kind, wantKind)
					}
					if n.Kind != KindCritic {
						if !slices.Equal(n.Low, []float32{-2}) || !slices.Equal(n.High, []float32{2}) {
							t.Errorf("bounds %v %v, want [-2] [2]", n.Low, n.High)
						}
						if n.ObsDim != 3 || n.ActDim != 1 {
							t.Errorf("ObsDim, ActDim = %d, %d", n.ObsDim, n.ActDim)
						}
					}
					wantFormat := "wrapped"
					if meta.Generation == 2 {
						wantFormat = "plain"
					}
					if meta.Generation != 0 && n.Format != wantFormat {
						t.Errorf("Format = %s, want %s", n.Format, wantFormat)
					}
					// A critic read with the obs hint splits its input.
					if n.Kind == KindCritic {
						c, err := LoadNetworkAs(p, KindCritic, 3)
						if err != nil {
							t.Fatal(err)
						}
						if c.ObsDim != 3 || c.ActDim != 1 {
							t.Errorf("critic ObsDim, ActDim = %d, %d", c.ObsDim, c.ActDim)
						}
					}
				})
			}
		})
	}
}

// TestFixtureBufferHoldsTheValidRows checks the replay buffer of every
// fixture run against the full tensors read independently.
func TestFixtureBufferHoldsTheValidRows(t *testing.T) {
	for _, run := range fixture.Runs(t) {
		t.Run(run, func(t *testing.T) {
			var meta fixtureMeta
			readJSON(t, fixture.Path(t, "expected", run, "meta.json"), &meta)
			p := fixture.Path(t, "runs", run, "data", "replay_buffer.pth")
			if b := meta.Buffer; b.Size == 0 {
				t.Fatalf("meta.json: buffer %+v has no rows to compare", b)
			}
			b, err := LoadReplayBuffer(p)
			if err != nil {
				t.Fatal(err)
			}
			if b.Size != meta.Buffer.Size || b.Capacity != meta.Buffer.Capacity || b.Index != meta.Buffer.Index {
				t.Errorf("size/capacity/index = %d/%d/%d, want %+v", b.Size, b.Capacity, b.Index, meta.Buffer)
			}
			v, err := torchzip.ReadFile(p)
			if err != nil {
				t.Fatal(err)
			}
			d := v.(*pickle.Dict)
			full := func(k string) []float32 {
				x, _ := d.Get(k)
				f, err := x.(*torchzip.Tensor).Float32s()
				if err != nil {
					t.Fatal(err)
				}
				return f
			}
			for _, c := range []struct {
				key   string
				got   []float32
				width int
			}{{"observations", b.Obs, b.ObsDim}, {"actions", b.Actions, b.ActDim}, {"rewards", b.Rewards, 1}, {"next_observations", b.NextObs, b.ObsDim}} {
				want := full(c.key)[:b.Size*c.width]
				if !slices.Equal(c.got, want) {
					t.Errorf("%s differs from the first %d rows", c.key, b.Size)
				}
			}
			dv, _ := d.Get("dones")
			dones, _ := dv.(*torchzip.Tensor).Bools()
			if !slices.Equal(b.Dones, dones[:b.Size]) {
				t.Error("dones differ")
			}
		})
	}
}

// TestFixtureBadFilesAreRejected reads the hostile and broken files of
// testdata/bad (see its README) and expects the documented error, naming
// the file, with nothing executed.
func TestFixtureBadFilesAreRejected(t *testing.T) {
	fixture.Path(t, "bad")
	pwned := "/tmp/pwned"
	_, pwnedBefore := os.Stat(pwned)
	network := func(p string) error { _, err := LoadNetwork(p); return err }
	buffer := func(p string) error { _, err := LoadReplayBuffer(p); return err }
	tests := []struct {
		file   string
		load   func(string) error
		target error // nil: loads fine
		want   string
	}{
		{"actor_obs3_for_critic_input5.pth", network, nil, ""},
		{"critic_input5.pth", network, ErrInvalid, "critic takes 5 inputs but obs_dim 3 + action_dim 1"},
		{"pickle_os_system.pkl", network, ErrUnsafePickle, "posix.system"},
		{"pickle_builtins_eval.pkl", network, ErrUnsafePickle, "__builtin__.eval"},
		{"ckpt_os_system.pth", network, ErrUnsafePickle, "posix.system"},
		{"ckpt_builtins_eval.pth", network, ErrUnsafePickle, "__builtin__.eval"},
		{"ckpt_truncated_half.pth", network, ErrInvalid, "zip"},
		{"empty.pth", network, ErrInvalid, "empty file"},
		{"ckpt_flipped_byte_datapkl.pth", network, ErrInvalid, "pickle offset"},
		{"ckpt_flipped_byte_crc.pth", network, ErrInvalid, "checksum"},
		{"buffer_size_gt_capacity.pth", buffer, ErrInvalid, "size 150 exceeds capacity 100"},
		{"buffer_rows_lt_capacity.pth", buffer, ErrInvalid, "\"observations\" has shape [60 3], want (100, 3)"},
		{"legacy_truncated.pth", network, ErrInvalid, "truncated"},
		{"text_not_torch.pth", network, ErrInvalid, "neither a torch zip file nor a legacy"},
	}
	for _, tc := range tests {
		t.Run(tc.file, func(t *testing.T) {
			p := fixture.Path(t, "bad", tc.file)
			err := tc.load(p)
			if tc.target == nil {
				if err != nil {
					t.Fatalf("want no error, got %v", err)
				}
				return
			}
			if !errors.Is(err, tc.target) {
				t.Fatalf("err %v, want %v", err, tc.target)
			}
			if !strings.Contains(err.Error(), p) || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("err %q should name the file and say %q", err, tc.want)
			}
		})
	}
	if _, err := os.Stat(pwned); err == nil && pwnedBefore != nil {
		t.Errorf("%s appeared: something executed a hostile pickle", pwned)
	}
}
