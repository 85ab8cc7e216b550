package loaders

import (
	"archive/zip"
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/rleval/rleval/loaders/internal/pickle"
	"github.com/rleval/rleval/loaders/internal/torchwrite"
	"github.com/rleval/rleval/loaders/internal/torchzip"
)

// fuzzSeeds adds the fixture files of the given format (those under 64 kB:
// the fuzzer slows to a crawl on half-megabyte inputs) plus Go-built ones.
func fuzzSeeds(f *testing.F, zipFormat bool) {
	paths, _ := filepath.Glob(filepath.Join(runsDir, "*", "*", "*.pt*"))
	more, _ := filepath.Glob(filepath.Join("internal", "torchzip", "testdata", "*.pt"))
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
	root, st, elem := torchwrite.Views(!zipFormat)
	if zipFormat {
		f.Add(torchwrite.Zip(f, "archive", root, st))
		sd, nst := torchwrite.MLPStateDict("net_body.", []int{3, 4, 1}, 0)
		nst["90"], nst["91"] = torchwrite.F32Bytes([]float32{-2}), torchwrite.F32Bytes([]float32{2})
		f.Add(torchwrite.Zip(f, "actor", torchwrite.Dict{"state_dict", sd, "_init_kwargs", torchwrite.Dict{"obs_dim", 3, "action_dim", 1,
			"action_space", boxObject("nn_laser_stabilizer.rl.envs.box", "90", "91")}}, nst))
		f.Add(torchwrite.BufferFile(f, 8, 5, 5, 3, 1))
	} else {
		f.Add(torchwrite.Legacy(root, []string{"0", "1", "2", "3"}, st, elem))
	}
}

// exercise decodes b as a torch file and runs every consumer over it; any
// panic or hang fails the fuzzer.
func exercise(t *testing.T, b []byte) {
	tf, err := torchzip.NewFile("fuzz.pt", bytes.NewReader(b), int64(len(b)))
	if err != nil {
		return
	}
	_ = pickle.Walk(tf.Root, func(v pickle.Value) error {
		if t, ok := v.(*torchzip.Tensor); ok {
			t.Bytes()
			t.Float32s()
		}
		return nil
	})
	networksFromRoot("fuzz.pt", tf.Root, "", 3)
	readBuffer(tf)
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
		st[fmt.Sprint(k)] = torchwrite.F32Bytes(v)
	}
	return st
}

// FuzzTorchPickle fuzzes the pickle inside a well-formed torch zip (whose
// CRCs are right), reaching tensor rebuilding, the network recognisers
// and the buffer reader that a mutated zip rarely gets past.
func FuzzTorchPickle(f *testing.F) {
	sd, _ := torchwrite.MLPStateDict("net_body.", []int{3, 16, 16, 1}, 0)
	f.Add(torchwrite.Pickle(torchwrite.Dict{"state_dict", sd, "_init_kwargs", torchwrite.Dict{"obs_dim", 3, "action_dim", 1,
		"action_space", boxObject("nn_laser_stabilizer.rl.envs.box", "8", "9")}}))
	sd2, _ := torchwrite.MLPStateDict("_network.net.", []int{4, 16, 1}, 0)
	f.Add(torchwrite.Pickle(sd2))
	sb3, _ := torchwrite.MLPStateDict("critic.qf0.", []int{4, 8, 1}, 4)
	f.Add(torchwrite.Pickle(sb3))
	f.Add(torchwrite.Pickle(torchwrite.Dict{"capacity", 8, "obs_dim", 3, "action_dim", 1, "size", 5, "index", 5,
		"observations", torchwrite.Tensor{Key: "0", Storage: "FloatStorage", Numel: 24, Shape: []int{8, 3}},
		"actions", torchwrite.Tensor{Key: "1", Storage: "FloatStorage", Numel: 8, Shape: []int{8, 1}},
		"rewards", torchwrite.Tensor{Key: "2", Storage: "FloatStorage", Numel: 8, Shape: []int{8, 1}},
		"next_observations", torchwrite.Tensor{Key: "3", Storage: "FloatStorage", Numel: 24, Shape: []int{8, 3}},
		"dones", torchwrite.Tensor{Key: "4", Storage: "BoolStorage", Numel: 8, Shape: []int{8, 1}}}))
	root, _, _ := torchwrite.Views(false)
	f.Add(torchwrite.Pickle(root))
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
