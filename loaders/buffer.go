package loaders

import (
	"fmt"

	"github.com/rleval/rleval/loaders/internal/datafile"
	"github.com/rleval/rleval/loaders/internal/pickle"
	"github.com/rleval/rleval/loaders/internal/torchzip"
)

// ReplayBuffer is the valid part of a saved replay buffer
// (data/replay_buffer.pth).
//
// The file stores all Capacity rows; only rows 0..Size-1 hold transitions,
// and they are kept here in storage order. Once the buffer is full
// (Size == Capacity) it is a ring: Index is the next row to be overwritten,
// so row Index is the oldest transition and row Index-1 the newest.
type ReplayBuffer struct {
	// Path is the file the buffer was read from.
	Path string
	// Capacity is the number of rows the file stores; Size the number of
	// valid rows; Index the next write position.
	Capacity, Size, Index int
	// ObsDim and ActDim are the observation and action widths.
	ObsDim, ActDim int
	// Obs and NextObs hold Size×ObsDim values, Actions Size×ActDim and
	// Rewards Size values, row-major.
	Obs, Actions, Rewards, NextObs []float32
	// Dones holds Size flags.
	Dones []bool
}

// LoadReplayBuffer reads the valid rows of a replay buffer file. It decodes
// the storages straight into the returned slices, reading only the first
// Size rows of each, so memory stays near the size of the valid data.
func LoadReplayBuffer(path string) (*ReplayBuffer, error) {
	tf, err := torchzip.Open(path)
	if err != nil {
		return nil, err
	}
	defer tf.Close()
	b, err := readBuffer(tf)
	if err != nil {
		return nil, fmt.Errorf("load %s: replay buffer: %w", path, err)
	}
	b.Path = path
	return b, nil
}

// readBuffer reads the replay buffer dict of the upstream trainer: its
// sizes, then the first Size rows of each array.
func readBuffer(tf *torchzip.File) (*ReplayBuffer, error) {
	d, ok := tf.Root.(*pickle.Dict)
	if !ok {
		return nil, datafile.Invalidf("file holds a %s, not a dict", pickle.TypeName(tf.Root))
	}
	b := &ReplayBuffer{}
	for _, f := range []struct {
		key string
		v   *int
	}{{"capacity", &b.Capacity}, {"size", &b.Size}, {"index", &b.Index}, {"obs_dim", &b.ObsDim}, {"action_dim", &b.ActDim}} {
		var err error
		if *f.v, err = bufferInt(d, f.key); err != nil {
			return nil, err
		}
	}
	if b.Size > b.Capacity {
		return nil, datafile.Invalidf("size %d exceeds capacity %d", b.Size, b.Capacity)
	}
	if b.Index >= b.Capacity && b.Capacity > 0 {
		return nil, datafile.Invalidf("index %d outside capacity %d", b.Index, b.Capacity)
	}
	for _, f := range []struct {
		key   string
		width int
		v     *[]float32
	}{{"observations", b.ObsDim, &b.Obs}, {"actions", b.ActDim, &b.Actions}, {"rewards", 1, &b.Rewards}, {"next_observations", b.ObsDim, &b.NextObs}} {
		var err error
		if *f.v, err = bufferRows(d, f.key, b.Capacity, f.width, b.Size); err != nil {
			return nil, err
		}
	}
	dt, err := bufferTensor(d, "dones", b.Capacity, 1)
	if err != nil {
		return nil, err
	}
	if b.Dones, err = dt.Rows(b.Size).Bools(); err != nil {
		return nil, fmt.Errorf("\"dones\": %w", err)
	}
	return b, nil
}

// bufferInt reads a size of the buffer dict: an int, or a one-element
// tensor holding one.
func bufferInt(d *pickle.Dict, key string) (int, error) {
	v, ok := d.Get(key)
	if !ok {
		return 0, datafile.Invalidf("no %q entry", key)
	}
	switch x := v.(type) {
	case int64:
		if x < 0 || x > 1<<40 {
			return 0, datafile.Invalidf("%q is %d", key, x)
		}
		return int(x), nil
	case *torchzip.Tensor:
		if x.Numel() == 1 {
			f, err := x.Scalar()
			if err != nil {
				return 0, err
			}
			if f < 0 || f > 1<<40 || f != float64(int64(f)) {
				return 0, datafile.Invalidf("%q is %v", key, f)
			}
			return int(f), nil
		}
	}
	return 0, datafile.Invalidf("%q is a %s, not an int", key, pickle.TypeName(v))
}

// bufferTensor returns the buffer's array key, which must be
// capacity × width ((capacity,) too when width is 1).
func bufferTensor(d *pickle.Dict, key string, capacity, width int) (*torchzip.Tensor, error) {
	v, ok := d.Get(key)
	if !ok {
		return nil, datafile.Invalidf("no %q tensor", key)
	}
	t, ok := v.(*torchzip.Tensor)
	if !ok {
		return nil, datafile.Invalidf("%q is a %s, not a tensor", key, pickle.TypeName(v))
	}
	if len(t.Shape) == 1 && width == 1 && t.Shape[0] == capacity {
		return t, nil // (capacity,) rewards/dones are accepted too
	}
	if len(t.Shape) != 2 || t.Shape[0] != capacity || t.Shape[1] != width {
		return nil, datafile.Invalidf("%q has shape %v, want (%d, %d)", key, t.Shape, capacity, width)
	}
	return t, nil
}

// bufferRows reads the first size rows of the float32 array key.
func bufferRows(d *pickle.Dict, key string, capacity, width, size int) ([]float32, error) {
	t, err := bufferTensor(d, key, capacity, width)
	if err != nil {
		return nil, err
	}
	if t.DType != torchzip.Float32 {
		return nil, datafile.Invalidf("%q is %s, want float32", key, t.DType)
	}
	out, err := t.RowsFloat32(size)
	if err != nil {
		return nil, fmt.Errorf("%q: %w", key, err)
	}
	return out, nil
}
