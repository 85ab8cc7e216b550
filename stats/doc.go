// Package stats computes the aggregate statistics of Agarwal et al., "Deep
// RL at the edge of the statistical precipice" (NeurIPS 2021), as its
// rliable library defines them: mean, median, interquartile mean (IQM),
// optimality gap, their stratified-bootstrap percentile intervals, the
// probability of improvement, performance profiles and sample-efficiency
// curves. It is pure computation: no I/O.
//
// Scores are held task-major: Scores[task][run]. A task is a stratum of the
// stratified bootstrap (rliable's StratifiedBootstrap resamples the runs of
// each task independently, with replacement); tasks may hold different
// numbers of runs. A group of runs that differ only by seed is one task.
//
// Every bootstrap is seeded and reproducible: the same Bootstrap gives the
// same intervals on every machine and for any number of goroutines.
package stats
