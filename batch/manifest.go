package batch

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"

	"github.com/rleval/rleval/internal/atomicfile"
	"github.com/rleval/rleval/internal/jsonnum"
	"github.com/rleval/rleval/jobs"
)

// ManifestName is the file, in a run's output folder, that records what a
// successful evaluation was made from. The runner writes it last, so its
// presence means every other output of the run is complete.
const ManifestName = ".rleval-manifest.json"

// manifestVersion is the manifest format; another version is stale.
const manifestVersion = 1

// Manifest records the inputs and result of a run's last successful
// evaluation, so that a later batch can skip the run while its inputs stay
// the same.
type Manifest struct {
	// Version is the manifest format version.
	Version int `json:"version"`
	// Options identifies the rleval version and options the outputs were
	// made with (Batch.Options); other options make the manifest stale.
	Options string `json:"options"`
	// Inputs are the run directory's files, sorted by path.
	Inputs []InputFile `json:"inputs"`
	// Summary is the run's summary row.
	Summary jobs.RunSummary `json:"-"`
}

// InputFile is one input file of a run as the manifest records it.
type InputFile struct {
	// Path is relative to the run directory, slash-separated.
	Path string `json:"path"`
	Size int64  `json:"size"`
	// ModTime is the modification time in nanoseconds since the epoch.
	ModTime int64 `json:"mtime_ns"`
}

// ScanInputs lists the regular files under a run directory with their
// sizes and modification times, sorted by path: the fingerprint a manifest
// compares. Hidden files and atomicfile temporaries are left out;
// links are followed, each real directory once.
func ScanInputs(dir string) ([]InputFile, error) {
	var out []InputFile
	visited := map[string]bool{}
	var walk func(d, rel string) error
	walk = func(d, rel string) error {
		real, err := filepath.EvalSymlinks(d)
		if err != nil {
			return err
		}
		if visited[real] {
			return nil
		}
		visited[real] = true
		entries, err := os.ReadDir(d)
		if err != nil {
			return err
		}
		for _, e := range entries {
			name := e.Name()
			if strings.HasPrefix(name, ".") || atomicfile.IsTemp(name) {
				continue
			}
			p := filepath.Join(d, name)
			fi, err := os.Stat(p) // follows links
			if err != nil {
				if errors.Is(err, fs.ErrNotExist) {
					continue // broken link or removed meanwhile
				}
				return err
			}
			r := path.Join(rel, name)
			switch {
			case fi.IsDir():
				if err := walk(p, r); err != nil {
					return err
				}
			case fi.Mode().IsRegular():
				out = append(out, InputFile{Path: r, Size: fi.Size(), ModTime: fi.ModTime().UnixNano()})
			}
		}
		return nil
	}
	if err := walk(dir, ""); err != nil {
		return nil, fmt.Errorf("list inputs of run %s: %w", dir, err)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Path < out[j].Path })
	return out, nil
}

// Matches reports whether the manifest describes exactly these inputs made
// with these options.
func (m *Manifest) Matches(inputs []InputFile, options string) bool {
	if m.Version != manifestVersion || m.Options != options || len(m.Inputs) != len(inputs) {
		return false
	}
	for i := range inputs {
		if m.Inputs[i] != inputs[i] {
			return false
		}
	}
	return true
}

// manifestJSON is the file layout: the summary goes through runJSON, which
// writes its metrics and keeps NaN.
type manifestJSON struct {
	Version int         `json:"version"`
	Options string      `json:"options"`
	Inputs  []InputFile `json:"inputs"`
	Summary runJSON     `json:"summary"`
}

// WriteManifest writes m to outDir/ManifestName atomically.
func WriteManifest(outDir string, m *Manifest) error {
	return atomicfile.Write(filepath.Join(outDir, ManifestName), func(w io.Writer) error {
		enc := json.NewEncoder(w)
		enc.SetIndent("", " ")
		return enc.Encode(manifestJSON{Version: m.Version, Options: m.Options, Inputs: m.Inputs, Summary: runJSON(m.Summary)})
	})
}

// ReadManifest reads outDir/ManifestName. A missing manifest is an error
// wrapping fs.ErrNotExist.
func ReadManifest(outDir string) (*Manifest, error) {
	p := filepath.Join(outDir, ManifestName)
	data, err := os.ReadFile(p)
	if err != nil {
		return nil, err
	}
	var mj manifestJSON
	if err := json.Unmarshal(data, &mj); err != nil {
		return nil, fmt.Errorf("read manifest %s: %w (delete it to re-evaluate the run)", p, err)
	}
	return &Manifest{Version: mj.Version, Options: mj.Options, Inputs: mj.Inputs, Summary: jobs.RunSummary(mj.Summary)}, nil
}

// plainRun is RunSummary without its methods, so that the row types'
// embedding never recurses into a MarshalJSON RunSummary may grow.
type plainRun jobs.RunSummary

// runJSON is a RunSummary as written in manifests and summary.json: its
// fields, then its metrics (jobs.Metrics, in order), then seconds and the
// evaluation curve, with NaN written as null.
type runJSON jobs.RunSummary

// runHead is the part of a row before the metrics: the fields written
// after them are shadowed by empty ones of the same JSON names.
type runHead struct {
	plainRun
	Seconds    *struct{} `json:"seconds,omitempty"`
	CurveStep  *struct{} `json:"curve_step,omitempty"`
	CurveValue *struct{} `json:"curve_value,omitempty"`
}

// runTail is the part of a row after the metrics.
type runTail struct {
	Seconds    jsonnum.Float   `json:"seconds"`
	CurveStep  []jsonnum.Float `json:"curve_step,omitempty"`
	CurveValue []jsonnum.Float `json:"curve_value,omitempty"`
}

// nullMetrics are the metrics every row of summary format 1 carries, null
// when not computed, as scripts reading them expect. A metric registered
// since is left out of a row that lacks it, as rows written before it lack
// it.
var nullMetrics = map[string]bool{"final_reward_sum": true, "best_reward_sum": true, "mean_q_policy": true, "l2_total": true}

// MarshalJSON implements json.Marshaler.
func (r runJSON) MarshalJSON() ([]byte, error) {
	s := jobs.RunSummary(r)
	head, err := json.Marshal(runHead{plainRun: plainRun(s)})
	if err != nil {
		return nil, err
	}
	tail, err := json.Marshal(runTail{jsonnum.Float(s.Seconds), jsonnum.Floats(s.CurveStep), jsonnum.Floats(s.CurveValue)})
	if err != nil {
		return nil, err
	}
	out := head[:len(head)-1] // without its '}'
	for _, m := range jobs.Metrics() {
		v := m.Get(&s)
		if math.IsNaN(v) && !nullMetrics[m.Name] {
			continue
		}
		name, _ := json.Marshal(m.Name)
		num, err := json.Marshal(jsonnum.Float(v))
		if err != nil {
			return nil, err
		}
		out = append(append(append(append(out, ','), name...), ':'), num...)
	}
	return append(append(out, ','), tail[1:]...), nil
}

// UnmarshalJSON implements json.Unmarshaler; a metric that is null or
// absent reads as not set (NaN), and keys of metrics this rleval does not
// know are ignored.
func (r *runJSON) UnmarshalJSON(data []byte) error {
	var row struct {
		plainRun
		Seconds    jsonnum.Float   `json:"seconds"`
		CurveStep  []jsonnum.Float `json:"curve_step"`
		CurveValue []jsonnum.Float `json:"curve_value"`
	}
	if err := json.Unmarshal(data, &row); err != nil {
		return err
	}
	var keys map[string]json.RawMessage
	if err := json.Unmarshal(data, &keys); err != nil {
		return err
	}
	s := jobs.RunSummary(row.plainRun)
	s.Seconds = float64(row.Seconds)
	s.CurveStep, s.CurveValue = jsonnum.Float64s(row.CurveStep), jsonnum.Float64s(row.CurveValue)
	s.Metrics = nil
	for _, m := range jobs.Metrics() {
		raw, ok := keys[m.Name]
		if !ok {
			continue
		}
		var v jsonnum.Float
		if err := json.Unmarshal(raw, &v); err != nil {
			return fmt.Errorf("%s: %w", m.Name, err)
		}
		if !math.IsNaN(float64(v)) {
			m.Set(&s, float64(v))
		}
	}
	*r = runJSON(s)
	return nil
}
