// Package jobs runs the analyses of one training run (Evaluate) and
// returns its summary row (RunSummary); package batch runs it over whole
// experiment folders.
//
// An analysis is one file in this package plus its test: a Job value with
// its name, the report sections it introduces, what it needs (Needs) and a
// Run that computes, writes its arrays (.npy) and numbers (JSON) and
// returns its figures and tables (Output). The one list in job.go,
// registry, registers it; its place there is its sections' place in the
// report. A job asks the Context for the evaluations it shares with
// others (GridPolicy, GridQ, BufferQ), each computed once on first use, so
// the order of the jobs never matters. The state plane of the maps, phase
// portrait and coverage (Plane) comes from a Preset, which is data, and
// the user's --axes and --fix.
package jobs
