package npy

import (
	"archive/zip"
	"bytes"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/rleval/rleval/loaders/internal/datafile"
)

// maxNPYHeader bounds an .npy header; numpy writes 128 bytes or a few KB for
// structured dtypes.
const maxNPYHeader = 1 << 16

// ReadNPY reads one .npy array from r, which holds at most limit bytes. The
// shape in the header is checked against limit before any data is read.
func ReadNPY(r io.Reader, limit int64) (*NDArray, error) {
	var pre [10]byte
	if limit < int64(len(pre)) {
		return nil, datafile.Invalidf("npy: %d bytes, too short for a header", limit)
	}
	if _, err := io.ReadFull(r, pre[:]); err != nil {
		return nil, datafile.Invalidf("npy: %v", err)
	}
	if string(pre[:6]) != "\x93NUMPY" {
		return nil, datafile.Invalidf("npy: bad magic %q", pre[:6])
	}
	used := int64(10)
	var hlen int64
	switch pre[6] {
	case 1:
		hlen = int64(pre[8]) | int64(pre[9])<<8
	case 2, 3:
		var b [2]byte
		if _, err := io.ReadFull(r, b[:]); err != nil {
			return nil, datafile.Invalidf("npy: %v", err)
		}
		hlen = int64(pre[8]) | int64(pre[9])<<8 | int64(b[0])<<16 | int64(b[1])<<24
		used += 2
	default:
		return nil, datafile.Invalidf("npy: unsupported version %d.%d", pre[6], pre[7])
	}
	if hlen > maxNPYHeader || hlen > limit-used {
		return nil, datafile.Invalidf("npy: header of %d bytes in a %d-byte file", hlen, limit)
	}
	h := make([]byte, hlen)
	if _, err := io.ReadFull(r, h); err != nil {
		return nil, datafile.Invalidf("npy header: %v", err)
	}
	used += hlen
	a, err := parseNPYHeader(string(h))
	if err != nil {
		return nil, datafile.Invalidf("npy header %q: %v", strings.TrimSpace(string(h)), err)
	}
	n, err := ShapeLen(a.Shape)
	if err != nil {
		return nil, datafile.Invalidf("npy: %v", err)
	}
	need := int64(n) * int64(a.DType.Size)
	if need > limit-used {
		return nil, datafile.Invalidf("npy: shape %v of %s needs %d bytes but the file has %d left (truncated?)", a.Shape, a.DType, need, limit-used)
	}
	a.Data = make([]byte, need)
	if _, err := io.ReadFull(r, a.Data); err != nil {
		return nil, datafile.Invalidf("npy data: %v (truncated?)", err)
	}
	return a, nil
}

// parseNPYHeader reads the header's dict literal:
// {'descr': '<f4', 'fortran_order': False, 'shape': (3, 2), }.
func parseNPYHeader(h string) (*NDArray, error) {
	field := func(key string) (string, error) {
		i := strings.Index(h, "'"+key+"'")
		if i < 0 {
			return "", fmt.Errorf("no %q", key)
		}
		rest := strings.TrimLeft(h[i+len(key)+2:], " ")
		if !strings.HasPrefix(rest, ":") {
			return "", fmt.Errorf("%q without a value", key)
		}
		return strings.TrimLeft(rest[1:], " "), nil
	}
	a := &NDArray{}
	d, err := field("descr")
	if err != nil {
		return nil, err
	}
	if len(d) < 2 || d[0] != '\'' {
		return nil, errors.New("descr is not a simple type string (structured arrays are not read)")
	}
	end := strings.IndexByte(d[1:], '\'')
	if end < 0 {
		return nil, errors.New("unterminated descr")
	}
	if a.DType, err = parseNPDType(d[1 : 1+end]); err != nil {
		return nil, err
	}
	f, err := field("fortran_order")
	if err != nil {
		return nil, err
	}
	a.Fortran = strings.HasPrefix(f, "True")
	s, err := field("shape")
	if err != nil {
		return nil, err
	}
	if !strings.HasPrefix(s, "(") {
		return nil, errors.New("shape is not a tuple")
	}
	end = strings.IndexByte(s, ')')
	if end < 0 {
		return nil, errors.New("unterminated shape")
	}
	for _, p := range strings.Split(s[1:end], ",") {
		p = strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(p), "L"))
		if p == "" {
			continue
		}
		v, err := strconv.Atoi(p)
		if err != nil || v < 0 {
			return nil, fmt.Errorf("shape element %q", p)
		}
		a.Shape = append(a.Shape, v)
		if len(a.Shape) > 32 {
			return nil, errors.New("more than 32 dimensions")
		}
	}
	return a, nil
}

// LoadNPY reads an .npy file.
func LoadNPY(path string) (*NDArray, error) {
	f, size, err := datafile.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	a, err := ReadNPY(f, size)
	if err != nil {
		return nil, fmt.Errorf("load %s: %w", path, err)
	}
	return a, nil
}

// ReadNPZ reads every array of an .npz archive (numpy.savez or
// savez_compressed) held in r, keyed by name without ".npy".
func ReadNPZ(r io.ReaderAt, size int64) (map[string]*NDArray, error) {
	zr, err := zip.NewReader(r, size)
	if err != nil {
		return nil, datafile.Invalidf("npz: corrupt zip archive: %v", err)
	}
	out := map[string]*NDArray{}
	limit := min(datafile.MaxInflateRatio*size+1<<20, datafile.MaxInflateTotal)
	for _, zf := range zr.File {
		if !strings.HasSuffix(zf.Name, ".npy") {
			continue
		}
		b, err := datafile.ReadZipMember(zf, size, limit)
		if err != nil {
			return nil, fmt.Errorf("npz: %w", err)
		}
		a, err := ReadNPY(bytes.NewReader(b), int64(len(b)))
		if err != nil {
			return nil, fmt.Errorf("npz member %s: %w", zf.Name, err)
		}
		out[strings.TrimSuffix(zf.Name, ".npy")] = a
	}
	return out, nil
}

// LoadNPZ reads an .npz file.
func LoadNPZ(path string) (map[string]*NDArray, error) {
	f, size, err := datafile.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	m, err := ReadNPZ(f, size)
	if err != nil {
		return nil, fmt.Errorf("load %s: %w", path, err)
	}
	return m, nil
}
