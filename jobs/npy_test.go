package jobs

import (
	"os"
	"path/filepath"
	"testing"

	"codeberg.org/sbinet/npyio/npy"
)

func TestNPYReadableByNpyio(t *testing.T) {
	dir := t.TempDir()
	for name, tc := range map[string]struct {
		shape []int
		data  []float32
	}{
		"vector": {[]int{5}, []float32{1, -2, 3.5, 0, 1e-30}},
		"matrix": {[]int{2, 3}, []float32{1, 2, 3, 4, 5, 6}},
		"empty":  {[]int{0}, []float32{}},
	} {
		t.Run(name, func(t *testing.T) {
			p := filepath.Join(dir, name+".npy")
			if err := WriteNPY(p, tc.data, tc.shape...); err != nil {
				t.Fatal(err)
			}
			f, err := os.Open(p)
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			r, err := npy.NewReader(f)
			if err != nil {
				t.Fatal(err)
			}
			if got := r.Header.Descr.Shape; len(got) != len(tc.shape) || (len(got) > 0 && got[0] != tc.shape[0]) {
				t.Fatalf("shape %v, want %v", got, tc.shape)
			}
			var got []float32
			if err := r.Read(&got); err != nil {
				t.Fatal(err)
			}
			if len(got) != len(tc.data) {
				t.Fatalf("read %d values, want %d", len(got), len(tc.data))
			}
			for i := range got {
				if got[i] != tc.data[i] {
					t.Fatalf("value %d = %v, want %v", i, got[i], tc.data[i])
				}
			}
		})
	}
}

func TestNPYStreamLeavesNoFileWhenShort(t *testing.T) {
	p := filepath.Join(t.TempDir(), "x.npy")
	err := WriteNPYStream(p, []int{2, 2}, func(s *NPYStream) error { return s.Write([]float32{1, 2, 3}) })
	if err == nil {
		t.Fatal("short stream accepted")
	}
	if _, statErr := os.Stat(p); !os.IsNotExist(statErr) {
		t.Fatalf("a partial file was left: %v", statErr)
	}
}

func TestNPYHeaderAligned(t *testing.T) {
	for _, shape := range [][]int{{1}, {200, 200}, {16384, 16384}, {3, 4, 5}} {
		if n := len(npyHeader(shape)); n%64 != 0 {
			t.Errorf("header for %v is %d bytes", shape, n)
		}
	}
}

// WriteNPYColumns interleaves its columns row by row, across the flushes of
// its buffer, as the (n, k) array WriteNPY writes from the interleaved copy.
func TestNPYColumnsEqualsInterleavedArray(t *testing.T) {
	dir := t.TempDir()
	for _, n := range []int{0, 1, 8191, 8192, 8193, 50000} {
		a, b, c := make([]float64, n), make([]float64, n), make([]float64, n)
		want := make([]float32, 3*n)
		for i := range n {
			a[i], b[i], c[i] = float64(i), -0.5*float64(i)+1e-9, float64(i%7)/3
			want[3*i], want[3*i+1], want[3*i+2] = float32(a[i]), float32(b[i]), float32(c[i])
		}
		got, exp := filepath.Join(dir, "got.npy"), filepath.Join(dir, "want.npy")
		if err := WriteNPYColumns(got, a, b, c); err != nil {
			t.Fatal(err)
		}
		if err := WriteNPY(exp, want, n, 3); err != nil {
			t.Fatal(err)
		}
		g, err := os.ReadFile(got)
		if err != nil {
			t.Fatal(err)
		}
		w, err := os.ReadFile(exp)
		if err != nil {
			t.Fatal(err)
		}
		if string(g) != string(w) {
			t.Fatalf("n=%d: %d bytes differ from the interleaved array's %d", n, len(g), len(w))
		}
	}
	if err := WriteNPYColumns(filepath.Join(dir, "bad.npy"), []float64{1, 2}, []float64{1}); err == nil {
		t.Fatal("columns of different lengths accepted")
	}
}
