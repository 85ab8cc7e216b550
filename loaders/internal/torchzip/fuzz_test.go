package torchzip

import (
	"bytes"
	"testing"

	"github.com/rleval/rleval/loaders/internal/pickle"
	"github.com/rleval/rleval/loaders/internal/torchwrite"
)

// FuzzPickle decodes any pickle as a torch file's, its persistent ids all
// resolving to one small storage, and reads every tensor it builds.
func FuzzPickle(f *testing.F) {
	f.Add(torchwrite.Pickle(torchwrite.Dict{"a", torchwrite.List{1, 2.5, "x", torchwrite.Tuple{true, nil}}, "b", torchwrite.ODict{"k", int64(1) << 40}}))
	f.Add(torchwrite.Pickle(torchwrite.NewObj{Class: torchwrite.Global{"gym.spaces", "Box"}, Args: torchwrite.Tuple{}, State: torchwrite.Dict{"dim", 3}}))
	f.Add(torchwrite.Pickle(torchwrite.Call{Fn: torchwrite.Global{"os", "system"}, Args: torchwrite.Tuple{"id"}}))
	f.Add(torchwrite.Pickle(torchwrite.Dict{"w", torchwrite.Tensor{Key: "0", Storage: "FloatStorage", Numel: 4, Shape: []int{2, 2}}}))
	// Protocol 4: PROTO 4, FRAME 0, SHORT_BINUNICODE "a", MEMOIZE, BINGET 0,
	// TUPLE2, STOP.
	f.Add([]byte{0x80, 4, 0x95, 0, 0, 0, 0, 0, 0, 0, 0, 0x8c, 1, 'a', 0x94, 'h', 0, 0x86, '.'})
	f.Fuzz(func(t *testing.T, b []byte) {
		v, _, err := pickle.Decode(bytes.NewReader(b), int64(len(b)), pickle.Options{
			PersistentLoad: func(pickle.Value) (pickle.Value, error) {
				return &Storage{Key: "0", DType: Float32, Numel: 4, src: bytes.NewReader(make([]byte, 16))}, nil
			},
			Rebuild: Rebuild,
		})
		if err != nil {
			return
		}
		_ = pickle.Walk(v, func(x pickle.Value) error {
			if t, ok := x.(*Tensor); ok {
				t.Float32s()
			}
			return nil
		})
	})
}
