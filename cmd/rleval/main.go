// Command rleval evaluates reinforcement-learning training runs in bulk.
//
// Usage:
//
//	rleval <command> [flags] [arguments]
//
// Commands:
//
//	inspect [RUN_DIR]        print a run's config, log records, networks and buffer
//	eval    [RUN_DIR]        write the core arrays (.npy): policy and Q maps, Q over the buffer
//	run     [RUN_DIR...]     every analysis: arrays, JSON, plots and report.html per run
//	heatmap [RUN_DIR]        one high-resolution map (4096² and beyond) in bounded memory
//	batch   EXPERIMENTS_DIR  evaluate every run of a folder: parallel, resumable, shardable
//	merge   DIR...           combine the summaries of sharded batches
//	compare OUT...           recompute groups and statistics from finished batches
//	bench   [RUN_DIR]        inference throughput by device and batch size
//
// With no RUN_DIR, inspect, eval, run and heatmap use the bundled demo run,
// and bench synthetic networks. `rleval <command> -h` lists a command's flags.
//
// Exit status:
//
//	0  success (a file the run's library never saves, such as RL Zoo's replay
//	   buffer, may be absent: summary.json notes it under not_saved)
//	1  an input could not be read or an evaluation failed (the message names the file)
//	2  usage error (unknown command or flag, bad value)
//	3  batch (or run over several directories): some runs failed, the others were evaluated
//	130 interrupted (Ctrl-C or SIGTERM), every command; no file is left half
//	   written, and a batch resumes where it stopped
package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"os"
	"strings"
	"time"

	"github.com/rleval/rleval/batch"
	"github.com/rleval/rleval/jobs"

	// The CUDA worker client: it registers the device "cuda", behind
	// --device cuda and auto.
	_ "github.com/rleval/rleval/worker"
)

// Exit statuses, documented in the package comment.
const (
	exitOK          = 0
	exitFailure     = 1
	exitUsage       = 2
	exitSomeFailed  = 3
	exitInterrupted = 130
)

// batchExit maps the outcome of a batch or a merge to an exit status: a
// usage error 2, an interruption 130, a failed batch 1, failed runs 3.
func batchExit(res *batch.Result, err error) int {
	switch {
	case errors.Is(err, jobs.ErrUsage):
		return exitUsage
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return exitInterrupted
	case err != nil:
		return exitFailure
	case res != nil && res.Failed > 0:
		return exitSomeFailed
	}
	return exitOK
}

// usageError marks an error caused by how the command was called.
type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }

func usagef(format string, a ...any) error { return usageError{fmt.Sprintf(format, a...)} }

// asUsage turns a validation error of jobs (wrapping jobs.ErrUsage) into a
// usage error with the same message.
func asUsage(err error) error {
	return usageError{strings.TrimSuffix(err.Error(), ": "+jobs.ErrUsage.Error())}
}

// exitError carries a specific exit status with an already-printed outcome.
type exitError struct {
	code int
	err  error
}

func (e exitError) Error() string { return e.err.Error() }

type command struct {
	name, summary string
	run           func(args []string, stdout, stderr io.Writer) error
}

var commands []command

func main() {
	log.SetFlags(0)
	log.SetPrefix("rleval: ")
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	commands = []command{
		{"inspect", "print a run's config, log records, networks and buffer", cmdInspect},
		{"eval", "write the core arrays (.npy) of a run", cmdEval},
		{"run", "every analysis of a run: arrays, JSON, plots, report.html", cmdRun},
		{"heatmap", "one high-resolution map in bounded memory", cmdHeatmap},
		{"rollout", "the policy's true returns, rolled out in the run's environment", cmdRollout},
		{"batch", "evaluate every run of an experiments folder", cmdBatch},
		{"merge", "combine the summaries of sharded batches", cmdMerge},
		{"compare", "recompute groups and statistics from finished batches", cmdCompare},
		{"bench", "inference throughput by device and batch size", cmdBench},
	}
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		printUsage(stdout)
		if len(args) == 0 {
			return exitUsage
		}
		return exitOK
	}
	for _, c := range commands {
		if c.name == args[0] {
			return runCommand(c, args[1:], stdout, stderr)
		}
	}
	fmt.Fprintf(stderr, "rleval: unknown command %q\n\n", args[0])
	printUsage(stderr)
	return exitUsage
}

// interruptGrace is how long an interrupted command has to stop cleanly
// (commands that evaluate watch for the signal and return between chunks
// of work; every file is written atomically) before rleval exits anyway.
const interruptGrace = 30 * time.Second

// runCommand runs c and maps its outcome to an exit status; Ctrl-C or
// SIGTERM make every command exit 130.
func runCommand(c command, args []string, stdout, stderr io.Writer) int {
	ctx, stop := interruptible()
	defer stop()
	done := make(chan error, 1)
	go func() { done <- c.run(args, stdout, stderr) }()
	var err error
	select {
	case err = <-done:
	case <-ctx.Done():
		select {
		case err = <-done:
		case <-time.After(interruptGrace):
		}
	}
	if ctx.Err() != nil {
		err = errInterrupted
	}
	return report(err, stderr)
}

func report(err error, stderr io.Writer) int {
	var ue usageError
	var ee exitError
	switch {
	case err == nil:
		return exitOK
	case errors.Is(err, flag.ErrHelp):
		return exitOK
	case errors.As(err, &ue):
		fmt.Fprintf(stderr, "rleval: %v\n", err)
		return exitUsage
	case errors.As(err, &ee):
		if ee.err != nil && ee.err.Error() != "" {
			fmt.Fprintf(stderr, "rleval: %v\n", ee.err)
		}
		return ee.code
	default:
		fmt.Fprintf(stderr, "rleval: %v\n", err)
		return exitFailure
	}
}

func printUsage(w io.Writer) {
	fmt.Fprintf(w, "rleval evaluates reinforcement-learning training runs (TD3/SAC, PyTorch checkpoints) in bulk.\n\nUsage: rleval <command> [flags] [arguments]\n\nCommands:\n")
	for _, c := range commands {
		fmt.Fprintf(w, "  %-8s %s\n", c.name, c.summary)
	}
	fmt.Fprintf(w, "\nWith no run directory, inspect, eval, run and heatmap use the bundled demo run, bench synthetic networks.\n")
	fmt.Fprintf(w, "Run 'rleval <command> -h' for a command's flags.\n\nExit status: 0 success, 1 failure, 2 usage error, 3 some runs of a batch failed, 130 interrupted.\n")
}

// newFlags returns a FlagSet that reports errors instead of exiting.
func newFlags(name, args, about string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "Usage: rleval %s [flags] %s\n\n%s\n\nFlags:\n", name, args, about)
		fs.PrintDefaults()
	}
	return fs
}

// parse parses flags, turning a flag error into a usage error of one line
// that points to -h (the flag package would print the whole usage). Flags
// may come before or after the positional arguments.
func parse(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		out := fs.Output()
		var usage bytes.Buffer
		fs.SetOutput(&usage)
		err := fs.Parse(args)
		fs.SetOutput(out)
		if err != nil {
			if errors.Is(err, flag.ErrHelp) {
				out.Write(usage.Bytes())
				return nil, err
			}
			return nil, usagef("%v (see rleval %s -h)", err, fs.Name())
		}
		args = fs.Args()
		if len(args) == 0 {
			return pos, nil
		}
		pos = append(pos, args[0])
		args = args[1:]
	}
}
