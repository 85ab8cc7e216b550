package graph

import (
	"fmt"
	"log"
)

// OpenCUDA opens the CUDA backend. It is nil until the CUDA client
// (remote.go) installs it; Open treats nil as "no CUDA device".
var OpenCUDA func(opts Options) (Backend, error)

// Devices lists the device names Open accepts.
var Devices = []string{"auto", "cpu", "cuda", "gorgonia"}

// Open returns the backend for device: "cpu" the CPU plan, "cuda" the CUDA
// worker (an error wrapping ErrNoCUDA when there is none), "gorgonia" the
// graphs on Gorgonia's TapeMachine (the slow reference the plans are
// checked against; one chunk size keeps it from building a graph per
// size), "auto" (or "")
// CUDA when it opens and the CPU otherwise. When auto falls back,
// opts.Logf (log.Printf when nil) receives a one-line reason.
func Open(device string, opts Options) (Backend, error) {
	logf := opts.Logf
	if logf == nil {
		logf = log.Printf
	}
	switch device {
	case "cpu":
		return NewCPU(opts), nil
	case "cuda":
		return openCUDA(opts)
	case "gorgonia":
		return NewReference(), nil
	case "auto", "":
		b, err := openCUDA(opts)
		if err == nil {
			return b, nil
		}
		cpu := NewCPU(opts)
		logf("device auto: %v; using %s", err, cpu.Name())
		return cpu, nil
	default:
		return nil, fmt.Errorf("graph: unknown device %q: use auto, cpu, cuda or gorgonia", device)
	}
}

func openCUDA(opts Options) (Backend, error) {
	if OpenCUDA == nil {
		return nil, fmt.Errorf("%w: this build has no CUDA client", ErrNoCUDA)
	}
	b, err := OpenCUDA(opts)
	if err != nil {
		return nil, err
	}
	return b, nil
}
