//go:build rlcuda

// Command rleval-cuda is the worker that evaluates rleval's networks on a
// GPU. rleval starts it (worker.NewRemote) and speaks the wire protocol of
// worker.Serve over its stdin and stdout; it is not meant to be run by
// hand, except to check a machine:
//
//	rleval-cuda -info
//
// prints the device and exits. Usage:
//
//	rleval-cuda [-device N] [-info] [-selftest]
//
// -selftest compares the device with the CPU plan on random networks, one
// network at a time and stacked (graph.Stacked), and times a stack of 100
// runs; then rolls random actors out with the environment kernels
// (graph.Roller) against envs.Env.Run on the CPU, and times a 512² grid ×
// 1000 steps of a 256×256 actor; $RLEVAL_CUDA_NO_CUBLAS=1 makes it (and the worker) use the
// built-in PTX GEMM instead of cuBLAS.
//
// Exit status 1 before any output means the CUDA driver found no device:
// gorgonia.org/cu initialises the driver before main and exits when it
// fails. Build it with `make cuda` (go build -tags rlcuda ./cmd/rleval-cuda):
// it links only the driver's libcuda.so.1 and finds cuBLAS when it starts
// (libcublas.so.13, .12 or .11 in the linker's paths, $CUDA_HOME,
// /usr/local/cuda or an installed PyTorch wheel), using its own PTX GEMM
// kernel where there is none.
package main

import (
	"flag"
	"fmt"
	"log"
	"os"
	"runtime"

	"github.com/rleval/rleval/graph/cuda"
	"github.com/rleval/rleval/worker"
)

func main() {
	log.SetPrefix("rleval-cuda: ")
	log.SetFlags(0)
	ordinal := flag.Int("device", 0, "GPU `ordinal` to use")
	info := flag.Bool("info", false, "print the device and exit")
	self := flag.Bool("selftest", false, "check the device against the CPU plan, single and stacked, time a stack of 100 runs, and exit")
	flag.Parse()

	// The CUDA context is current on this OS thread only; worker.Serve calls
	// the device from this goroutine only.
	runtime.LockOSThread()
	dev, err := cuda.Open(*ordinal)
	if err != nil {
		log.Fatal(err)
	}
	if *info {
		di := dev.DeviceInfo()
		fmt.Printf("%s: %d MiB (%d MiB free), compute capability %d.%d, driver CUDA %d.%d, GEMM: %s\n",
			di.Name, di.TotalMem>>20, di.FreeMem>>20, di.ComputeCapability/10, di.ComputeCapability%10,
			di.DriverVersion/1000, di.DriverVersion%1000/10, dev.GEMM())
		os.Exit(closeExit(dev))
	}
	if *self {
		ok := selftest(dev, os.Stdout)
		code := closeExit(dev)
		if !ok {
			code = 1
		}
		os.Exit(code)
	}
	// Anything logged goes to stderr, which the client shows on failure;
	// stdout carries frames only.
	if err := worker.Serve(os.Stdin, os.Stdout, dev); err != nil {
		dev.Close()
		log.Fatal(err)
	}
	os.Exit(closeExit(dev))
}

func closeExit(dev *cuda.Device) int {
	if err := dev.Close(); err != nil {
		log.Print(err)
		return 1
	}
	return 0
}
