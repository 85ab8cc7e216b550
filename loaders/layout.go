package loaders

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

// Layout is one way a training library stores its runs on disk. Each
// layout lives in its own file and registers itself (as image formats do
// with image.RegisterFormat); a folder is matched by what it holds, never
// by its name alone.
type Layout struct {
	// Name is what LoadOptions.Layout (--layout) selects: "upstream", "sb3",
	// "cleanrl", "td3".
	Name string
	// Library names the training code, for summaries.
	Library string
	// Looks says what the layout recognises a folder by, for the message
	// about a folder that is no run.
	Looks string
	// Detect returns the runs that folder dir holds: nil when it is not of
	// this layout, [""] for the one run of a one-run folder, and the run
	// IDs of a folder that holds several (original TD3's prefixes).
	Detect func(dir string) []string
	// Load loads run id ("" for a one-run folder) of dir. It returns an
	// error only when nothing of the run can be used; a part that is
	// missing or broken is recorded in the Run.
	Load func(dir, id string, opt LoadOptions) (*Run, error)
	// Optional lists the parts of a run that the library never saves, or
	// saves only when asked, each with why (RL Zoo's replay buffer, CleanRL's
	// target networks): one that is absent is a note, not a problem, and
	// leaves the run's status ok. A part that exists but cannot be read is
	// a problem all the same.
	Optional map[PartName]string
}

var layouts []Layout

// RegisterLayout adds a layout; detection tries layouts in registration
// order, except that the upstream layout is tried last, as the fallback.
func RegisterLayout(l Layout) {
	if l.Name == "" || l.Detect == nil || l.Load == nil {
		panic("loaders: RegisterLayout of an incomplete layout")
	}
	for _, o := range layouts {
		if o.Name == l.Name {
			panic("loaders: RegisterLayout called twice for " + l.Name)
		}
	}
	layouts = append(layouts, l)
	slices.SortStableFunc(layouts, func(a, b Layout) int {
		return boolInt(a.Name == upstreamLayout) - boolInt(b.Name == upstreamLayout)
	})
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// Layouts lists the registered layouts in detection order.
func Layouts() []Layout { return slices.Clone(layouts) }

// LayoutByName returns the layout called name.
func LayoutByName(name string) (Layout, bool) {
	for _, l := range layouts {
		if l.Name == name {
			return l, true
		}
	}
	return Layout{}, false
}

// LayoutNames returns the registered layout names, for flag help.
func LayoutNames() []string {
	var out []string
	for _, l := range layouts {
		out = append(out, l.Name)
	}
	return out
}

// ErrNoRun means a folder is none of the known layouts.
var ErrNoRun = errors.New("not a run folder")

// LookedFor says, in one line, what the layouts recognise a run folder by.
func LookedFor() string {
	var parts []string
	for _, l := range layouts {
		parts = append(parts, fmt.Sprintf("%s (%s)", l.Looks, l.Library))
	}
	return "looked for " + strings.Join(parts, "; ")
}

// DetectRuns returns the layout of folder dir and the IDs of the runs it
// holds ([""] for a one-run folder); ok is false when dir is none of the
// layouts.
func DetectRuns(dir string) (l Layout, ids []string, ok bool) {
	for _, l := range layouts {
		if ids := l.Detect(dir); len(ids) > 0 {
			return l, ids, true
		}
	}
	return Layout{}, nil, false
}

// RunPath is the path that names run id of folder dir: dir itself for a
// one-run folder, dir/id for one run of several (the path need not exist
// as a directory; LoadRun and RunFolder resolve it).
func RunPath(dir, id string) string {
	if id == "" {
		return dir
	}
	return filepath.Join(dir, id)
}

// splitRunPath resolves a run path to its folder and run ID: a directory is
// its own folder; otherwise the parent folder must hold a run of that ID
// (with layout, when not empty).
func splitRunPath(p, layout string) (dir, id string, l Layout, err error) {
	if st, err := os.Stat(p); err == nil {
		if !st.IsDir() {
			return "", "", l, fmt.Errorf("run %s: not a directory", p)
		}
		return p, "", l, nil
	} else if !errors.Is(err, os.ErrNotExist) {
		return "", "", l, fmt.Errorf("run %s: %w", p, err)
	}
	parent, base := filepath.Dir(p), filepath.Base(p)
	for _, cand := range layouts {
		if layout != "" && cand.Name != layout {
			continue
		}
		if slices.Contains(cand.Detect(parent), base) && base != "" {
			return parent, base, cand, nil
		}
	}
	return "", "", l, fmt.Errorf("run %s: %w", p, ErrNotExist)
}

// RunFolder returns the directory that holds the files of the run at path
// p (p itself, or the folder of a run named by folder/ID), for
// fingerprints and output checks; p when it names nothing.
func RunFolder(p string) string {
	dir, _, _, err := splitRunPath(p, "")
	if err != nil {
		return p
	}
	return dir
}

// LoadRun loads whatever exists of the run at path p: a run folder of any
// registered layout, or folder/ID for one of several runs of a folder
// (original TD3). opt.Layout forces a layout. It returns an error only
// when p cannot be used at all (it does not exist, or is none of the
// layouts: the error says what was looked for); every file's problem is
// recorded in the Run and loading goes on.
func LoadRun(p string, opt LoadOptions) (*Run, error) {
	dir, id, l, err := splitRunPath(p, opt.Layout)
	if err != nil {
		return nil, err
	}
	if l.Name == "" {
		if opt.Layout != "" {
			var ok bool
			if l, ok = LayoutByName(opt.Layout); !ok {
				return nil, fmt.Errorf("run %s: unknown layout %q (known: %s)", p, opt.Layout, strings.Join(LayoutNames(), ", "))
			}
		} else {
			var ok bool
			if l, _, ok = DetectRuns(dir); !ok {
				return nil, fmt.Errorf("run %s: %w: %s", p, ErrNoRun, LookedFor())
			}
		}
		if id == "" {
			ids := l.Detect(dir)
			if len(ids) > 1 || (len(ids) == 1 && ids[0] != "") {
				if len(ids) != 1 {
					return nil, fmt.Errorf("run %s: the folder holds %d %s runs (%s); name one, e.g. %s", p, len(ids), l.Library,
						strings.Join(ids, ", "), RunPath(dir, ids[0]))
				}
				id = ids[0]
			}
		}
	}
	r, err := l.Load(dir, id, opt)
	if err != nil {
		return nil, err
	}
	if r.Library == "" {
		r.Library = l.Library
	}
	r.Layout = l.Name
	r.Optional = l.Optional
	return r, nil
}
