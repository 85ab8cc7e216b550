package loaders

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
)

// viewsRoot is a dict of tensors covering dtypes, views and a 0-d scalar
// over storages "0".."3"; wantViews are their values.
func viewsRoot(legacy bool) (pdict, map[string][]byte, map[string]int) {
	x := make([]float32, 24)
	for i := range x {
		x[i] = float32(i)
	}
	half := []byte{0x00, 0x3c, 0x00, 0xc0} // 1, -2
	i64 := make([]byte, 16)
	i64[0], i64[8] = 7, 0xff
	for j := 9; j < 16; j++ {
		i64[j] = 0xff // -1
	}
	root := pdict{
		"view", ptensor{key: "0", storage: "FloatStorage", numel: 24, offset: 8, shape: []int{3, 3}, stride: []int{6, 1}, legacy: legacy},
		"transposed", ptensor{key: "0", storage: "FloatStorage", numel: 24, shape: []int{6, 4}, stride: []int{1, 6}, legacy: legacy},
		"scalar", ptensor{key: "0", storage: "FloatStorage", numel: 24, offset: 5, shape: []int{}, stride: []int{}, legacy: legacy},
		"half", ptensor{key: "1", storage: "HalfStorage", numel: 2, shape: []int{2}, legacy: legacy},
		"long", ptensor{key: "2", storage: "LongStorage", numel: 2, shape: []int{2}, legacy: legacy},
		"flags", ptensor{key: "3", storage: "BoolStorage", numel: 3, shape: []int{3}, legacy: legacy},
	}
	st := map[string][]byte{"0": f32bytes(x), "1": half, "2": i64, "3": {1, 0, 1}}
	return root, st, map[string]int{"0": 4, "1": 2, "2": 8, "3": 1}
}

func checkViews(t *testing.T, root Value) {
	t.Helper()
	d, ok := root.(*Dict)
	if !ok {
		t.Fatalf("root is %s", typeName(root))
	}
	get := func(k string) *Tensor {
		v, _ := d.Get(k)
		tt, ok := v.(*Tensor)
		if !ok {
			t.Fatalf("%s is %s", k, typeName(v))
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
	root, st, elem := viewsRoot(false)
	lroot, _, _ := viewsRoot(true)
	files := map[string][]byte{
		"zip archive prefix": torchZip(t, "archive", root, st),
		"zip other prefix":   torchZip(t, "actor", root, st),
		"legacy":             torchLegacy(lroot, []string{"0", "1", "2", "3"}, st, elem),
	}
	for name, data := range files {
		t.Run(name, func(t *testing.T) {
			p := writeFile(t, filepath.Join(dir, strings.ReplaceAll(name, " ", "_")+".pt"), data)
			v, err := ReadTorchFile(p)
			if err != nil {
				t.Fatal(err)
			}
			checkViews(t, v)
		})
	}
}

func TestReadTorchFileMissingMatchesErrNotExist(t *testing.T) {
	_, err := ReadTorchFile(filepath.Join(t.TempDir(), "nope.pth"))
	if !errors.Is(err, ErrNotExist) || errors.Is(err, ErrInvalid) {
		t.Errorf("err = %v", err)
	}
}

// TestReadTorchFileRejectsBrokenFiles pins that every broken input is a
// clear ErrInvalid error naming the file, never a panic or a hang.
func TestReadTorchFileRejectsBrokenFiles(t *testing.T) {
	dir := t.TempDir()
	root, st, elem := viewsRoot(false)
	good := torchZip(t, "archive", root, st)
	lroot, _, _ := viewsRoot(true)
	goodLegacy := torchLegacy(lroot, []string{"0", "1", "2", "3"}, st, elem)

	huge := pdict{"t", ptensor{key: "0", storage: "FloatStorage", numel: 24, shape: []int{1000000, 1000000}}}
	hugeStorage := pdict{"t", ptensor{key: "0", storage: "FloatStorage", numel: 1 << 40, shape: []int{1 << 20}}}
	badStride := pdict{"t", ptensor{key: "0", storage: "FloatStorage", numel: 24, shape: []int{4, 6}, stride: []int{7, 1}}}
	negShape := pdict{"t", ptensor{key: "0", storage: "FloatStorage", numel: 24, shape: []int{-1}, stride: []int{1}}}
	overflow := pdict{"t", ptensor{key: "0", storage: "FloatStorage", numel: 24, shape: []int{1 << 40, 1 << 40, 1 << 40}, stride: []int{0, 0, 0}}}
	f := func(b []byte) []byte { return b }
	tests := []struct {
		name string
		data []byte
		want string
	}{
		{"empty file", nil, "empty"},
		{"text file", []byte("hello world"), "neither"},
		{"tensor claims 10^12 elements", torchZip(t, "archive", huge, st), "elements"},
		{"storage claims 2^40 elements", torchZip(t, "archive", hugeStorage, st), "storage 0"},
		{"stride past the storage", torchZip(t, "archive", badStride, st), "needs"},
		{"negative shape", torchZip(t, "archive", negShape, st), "negative"},
		{"shape overflows", torchZip(t, "archive", overflow, st), "overflow"},
		{"missing storage member", torchZip(t, "archive", root, map[string][]byte{"0": st["0"]}), "missing"},
		{"short storage member", torchZip(t, "archive", root, map[string][]byte{"0": st["0"][:8], "1": st["1"], "2": st["2"], "3": st["3"]}), "need"},
		{"zip without data.pkl", zipOf(t, map[string][]byte{"a/b": {1}}), "data.pkl"},
		{"os.system in a checkpoint", torchZip(t, "archive", pdict{"x", pcall{fn: pglob{"os", "system"}, args: ptuple{"id"}}}, nil), "os.system"},
		{"legacy truncated in storages", f(goodLegacy[:len(goodLegacy)-5]), "truncated"},
		{"legacy bad magic", torchLegacy(root, nil, nil, nil)[3:], ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := writeFile(t, filepath.Join(dir, "f.pth"), tc.data)
			_, err := ReadTorchFile(p)
			if err == nil {
				t.Fatal("no error")
			}
			if !errors.Is(err, ErrInvalid) && !errors.Is(err, ErrUnsafePickle) {
				t.Errorf("err %v matches neither ErrInvalid nor ErrUnsafePickle", err)
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
	root, st, elem := viewsRoot(false)
	lroot, _, _ := viewsRoot(true)
	for name, data := range map[string][]byte{
		"zip":    torchZip(t, "archive", root, st),
		"legacy": torchLegacy(lroot, []string{"0", "1", "2", "3"}, st, elem),
	} {
		t.Run(name, func(t *testing.T) {
			p := filepath.Join(dir, name+".pt")
			for n := 0; n < len(data); n += 1 + n/200 {
				writeFile(t, p, data[:n])
				if _, err := ReadTorchFile(p); err == nil {
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
	root, st, elem := viewsRoot(false)
	lroot, _, _ := viewsRoot(true)
	rng := rand.New(rand.NewSource(1))
	for name, data := range map[string][]byte{
		"zip":    torchZip(t, "archive", root, st),
		"legacy": torchLegacy(lroot, []string{"0", "1", "2", "3"}, st, elem),
	} {
		t.Run(name, func(t *testing.T) {
			p := filepath.Join(dir, name+".pt")
			for i := range 400 {
				b := slices.Clone(data)
				for range 1 + i%4 {
					b[rng.Intn(len(b))] ^= byte(1 + rng.Intn(255))
				}
				writeFile(t, p, b)
				// Either a clean decode or an error; a panic fails the test.
				if v, err := ReadTorchFile(p); err == nil {
					_ = walkValue(v, func(x Value) error {
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
	w.Write(picklePayload(pdict{"t", ptensor{key: "0", storage: "FloatStorage", numel: 8 << 20, shape: []int{8 << 20}}}))
	w, _ = zw.CreateHeader(&zip.FileHeader{Name: "archive/data/0", Method: zip.Deflate})
	zeros := make([]byte, 1<<20)
	for range 32 {
		w.Write(zeros)
	}
	zw.Close()
	p := writeFile(t, filepath.Join(dir, "bomb.pth"), buf.Bytes())
	_, err := ReadTorchFile(p)
	if err == nil || !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), "zip bomb") {
		t.Errorf("err = %v, want a zip bomb error", err)
	}
	// A deflated data.pkl that claims more than it may inflate to.
	buf.Reset()
	zw = zip.NewWriter(&buf)
	w, _ = zw.CreateHeader(&zip.FileHeader{Name: "archive/data.pkl", Method: zip.Deflate})
	w.Write([]byte{opProto, 2, opEmptyList, opMark})
	for range 64 {
		w.Write(zeros)
	}
	zw.Close()
	p = writeFile(t, filepath.Join(dir, "bomb2.pth"), buf.Bytes())
	if _, err := ReadTorchFile(p); err == nil || !strings.Contains(err.Error(), "zip bomb") {
		t.Errorf("err = %v, want a zip bomb error", err)
	}
}

func TestReadTorchFileReadsDeflatedMembers(t *testing.T) {
	root, st, _ := viewsRoot(false)
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for name, data := range map[string][]byte{"x/data.pkl": picklePayload(root), "x/data/0": st["0"], "x/data/1": st["1"], "x/data/2": st["2"], "x/data/3": st["3"]} {
		w, _ := zw.CreateHeader(&zip.FileHeader{Name: name, Method: zip.Deflate})
		w.Write(data)
	}
	zw.Close()
	p := writeFile(t, filepath.Join(t.TempDir(), "d.pt"), buf.Bytes())
	v, err := ReadTorchFile(p)
	if err != nil {
		t.Fatal(err)
	}
	checkViews(t, v)
}

func TestOpenTorchFileReadsLazily(t *testing.T) {
	root, st, _ := viewsRoot(false)
	p := writeFile(t, filepath.Join(t.TempDir(), "l.pt"), torchZip(t, "archive", root, st))
	tf, err := OpenTorchFile(p)
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
	readJSON(t, "testdata/torch113_expected.json", &want)
	for _, name := range []string{"torch113_p2.pt", "torch113_p4.pt", "torch113_legacy.pt"} {
		t.Run(name, func(t *testing.T) {
			v, err := ReadTorchFile(filepath.Join("testdata", name))
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
			if p, _ := v.(*Dict).Get("param"); !p.(*Tensor).RequiresGrad {
				t.Error("Parameter lost requires_grad")
			}
			meta, _ := v.(*Dict).Get("meta")
			m := meta.(*Dict)
			for key, w := range map[string]Value{"int": int64(7), "big": int64(1) << 40, "neg": int64(-3), "float": 0.1, "s": "héllo", "t": true, "n": nil} {
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
	v, err := ReadTorchFile("testdata/log_alpha.pt")
	if err != nil {
		t.Fatal(err)
	}
	if s, err := v.(*Tensor).Scalar(); err != nil || s != 0.125 {
		t.Errorf("log_alpha = %v, %v", s, err)
	}
}
