package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/rleval/rleval"
	"github.com/rleval/rleval/jobs"
	"github.com/rleval/rleval/loaders"
)

func cmdInspect(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("inspect", "[RUN_DIR]", "Prints what the analysis notebook prints about a run: config fields, log record\ncounts and step ranges, skipped lines, each network's architecture and parameter\ncount, and the replay buffer. Exits 1 when a file of the run exists but is broken.", stderr)
	asJSON := fs.Bool("json", false, "print one JSON object instead of text")
	withGraph := fs.Bool("graph", false, "also print each network's Gorgonia graph, layer by layer")
	var lf loadFlags
	lf.register(fs)
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) > 1 {
		return usagef("inspect takes one run directory, got %d", len(pos))
	}
	dir, err := runDirArg(pos)
	if err != nil {
		return err
	}
	lo, err := lf.options()
	if err != nil {
		return err
	}
	r, err := loaders.LoadRun(dir, lo)
	if err != nil {
		return err
	}
	in := jobs.Inspect(r)
	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(in); err != nil {
			return err
		}
	} else {
		in.WriteText(stdout, *withGraph)
	}
	if broken := r.Broken(); len(broken) > 0 {
		return exitError{exitFailure, fmt.Errorf("%d file(s) of %s could not be read (see above)", len(broken), dir)}
	}
	return nil
}

// runDirArg returns the run directory argument, or the bundled demo run
// (unpacked into the user's cache directory) when there is none.
func runDirArg(pos []string) (string, error) {
	if len(pos) > 0 {
		return pos[0], nil
	}
	cache, err := os.UserCacheDir()
	if err != nil {
		cache = os.TempDir()
	}
	return rleval.DemoRun(filepath.Join(cache, "rleval", "demo"))
}
