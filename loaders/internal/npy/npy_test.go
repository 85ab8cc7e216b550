package npy

import (
	"bytes"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/rleval/rleval/internal/fixture"
	"github.com/rleval/rleval/loaders/internal/datafile"
	"github.com/rleval/rleval/loaders/internal/pickle"
	"github.com/rleval/rleval/loaders/internal/torchwrite"
)

func pbytes(b []byte) torchwrite.Raw { return append(torchwrite.Raw{'C', byte(len(b))}, b...) }

// TestNumpyArraysInPicklesAreData pins both numpy pickle paths
// (_reconstruct + __setstate__, protocol 5's _frombuffer), numpy 1's and
// numpy 2's module names, byte order, and a shape claiming more elements
// than the bytes present.
func TestNumpyArraysInPicklesAreData(t *testing.T) {
	dtype := func(code string, order string) torchwrite.Call {
		return torchwrite.Call{Fn: torchwrite.Global{"numpy", "dtype"}, Args: torchwrite.Tuple{code, false, true}, State: torchwrite.Tuple{3, order, nil, nil, nil, -1, -1, 0}}
	}
	be := []byte{0x3f, 0xf0, 0, 0, 0, 0, 0, 0, 0xc0, 0, 0, 0, 0, 0, 0, 0} // 1.0, -2.0 big-endian f8
	le := torchwrite.F32Bytes([]float32{0.5, 1.5, -3})
	for name, tc := range map[string]struct {
		v     any
		want  []float64
		shape []int
		bad   string
	}{
		"numpy1 _reconstruct": {v: torchwrite.Call{Fn: torchwrite.Global{"numpy.core.multiarray", "_reconstruct"}, Args: torchwrite.Tuple{torchwrite.Global{"numpy", "ndarray"}, torchwrite.Tuple{0}, pbytes([]byte("b"))},
			State: torchwrite.Tuple{1, torchwrite.Tuple{2}, dtype("f8", ">"), false, pbytes(be)}}, want: []float64{1, -2}, shape: []int{2}},
		"numpy2 _frombuffer": {v: torchwrite.Call{Fn: torchwrite.Global{"numpy._core.numeric", "_frombuffer"}, Args: torchwrite.Tuple{pbytes(le), dtype("f4", "<"), torchwrite.Tuple{3, 1}, "C"}},
			want: []float64{0.5, 1.5, -3}, shape: []int{3, 1}},
		"shape beyond the data": {v: torchwrite.Call{Fn: torchwrite.Global{"numpy._core.numeric", "_frombuffer"}, Args: torchwrite.Tuple{pbytes(le), dtype("f4", "<"), torchwrite.Tuple{1000000000, 1000}, "C"}},
			bad: "too large"},
	} {
		t.Run(name, func(t *testing.T) {
			b := torchwrite.Pickle(tc.v)
			v, _, err := pickle.Decode(bytes.NewReader(b), int64(len(b)), pickle.Options{Rebuild: Rebuild})
			if tc.bad != "" {
				if err == nil || !errors.Is(err, datafile.ErrInvalid) || !strings.Contains(err.Error(), tc.bad) {
					t.Fatalf("err %v, want one saying %q", err, tc.bad)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			a, ok := v.(*NDArray)
			if !ok {
				t.Fatalf("decoded a %s", pickle.TypeName(v))
			}
			got, err := a.Float64s()
			if err != nil || len(got) != len(tc.want) || !slices.Equal(a.Shape, tc.shape) {
				t.Fatalf("array %v shape %v err %v", got, a.Shape, err)
			}
			for i := range got {
				if got[i] != tc.want[i] {
					t.Fatalf("array %v, want %v", got, tc.want)
				}
			}
		})
	}
}

func FuzzReadNPZ(f *testing.F) {
	fixture.Seeds(f, "layouts/logs/*/*/evaluations.npz")
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := ReadNPZ(bytes.NewReader(b), int64(len(b)))
		if err != nil {
			return
		}
		for _, a := range m {
			a.Float64s()
		}
	})
}

func FuzzReadNPY(f *testing.F) {
	fixture.Seeds(f, "layouts/TD3/results/*.npy")
	fixture.Seeds(f, "expected-layouts/*/policy_grid.npy")
	f.Fuzz(func(t *testing.T, b []byte) {
		a, err := ReadNPY(bytes.NewReader(b), int64(len(b)))
		if err == nil {
			a.Float64s()
		}
	})
}
