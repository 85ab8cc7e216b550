package torchzip

import (
	"crypto/sha256"
	"encoding/hex"
	"slices"
	"testing"

	"github.com/rleval/rleval/internal/fixture"
)

// tensorRecord is one tensor of testdata/expected/<run>/tensors.json, as
// PyTorch read it (tools/make_fixtures.py).
type tensorRecord struct {
	Shape         []int  `json:"shape"`
	DType         string `json:"dtype"`
	SHA256        string `json:"sha256"`
	StorageOffset *int64 `json:"storage_offset"`
	Stride        []int  `json:"stride"`
}

// TestFixtureTensorsMatchPyTorchBitForBit reads every tensor of every
// fixture file and compares its contiguous bytes with PyTorch's sha256.
func TestFixtureTensorsMatchPyTorchBitForBit(t *testing.T) {
	for _, run := range fixture.Runs(t) {
		t.Run(run, func(t *testing.T) {
			var want map[string]map[string]tensorRecord
			fixture.DecodeJSON(t, fixture.Path(t, "expected", run, "tensors.json"), &want)
			if len(want) == 0 {
				t.Fatal("tensors.json lists no file")
			}
			files := make([]string, 0, len(want))
			for f := range want {
				files = append(files, f)
			}
			slices.Sort(files)
			for _, file := range files {
				t.Run(file, func(t *testing.T) {
					p := fixture.Path(t, "runs", run, file)
					if len(want[file]) == 0 {
						t.Fatalf("tensors.json lists no tensor of %s", file)
					}
					tf, err := Open(p)
					if err != nil {
						t.Fatal(err)
					}
					defer tf.Close()
					got, err := Tensors(tf.Root)
					if err != nil {
						t.Fatal(err)
					}
					for name, rec := range want[file] {
						tt, ok := got[name]
						if !ok {
							t.Errorf("%s: tensor %q not found (have %v)", file, name, keysOf(got))
							continue
						}
						if !slices.Equal(tt.Shape, rec.Shape) || string(tt.DType) != rec.DType {
							t.Errorf("%s: shape %v %s, want %v %s", name, tt.Shape, tt.DType, rec.Shape, rec.DType)
						}
						if rec.Stride != nil && !slices.Equal(tt.Stride, rec.Stride) {
							t.Errorf("%s: stride %v, want %v", name, tt.Stride, rec.Stride)
						}
						if rec.StorageOffset != nil && tt.Offset != *rec.StorageOffset {
							t.Errorf("%s: storage offset %d, want %d", name, tt.Offset, *rec.StorageOffset)
						}
						b, err := tt.Bytes()
						if err != nil {
							t.Fatal(err)
						}
						sum := sha256.Sum256(b)
						if hex.EncodeToString(sum[:]) != rec.SHA256 {
							t.Errorf("%s: sha256 differs from PyTorch's", name)
						}
					}
				})
			}
		})
	}
}

func keysOf(m map[string]*Tensor) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}
