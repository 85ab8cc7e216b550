package loaders

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
)

// Limits on what a zip member may inflate to. Torch writes members stored
// (uncompressed), so a deflated member only comes from re-zipping tools; 64×
// the file size covers any real compression ratio of float data while a zip
// bomb is stopped early.
const (
	maxInflateRatio = 64
	maxInflateTotal = 4 << 30
)

// legacyMagic is the first pickle of a legacy (non-zip) torch.save file.
var legacyMagic, _ = new(big.Int).SetString("1950a86a20f9469cfc6c", 16)

// TorchFile is an open torch.save file: its decoded object tree, with
// tensors that read their data from the file on demand.
type TorchFile struct {
	// Path is the file name.
	Path string
	// Root is the object torch.save was given (a *Dict for checkpoints).
	Root Value
	// Format is "zip" or "legacy".
	Format string

	f        *os.File
	storages map[string]*Storage
}

// Close releases the file. Tensors of the file cannot be read afterwards
// unless they were loaded with Load.
func (tf *TorchFile) Close() error {
	if tf.f == nil {
		return nil
	}
	err := tf.f.Close()
	tf.f = nil
	return err
}

// Load reads every storage of the file into memory, so the tensors stay
// readable after Close.
func (tf *TorchFile) Load() error {
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
			return fmt.Errorf("load %s: storage %s: zip checksum mismatch (corrupt file): %w", tf.Path, k, ErrInvalid)
		}
		s.src, s.off = bytes.NewReader(buf), 0
	}
	return nil
}

// ReadTorchFile decodes a torch.save file (zip or legacy format) without
// executing any code and returns its object tree with all tensor data in
// memory. Missing files match ErrNotExist, broken ones ErrInvalid, and
// pickles that try to call dangerous globals ErrUnsafePickle.
func ReadTorchFile(path string) (Value, error) {
	tf, err := OpenTorchFile(path)
	if err != nil {
		return nil, err
	}
	defer tf.Close()
	if err := tf.Load(); err != nil {
		return nil, err
	}
	return tf.Root, nil
}

// OpenTorchFile decodes the pickle of a torch.save file and checks every
// storage it references against the bytes in the file; tensor data is read
// later, on demand, from the open file. The caller must Close it.
func OpenTorchFile(path string) (*TorchFile, error) {
	f, err := os.Open(path)
	if err != nil {
		if isNotExist(err) {
			return nil, fmt.Errorf("load %s: %w", path, ErrNotExist)
		}
		return nil, fmt.Errorf("load %s: %w", path, err)
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("load %s: %w", path, err)
	}
	if fi.IsDir() {
		f.Close()
		return nil, fmt.Errorf("load %s: is a directory, not a torch.save file: %w", path, ErrInvalid)
	}
	tf := &TorchFile{Path: path, f: f, storages: make(map[string]*Storage)}
	if err := tf.decode(f, fi.Size()); err != nil {
		f.Close()
		return nil, fmt.Errorf("load %s: %w", path, err)
	}
	return tf, nil
}

func (tf *TorchFile) decode(r io.ReaderAt, size int64) error {
	var head [4]byte
	if size == 0 {
		return invalidf("empty file (0 bytes), not a torch.save checkpoint")
	}
	n, _ := r.ReadAt(head[:], 0)
	if n == 4 && string(head[:]) == "PK\x03\x04" {
		tf.Format = "zip"
		return tf.decodeZip(r, size)
	}
	if n >= 1 && head[0] == opProto {
		tf.Format = "legacy"
		return tf.decodeLegacy(r, size)
	}
	return invalidf("neither a torch zip file nor a legacy torch.save pickle (starts with %q)", head[:n])
}

// formatError is a description of a broken file; it matches ErrInvalid.
type formatError struct{ msg string }

func (e *formatError) Error() string { return e.msg }
func (e *formatError) Unwrap() error { return ErrInvalid }

func invalidf(format string, args ...any) error {
	return &formatError{msg: fmt.Sprintf(format, args...)}
}

func (tf *TorchFile) decodeZip(r io.ReaderAt, size int64) error {
	zr, err := zip.NewReader(r, size)
	if err != nil {
		return invalidf("corrupt zip archive: %v", err)
	}
	// The pickle is <prefix>/data.pkl for any prefix torch chose (the
	// file's base name without extension, "archive", ...).
	var pkl *zip.File
	members := make(map[string]*zip.File, len(zr.File))
	for _, zf := range zr.File {
		members[zf.Name] = zf
		if (strings.HasSuffix(zf.Name, "/data.pkl") && strings.Count(zf.Name, "/") == 1) || zf.Name == "data.pkl" {
			if pkl != nil {
				return invalidf("two pickles in one torch zip file (%s and %s)", pkl.Name, zf.Name)
			}
			pkl = zf
		}
	}
	if pkl == nil {
		return invalidf("zip archive without <prefix>/data.pkl: not a torch.save file")
	}
	prefix := strings.TrimSuffix(pkl.Name, "data.pkl")
	if bo, ok := members[prefix+"byteorder"]; ok {
		b, err := readMember(bo, size, 64)
		if err != nil {
			return err
		}
		if s := strings.TrimSpace(string(b)); s != "little" {
			return invalidf("byte order %q: only little-endian checkpoints are supported", s)
		}
	}
	budget := int64(maxInflateTotal)
	open := func(key string, s *Storage) {
		zf, ok := members[prefix+"data/"+key]
		if !ok {
			s.err = invalidf("storage %s: member %sdata/%s missing (truncated archive?)", key, prefix, key)
			return
		}
		need := s.Numel * int64(s.DType.Size())
		if int64(zf.UncompressedSize64) < need || zf.UncompressedSize64 > 1<<62 {
			s.err = invalidf("storage %s: member holds %d bytes, %d elements of %s need %d", key, zf.UncompressedSize64, s.Numel, s.DType, need)
			return
		}
		if zf.Method == zip.Store {
			off, err := zf.DataOffset()
			if err != nil || zf.CompressedSize64 != zf.UncompressedSize64 || off < 0 || off+need > size {
				s.err = invalidf("storage %s: stored member %s is inconsistent or runs past the end of the file", key, zf.Name)
				return
			}
			s.src, s.off = r, off
			if int64(zf.UncompressedSize64) == need {
				s.crc, s.hasCRC = zf.CRC32, true
			}
			return
		}
		limit := min(budget, maxInflateRatio*size)
		b, err := readMember(zf, size, limit)
		if err != nil {
			s.err = err
			return
		}
		budget -= int64(len(b))
		if int64(len(b)) < need {
			s.err = invalidf("storage %s: member inflates to %d bytes, need %d", key, len(b), need)
			return
		}
		s.src, s.off = bytes.NewReader(b), 0
	}
	// The pickle is read whole (it is small) so that archive/zip checks its
	// CRC-32 before a byte of it is trusted.
	limit := min(int64(maxInflateTotal), maxInflateRatio*size)
	pb, err := readMember(pkl, size, limit)
	if err != nil {
		return err
	}
	root, _, err := decodePickle(bytes.NewReader(pb), int64(len(pb)), tf.persistentLoad(r, false))
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

// readMember reads a whole zip member through a limit.
func readMember(zf *zip.File, fileSize, limit int64) ([]byte, error) {
	if zf.Method == zip.Store && zf.CompressedSize64 != zf.UncompressedSize64 {
		return nil, invalidf("%s: stored member with compressed size %d != size %d", zf.Name, zf.CompressedSize64, zf.UncompressedSize64)
	}
	if zf.UncompressedSize64 > uint64(limit) {
		return nil, invalidf("%s claims to inflate to %d bytes, more than the limit of %d for a %d-byte file (zip bomb?)", zf.Name, zf.UncompressedSize64, limit, fileSize)
	}
	rc, err := zf.Open()
	if err != nil {
		return nil, invalidf("open %s: %v", zf.Name, err)
	}
	defer rc.Close()
	var buf bytes.Buffer
	n, err := io.Copy(&buf, io.LimitReader(rc, limit+1))
	if err != nil {
		return nil, invalidf("read %s: %v (corrupt or truncated archive)", zf.Name, err)
	}
	if n > limit {
		return nil, invalidf("%s inflates past the limit of %d bytes (zip bomb?)", zf.Name, limit)
	}
	return buf.Bytes(), nil
}

// persistentLoad resolves torch's storage persistent ids:
// ('storage', storage_type, key, location, numel[, view_metadata]).
func (tf *TorchFile) persistentLoad(r io.ReaderAt, legacy bool) func(Value) (Value, error) {
	return func(pid Value) (Value, error) {
		t, ok := pid.(Tuple)
		if !ok || len(t) < 5 {
			return nil, invalidf("persistent id %s is not a storage tuple", typeName(pid))
		}
		if s, _ := t[0].(string); s != "storage" {
			return nil, invalidf("persistent id of kind %v, want \"storage\"", t[0])
		}
		g, ok := t[1].(Global)
		if !ok {
			return nil, invalidf("storage type is a %s", typeName(t[1]))
		}
		dt, ok := storageDTypes[g.Name]
		if !ok || (g.Module != "torch" && g.Module != "torch.storage") {
			return nil, invalidf("unsupported storage type %s", g)
		}
		key, ok := t[2].(string)
		if !ok {
			return nil, invalidf("storage key is a %s", typeName(t[2]))
		}
		loc, _ := t[3].(string)
		numel, ok := t[4].(int64)
		if !ok || numel < 0 {
			return nil, invalidf("storage %s: bad element count %v", key, t[4])
		}
		if legacy && len(t) > 5 && t[5] != nil {
			return nil, invalidf("storage %s: legacy storage views are not supported", key)
		}
		if s, ok := tf.storages[key]; ok {
			if s.DType != dt || s.Numel != numel {
				return nil, invalidf("storage %s referenced as %s[%d] and %s[%d]", key, s.DType, s.Numel, dt, numel)
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
func (tf *TorchFile) decodeLegacy(r io.ReaderAt, size int64) error {
	sr := io.NewSectionReader(r, 0, size)
	br := bufio.NewReaderSize(sr, 64<<10)
	pos := int64(0)
	next := func(what string, pl func(Value) (Value, error)) (Value, error) {
		v, n, err := decodePickle(br, size-pos, pl)
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
		return invalidf("legacy torch file: bad magic number %v", magic)
	}
	proto, err := next("protocol version", nil)
	if err != nil {
		return err
	}
	if p, ok := proto.(int64); !ok || p != 1001 {
		return invalidf("legacy torch file: unsupported protocol version %v", proto)
	}
	sysInfo, err := next("sys info", nil)
	if err != nil {
		return err
	}
	if d, ok := sysInfo.(*Dict); ok {
		if le, ok := d.Get("little_endian"); ok && le == false {
			return invalidf("legacy torch file: big-endian checkpoints are not supported")
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
	keys, ok := keysV.(*List)
	if !ok {
		return invalidf("legacy torch file: storage key list is a %s", typeName(keysV))
	}
	off := pos
	for _, kv := range keys.Items {
		key, ok := kv.(string)
		if !ok {
			return invalidf("legacy torch file: storage key is a %s", typeName(kv))
		}
		s, ok := tf.storages[key]
		if !ok {
			return invalidf("legacy torch file: storage %s listed but never used", key)
		}
		var nb [8]byte
		if _, err := r.ReadAt(nb[:], off); err != nil {
			return invalidf("legacy torch file: storage %s header at offset %d: truncated file", key, off)
		}
		numel := int64(binary.LittleEndian.Uint64(nb[:]))
		if numel != s.Numel {
			return invalidf("legacy torch file: storage %s holds %d elements, the pickle says %d", key, numel, s.Numel)
		}
		nbytes := numel * int64(s.DType.Size())
		if numel < 0 || nbytes/int64(s.DType.Size()) != numel || nbytes > size-off-8 {
			return invalidf("legacy torch file: storage %s claims %d elements but only %d bytes remain (truncated file?)", key, numel, size-off-8)
		}
		s.src, s.off = r, off+8
		off += 8 + nbytes
	}
	for k, s := range tf.storages {
		if s.src == nil {
			return invalidf("legacy torch file: storage %s used but not stored", k)
		}
	}
	tf.Root = root
	return nil
}

// walkValue calls fn once for v and for every container and leaf inside
// it, depth first. Containers shared through the memo are visited once (so
// cycles and exponentially shared DAGs stay linear) and nesting deeper than
// maxWalkDepth is an error rather than a stack overflow.
func walkValue(v Value, fn func(Value) error) error {
	seen := make(map[any]bool)
	var walk func(v Value, depth int) error
	walk = func(v Value, depth int) error {
		if depth > maxWalkDepth {
			return invalidf("object nested deeper than %d levels", maxWalkDepth)
		}
		var id any
		switch x := v.(type) {
		case *List, *Dict, *Object:
			id = x
		case Tuple:
			if len(x) > 0 {
				id = &x[0]
			}
		}
		if id != nil {
			if seen[id] {
				return nil
			}
			seen[id] = true
		}
		if err := fn(v); err != nil {
			return err
		}
		var kids []Value
		switch x := v.(type) {
		case Tuple:
			kids = x
		case *List:
			kids = x.Items
		case *Dict:
			for i := range x.Keys {
				if err := walk(x.Keys[i], depth+1); err != nil {
					return err
				}
				if err := walk(x.Values[i], depth+1); err != nil {
					return err
				}
			}
			return walk(x.Attrs, depth+1)
		case *Object:
			if err := walk(x.Args, depth+1); err != nil {
				return err
			}
			if err := walk(x.State, depth+1); err != nil {
				return err
			}
			if x.Items != nil {
				if err := walk(x.Items, depth+1); err != nil {
					return err
				}
			}
			kids = x.ListItems
		}
		for _, k := range kids {
			if err := walk(k, depth+1); err != nil {
				return err
			}
		}
		return nil
	}
	return walk(v, 0)
}

// Tensors returns every tensor inside v keyed by its path: dict keys, list
// and tuple indices and object attributes joined by "/" (e.g.
// "state_dict/net_body.0.weight", "_init_kwargs/action_space/low"); a bare
// tensor has the path "". A container reached twice is listed once, and
// nesting deeper than the walk limit is an error.
func Tensors(v Value) (map[string]*Tensor, error) {
	out := make(map[string]*Tensor)
	seen := make(map[any]bool)
	var walk func(v Value, path string, depth int) error
	walk = func(v Value, path string, depth int) error {
		if depth > maxWalkDepth {
			return invalidf("object nested deeper than %d levels", maxWalkDepth)
		}
		join := func(k any) string {
			if path == "" {
				return fmt.Sprint(k)
			}
			return path + "/" + fmt.Sprint(k)
		}
		var items []Value
		switch x := v.(type) {
		case *Tensor:
			out[path] = x
			return nil
		case *Dict:
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
		case *Object:
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
		case Tuple:
			if len(x) == 0 || seen[&x[0]] {
				return nil
			}
			seen[&x[0]] = true
			items = x
		case *List:
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

// ReadTorchReader decodes a torch.save file of size bytes held in r (a
// member of another archive, e.g. a Stable-Baselines3 zip's policy.pth)
// with all tensor data in memory; name is used in messages.
func ReadTorchReader(name string, r io.ReaderAt, size int64) (Value, error) {
	tf := &TorchFile{Path: name, storages: make(map[string]*Storage)}
	if err := tf.decode(r, size); err != nil {
		return nil, fmt.Errorf("load %s: %w", name, err)
	}
	if err := tf.Load(); err != nil {
		return nil, err
	}
	return tf.Root, nil
}
