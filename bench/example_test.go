package bench_test

import (
	"errors"
	"fmt"
	"os"

	"github.com/rleval/rleval/bench"
)

// Run on synthetic Pendulum-sized networks, add torch's numbers when a
// python with torch is present, and write the table and the files.
func ExampleRun() {
	cfg := bench.Config{
		Devices: []string{"cpu"},
		Nets:    bench.SyntheticNets(3, 1, []int{256, 256}, 1),
		Source:  "synthetic, seed 1",
		Batches: []int{1, 64, 1024, 16384},
		Rows:    200_000,
		Threads: 2,
	}
	rep, err := bench.Run(cfg)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return
	}
	tr, err := bench.RunTorch("", bench.DefaultTorchScript, cfg, 0, os.Stderr)
	switch {
	case errors.Is(err, bench.ErrNoTorch):
		fmt.Fprintln(os.Stderr, err) // says how to install it
	case err != nil:
		fmt.Fprintln(os.Stderr, err)
	default:
		rep.AddTorch(tr)
	}
	rep.WriteTable(os.Stdout)
	if _, err := rep.WriteFiles("bench-out"); err != nil {
		fmt.Fprintln(os.Stderr, err)
	}
}
