// Package torchzip reads torch.save files, the zip format (torch ≥ 1.6)
// and the legacy one, without executing any code: the pickle is decoded by
// package pickle, torch's tensor constructors are rebuilt as data, and
// every storage is checked against the bytes that exist before a tensor
// reads from it, on demand.
package torchzip

import (
	"archive/zip"
	"bufio"
	"bytes"
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"io"
	"math/big"
	"os"
	"sort"
	"strings"

	"github.com/rleval/rleval/loaders/internal/datafile"
	"github.com/rleval/rleval/loaders/internal/pickle"
)

// legacyMagic is the first pickle of a legacy (non-zip) torch.save file.
var legacyMagic, _ = new(big.Int).SetString("1950a86a20f9469cfc6c", 16)

// File is an open torch.save file: its decoded object tree, with
// tensors that read their data from the file on demand.
type File struct {
	// Path is the file name.
	Path string
	// Root is the object torch.save was given (a *Dict for checkpoints).
	Root pickle.Value
	// Format is "zip" or "legacy".
	Format string

	f        *os.File
	storages map[string]*Storage
}

// Close releases the file. Tensors of the file cannot be read afterwards
// unless they were loaded with Load.
func (tf *File) Close() error {
	if tf.f == nil {
		return nil
	}
	err := tf.f.Close()
	tf.f = nil
	return err
}

// Load reads every storage of the file into memory, so the tensors stay
// readable after Close.
func (tf *File) Load() error {
	keys := make([]string, 0, len(tf.storages))
	for k := range tf.storages {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		s := tf.storages[k]
		if s.err != nil {
			return fmt.Errorf("load %s: storage %s: %w", tf.Path, k, s.err)
		}
		if _, ok := s.src.(*bytes.Reader); ok {
			continue
		}
		buf := make([]byte, s.Numel*int64(s.DType.Size()))
		if err := s.readAt(buf, 0); err != nil {
			return fmt.Errorf("load %s: %w", tf.Path, err)
		}
		// Stored members are read in place, past archive/zip's checks;
		// when a storage is read whole, check its CRC-32 here.
		if s.hasCRC && crc32.ChecksumIEEE(buf) != s.crc {
			return fmt.Errorf("load %s: storage %s: zip checksum mismatch (corrupt file): %w", tf.Path, k, datafile.ErrInvalid)
		}
		s.src, s.off = bytes.NewReader(buf), 0
	}
	return nil
}

// ReadFile decodes a torch.save file (zip or legacy format) without
// executing any code and returns its object tree with all tensor data in
// memory. Missing files match datafile.ErrNotExist, broken ones datafile.ErrInvalid, and
// pickles that try to call dangerous globals pickle.ErrUnsafe.
func ReadFile(path string) (pickle.Value, error) {
	tf, err := Open(path)
	if err != nil {
		return nil, err
	}
	defer tf.Close()
	if err := tf.Load(); err != nil {
		return nil, err
	}
	return tf.Root, nil
}

// Open decodes the pickle of a torch.save file and checks every
// storage it references against the bytes in the file; tensor data is read
// later, on demand, from the open file. The caller must Close it.
func Open(path string) (*File, error) {
	f, size, err := datafile.Open(path)
	if err != nil {
		return nil, err
	}
	tf := &File{Path: path, f: f, storages: make(map[string]*Storage)}
	if err := tf.decode(f, size); err != nil {
		f.Close()
		return nil, fmt.Errorf("load %s: %w", path, err)
	}
	return tf, nil
}

func (tf *File) decode(r io.ReaderAt, size int64) error {
	var head [4]byte
	if size == 0 {
		return datafile.Invalidf("empty file (0 bytes), not a torch.save checkpoint")
	}
	n, _ := r.ReadAt(head[:], 0)
	if n == 4 && string(head[:]) == "PK\x03\x04" {
		tf.Format = "zip"
		return tf.decodeZip(r, size)
	}
	if n >= 1 && head[0] == 0x80 /* pickle PROTO */ {
		tf.Format = "legacy"
		return tf.decodeLegacy(r, size)
	}
	return datafile.Invalidf("neither a torch zip file nor a legacy torch.save pickle (starts with %q)", head[:n])
}

func (tf *File) decodeZip(r io.ReaderAt, size int64) error {
	zr, err := zip.NewReader(r, size)
	if err != nil {
		return datafile.Invalidf("corrupt zip archive: %v", err)
	}
	// The pickle is <prefix>/data.pkl for any prefix torch chose (the
	// file's base name without extension, "archive", ...).
	var pkl *zip.File
	members := make(map[string]*zip.File, len(zr.File))
	for _, zf := range zr.File {
		members[zf.Name] = zf
		if (strings.HasSuffix(zf.Name, "/data.pkl") && strings.Count(zf.Name, "/") == 1) || zf.Name == "data.pkl" {
			if pkl != nil {
				return datafile.Invalidf("two pickles in one torch zip file (%s and %s)", pkl.Name, zf.Name)
			}
			pkl = zf
		}
	}
	if pkl == nil {
		return datafile.Invalidf("zip archive without <prefix>/data.pkl: not a torch.save file")
	}
	prefix := strings.TrimSuffix(pkl.Name, "data.pkl")
	if bo, ok := members[prefix+"byteorder"]; ok {
		b, err := datafile.ReadZipMember(bo, size, 64)
		if err != nil {
			return err
		}
		if s := strings.TrimSpace(string(b)); s != "little" {
			return datafile.Invalidf("byte order %q: only little-endian checkpoints are supported", s)
		}
	}
	budget := int64(datafile.MaxInflateTotal)
	open := func(key string, s *Storage) {
		zf, ok := members[prefix+"data/"+key]
		if !ok {
			s.err = datafile.Invalidf("storage %s: member %sdata/%s missing (truncated archive?)", key, prefix, key)
			return
		}
		need := s.Numel * int64(s.DType.Size())
		if int64(zf.UncompressedSize64) < need || zf.UncompressedSize64 > 1<<62 {
			s.err = datafile.Invalidf("storage %s: member holds %d bytes, %d elements of %s need %d", key, zf.UncompressedSize64, s.Numel, s.DType, need)
			return
		}
		if zf.Method == zip.Store {
			off, err := zf.DataOffset()
			if err != nil || zf.CompressedSize64 != zf.UncompressedSize64 || off < 0 || off+need > size {
				s.err = datafile.Invalidf("storage %s: stored member %s is inconsistent or runs past the end of the file", key, zf.Name)
				return
			}
			s.src, s.off = r, off
			if int64(zf.UncompressedSize64) == need {
				s.crc, s.hasCRC = zf.CRC32, true
			}
			return
		}
		limit := min(budget, datafile.MaxInflateRatio*size)
		b, err := datafile.ReadZipMember(zf, size, limit)
		if err != nil {
			s.err = err
			return
		}
		budget -= int64(len(b))
		if int64(len(b)) < need {
			s.err = datafile.Invalidf("storage %s: member inflates to %d bytes, need %d", key, len(b), need)
			return
		}
		s.src, s.off = bytes.NewReader(b), 0
	}
	// The pickle is read whole (it is small) so that archive/zip checks its
	// CRC-32 before a byte of it is trusted.
	limit := min(int64(datafile.MaxInflateTotal), datafile.MaxInflateRatio*size)
	pb, err := datafile.ReadZipMember(pkl, size, limit)
	if err != nil {
		return err
	}
	root, _, err := pickle.Decode(bytes.NewReader(pb), int64(len(pb)), pickle.Options{PersistentLoad: tf.persistentLoad(r, false), Rebuild: Rebuild})
	if err != nil {
		return fmt.Errorf("%s: %w", pkl.Name, err)
	}
	tf.Root = root
	for k, s := range tf.storages {
		open(k, s)
		if s.err != nil {
			return s.err
		}
	}
	return nil
}

// persistentLoad resolves torch's storage persistent ids:
// ('storage', storage_type, key, location, numel[, view_metadata]).
func (tf *File) persistentLoad(r io.ReaderAt, legacy bool) func(pickle.Value) (pickle.Value, error) {
	return func(pid pickle.Value) (pickle.Value, error) {
		t, ok := pid.(pickle.Tuple)
		if !ok || len(t) < 5 {
			return nil, datafile.Invalidf("persistent id %s is not a storage tuple", pickle.TypeName(pid))
		}
		if s, _ := t[0].(string); s != "storage" {
			return nil, datafile.Invalidf("persistent id of kind %v, want \"storage\"", t[0])
		}
		g, ok := t[1].(pickle.Global)
		if !ok {
			return nil, datafile.Invalidf("storage type is a %s", pickle.TypeName(t[1]))
		}
		dt, ok := storageDTypes[g.Name]
		if !ok || (g.Module != "torch" && g.Module != "torch.storage") {
			return nil, datafile.Invalidf("unsupported storage type %s", g)
		}
		key, ok := t[2].(string)
		if !ok {
			return nil, datafile.Invalidf("storage key is a %s", pickle.TypeName(t[2]))
		}
		loc, _ := t[3].(string)
		numel, ok := t[4].(int64)
		if !ok || numel < 0 {
			return nil, datafile.Invalidf("storage %s: bad element count %v", key, t[4])
		}
		if legacy && len(t) > 5 && t[5] != nil {
			return nil, datafile.Invalidf("storage %s: legacy storage views are not supported", key)
		}
		if s, ok := tf.storages[key]; ok {
			if s.DType != dt || s.Numel != numel {
				return nil, datafile.Invalidf("storage %s referenced as %s[%d] and %s[%d]", key, s.DType, s.Numel, dt, numel)
			}
			return s, nil
		}
		s := &Storage{Key: key, DType: dt, Numel: numel, Location: loc, path: tf.Path}
		tf.storages[key] = s
		return s, nil
	}
}

// decodeLegacy reads the pre-1.6 format: five pickles (magic number,
// protocol version, sys info, the object, the storage keys) followed by each
// storage as an int64 element count and its raw bytes.
func (tf *File) decodeLegacy(r io.ReaderAt, size int64) error {
	sr := io.NewSectionReader(r, 0, size)
	br := bufio.NewReaderSize(sr, 64<<10)
	pos := int64(0)
	next := func(what string, pl func(pickle.Value) (pickle.Value, error)) (pickle.Value, error) {
		v, n, err := pickle.Decode(br, size-pos, pickle.Options{PersistentLoad: pl, Rebuild: Rebuild})
		pos += n
		if err != nil {
			return nil, fmt.Errorf("legacy torch file: %s pickle: %w", what, err)
		}
		return v, nil
	}
	magic, err := next("magic number", nil)
	if err != nil {
		return err
	}
	if m, ok := magic.(*big.Int); !ok || m.Cmp(legacyMagic) != 0 {
		return datafile.Invalidf("legacy torch file: bad magic number %v", magic)
	}
	proto, err := next("protocol version", nil)
	if err != nil {
		return err
	}
	if p, ok := proto.(int64); !ok || p != 1001 {
		return datafile.Invalidf("legacy torch file: unsupported protocol version %v", proto)
	}
	sysInfo, err := next("sys info", nil)
	if err != nil {
		return err
	}
	if d, ok := sysInfo.(*pickle.Dict); ok {
		if le, ok := d.Get("little_endian"); ok && le == false {
			return datafile.Invalidf("legacy torch file: big-endian checkpoints are not supported")
		}
	}
	root, err := next("object", tf.persistentLoad(r, true))
	if err != nil {
		return err
	}
	keysV, err := next("storage keys", nil)
	if err != nil {
		return err
	}
	keys, ok := keysV.(*pickle.List)
	if !ok {
		return datafile.Invalidf("legacy torch file: storage key list is a %s", pickle.TypeName(keysV))
	}
	off := pos
	for _, kv := range keys.Items {
		key, ok := kv.(string)
		if !ok {
			return datafile.Invalidf("legacy torch file: storage key is a %s", pickle.TypeName(kv))
		}
		s, ok := tf.storages[key]
		if !ok {
			return datafile.Invalidf("legacy torch file: storage %s listed but never used", key)
		}
		var nb [8]byte
		if _, err := r.ReadAt(nb[:], off); err != nil {
			return datafile.Invalidf("legacy torch file: storage %s header at offset %d: truncated file", key, off)
		}
		numel := int64(binary.LittleEndian.Uint64(nb[:]))
		if numel != s.Numel {
			return datafile.Invalidf("legacy torch file: storage %s holds %d elements, the pickle says %d", key, numel, s.Numel)
		}
		nbytes := numel * int64(s.DType.Size())
		if numel < 0 || nbytes/int64(s.DType.Size()) != numel || nbytes > size-off-8 {
			return datafile.Invalidf("legacy torch file: storage %s claims %d elements but only %d bytes remain (truncated file?)", key, numel, size-off-8)
		}
		s.src, s.off = r, off+8
		off += 8 + nbytes
	}
	for k, s := range tf.storages {
		if s.src == nil {
			return datafile.Invalidf("legacy torch file: storage %s used but not stored", k)
		}
	}
	tf.Root = root
	return nil
}

// Tensors returns every tensor inside v keyed by its path: dict keys, list
// and tuple indices and object attributes joined by "/" (e.g.
// "state_dict/net_body.0.weight", "_init_kwargs/action_space/low"); a bare
// tensor has the path "". A container reached twice is listed once, and
// nesting deeper than the walk limit is an error.
func Tensors(v pickle.Value) (map[string]*Tensor, error) {
	out := make(map[string]*Tensor)
	seen := make(map[any]bool)
	var walk func(v pickle.Value, path string, depth int) error
	walk = func(v pickle.Value, path string, depth int) error {
		if depth > pickle.MaxDepth {
			return datafile.Invalidf("object nested deeper than %d levels", pickle.MaxDepth)
		}
		join := func(k any) string {
			if path == "" {
				return fmt.Sprint(k)
			}
			return path + "/" + fmt.Sprint(k)
		}
		var items []pickle.Value
		switch x := v.(type) {
		case *Tensor:
			out[path] = x
			return nil
		case *pickle.Dict:
			if seen[x] {
				return nil
			}
			seen[x] = true
			for i, k := range x.Keys {
				if err := walk(x.Values[i], join(k), depth+1); err != nil {
					return err
				}
			}
			return nil
		case *pickle.Object:
			if seen[x] {
				return nil
			}
			seen[x] = true
			if err := walk(x.State, path, depth+1); err != nil {
				return err
			}
			if x.Items != nil {
				return walk(x.Items, path, depth+1)
			}
			return nil
		case pickle.Tuple:
			if len(x) == 0 || seen[&x[0]] {
				return nil
			}
			seen[&x[0]] = true
			items = x
		case *pickle.List:
			if seen[x] {
				return nil
			}
			seen[x] = true
			items = x.Items
		}
		for i, it := range items {
			if err := walk(it, join(i), depth+1); err != nil {
				return err
			}
		}
		return nil
	}
	if err := walk(v, "", 0); err != nil {
		return nil, err
	}
	return out, nil
}

// NewFile decodes the torch.save file of size bytes held in r (a member of
// another archive, e.g. a Stable-Baselines3 zip's policy.pth) as Open
// does; its tensors read from r. name is used in messages. Close is a no-op.
func NewFile(name string, r io.ReaderAt, size int64) (*File, error) {
	tf := &File{Path: name, storages: make(map[string]*Storage)}
	if err := tf.decode(r, size); err != nil {
		return nil, fmt.Errorf("load %s: %w", name, err)
	}
	return tf, nil
}

// ReadReader is ReadFile of a file held in r (see NewFile).
func ReadReader(name string, r io.ReaderAt, size int64) (pickle.Value, error) {
	tf, err := NewFile(name, r, size)
	if err != nil {
		return nil, err
	}
	if err := tf.Load(); err != nil {
		return nil, err
	}
	return tf.Root, nil
}
