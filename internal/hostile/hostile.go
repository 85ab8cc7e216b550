// Package hostile builds the hostile and careless inputs of issue #21 from
// the committed fixture runs: files replaced by FIFOs or links to devices,
// log lines without the keys the trainer always writes, normaliser
// statistics that are not numbers, monitor files with impossible episodes
// or far too many of them, and model zips whose members ask to run code.
// Tests replay each case with them in t.TempDir(); tools/make_hostile
// writes the whole set to a folder for trying the command line by hand.
package hostile

import (
	"archive/zip"
	"bufio"
	"bytes"
	"encoding/binary"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
)

// Copy copies the directory tree src to dst (regular files and
// directories; the fixtures hold nothing else).
func Copy(src, dst string) error {
	return os.CopyFS(dst, os.DirFS(src))
}

// Run copies the fixture folder src into t.TempDir(), applies edit to the
// copy and returns its path (named as src), failing t on any error.
func Run(t testing.TB, src string, edit func(dir string) error) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), filepath.Base(src))
	if err := Copy(src, dir); err != nil {
		t.Fatal(err)
	}
	if err := edit(dir); err != nil {
		t.Fatal(err)
	}
	return dir
}

// FIFO replaces the file at path (or creates it) with a named pipe no one
// writes: a reader that opens it blocks.
func FIFO(path string) error {
	if err := os.Remove(path); err != nil && !os.IsNotExist(err) {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	return syscall.Mkfifo(path, 0o644)
}

// Link replaces the file at path with a symbolic link to target
// (/dev/zero: a file that never ends).
func Link(path, target string) error {
	if err := os.Remove(path); err != nil && !os.IsNotExist(err) {
		return err
	}
	return os.Symlink(target, path)
}

// Append adds text to the end of the file at path.
func Append(path, text string) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		return err
	}
	if _, err := f.WriteString(text); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// WriteLines writes n copies of line to path (a log of one kind of line).
func WriteLines(path string, n int, line string) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	w := bufio.NewWriter(f)
	for range n {
		w.WriteString(line)
	}
	if err := w.Flush(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// SourcelessLine is a step record without the "source" key the trainer
// writes on every record, as a user appending to a log by hand writes it.
const SourcelessLine = `{"event":"step","step":5300,"loss_q1":0.1}` + "\n"

// PatchFloat64s replaces, in the file at path, the little-endian float64
// run old (a numpy array's raw data inside a pickle) by repl.
func PatchFloat64s(path string, old, repl []float64) error {
	if len(old) != len(repl) {
		return fmt.Errorf("patch %s: %d values for %d", path, len(repl), len(old))
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	enc := func(v []float64) []byte {
		out := make([]byte, 8*len(v))
		for i, x := range v {
			binary.LittleEndian.PutUint64(out[8*i:], math.Float64bits(x))
		}
		return out
	}
	from := enc(old)
	i := bytes.Index(b, from)
	if i < 0 || bytes.Index(b[i+1:], from) >= 0 {
		return fmt.Errorf("patch %s: %v not found once", path, old)
	}
	copy(b[i:], enc(repl))
	return os.WriteFile(path, b, 0o644)
}

// MonitorRow is one episode of a Stable-Baselines3 monitor.csv.
type MonitorRow struct {
	Reward float64
	Length int
}

// WriteMonitor writes a monitor.csv of n episodes, row(i) giving each;
// it streams, so that a file of millions of lines costs no memory here.
func WriteMonitor(path string, n int, row func(i int) MonitorRow) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	w := bufio.NewWriterSize(f, 1<<20)
	fmt.Fprintf(w, "#{\"t_start\": 1700000000.0, \"env_id\": \"Pendulum-v1\"}\nr,l,t\n")
	var line []byte
	for i := range n {
		r := row(i)
		line = strconv.AppendFloat(line[:0], r.Reward, 'g', -1, 64)
		line = append(line, ',')
		line = strconv.AppendInt(line, int64(r.Length), 10)
		line = append(line, ',')
		line = strconv.AppendFloat(line, float64(i)*0.1, 'f', 1, 64)
		line = append(line, '\n')
		w.Write(line)
	}
	if err := w.Flush(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// Grow extends the file at path to size bytes of spaces after its content
// (a 500 MB monitor.csv without writing 500 MB: the file is sparse where
// the filesystem allows). Trailing blanks keep the content parseable.
func Grow(path string, size int64) error {
	f, err := os.OpenFile(path, os.O_WRONLY, 0)
	if err != nil {
		return err
	}
	if err := f.Truncate(size); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// UnsafePickle is a protocol-2 pickle that calls os.system("id") when
// Python's pickle loads it.
var UnsafePickle = []byte("\x80\x02cos\nsystem\nq\x00X\x02\x00\x00\x00idq\x01\x85q\x02Rq\x03.")

// ReplaceZipMember rewrites the zip at path with member name's content
// replaced by data (added when absent), every other member kept.
func ReplaceZipMember(path, name string, data []byte) error {
	zr, err := zip.OpenReader(path)
	if err != nil {
		return err
	}
	defer zr.Close()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	put := func(n string, r io.Reader) error {
		w, err := zw.CreateHeader(&zip.FileHeader{Name: n, Method: zip.Store})
		if err != nil {
			return err
		}
		_, err = io.Copy(w, r)
		return err
	}
	found := false
	for _, f := range zr.File {
		if f.Name == name {
			found = true
			if err := put(name, bytes.NewReader(data)); err != nil {
				return err
			}
			continue
		}
		rc, err := f.Open()
		if err != nil {
			return err
		}
		err = put(f.Name, rc)
		rc.Close()
		if err != nil {
			return err
		}
	}
	if !found {
		if err := put(name, bytes.NewReader(data)); err != nil {
			return err
		}
	}
	if err := zw.Close(); err != nil {
		return err
	}
	return os.WriteFile(path, buf.Bytes(), 0o644)
}

// NaNWeights rewrites the torch zip checkpoint at path with every float32
// storage (<prefix>/data/<key>) of more than one value full of NaN: a
// diverged network, sound as a file. One-value storages (the action bounds
// of a one-dimensional action space, a last bias) are kept.
func NaNWeights(path string) error {
	zr, err := zip.OpenReader(path)
	if err != nil {
		return err
	}
	var names []string
	sizes := map[string]uint64{}
	for _, f := range zr.File {
		if dir, _ := filepath.Split(f.Name); strings.HasSuffix(dir, "/data/") && f.UncompressedSize64 > 4 {
			names = append(names, f.Name)
			sizes[f.Name] = f.UncompressedSize64
		}
	}
	zr.Close()
	if len(names) == 0 {
		return fmt.Errorf("%s: no storages", path)
	}
	for _, name := range names {
		nan := make([]byte, sizes[name])
		for i := 0; i+4 <= len(nan); i += 4 {
			binary.LittleEndian.PutUint32(nan[i:], math.Float32bits(float32(math.NaN())))
		}
		if err := ReplaceZipMember(path, name, nan); err != nil {
			return err
		}
	}
	return nil
}
