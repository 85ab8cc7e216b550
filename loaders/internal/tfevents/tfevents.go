// Package tfevents reads the scalar summaries of TensorBoard event files
// (events.out.tfevents.*): TFRecord framing with masked CRC-32C checks and
// the few protobuf fields of an Event that carry a scalar, decoded with
// protowire (no generated code).
package tfevents

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"math"

	"google.golang.org/protobuf/encoding/protowire"

	"github.com/rleval/rleval/loaders/internal/datafile"
)

// TensorBoard event files (events.out.tfevents.*): TFRecord framing
// (uint64 length, masked CRC32C of the length, data, masked CRC32C of the
// data) around Event protobufs. Scalars come as Summary.Value.simple_value
// (TF1 style, torch's SummaryWriter.add_scalar) or as a one-element
// TensorProto (TF2 and new-style writers). The protobufs are read with
// protowire field by field; nothing else of TensorBoard is needed.

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

func maskedCRC(b []byte) uint32 {
	c := crc32.Checksum(b, castagnoli)
	return (c>>15 | c<<17) + 0xa282ead8
}

// maxEventRecord bounds one record; scalar events are tens of bytes, graph
// and image summaries rarely exceed a few MB.
const maxEventRecord = 64 << 20

// Scalar is one scalar summary of an event file.
type Scalar struct {
	Tag  string
	Step int64
	// WallTime is seconds since the epoch.
	WallTime float64
	Value    float64
}

// Read reads the scalar summaries of an event file of size bytes.
// Every record's CRCs are checked; a record cut short at the end (a run
// still writing) ends the file and is reported by truncated.
func Read(r io.Reader, size int64) (scalars []Scalar, truncated bool, err error) {
	var off int64
	var hdr [12]byte
	for {
		n, err := io.ReadFull(r, hdr[:])
		if err == io.EOF {
			return scalars, false, nil
		}
		if err != nil {
			if errors.Is(err, io.ErrUnexpectedEOF) && n < len(hdr) {
				return scalars, true, nil
			}
			return nil, false, err
		}
		length := binary.LittleEndian.Uint64(hdr[:8])
		if maskedCRC(hdr[:8]) != binary.LittleEndian.Uint32(hdr[8:]) {
			return nil, false, datafile.Invalidf("event record at offset %d: length CRC mismatch (corrupt file)", off)
		}
		if length > maxEventRecord {
			return nil, false, datafile.Invalidf("event record at offset %d claims %d bytes (limit %d)", off, length, maxEventRecord)
		}
		if int64(length)+4 > size-off-12 {
			return scalars, true, nil // cut short: the writer was interrupted
		}
		data := make([]byte, length+4)
		if _, err := io.ReadFull(r, data); err != nil {
			return scalars, true, nil
		}
		if maskedCRC(data[:length]) != binary.LittleEndian.Uint32(data[length:]) {
			return nil, false, datafile.Invalidf("event record at offset %d: data CRC mismatch (corrupt file)", off)
		}
		s, err := decodeEvent(data[:length])
		if err != nil {
			return nil, false, fmt.Errorf("event record at offset %d: %w", off, err)
		}
		scalars = append(scalars, s...)
		off += 12 + int64(length) + 4
	}
}

// eachField calls fn for every field of a protobuf message.
func eachField(b []byte, fn func(num protowire.Number, typ protowire.Type, v []byte, x uint64) error) error {
	for len(b) > 0 {
		num, typ, n := protowire.ConsumeTag(b)
		if n < 0 {
			return datafile.Invalidf("protobuf: %v", protowire.ParseError(n))
		}
		b = b[n:]
		var v []byte
		var x uint64
		switch typ {
		case protowire.VarintType:
			x, n = protowire.ConsumeVarint(b)
		case protowire.Fixed32Type:
			var u uint32
			u, n = protowire.ConsumeFixed32(b)
			x = uint64(u)
		case protowire.Fixed64Type:
			x, n = protowire.ConsumeFixed64(b)
		case protowire.BytesType:
			v, n = protowire.ConsumeBytes(b)
		default:
			n = protowire.ConsumeFieldValue(num, typ, b)
		}
		if n < 0 {
			return datafile.Invalidf("protobuf field %d: %v", num, protowire.ParseError(n))
		}
		b = b[n:]
		if err := fn(num, typ, v, x); err != nil {
			return err
		}
	}
	return nil
}

// decodeEvent reads an Event: wall_time (1), step (2), summary (5).
func decodeEvent(b []byte) ([]Scalar, error) {
	var wall float64
	var step int64
	var summaries [][]byte
	err := eachField(b, func(num protowire.Number, typ protowire.Type, v []byte, x uint64) error {
		switch {
		case num == 1 && typ == protowire.Fixed64Type:
			wall = math.Float64frombits(x)
		case num == 2 && typ == protowire.VarintType:
			step = int64(x)
		case num == 5 && typ == protowire.BytesType:
			summaries = append(summaries, v)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	var out []Scalar
	for _, s := range summaries {
		err := eachField(s, func(num protowire.Number, typ protowire.Type, v []byte, _ uint64) error {
			if num != 1 || typ != protowire.BytesType {
				return nil
			}
			sc, ok, err := decodeSummaryValue(v)
			if err != nil {
				return err
			}
			if ok {
				sc.Step, sc.WallTime = step, wall
				out = append(out, sc)
			}
			return nil
		})
		if err != nil {
			return nil, err
		}
	}
	return out, nil
}

// decodeSummaryValue reads Summary.Value: tag (1), simple_value (2),
// tensor (8), metadata (9).
func decodeSummaryValue(b []byte) (Scalar, bool, error) {
	var sc Scalar
	var tensor []byte
	simple, plugin := false, ""
	err := eachField(b, func(num protowire.Number, typ protowire.Type, v []byte, x uint64) error {
		switch {
		case num == 1 && typ == protowire.BytesType:
			sc.Tag = string(v)
		case num == 2 && typ == protowire.Fixed32Type:
			sc.Value, simple = float64(math.Float32frombits(uint32(x))), true
		case num == 8 && typ == protowire.BytesType:
			tensor = v
		case num == 9 && typ == protowire.BytesType:
			// SummaryMetadata.plugin_data (1) .plugin_name (1)
			return eachField(v, func(num protowire.Number, typ protowire.Type, pd []byte, _ uint64) error {
				if num == 1 && typ == protowire.BytesType {
					return eachField(pd, func(num protowire.Number, typ protowire.Type, name []byte, _ uint64) error {
						if num == 1 && typ == protowire.BytesType {
							plugin = string(name)
						}
						return nil
					})
				}
				return nil
			})
		}
		return nil
	})
	if err != nil || simple {
		return sc, simple && err == nil, err
	}
	if tensor == nil || (plugin != "" && plugin != "scalars") {
		return sc, false, nil
	}
	v, ok, err := tensorScalar(tensor)
	sc.Value = v
	return sc, ok, err
}

// tensorScalar reads a one-element numeric TensorProto: dtype (1),
// tensor_content (4), float_val (5), double_val (6), int_val (7),
// int64_val (10).
func tensorScalar(b []byte) (float64, bool, error) {
	var dtype uint64
	var vals []float64
	var content []byte
	err := eachField(b, func(num protowire.Number, typ protowire.Type, v []byte, x uint64) error {
		switch num {
		case 1:
			dtype = x
		case 4:
			content = v
		case 5, 6, 7, 10:
			if typ == protowire.BytesType { // packed
				return unpack(num, v, &vals)
			}
			vals = append(vals, scalarOf(num, x))
		}
		if len(vals) > 1 {
			return errStop
		}
		return nil
	})
	if errors.Is(err, errStop) {
		return 0, false, nil // not a scalar
	}
	if err != nil {
		return 0, false, err
	}
	if len(vals) == 1 {
		return vals[0], true, nil
	}
	switch {
	case dtype == 1 && len(content) == 4: // DT_FLOAT
		return float64(math.Float32frombits(binary.LittleEndian.Uint32(content))), true, nil
	case dtype == 2 && len(content) == 8: // DT_DOUBLE
		return math.Float64frombits(binary.LittleEndian.Uint64(content)), true, nil
	case dtype == 3 && len(content) == 4: // DT_INT32
		return float64(int32(binary.LittleEndian.Uint32(content))), true, nil
	case dtype == 9 && len(content) == 8: // DT_INT64
		return float64(int64(binary.LittleEndian.Uint64(content))), true, nil
	}
	return 0, false, nil
}

var errStop = errors.New("stop")

func scalarOf(num protowire.Number, x uint64) float64 {
	switch num {
	case 5:
		return float64(math.Float32frombits(uint32(x)))
	case 6:
		return math.Float64frombits(x)
	case 7:
		return float64(int32(x))
	}
	return float64(int64(x))
}

func unpack(num protowire.Number, b []byte, vals *[]float64) error {
	for len(b) > 0 && len(*vals) <= 1 {
		var x uint64
		var n int
		switch num {
		case 5:
			var u uint32
			u, n = protowire.ConsumeFixed32(b)
			x = uint64(u)
		case 6:
			x, n = protowire.ConsumeFixed64(b)
		default:
			x, n = protowire.ConsumeVarint(b)
		}
		if n < 0 {
			return datafile.Invalidf("packed tensor values: %v", protowire.ParseError(n))
		}
		b = b[n:]
		*vals = append(*vals, scalarOf(num, x))
	}
	if len(*vals) > 1 {
		return errStop
	}
	return nil
}
