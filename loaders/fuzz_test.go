package loaders

import (
	"archive/zip"
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"testing"
)

// fuzzSeeds adds the fixture files of the given format (those under 64 kB:
// the fuzzer slows to a crawl on half-megabyte inputs) plus Go-built ones.
func fuzzSeeds(f *testing.F, zipFormat bool) {
	paths, _ := filepath.Glob(filepath.Join(runsDir, "*", "*", "*.pt*"))
	more, _ := filepath.Glob(filepath.Join("testdata", "*.pt"))
	paths = append(paths, more...)
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil || len(b) > 64<<10 {
			continue
		}
		if bytes.HasPrefix(b, []byte("PK")) == zipFormat {
			f.Add(b)
		}
	}
	root, st, elem := viewsRoot(!zipFormat)
	if zipFormat {
		f.Add(torchZip(f, "archive", root, st))
		sd, nst := mlpStateDict("net_body.", []int{3, 4, 1}, 0)
		nst["90"], nst["91"] = f32bytes([]float32{-2}), f32bytes([]float32{2})
		f.Add(torchZip(f, "actor", pdict{"state_dict", sd, "_init_kwargs", pdict{"obs_dim", 3, "action_dim", 1,
			"action_space", boxObject("nn_laser_stabilizer.rl.envs.box", "90", "91")}}, nst))
		f.Add(bufferFile(f, 8, 5, 5, 3, 1))
	} else {
		f.Add(torchLegacy(root, []string{"0", "1", "2", "3"}, st, elem))
	}
}

// exercise decodes b as a torch file and runs every consumer over it; any
// panic or hang fails the fuzzer.
func exercise(t *testing.T, b []byte) {
	tf := &TorchFile{Path: "fuzz.pt", storages: make(map[string]*Storage)}
	if err := tf.decode(bytes.NewReader(b), int64(len(b))); err != nil {
		return
	}
	_ = walkValue(tf.Root, func(v Value) error {
		if t, ok := v.(*Tensor); ok {
			t.Bytes()
			t.Float32s()
		}
		return nil
	})
	networksFromRoot("fuzz.pt", tf.Root, "", 3)
	readBuffer(tf)
}

func FuzzPickle(f *testing.F) {
	f.Add(picklePayload(pdict{"a", plist{1, 2.5, "x", ptuple{true, nil}}, "b", podict{"k", int64(1) << 40}}))
	f.Add(picklePayload(pnewobj{cls: pglob{"gym.spaces", "Box"}, args: ptuple{}, state: pdict{"dim", 3}}))
	f.Add(picklePayload(pcall{fn: pglob{"os", "system"}, args: ptuple{"id"}}))
	f.Add([]byte{opProto, 4, opFrame, 0, 0, 0, 0, 0, 0, 0, 0, opShortBinUni, 1, 'a', opMemoize, opBinGet, 0, opTuple2, opStop})
	f.Fuzz(func(t *testing.T, b []byte) {
		v, _, err := decodePickle(bytes.NewReader(b), int64(len(b)), func(pid Value) (Value, error) {
			return &Storage{Key: "0", DType: Float32, Numel: 4, src: bytes.NewReader(make([]byte, 16))}, nil
		})
		if err != nil {
			return
		}
		_ = walkValue(v, func(x Value) error {
			if t, ok := x.(*Tensor); ok {
				t.Float32s()
			}
			return nil
		})
	})
}

func FuzzTorchZip(f *testing.F) {
	fuzzSeeds(f, true)
	f.Fuzz(exercise)
}

func FuzzTorchLegacy(f *testing.F) {
	fuzzSeeds(f, false)
	f.Fuzz(exercise)
}

// fuzzStorages are the storages FuzzTorchPickle puts next to the fuzzed
// pickle: keys "0".."9", 4 kB each.
func fuzzStorages() map[string][]byte {
	st := make(map[string][]byte)
	for k := range 10 {
		v := make([]float32, 1024)
		for i := range v {
			v[i] = float32(i%13) - 6 + float32(k)/10
		}
		st[fmt.Sprint(k)] = f32bytes(v)
	}
	return st
}

// FuzzTorchPickle fuzzes the pickle inside a well-formed torch zip (whose
// CRCs are right), reaching tensor rebuilding, the network recognisers
// and the buffer reader that a mutated zip rarely gets past.
func FuzzTorchPickle(f *testing.F) {
	sd, _ := mlpStateDict("net_body.", []int{3, 16, 16, 1}, 0)
	f.Add(picklePayload(pdict{"state_dict", sd, "_init_kwargs", pdict{"obs_dim", 3, "action_dim", 1,
		"action_space", boxObject("nn_laser_stabilizer.rl.envs.box", "8", "9")}}))
	sd2, _ := mlpStateDict("_network.net.", []int{4, 16, 1}, 0)
	f.Add(picklePayload(sd2))
	sb3, _ := mlpStateDict("critic.qf0.", []int{4, 8, 1}, 4)
	f.Add(picklePayload(sb3))
	f.Add(picklePayload(pdict{"capacity", 8, "obs_dim", 3, "action_dim", 1, "size", 5, "index", 5,
		"observations", ptensor{key: "0", storage: "FloatStorage", numel: 24, shape: []int{8, 3}},
		"actions", ptensor{key: "1", storage: "FloatStorage", numel: 8, shape: []int{8, 1}},
		"rewards", ptensor{key: "2", storage: "FloatStorage", numel: 8, shape: []int{8, 1}},
		"next_observations", ptensor{key: "3", storage: "FloatStorage", numel: 24, shape: []int{8, 3}},
		"dones", ptensor{key: "4", storage: "BoolStorage", numel: 8, shape: []int{8, 1}}}))
	root, _, _ := viewsRoot(false)
	f.Add(picklePayload(root))
	st := fuzzStorages()
	f.Fuzz(func(t *testing.T, pkl []byte) {
		var buf bytes.Buffer
		zw := zip.NewWriter(&buf)
		add := func(name string, data []byte) {
			w, _ := zw.CreateHeader(&zip.FileHeader{Name: name, Method: zip.Store})
			w.Write(data)
		}
		add("archive/data.pkl", pkl)
		for k, v := range st {
			add("archive/data/"+k, v)
		}
		zw.Close()
		exercise(t, buf.Bytes())
	})
}
