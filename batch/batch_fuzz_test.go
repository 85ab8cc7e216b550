package batch

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func FuzzParseShard(f *testing.F) {
	for _, s := range []string{"0/16", "15/16", "3/4", "1/0", "-1/2", "a/b", "", "/", "99999999999999999999/1"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		i, n, err := ParseShard(s)
		if err != nil {
			if !isUsage(err) {
				t.Fatalf("ParseShard(%q): %v is not a usage error", s, err)
			}
			return
		}
		if n < 1 || i < 0 || i >= n {
			t.Fatalf("ParseShard(%q) = %d/%d, outside 0 ≤ i < n", s, i, n)
		}
	})
}

// FuzzReadSummary feeds summary.json variants to ReadSummary, which must
// return an error, never panic, and read back what it wrote.
func FuzzReadSummary(f *testing.F) {
	root := makeExperiments(f, standardFixture)
	out := f.TempDir()
	if _, err := (&Batch{Root: root, Out: out, Evaluate: newFakeEval().Evaluate}).Run(f.Context()); err != nil {
		f.Fatal(err)
	}
	seed, err := os.ReadFile(filepath.Join(out, "summary.json"))
	if err != nil {
		f.Fatal(err)
	}
	f.Add(seed)
	f.Add(seed[:len(seed)/2])
	f.Add([]byte(`{"version":1,"runs":[{"final_reward_sum":null,"curve_value":[null,1e308]}]}`))
	f.Add([]byte(`{"version":2}`))
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, data []byte) {
		p := filepath.Join(dir, "summary.json")
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
		res, err := ReadSummary(p)
		if err != nil {
			if !strings.Contains(err.Error(), p) {
				t.Fatalf("error %q does not name the file", err)
			}
			return
		}
		// Whatever was read encodes and decodes to the same.
		b, err := res.MarshalJSON()
		if err != nil {
			t.Fatalf("encoding a read summary: %v", err)
		}
		var res2 Result
		if err := res2.UnmarshalJSON(b); err != nil {
			t.Fatalf("decoding an encoded summary: %v", err)
		}
		if normRows(res.Runs) != normRows(res2.Runs) {
			t.Fatal("summary does not round-trip")
		}
	})
}
