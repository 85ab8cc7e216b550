package batch

import (
	"errors"
	"fmt"
	"hash/fnv"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/rleval/rleval/jobs"
	"github.com/rleval/rleval/loaders"
)

// readDir lists a folder for Discover. A test replaces it to make a folder
// unreadable, which it cannot arrange with permissions when it runs as root
// (as CI does).
var readDir = os.ReadDir

// runNameRe is the `<YYYY-MM-DD>_<HH-MM-SS>_<name>` directory name the
// training code gives every run.
var runNameRe = regexp.MustCompile(`^(\d{4}-\d{2}-\d{2})_(\d{2})-(\d{2})-(\d{2})_.+$`)

// RunDir is one run directory found under a batch root.
type RunDir struct {
	// Path is the directory as reached from the root (root joined with
	// Rel; symbolic links are not resolved).
	Path string
	// Rel is Path relative to the root, slash-separated: the run's stable
	// identity in a batch (sorting, sharding, merging).
	Rel string
	// Name is the base name.
	Name string
	// OutName is the run's output folder name under the batch --out: Name,
	// or, when several runs share the name, Rel with "/" replaced by "__".
	OutName string
	// Layout is the registered layout that recognised the folder
	// ("upstream", "sb3", "cleanrl", "td3").
	Layout string
}

// RunDate returns the start date and time encoded in a run directory name
// `<YYYY-MM-DD>_<HH-MM-SS>_<name>` as "YYYY-MM-DD HH:MM:SS", or "" when
// name has none or it is not a valid date.
func RunDate(name string) string {
	m := runNameRe.FindStringSubmatch(name)
	if m == nil {
		return ""
	}
	s := m[1] + " " + m[2] + ":" + m[3] + ":" + m[4]
	if _, err := time.Parse("2006-01-02 15:04:05", s); err != nil {
		return ""
	}
	return s
}

// IsRunDir reports whether dir is a run folder: its name follows the
// `<YYYY-MM-DD>_<HH-MM-SS>_<name>` pattern or a registered layout
// recognises its content (config.yaml, a Stable-Baselines3 model zip, a
// .cleanrl_model, original TD3's models/...).
func IsRunDir(dir string) bool {
	if runNameRe.MatchString(filepath.Base(dir)) {
		return true
	}
	_, _, ok := loaders.DetectRuns(dir)
	return ok
}

// runsIn returns the runs folder dir holds (several for an original-TD3
// folder, addressed dir/<prefix>), or nil when it is none.
func runsIn(dir, rel, name string) []RunDir {
	l, ids, ok := loaders.DetectRuns(dir)
	if !ok {
		if runNameRe.MatchString(name) {
			return []RunDir{{Path: dir, Rel: rel, Name: name, Layout: "upstream"}}
		}
		return nil
	}
	var out []RunDir
	for _, id := range ids {
		if id == "" {
			out = append(out, RunDir{Path: dir, Rel: rel, Name: name, Layout: l.Name})
			continue
		}
		out = append(out, RunDir{Path: loaders.RunPath(dir, id), Rel: path.Join(rel, id), Name: id, Layout: l.Name})
	}
	return out
}

// Discover finds the runs under root, at any depth, sorted by Rel: every
// folder a registered layout recognises by its content (one run, or one
// per prefix of an original-TD3 folder). It does not descend into a run
// folder, follows symbolic links to directories that stay under root (by
// their resolved paths; a link that leaves root is skipped with a note) but
// visits each real directory once (so link loops end and a run linked
// twice is found once), skips hidden directories and the directories in
// exclude (typically the batch --out), and skips unreadable directories with
// a note. A root that is itself a run directory is the only run. Only an
// unreadable root is an error.
func Discover(root string, exclude ...string) (runs []RunDir, notes []string, err error) {
	return DiscoverOptions{Exclude: exclude}.Discover(root)
}

// DiscoverOptions configure Discover.
type DiscoverOptions struct {
	// Exclude are directories not searched (typically the batch --out).
	Exclude []string
	// FollowLinks follows symbolic links that leave the root too
	// (--follow-links); each real directory is still visited once.
	FollowLinks bool
}

// Discover is Discover with these options.
func (o DiscoverOptions) Discover(root string) (runs []RunDir, notes []string, err error) {
	exclude := o.Exclude
	fi, err := os.Stat(root)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil, fmt.Errorf("experiments folder %s does not exist: %w", root, jobs.ErrUsage)
	}
	if err != nil {
		return nil, nil, fmt.Errorf("experiments folder %s: %w", root, err)
	}
	if !fi.IsDir() {
		return nil, nil, fmt.Errorf("experiments folder %s is not a directory: %w", root, jobs.ErrUsage)
	}
	w := &discovery{root: root, visited: map[string]bool{}, followLinks: o.FollowLinks}
	for _, ex := range exclude {
		if real, err := realDir(ex); err == nil {
			w.visited[real] = true
		}
	}
	rootReal, err := realDir(root)
	if err != nil {
		return nil, nil, fmt.Errorf("experiments folder %s: %w", root, err)
	}
	if w.visited[rootReal] {
		return nil, nil, fmt.Errorf("experiments folder %s is the output folder: %w", root, jobs.ErrUsage)
	}
	if rs := runsIn(root, ".", filepath.Base(rootReal)); rs != nil {
		if len(rs) > 1 || rs[0].Path != root {
			for i := range rs {
				rs[i].Rel = rs[i].Name
			}
		}
		assignOutNames(rs)
		return rs, nil, nil
	}
	w.visited[rootReal] = true
	w.rootReal = rootReal
	if err := w.walk(root, ""); err != nil {
		return nil, w.notes, err
	}
	sort.Slice(w.runs, func(i, j int) bool { return w.runs[i].Rel < w.runs[j].Rel })
	assignOutNames(w.runs)
	return w.runs, w.notes, nil
}

// realDir is p with its symbolic links resolved, absolute: a directory's
// identity, so that each is visited once.
func realDir(p string) (string, error) {
	real, err := filepath.EvalSymlinks(p)
	if err != nil {
		return "", err
	}
	return filepath.Abs(real)
}

// discovery is the state of a Discover walk.
type discovery struct {
	root, rootReal string
	followLinks    bool            // out of the root too
	visited        map[string]bool // real directories seen
	runs           []RunDir
	notes          []string
}

// walk looks for runs in dir, reached as rel from the root ("" for the
// root itself), and below it.
func (w *discovery) walk(dir, rel string) error {
	entries, err := readDir(dir)
	if err != nil {
		if rel == "" {
			return fmt.Errorf("read experiments folder %s: %w", w.root, err)
		}
		w.notes = append(w.notes, fmt.Sprintf("skipped %s: %v", dir, err))
		return nil
	}
	files, dirs := 0, 0
	for _, e := range entries {
		name := e.Name()
		if strings.HasPrefix(name, ".") {
			continue
		}
		if e.Type().IsRegular() {
			files++
			continue
		}
		dirs++
		p := filepath.Join(dir, name)
		if !w.enter(p, e) {
			continue
		}
		r := path.Join(rel, name)
		if rs := runsIn(p, r, name); rs != nil {
			w.runs = append(w.runs, rs...)
			continue
		}
		if err := w.walk(p, r); err != nil {
			return err
		}
	}
	// A leaf folder of files that no layout recognises: say what was
	// looked for, once.
	if rel != "" && files > 0 && dirs == 0 {
		w.notes = append(w.notes, fmt.Sprintf("skipped %s: %v: %s", dir, loaders.ErrNoRun, loaders.LookedFor()))
	}
	return nil
}

// enter reports whether the walk goes into entry e at p: a directory, or a
// link to one, not visited before; what it skips with a reason is noted.
func (w *discovery) enter(p string, e fs.DirEntry) bool {
	if e.Type()&os.ModeSymlink != 0 {
		fi, err := os.Stat(p)
		if err != nil {
			w.notes = append(w.notes, fmt.Sprintf("skipped %s: broken link: %v", p, err))
			return false
		}
		if !fi.IsDir() {
			return false
		}
	} else if !e.IsDir() {
		return false
	}
	real, err := realDir(p)
	if err != nil {
		w.notes = append(w.notes, fmt.Sprintf("skipped %s: %v", p, err))
		return false
	}
	if w.visited[real] {
		return false
	}
	if !w.followLinks && !within(w.rootReal, real) {
		// A link out of the root (logs/loop2 -> ../..) would evaluate a
		// tree nobody asked for.
		w.notes = append(w.notes, fmt.Sprintf("skipped %s: a link to %s, outside %s (--follow-links follows it)", p, real, w.root))
		return false
	}
	w.visited[real] = true
	return true
}

// within reports whether the resolved path p is root or lies under it.
func within(root, p string) bool {
	rel, err := filepath.Rel(root, p)
	return err == nil && rel != ".." && !strings.HasPrefix(rel, ".."+string(filepath.Separator))
}

// assignOutNames gives each run a distinct output folder name, the same
// for the same discovered set whatever is later filtered out (so shards and
// --match runs agree): the base name when it is unique, else the relative
// path flattened, with a "-N" suffix in the rare case that still collides.
func assignOutNames(runs []RunDir) {
	count := map[string]int{}
	for _, r := range runs {
		count[r.Name]++
	}
	used := map[string]bool{}
	for i := range runs {
		n := runs[i].Name
		if count[n] > 1 {
			n = strings.ReplaceAll(runs[i].Rel, "/", "__")
		}
		base := n
		for k := 2; used[n]; k++ {
			n = base + "-" + strconv.Itoa(k)
		}
		used[n] = true
		runs[i].OutName = n
	}
}

// FilterMatch keeps the runs whose base name matches the path.Match
// pattern glob; an empty glob keeps all. A malformed pattern is an error
// wrapping ErrUsage.
func FilterMatch(runs []RunDir, glob string) ([]RunDir, error) {
	if glob == "" {
		return runs, nil
	}
	if _, err := path.Match(glob, ""); err != nil {
		return nil, fmt.Errorf("--match %q: %v: %w", glob, err, jobs.ErrUsage)
	}
	var out []RunDir
	for _, r := range runs {
		if ok, _ := path.Match(glob, r.Name); ok {
			out = append(out, r)
		}
	}
	return out, nil
}

// ShardOf returns the shard (0 ≤ shard < shards) a run belongs to: a
// stable hash (FNV-1a) of its relative path modulo shards. Hashing rather
// than the position in the sorted list keeps every run in exactly one
// shard even when the array tasks start at different times and see
// different sets of runs, and adding a run never moves the others.
func ShardOf(rel string, shards int) int {
	h := fnv.New64a()
	h.Write([]byte(rel))
	return int(h.Sum64() % uint64(shards))
}

// SelectShard keeps the runs of shard i of n (0-based: 0 ≤ i < n, as
// SLURM_ARRAY_TASK_ID with --array=0-(n-1)). n ≤ 1 keeps all.
func SelectShard(runs []RunDir, i, n int) []RunDir {
	if n <= 1 {
		return runs
	}
	var out []RunDir
	for _, r := range runs {
		if ShardOf(r.Rel, n) == i {
			out = append(out, r)
		}
	}
	return out
}

// ParseShard parses a --shard value "i/n" (0-based: 0 ≤ i < n). Errors
// wrap ErrUsage.
func ParseShard(s string) (i, n int, err error) {
	a, b, ok := strings.Cut(s, "/")
	if ok {
		i, err = strconv.Atoi(strings.TrimSpace(a))
		if err == nil {
			n, err = strconv.Atoi(strings.TrimSpace(b))
		}
	}
	if !ok || err != nil {
		return 0, 0, fmt.Errorf("--shard %q: want i/n, e.g. 0/16: %w", s, jobs.ErrUsage)
	}
	if n < 1 {
		return 0, 0, fmt.Errorf("--shard %q: want at least 1 shard: %w", s, jobs.ErrUsage)
	}
	if i < 0 || i >= n {
		return 0, 0, fmt.Errorf("--shard %s: there is no shard %d of %d; shards are numbered 0 to %d, like SLURM_ARRAY_TASK_ID: %w", s, i, n, n-1, jobs.ErrUsage)
	}
	return i, n, nil
}

func validShard(i, n int) error {
	if n < 0 || (n > 0 && (i < 0 || i >= n)) || (n == 0 && i != 0) {
		return fmt.Errorf("shard %d of %d: want 0 ≤ i < n (shards are numbered from 0, like SLURM_ARRAY_TASK_ID): %w", i, n, jobs.ErrUsage)
	}
	return nil
}
