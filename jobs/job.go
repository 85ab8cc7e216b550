package jobs

import (
	"cmp"
	"errors"
	"fmt"
	"html/template"

	"github.com/rleval/rleval/loaders"
	"github.com/rleval/rleval/plotting"
)

// Job is one analysis family: one file in this package, one line in
// registry.
type Job struct {
	// Name identifies the job in summary.json and the report.
	Name string
	// Core jobs write the arrays of `rleval eval`.
	Core bool
	// Sections are the report sections the job introduces, in page order.
	// A job may also add to sections another job introduces.
	Sections []Section
	// Applies, if set, says whether the job concerns this run at all (SAC's
	// diagnostics do not concern a TD3 run): one that does not is neither
	// listed in the summary nor given report sections.
	Applies func(c *Context) bool
	// ReadsLog jobs read the run's training logs: Evaluate runs them after
	// the others, which run while the logs are read.
	ReadsLog bool
	// Needs returns nil when the job's inputs are present, or why not.
	Needs func(c *Context) error
	// Run computes and writes the job's arrays and numbers and returns what
	// the report shows. In core-only mode (c.Opt.CoreOnly) it writes the
	// core arrays and may return nil.
	Run func(c *Context) (*Output, error)
}

// Section is one part of a run report.
type Section struct{ ID, Title string }

// The report's own sections, before and after those of the jobs.
var (
	sectionSummary = Section{"summary", "Summary"}
	sectionSkipped = Section{"skipped", "Skipped jobs"}
)

// registry lists every analysis in the notebook's order: the order of the
// report's sections.
var registry = []Job{curvesJob, modelsJob, policyJob, bufferJob, qvaluesJob, qgridJob, valueBiasJob, returnsJob, mapsJob, checkpointsJob, sacJob}

// Jobs lists every analysis in the notebook's order.
func Jobs() []Job { return append([]Job(nil), registry...) }

// Sections returns the sections of a run report in page order.
func Sections() []Section { return sectionsOf(registry) }

// sectionsOf returns the report sections of jobs in page order.
func sectionsOf(jobs []Job) []Section {
	out := []Section{sectionSummary}
	seen := map[string]bool{sectionSummary.ID: true, sectionSkipped.ID: true}
	for _, j := range jobs {
		for _, s := range j.Sections {
			if !seen[s.ID] {
				seen[s.ID] = true
				out = append(out, s)
			}
		}
	}
	return append(out, sectionSkipped)
}

// Output is what a job gives the report: figures, tables and notes, each
// in a section, and what it adds to the run's line in a batch.
type Output struct {
	Figures []Figure
	Tables  []Table
	Notes   []Note
	// Summary, if set, records the job's headline numbers in the run's
	// summary.
	Summary func(s *RunSummary)
	// Interactive holds blocks of charts made by
	// plotting.InteractiveCurves, each shown after its section's figures.
	// The job's figures in a section where it also puts charts are the
	// charts' static versions: written as files, shown on the page only
	// without JavaScript.
	Interactive []Interactive
}

// Interactive is one block of interactive charts of a job.
type Interactive struct {
	Section string
	HTML    template.HTML
	// Charts is the number of charts in HTML.
	Charts int
}

// Figure is one figure of a job, written to plots/<Name>.<format>.
type Figure struct {
	Section, Name string
	Fig           *plotting.Figure
}

// Table is one table of a job.
type Table struct {
	Section string
	plotting.Table
}

// Note is one paragraph of a job.
type Note struct{ Section, Text string }

// add appends a figure, or returns the error of building it.
func (o *Output) add(section, name string, fig *plotting.Figure, err error) error {
	if err != nil {
		return fmt.Errorf("figure %s: %w", name, err)
	}
	o.Figures = append(o.Figures, Figure{section, name, fig})
	return nil
}

// table appends a table.
func (o *Output) table(section string, t plotting.Table) {
	o.Tables = append(o.Tables, Table{section, t})
}

// need helpers: each returns the load error of a missing input.
func needLog(c *Context) error {
	if c.Run.Log.V == nil {
		return c.Run.Log.Err
	}
	return nil
}

func needNets(roles ...loaders.Role) func(c *Context) error {
	return func(c *Context) error {
		for _, r := range roles {
			if c.Run.Net(r) == nil {
				if err := c.Run.Nets[r].Err; err != nil {
					return err
				}
				return fmt.Errorf("%s: %s has no %s network", c.Run.Dir, cmp.Or(c.Run.NetDir, c.Run.Layout), r)
			}
		}
		return nil
	}
}

func needAll(fs ...func(c *Context) error) func(c *Context) error {
	return func(c *Context) error {
		for _, f := range fs {
			if err := f(c); err != nil {
				return err
			}
		}
		return nil
	}
}

func needBuffer(c *Context) error {
	if c.Run.Buffer.V == nil {
		return c.Run.Buffer.Err
	}
	return nil
}

// needGrid requires a state plane for the maps.
func needGrid(c *Context) error {
	if c.Plane == nil {
		return c.PlaneErr
	}
	return nil
}

// needCritics requires an actor and the first critic, and a second critic
// that is either absent (DDPG: Q is Q1) or read (then combined, see
// combineQ): a broken critic2 skips the job rather than fall back to Q1.
func needCritics(c *Context) error {
	if err := needNets(loaders.RoleActor, loaders.RoleCritic1)(c); err != nil {
		return err
	}
	if err := c.Run.Nets[loaders.RoleCritic2].Err; c.Run.Net(loaders.RoleCritic2) == nil && err != nil && !errors.Is(err, loaders.ErrNotExist) {
		return err
	}
	return nil
}
