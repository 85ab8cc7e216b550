// Package batch evaluates whole experiment folders with package jobs: it
// finds the runs under a root (Discover, any layout, any depth), skips
// those whose inputs are unchanged since their last evaluation (Manifest),
// evaluates the others in parallel (Batch), one run's failure never
// stopping the others, and writes the batch's summary (summary.json,
// summary.csv), its groups of runs compared with bootstrap statistics
// (groups.json, groups.csv) and its index page. Sharded batches of a
// cluster array job are combined with Merge; finished batches are compared
// again with Compare.
package batch
