package batch

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"

	"github.com/rleval/rleval/jobs"
)

func TestDiscoverFindsNestedRunsAndSurvivesLinkLoops(t *testing.T) {
	root := t.TempDir()
	mk := func(rel string, files ...string) {
		d := filepath.Join(root, filepath.FromSlash(rel))
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
		for _, f := range files {
			os.WriteFile(filepath.Join(d, f), []byte("x: 1\n"), 0o644)
		}
	}
	mk("2026-01-01_00-00-00_a")
	mk("2026-01-01_00-00-00_a/nested/2026-01-02_00-00-00_inside") // inside a run: not a run of its own
	mk("group/b", "config.yaml")
	mk("group/deeper/2026-03-01_12-30-00_c")
	mk("x/2026-01-01_00-00-00_a")
	mk(".hidden/2026-01-01_00-00-00_h")
	mk("plain/empty")
	mk("results/2026-01-01_00-00-00_out") // the output folder
	mk("notarun", "config.yml")
	os.Symlink(root, filepath.Join(root, "group", "loop"))                                           // a loop
	os.Symlink(filepath.Join(root, "group", "b"), filepath.Join(root, "zlink-to-b"))                 // a run linked twice
	os.Symlink(filepath.Join(root, "missing"), filepath.Join(root, "dangling"))                      // broken link
	os.Symlink(filepath.Join(root, "group", "deeper"), filepath.Join(root, "another-way-to-deeper")) // reaches c first

	runs, notes, err := Discover(root, filepath.Join(root, "results"))
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, r := range runs {
		got = append(got, r.Rel+" -> "+r.OutName)
	}
	want := []string{
		"2026-01-01_00-00-00_a -> 2026-01-01_00-00-00_a",
		"another-way-to-deeper/2026-03-01_12-30-00_c -> 2026-03-01_12-30-00_c",
		"group/b -> b",
		"x/2026-01-01_00-00-00_a -> x__2026-01-01_00-00-00_a",
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("runs:\n got %q\nwant %q", got, want)
	}
	// One line for the broken link, one naming what was looked for in the
	// folder of files that is no run.
	if len(notes) != 2 || !strings.Contains(notes[0], "dangling") ||
		!strings.Contains(notes[1], "notarun") || !strings.Contains(notes[1], "looked for") || !strings.Contains(notes[1], ".cleanrl_model") {
		t.Fatalf("notes = %q, want one about the dangling link and one about notarun", notes)
	}
	// Same input, same answer.
	again, _, _ := Discover(root, filepath.Join(root, "results"))
	if !reflect.DeepEqual(runs, again) {
		t.Fatal("discovery is not deterministic")
	}
}

func TestDiscoverStaysUnderRootUnlessFollowLinks(t *testing.T) {
	parent := t.TempDir()
	root := filepath.Join(parent, "batch")
	for _, d := range []string{
		"batch/2026-01-01_00-00-00_in",
		"batch/logs",
		"batch/sub/2026-01-02_00-00-00_deep",
		"2026-01-01_00-00-00_outside", // the parent tree's own runs
		"elsewhere/2026-01-03_00-00-00_far",
	} {
		if err := os.MkdirAll(filepath.Join(parent, filepath.FromSlash(d)), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	for link, target := range map[string]string{
		"batch/logs/loop2":   "../..",                   // leaves the root: the parent tree
		"batch/logs/up":      "..",                      // the root itself: a true loop
		"batch/alias":        "sub",                     // stays under the root
		"batch/far":          "../elsewhere",            // leaves the root
		"batch/sub/absolute": filepath.Join(parent, ""), // leaves it by an absolute path
	} {
		if err := os.Symlink(target, filepath.Join(parent, filepath.FromSlash(link))); err != nil {
			t.Fatal(err)
		}
	}
	rels := func(runs []RunDir) []string {
		var out []string
		for _, r := range runs {
			out = append(out, r.Rel)
		}
		return out
	}
	runs, notes, err := Discover(root)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := rels(runs), []string{"2026-01-01_00-00-00_in", "alias/2026-01-02_00-00-00_deep"}; !reflect.DeepEqual(got, want) {
		t.Fatalf("runs %q, want only the root's %q", got, want)
	}
	left := 0
	for _, n := range notes {
		if strings.Contains(n, "outside") && strings.Contains(n, "--follow-links") {
			left++
		}
	}
	if left != 3 {
		t.Fatalf("notes %q: want one for each of the 3 links that leave the root", notes)
	}

	runs, _, err = DiscoverOptions{FollowLinks: true}.Discover(root)
	if err != nil {
		t.Fatal(err)
	}
	got := strings.Join(rels(runs), " ")
	for _, want := range []string{"2026-01-01_00-00-00_outside", "2026-01-03_00-00-00_far", "2026-01-01_00-00-00_in"} {
		if !strings.Contains(got, want) {
			t.Errorf("--follow-links: runs %s, want %s among them", got, want)
		}
	}
	if len(runs) != 4 {
		t.Errorf("--follow-links: %d runs (%s), want each of the 4 real runs once", len(runs), got)
	}
}

func TestDiscoverMissingRootIsUsageError(t *testing.T) {
	_, _, err := Discover(filepath.Join(t.TempDir(), "nonexistent"))
	if !errors.Is(err, jobs.ErrUsage) || !strings.Contains(err.Error(), "nonexistent") {
		t.Fatalf("err = %v, want a usage error naming the folder", err)
	}
}

func TestDiscoverSkipsUnreadableFolderWithNote(t *testing.T) {
	root := t.TempDir()
	os.MkdirAll(filepath.Join(root, "2026-01-01_00-00-00_ok"), 0o755)
	locked := filepath.Join(root, "locked")
	os.MkdirAll(filepath.Join(locked, "2026-01-01_00-00-00_hidden"), 0o755)
	// What os.ReadDir returns for a folder without read permission; chmod
	// cannot cause it for root, so the listing is refused here instead.
	defer func(orig func(string) ([]os.DirEntry, error)) { readDir = orig }(readDir)
	readDir = func(dir string) ([]os.DirEntry, error) {
		if dir == locked {
			return nil, &fs.PathError{Op: "open", Path: dir, Err: fs.ErrPermission}
		}
		return os.ReadDir(dir)
	}
	runs, notes, err := Discover(root)
	if err != nil {
		t.Fatal(err)
	}
	if len(runs) != 1 || len(notes) != 1 || !strings.Contains(notes[0], "locked") || !strings.Contains(notes[0], "permission denied") {
		t.Fatalf("runs %v, notes %q; want the readable run and a note on locked", runs, notes)
	}
}

func TestDiscoverRootThatIsARun(t *testing.T) {
	root := filepath.Join(t.TempDir(), "2026-01-01_00-00-00_solo")
	os.MkdirAll(root, 0o755)
	runs, _, err := Discover(root)
	if err != nil || len(runs) != 1 || runs[0].Name != "2026-01-01_00-00-00_solo" {
		t.Fatalf("Discover(run) = %v, %v; want the run itself", runs, err)
	}
}

func TestRunDate(t *testing.T) {
	tests := []struct{ name, want string }{
		{"2026-06-09_17-49-47_pendulum-v1", "2026-06-09 17:49:47"},
		{"2026-13-09_17-49-47_bad-month", ""},
		{"2026-06-09_17-49-47_", ""},
		{"pendulum", ""},
	}
	for _, tt := range tests {
		if got := RunDate(tt.name); got != tt.want {
			t.Errorf("RunDate(%q) = %q, want %q", tt.name, got, tt.want)
		}
	}
}

func TestParseShard(t *testing.T) {
	tests := []struct {
		in      string
		i, n    int
		wantErr bool
	}{
		{"0/16", 0, 16, false},
		{"15/16", 15, 16, false},
		{" 3 / 4 ", 3, 4, false},
		{"16/16", 0, 0, true},
		{"-1/4", 0, 0, true},
		{"1/0", 0, 0, true},
		{"1", 0, 0, true},
		{"a/b", 0, 0, true},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			i, n, err := ParseShard(tt.in)
			if tt.wantErr {
				if !isUsage(err) {
					t.Fatalf("err = %v, want a usage error", err)
				}
				return
			}
			if err != nil || i != tt.i || n != tt.n {
				t.Fatalf("ParseShard = %d, %d, %v; want %d, %d", i, n, err, tt.i, tt.n)
			}
		})
	}
}

func TestShardsPartitionRuns(t *testing.T) {
	var runs []RunDir
	for i := 0; i < 200; i++ {
		runs = append(runs, RunDir{Rel: "g/" + strings.Repeat("r", i%7) + string(rune('a'+i%26)) + "/" + strconv.Itoa(i)})
	}
	seen := map[string]int{}
	for i := 0; i < 7; i++ {
		for _, r := range SelectShard(runs, i, 7) {
			seen[r.Rel]++
		}
	}
	for _, r := range runs {
		if seen[r.Rel] != 1 {
			t.Fatalf("run %s is in %d shards, want 1", r.Rel, seen[r.Rel])
		}
	}
	// Adding a run moves no other run.
	before := ShardOf(runs[10].Rel, 7)
	if after := ShardOf(runs[10].Rel, 7); after != before {
		t.Fatal("ShardOf is not stable")
	}
}

func TestFilterMatchRejectsBadPattern(t *testing.T) {
	runs := []RunDir{{Name: "2026-01-01_00-00-00_td3"}, {Name: "2026-01-01_00-00-00_sac"}}
	got, err := FilterMatch(runs, "*_td3")
	if err != nil || len(got) != 1 || got[0].Name != runs[0].Name {
		t.Fatalf("FilterMatch(*_td3) = %v, %v", got, err)
	}
	if _, err := FilterMatch(runs, "[td3"); !isUsage(err) {
		t.Fatalf("bad pattern: err = %v, want a usage error", err)
	}
}

// TestDiscoverFindsOtherLibrariesRuns: RL Zoo, CleanRL and original-TD3
// folders are found by content, an original-TD3 folder giving one run per
// prefix (also when it is the root itself).
func TestDiscoverFindsOtherLibrariesRuns(t *testing.T) {
	root := filepath.Join(testdata, "layouts")
	runs, notes, err := Discover(root)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, r := range runs {
		got = append(got, r.Rel+" "+r.Layout)
	}
	want := []string{
		"TD3/DDPG_Pendulum-v1_0 td3", "TD3/OurDDPG_Pendulum-v1_0 td3", "TD3/TD3_Pendulum-v1_0 td3", "TD3/TD3_Pendulum-v1_1 td3",
		"logs/ddpg/Pendulum-v1_1 sb3", "logs/sac/Pendulum-v1_1 sb3", "logs/sac/Pendulum-v1_2 sb3",
		"logs/td3/Pendulum-v1_1 sb3", "logs/tqc/Pendulum-v1_1 sb3",
		"runs/Pendulum-v1__td3_continuous_action__1__1700000000 cleanrl",
	}
	if !reflect.DeepEqual(got, want) || len(notes) != 0 {
		t.Fatalf("runs:\n got %q\nwant %q\nnotes %q", got, want, notes)
	}
	td3, _, err := Discover(filepath.Join(root, "TD3"))
	if err != nil || len(td3) != 4 || td3[3].Rel != "TD3_Pendulum-v1_1" || td3[3].Path != filepath.Join(root, "TD3", "TD3_Pendulum-v1_1") {
		t.Fatalf("TD3 root: %+v, %v", td3, err)
	}
}
