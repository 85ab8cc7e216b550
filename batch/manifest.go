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

// manifestJSON is the file layout: the summary goes through runJSON so NaN
// survives.
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
		return enc.Encode(manifestJSON{Version: m.Version, Options: m.Options, Inputs: m.Inputs, Summary: toRunJSON(&m.Summary)})
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
	return &Manifest{Version: mj.Version, Options: mj.Options, Inputs: mj.Inputs, Summary: mj.Summary.summary()}, nil
}

// plainRun is RunSummary without its methods, so that runJSON's embedding
// never recurses into a MarshalJSON RunSummary may grow.
type plainRun jobs.RunSummary

// runJSON is RunSummary as written in manifests and summary.json: the
// float fields that may be NaN shadow the embedded ones.
type runJSON struct {
	plainRun
	FinalRewardSum jsonnum.Float   `json:"final_reward_sum"`
	BestRewardSum  jsonnum.Float   `json:"best_reward_sum"`
	MeanQPolicy    jsonnum.Float   `json:"mean_q_policy"`
	L2Total        jsonnum.Float   `json:"l2_total"`
	ValueBias      *jsonnum.Float  `json:"value_bias,omitempty"`
	Seconds        jsonnum.Float   `json:"seconds"`
	CurveStep      []jsonnum.Float `json:"curve_step,omitempty"`
	CurveValue     []jsonnum.Float `json:"curve_value,omitempty"`
}

func toRunJSON(s *jobs.RunSummary) runJSON {
	r := runJSON{
		plainRun:       plainRun(*s),
		FinalRewardSum: jsonnum.Float(s.FinalRewardSum),
		BestRewardSum:  jsonnum.Float(s.BestRewardSum),
		MeanQPolicy:    jsonnum.Float(s.MeanQPolicy),
		L2Total:        jsonnum.Float(s.L2Total),
		ValueBias:      jsonnum.Ptr(s.ValueBias),
		Seconds:        jsonnum.Float(s.Seconds),
		CurveStep:      jsonnum.Floats(s.CurveStep),
		CurveValue:     jsonnum.Floats(s.CurveValue),
	}
	r.plainRun.CurveStep, r.plainRun.CurveValue = nil, nil
	return r
}

func (r runJSON) summary() jobs.RunSummary {
	s := jobs.RunSummary(r.plainRun)
	s.FinalRewardSum = float64(r.FinalRewardSum)
	s.BestRewardSum = float64(r.BestRewardSum)
	s.MeanQPolicy = float64(r.MeanQPolicy)
	s.ValueBias = math.NaN() // absent in summaries written before value_bias
	if r.ValueBias != nil {
		s.ValueBias = float64(*r.ValueBias)
	}
	s.L2Total = float64(r.L2Total)
	s.Seconds = float64(r.Seconds)
	s.CurveStep = jsonnum.Float64s(r.CurveStep)
	s.CurveValue = jsonnum.Float64s(r.CurveValue)
	return s
}
