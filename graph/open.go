package graph

import (
	"errors"
	"fmt"
	"log"
	"slices"
	"strings"
)

// OpenFunc opens the backend of a registered device.
type OpenFunc func(opts Options) (Backend, error)

// device is a registered device.
type device struct {
	name string
	open OpenFunc
}

// devices are the registered devices, in registration order.
var devices []device

// builtinDevices are the names Open knows without a registration.
var builtinDevices = []string{"auto", "cpu", "gorgonia"}

// RegisterDevice makes Open(name) open the backend open returns, and
// Open("auto") try it before the CPU. A device's client registers it from
// an init function: package worker registers "cuda". Like
// loaders.RegisterLayout it panics on an empty or built-in name, a nil
// open, or a name registered twice.
func RegisterDevice(name string, open OpenFunc) {
	if name == "" || open == nil || slices.Contains(builtinDevices, name) {
		panic(fmt.Sprintf("graph: RegisterDevice(%q) of an incomplete or built-in device", name))
	}
	if slices.ContainsFunc(devices, func(d device) bool { return d.name == name }) {
		panic("graph: RegisterDevice called twice for " + name)
	}
	devices = append(devices, device{name, open})
}

// Devices lists the device names Open accepts: auto, cpu, cuda (an error
// wrapping ErrNoCUDA when this build has no CUDA client), the other
// registered devices, and gorgonia.
func Devices() []string {
	names := []string{"auto", "cpu", "cuda"}
	for _, d := range devices {
		if !slices.Contains(names, d.name) {
			names = append(names, d.name)
		}
	}
	return append(names, "gorgonia")
}

// Open returns the backend for device: "cpu" the CPU plan, "gorgonia" the
// graphs on Gorgonia's TapeMachine (the slow reference the plans are
// checked against; one chunk size keeps it from building a graph per
// size), a registered device its backend ("cuda" the CUDA worker, an error
// wrapping ErrNoCUDA when there is none), and "auto" (or "") the first
// registered device that opens and the CPU otherwise. When auto falls
// back, opts.Logf (log.Printf when nil) receives a one-line reason.
func Open(device string, opts Options) (Backend, error) {
	logf := opts.Logf
	if logf == nil {
		logf = log.Printf
	}
	switch device {
	case "cpu":
		return NewCPU(opts), nil
	case "gorgonia":
		return NewReference(), nil
	case "auto", "":
		b, err := openAccelerator(opts)
		if err == nil {
			return b, nil
		}
		cpu := NewCPU(opts)
		logf("device auto: %v; using %s", err, cpu.Name())
		return cpu, nil
	}
	for _, d := range devices {
		if d.name == device {
			return d.open(opts)
		}
	}
	if device == "cuda" {
		return nil, noCUDAClient
	}
	return nil, fmt.Errorf("graph: unknown device %q: use %s", device, strings.Join(Devices(), ", "))
}

// noCUDAClient is Open("cuda")'s error in a build without the worker's
// client (package worker).
var noCUDAClient = fmt.Errorf("%w: this build has no CUDA client", ErrNoCUDA)

// openAccelerator opens the first registered device that opens, for auto.
func openAccelerator(opts Options) (Backend, error) {
	if len(devices) == 0 {
		return nil, noCUDAClient
	}
	var errs []error
	for _, d := range devices {
		b, err := d.open(opts)
		if err == nil {
			return b, nil
		}
		errs = append(errs, err)
	}
	return nil, errors.Join(errs...)
}
