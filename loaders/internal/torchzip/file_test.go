package torchzip

import (
	"archive/zip"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"math/rand"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/rleval/rleval/internal/fixture"
	"github.com/rleval/rleval/loaders/internal/datafile"
	"github.com/rleval/rleval/loaders/internal/pickle"
	"github.com/rleval/rleval/loaders/internal/torchwrite"
)

func checkViews(t *testing.T, root pickle.Value) {
	t.Helper()
	d, ok := root.(*pickle.Dict)
	if !ok {
		t.Fatalf("root is %s", pickle.TypeName(root))
	}
	get := func(k string) *Tensor {
		v, _ := d.Get(k)
		tt, ok := v.(*Tensor)
		if !ok {
			t.Fatalf("%s is %s", k, pickle.TypeName(v))
		}
		return tt
	}
	f := func(k string) []float32 {
		v, err := get(k).Float32s()
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	if got := f("view"); !slices.Equal(got, []float32{8, 9, 10, 14, 15, 16, 20, 21, 22}) {
		t.Errorf("view = %v", got)
	}
	if got := f("transposed"); !slices.Equal(got[:6], []float32{0, 6, 12, 18, 1, 7}) {
		t.Errorf("transposed = %v", got)
	}
	if s, err := get("scalar").Scalar(); err != nil || s != 5 || len(get("scalar").Shape) != 0 {
		t.Errorf("scalar = %v %v", s, err)
	}
	if got := f("half"); !slices.Equal(got, []float32{1, -2}) {
		t.Errorf("half = %v", got)
	}
	if got, _ := get("long").Int64s(); !slices.Equal(got, []int64{7, -1}) {
		t.Errorf("long = %v", got)
	}
	if got, _ := get("flags").Bools(); !slices.Equal(got, []bool{true, false, true}) {
		t.Errorf("flags = %v", got)
	}
}

func TestReadTorchFileDecodesViewsAndDTypes(t *testing.T) {
	dir := t.TempDir()
	root, st, elem := torchwrite.Views(false)
	lroot, _, _ := torchwrite.Views(true)
	files := map[string][]byte{
		"zip archive prefix": torchwrite.Zip(t, "archive", root, st),
		"zip other prefix":   torchwrite.Zip(t, "actor", root, st),
		"legacy":             torchwrite.Legacy(lroot, []string{"0", "1", "2", "3"}, st, elem),
	}
	for name, data := range files {
		t.Run(name, func(t *testing.T) {
			p := torchwrite.WriteFile(t, filepath.Join(dir, strings.ReplaceAll(name, " ", "_")+".pt"), data)
			v, err := ReadFile(p)
			if err != nil {
				t.Fatal(err)
			}
			checkViews(t, v)
		})
	}
}

func TestReadTorchFileMissingMatchesErrNotExist(t *testing.T) {
	_, err := ReadFile(filepath.Join(t.TempDir(), "nope.pth"))
	if !errors.Is(err, datafile.ErrNotExist) || errors.Is(err, datafile.ErrInvalid) {
		t.Errorf("err = %v", err)
	}
}

// TestReadTorchFileRejectsBrokenFiles pins that every broken input is a
// clear datafile.ErrInvalid error naming the file, never a panic or a hang.
func TestReadTorchFileRejectsBrokenFiles(t *testing.T) {
	dir := t.TempDir()
	root, st, elem := torchwrite.Views(false)
	good := torchwrite.Zip(t, "archive", root, st)
	lroot, _, _ := torchwrite.Views(true)
	goodLegacy := torchwrite.Legacy(lroot, []string{"0", "1", "2", "3"}, st, elem)

	huge := torchwrite.Dict{"t", torchwrite.Tensor{Key: "0", Storage: "FloatStorage", Numel: 24, Shape: []int{1000000, 1000000}}}
	hugeStorage := torchwrite.Dict{"t", torchwrite.Tensor{Key: "0", Storage: "FloatStorage", Numel: 1 << 40, Shape: []int{1 << 20}}}
	badStride := torchwrite.Dict{"t", torchwrite.Tensor{Key: "0", Storage: "FloatStorage", Numel: 24, Shape: []int{4, 6}, Stride: []int{7, 1}}}
	negShape := torchwrite.Dict{"t", torchwrite.Tensor{Key: "0", Storage: "FloatStorage", Numel: 24, Shape: []int{-1}, Stride: []int{1}}}
	overflow := torchwrite.Dict{"t", torchwrite.Tensor{Key: "0", Storage: "FloatStorage", Numel: 24, Shape: []int{1 << 40, 1 << 40, 1 << 40}, Stride: []int{0, 0, 0}}}
	f := func(b []byte) []byte { return b }
	tests := []struct {
		name string
		data []byte
		want string
	}{
		{"empty file", nil, "empty"},
		{"text file", []byte("hello world"), "neither"},
		{"tensor claims 10^12 elements", torchwrite.Zip(t, "archive", huge, st), "elements"},
		{"storage claims 2^40 elements", torchwrite.Zip(t, "archive", hugeStorage, st), "storage 0"},
		{"stride past the storage", torchwrite.Zip(t, "archive", badStride, st), "needs"},
		{"negative shape", torchwrite.Zip(t, "archive", negShape, st), "negative"},
		{"shape overflows", torchwrite.Zip(t, "archive", overflow, st), "overflow"},
		{"missing storage member", torchwrite.Zip(t, "archive", root, map[string][]byte{"0": st["0"]}), "missing"},
		{"short storage member", torchwrite.Zip(t, "archive", root, map[string][]byte{"0": st["0"][:8], "1": st["1"], "2": st["2"], "3": st["3"]}), "need"},
		{"zip without data.pkl", zipOf(t, map[string][]byte{"a/b": {1}}), "data.pkl"},
		{"os.system in a checkpoint", torchwrite.Zip(t, "archive", torchwrite.Dict{"x", torchwrite.Call{Fn: torchwrite.Global{"os", "system"}, Args: torchwrite.Tuple{"id"}}}, nil), "os.system"},
		{"legacy truncated in storages", f(goodLegacy[:len(goodLegacy)-5]), "truncated"},
		{"legacy bad magic", torchwrite.Legacy(root, nil, nil, nil)[3:], ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := torchwrite.WriteFile(t, filepath.Join(dir, "f.pth"), tc.data)
			_, err := ReadFile(p)
			if err == nil {
				t.Fatal("no error")
			}
			if !errors.Is(err, datafile.ErrInvalid) && !errors.Is(err, pickle.ErrUnsafe) {
				t.Errorf("err %v matches neither datafile.ErrInvalid nor pickle.ErrUnsafe", err)
			}
			if !strings.Contains(err.Error(), p) || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("err %q should name the file and say %q", err, tc.want)
			}
		})
	}
	_ = good
}

func zipOf(t testing.TB, members map[string][]byte) []byte {
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for name, data := range members {
		w, err := zw.Create(name)
		if err != nil {
			t.Fatal(err)
		}
		w.Write(data)
	}
	zw.Close()
	return buf.Bytes()
}

func TestReadTorchFileSurvivesEveryTruncation(t *testing.T) {
	dir := t.TempDir()
	root, st, elem := torchwrite.Views(false)
	lroot, _, _ := torchwrite.Views(true)
	for name, data := range map[string][]byte{
		"zip":    torchwrite.Zip(t, "archive", root, st),
		"legacy": torchwrite.Legacy(lroot, []string{"0", "1", "2", "3"}, st, elem),
	} {
		t.Run(name, func(t *testing.T) {
			p := filepath.Join(dir, name+".pt")
			for n := 0; n < len(data); n += 1 + n/200 {
				torchwrite.WriteFile(t, p, data[:n])
				if _, err := ReadFile(p); err == nil {
					t.Fatalf("truncated to %d of %d bytes: no error", n, len(data))
				} else if !strings.Contains(err.Error(), p) {
					t.Fatalf("error %q does not name the file", err)
				}
			}
		})
	}
}

func TestReadTorchFileSurvivesFlippedBytes(t *testing.T) {
	dir := t.TempDir()
	root, st, elem := torchwrite.Views(false)
	lroot, _, _ := torchwrite.Views(true)
	rng := rand.New(rand.NewSource(1))
	for name, data := range map[string][]byte{
		"zip":    torchwrite.Zip(t, "archive", root, st),
		"legacy": torchwrite.Legacy(lroot, []string{"0", "1", "2", "3"}, st, elem),
	} {
		t.Run(name, func(t *testing.T) {
			p := filepath.Join(dir, name+".pt")
			for i := range 400 {
				b := slices.Clone(data)
				for range 1 + i%4 {
					b[rng.Intn(len(b))] ^= byte(1 + rng.Intn(255))
				}
				torchwrite.WriteFile(t, p, b)
				// Either a clean decode or an error; a panic fails the test.
				if v, err := ReadFile(p); err == nil {
					_ = pickle.Walk(v, func(x pickle.Value) error {
						if tt, ok := x.(*Tensor); ok {
							tt.Float32s()
						}
						return nil
					})
				}
			}
		})
	}
}

func TestReadTorchFileLimitsZipBombs(t *testing.T) {
	dir := t.TempDir()
	// A deflated storage member that inflates to 32 MB of zeros from a
	// file of a few tens of kB.
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	w, _ := zw.CreateHeader(&zip.FileHeader{Name: "archive/data.pkl", Method: zip.Store})
	w.Write(torchwrite.Pickle(torchwrite.Dict{"t", torchwrite.Tensor{Key: "0", Storage: "FloatStorage", Numel: 8 << 20, Shape: []int{8 << 20}}}))
	w, _ = zw.CreateHeader(&zip.FileHeader{Name: "archive/data/0", Method: zip.Deflate})
	zeros := make([]byte, 1<<20)
	for range 32 {
		w.Write(zeros)
	}
	zw.Close()
	p := torchwrite.WriteFile(t, filepath.Join(dir, "bomb.pth"), buf.Bytes())
	_, err := ReadFile(p)
	if err == nil || !errors.Is(err, datafile.ErrInvalid) || !strings.Contains(err.Error(), "zip bomb") {
		t.Errorf("err = %v, want a zip bomb error", err)
	}
	// A deflated data.pkl that claims more than it may inflate to.
	buf.Reset()
	zw = zip.NewWriter(&buf)
	w, _ = zw.CreateHeader(&zip.FileHeader{Name: "archive/data.pkl", Method: zip.Deflate})
	w.Write([]byte{0x80, 2, ']', '('}) // PROTO 2, EMPTY_LIST, MARK
	for range 64 {
		w.Write(zeros)
	}
	zw.Close()
	p = torchwrite.WriteFile(t, filepath.Join(dir, "bomb2.pth"), buf.Bytes())
	if _, err := ReadFile(p); err == nil || !strings.Contains(err.Error(), "zip bomb") {
		t.Errorf("err = %v, want a zip bomb error", err)
	}
}

func TestReadTorchFileReadsDeflatedMembers(t *testing.T) {
	root, st, _ := torchwrite.Views(false)
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for name, data := range map[string][]byte{"x/data.pkl": torchwrite.Pickle(root), "x/data/0": st["0"], "x/data/1": st["1"], "x/data/2": st["2"], "x/data/3": st["3"]} {
		w, _ := zw.CreateHeader(&zip.FileHeader{Name: name, Method: zip.Deflate})
		w.Write(data)
	}
	zw.Close()
	p := torchwrite.WriteFile(t, filepath.Join(t.TempDir(), "d.pt"), buf.Bytes())
	v, err := ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	checkViews(t, v)
}

func TestOpenTorchFileReadsLazily(t *testing.T) {
	root, st, _ := torchwrite.Views(false)
	p := torchwrite.WriteFile(t, filepath.Join(t.TempDir(), "l.pt"), torchwrite.Zip(t, "archive", root, st))
	tf, err := Open(p)
	if err != nil {
		t.Fatal(err)
	}
	checkViews(t, tf.Root)
	if err := tf.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(p); err != nil {
		t.Fatal(err)
	}
}

// TestReadTorchFileMatchesTorch113Files reads small files written by
// PyTorch 1.13 (protocol 2, protocol 4 and legacy) holding every dtype,
// views, a Parameter, nested containers and plain Python values, and
// compares each tensor with the sha256 PyTorch computed.
func TestReadTorchFileMatchesTorch113Files(t *testing.T) {
	var want map[string]tensorRecord
	fixture.DecodeJSON(t, "testdata/torch113_expected.json", &want)
	for _, name := range []string{"torch113_p2.pt", "torch113_p4.pt", "torch113_legacy.pt"} {
		t.Run(name, func(t *testing.T) {
			v, err := ReadFile(filepath.Join("testdata", name))
			if err != nil {
				t.Fatal(err)
			}
			got, err := Tensors(v)
			if err != nil {
				t.Fatal(err)
			}
			for k, rec := range want {
				tt, ok := got[k]
				if !ok {
					t.Errorf("no tensor %q", k)
					continue
				}
				b, err := tt.Bytes()
				if err != nil {
					t.Fatal(err)
				}
				sum := sha256.Sum256(b)
				if hex.EncodeToString(sum[:]) != rec.SHA256 || !slices.Equal(tt.Shape, rec.Shape) || string(tt.DType) != rec.DType {
					t.Errorf("%s: %v %s differs from PyTorch's %v %s", k, tt.Shape, tt.DType, rec.Shape, rec.DType)
				}
			}
			if p, _ := v.(*pickle.Dict).Get("param"); !p.(*Tensor).RequiresGrad {
				t.Error("Parameter lost requires_grad")
			}
			meta, _ := v.(*pickle.Dict).Get("meta")
			m := meta.(*pickle.Dict)
			for key, w := range map[string]pickle.Value{"int": int64(7), "big": int64(1) << 40, "neg": int64(-3), "float": 0.1, "s": "héllo", "t": true, "n": nil} {
				if g, ok := m.Get(key); !ok || g != w {
					t.Errorf("meta[%s] = %#v, want %#v", key, g, w)
				}
			}
			if b, _ := m.Get("b"); !bytes.Equal(b.([]byte), []byte{0, 0xff}) {
				t.Errorf("meta[b] = %v", b)
			}
		})
	}
	// log_alpha.pt is a bare 0-d tensor.
	v, err := ReadFile("testdata/log_alpha.pt")
	if err != nil {
		t.Fatal(err)
	}
	if s, err := v.(*Tensor).Scalar(); err != nil || s != 0.125 {
		t.Errorf("log_alpha = %v, %v", s, err)
	}
}

// TestTensorsSurvivesDeepNestingCyclesAndSharedDAGs: Tensors, which walks
// a whole checkpoint, fails cleanly on nesting 200,000 deep and visits a
// self-containing list and a DAG of 2^60 paths in linear time.
func TestTensorsSurvivesDeepNestingCyclesAndSharedDAGs(t *testing.T) {
	const depth = 200000
	deep := []byte{0x80, 2}                                    // PROTO 2
	deep = append(deep, bytes.Repeat([]byte{']'}, depth)...)   // EMPTY_LIST
	deep = append(deep, bytes.Repeat([]byte{'a'}, depth-1)...) // APPEND
	deep = append(deep, '.')
	// l = []; l.append(l): EMPTY_LIST, BINPUT 0, BINGET 0, APPEND, STOP.
	cyc := []byte{0x80, 2, ']', 'q', 0, 'h', 0, 'a', '.'}
	// t0 = (); t1 = (t0, t0); ...: EMPTY_TUPLE, then 60 × (DUP, TUPLE2).
	dag := []byte{0x80, 2, ')'}
	for range 60 {
		dag = append(dag, '2', 0x86)
	}
	dag = append(dag, '.')
	for name, tc := range map[string]struct {
		b    []byte
		want string
	}{"deep": {deep, "deeper"}, "cycle": {cyc, ""}, "dag": {dag, ""}} {
		t.Run(name, func(t *testing.T) {
			v, _, err := pickle.Decode(bytes.NewReader(tc.b), int64(len(tc.b)), pickle.Options{Rebuild: Rebuild})
			if err != nil {
				t.Fatal(err)
			}
			_, err = Tensors(v)
			if tc.want == "" && err != nil || tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)) {
				t.Errorf("Tensors err = %v, want %q", err, tc.want)
			}
		})
	}
}
