package atomicfile

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"
)

func TestWriteFileAtomic(t *testing.T) {
	errBoom := errors.New("boom")
	tests := []struct {
		name    string
		prior   string // "" means no prior file
		write   func(w io.Writer) error
		panics  bool
		wantErr bool
		want    string // content after the call
	}{
		{name: "creates new file", write: writeString("hello"), want: "hello"},
		{name: "replaces existing file", prior: "old", write: writeString("new"), want: "new"},
		{name: "keeps old content when write fails", prior: "old", write: func(w io.Writer) error {
			io.WriteString(w, "half")
			return errBoom
		}, wantErr: true, want: "old"},
		{name: "keeps old content when write panics", prior: "old", write: func(w io.Writer) error {
			io.WriteString(w, "half")
			panic("bug")
		}, panics: true, want: "old"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, "sub", "f.txt")
			if tt.prior != "" {
				if err := WriteBytes(path, []byte(tt.prior)); err != nil {
					t.Fatal(err)
				}
			}
			func() {
				defer func() {
					r := recover()
					if (r != nil) != tt.panics {
						t.Fatalf("panic = %v, want panic %v", r, tt.panics)
					}
				}()
				err := Write(path, tt.write)
				if (err != nil) != tt.wantErr {
					t.Fatalf("err = %v, want error %v", err, tt.wantErr)
				}
				if tt.wantErr && !errors.Is(err, errBoom) {
					t.Fatalf("err = %v, does not wrap the writer's error", err)
				}
			}()
			got, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != tt.want {
				t.Fatalf("content = %q, want %q", got, tt.want)
			}
			entries, _ := os.ReadDir(filepath.Dir(path))
			if len(entries) != 1 {
				t.Fatalf("directory holds %d entries, want only f.txt (temporary file left behind?)", len(entries))
			}
			fi, _ := os.Stat(path)
			if fi.Mode().Perm() != 0o644 {
				t.Fatalf("mode = %v, want 0644", fi.Mode().Perm())
			}
		})
	}
}

func TestRemoveStaleTempsRemovesOnlyTemps(t *testing.T) {
	dir := t.TempDir()
	keep := filepath.Join(dir, "a", "keep.json")
	stale := filepath.Join(dir, "a", ".keep.json"+Marker+"123")
	for _, p := range []string{keep, stale} {
		os.MkdirAll(filepath.Dir(p), 0o755)
		os.WriteFile(p, []byte("x"), 0o644)
	}
	n, err := RemoveStale(dir)
	if err != nil || n != 1 {
		t.Fatalf("RemoveStale = %d, %v; want 1, nil", n, err)
	}
	if _, err := os.Stat(keep); err != nil {
		t.Fatalf("removed a real file: %v", err)
	}
	if _, err := os.Stat(stale); !os.IsNotExist(err) {
		t.Fatalf("stale temp still there: %v", err)
	}
	if n, err := RemoveStale(filepath.Join(dir, "missing")); n != 0 || err != nil {
		t.Fatalf("missing dir: %d, %v", n, err)
	}
}

func writeString(s string) func(io.Writer) error {
	return func(w io.Writer) error {
		_, err := io.WriteString(w, s)
		return err
	}
}
