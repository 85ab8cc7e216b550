package tfevents

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rleval/rleval/internal/fixture"
	"github.com/rleval/rleval/loaders/internal/datafile"
)

func TestEventFilesGiveScalarsAndCheckCRC(t *testing.T) {
	p, _ := filepath.Glob(filepath.Join(fixture.Dir(t), "layouts", "runs", "*", "events.out.tfevents.*"))
	if len(p) != 1 {
		t.Fatalf("%d event files", len(p))
	}
	b, err := os.ReadFile(p[0])
	if err != nil {
		t.Fatal(err)
	}
	sc, trunc, err := Read(bytes.NewReader(b), int64(len(b)))
	if err != nil || trunc {
		t.Fatal(err, trunc)
	}
	count := map[string]int{}
	for _, s := range sc {
		count[s.Tag]++
	}
	// 3 episodic returns and lengths (simple_value), 4 of two losses
	// (simple_value) and 4 tensor-based actor losses; the text summary is
	// not a scalar.
	want := map[string]int{"charts/episodic_return": 3, "charts/episodic_length": 3, "losses/qf1_loss": 4, "losses/qf1_values": 4, "losses/actor_loss": 4}
	for k, v := range want {
		if count[k] != v {
			t.Errorf("%s: %d scalars, want %d", k, count[k], v)
		}
	}
	for _, s := range sc {
		if s.Tag == "losses/actor_loss" && s.Step == 300 && s.Value != 7 {
			t.Errorf("actor_loss at 300 = %v, want 7", s.Value)
		}
	}
	// A flipped byte in a record's data fails its CRC.
	bad := append([]byte(nil), b...)
	bad[len(bad)-10] ^= 1
	if _, _, err := Read(bytes.NewReader(bad), int64(len(bad))); !errors.Is(err, datafile.ErrInvalid) || !strings.Contains(err.Error(), "CRC") {
		t.Fatalf("corrupt record: err %v", err)
	}
	// A record cut short (a run still writing) ends the file.
	sc2, trunc, err := Read(bytes.NewReader(b[:len(b)-5]), int64(len(b)-5))
	if err != nil || !trunc || len(sc2) != len(sc)-1 {
		t.Fatalf("truncated: %d scalars, truncated %v, err %v", len(sc2), trunc, err)
	}
}

func FuzzRead(f *testing.F) {
	fixture.Seeds(f, "layouts/runs/*/events.out.tfevents.*")
	f.Fuzz(func(t *testing.T, b []byte) {
		Read(bytes.NewReader(b), int64(len(b)))
		// The protobuf layer alone, past the CRCs a mutated file fails.
		decodeEvent(b)
	})
}
