// Package jobs runs the analyses of a training run, one file per analysis
// family, each writing arrays (.npy), numbers (JSON) and plots, and runs
// them over whole experiment folders in batch.
package jobs
