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
