package loaders

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rleval/rleval/loaders/internal/torchwrite"
)

func mkdirAll(t testing.TB, dir string) {
	t.Helper()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
}

func TestLoadReplayBufferReadsOnlyValidRows(t *testing.T) {
	dir := t.TempDir()
	tests := []struct {
		name                            string
		capacity, size, index, obs, act int
	}{
		{"partly filled", 100, 40, 40, 3, 1},
		{"wrapped ring", 1000, 1000, 500, 3, 1},
		{"empty", 10, 0, 0, 3, 2},
		{"wide actions", 50, 50, 0, 5, 4},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := torchwrite.WriteFile(t, filepath.Join(dir, "b.pth"), torchwrite.BufferFile(t, tc.capacity, tc.size, tc.index, tc.obs, tc.act))
			b, err := LoadReplayBuffer(p)
			if err != nil {
				t.Fatal(err)
			}
			if b.Capacity != tc.capacity || b.Size != tc.size || b.Index != tc.index || b.ObsDim != tc.obs || b.ActDim != tc.act {
				t.Fatalf("header %+v", b)
			}
			if len(b.Obs) != tc.size*tc.obs || len(b.NextObs) != tc.size*tc.obs || len(b.Actions) != tc.size*tc.act ||
				len(b.Rewards) != tc.size || len(b.Dones) != tc.size {
				t.Fatalf("lengths %d %d %d %d %d", len(b.Obs), len(b.NextObs), len(b.Actions), len(b.Rewards), len(b.Dones))
			}
			for r := 0; r < tc.size; r++ {
				for j := 0; j < tc.obs; j++ {
					if b.Obs[r*tc.obs+j] != float32(r*10+j) || b.NextObs[r*tc.obs+j] != float32(r*10+j)+0.5 {
						t.Fatalf("row %d obs %v", r, b.Obs[r*tc.obs:r*tc.obs+tc.obs])
					}
				}
				if b.Actions[r*tc.act] != -float32(r) || b.Rewards[r] != float32(r)/2 || b.Dones[r] != (r%7 == 0) {
					t.Fatalf("row %d: action %v reward %v done %v", r, b.Actions[r*tc.act], b.Rewards[r], b.Dones[r])
				}
			}
			if cap(b.Obs) != len(b.Obs) {
				t.Errorf("Obs has capacity %d for %d values: more rows than valid were allocated", cap(b.Obs), len(b.Obs))
			}
		})
	}
}

func TestLoadReplayBufferRejectsInconsistentFiles(t *testing.T) {
	dir := t.TempDir()
	good := torchwrite.BufferFile(t, 10, 5, 5, 3, 1)
	shapeRoot := torchwrite.Dict{"capacity", 10, "obs_dim", 3, "action_dim", 1, "size", 5, "index", 5,
		"observations", torchwrite.Tensor{Key: "0", Storage: "FloatStorage", Numel: 30, Shape: []int{10, 2}, Stride: []int{3, 1}}}
	tests := []struct {
		name string
		data []byte
		want string
	}{
		{"size exceeds capacity", torchwrite.BufferFile(t, 10, 11, 0, 3, 1), "exceeds capacity"},
		{"index outside capacity", torchwrite.BufferFile(t, 10, 10, 10, 3, 1), "index 10"},
		{"observation width differs from obs_dim", torchwrite.Zip(t, "b", shapeRoot, map[string][]byte{"0": make([]byte, 120)}), "shape [10 2]"},
		{"not a dict", torchwrite.Zip(t, "b", torchwrite.List{}, nil), "not a dict"},
		{"missing entry", torchwrite.Zip(t, "b", torchwrite.Dict{"capacity", 1}, nil), "\"size\""},
		{"truncated", good[:len(good)/2], "load"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := torchwrite.WriteFile(t, filepath.Join(dir, "b.pth"), tc.data)
			_, err := LoadReplayBuffer(p)
			if err == nil {
				t.Fatal("no error")
			}
			if !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), p) || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("err %q: want ErrInvalid naming the file and saying %q", err, tc.want)
			}
		})
	}
	if _, err := LoadReplayBuffer(filepath.Join(dir, "none.pth")); !errors.Is(err, ErrNotExist) {
		t.Errorf("missing: %v", err)
	}
}

// BenchmarkLoadReplayBuffer1M loads a default-capacity buffer (1M rows of
// Pendulum: obs 3, action 1, ~36 MB) holding 1M valid rows.
func BenchmarkLoadReplayBuffer1M(b *testing.B) {
	const rows = 1_000_000
	p := filepath.Join(b.TempDir(), "replay_buffer.pth")
	torchwrite.WriteFile(b, p, torchwrite.BufferFile(b, rows, rows, 0, 3, 1))
	fi, _ := os.Stat(p)
	b.SetBytes(fi.Size())
	b.ResetTimer()
	for b.Loop() {
		if _, err := LoadReplayBuffer(p); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(rows)*float64(b.N)/b.Elapsed().Seconds(), "rows/s")
}
