// Package cxxtest builds the C++ host harnesses that test the CUDA
// kernels on the CPU (graph/cuda's and envs' tests).
package cxxtest

import (
	"os/exec"
	"path/filepath"
	"testing"
)

// Build compiles the C++ file src (relative to the test's package) with
// flags into a binary in a temporary folder and returns its path. Without
// a C++ compiler the test skips, so that `make test` works on a machine
// with only Go; make test lists every skip, and CI (which installs g++)
// fails on it.
func Build(t testing.TB, src string, flags ...string) string {
	t.Helper()
	cxx, err := exec.LookPath("g++")
	if err != nil {
		if cxx, err = exec.LookPath("clang++"); err != nil {
			t.Skip("no C++ compiler (g++ or clang++) to build the kernels' host harness")
		}
	}
	bin := filepath.Join(t.TempDir(), "host_harness")
	args := append(append([]string{"-O1"}, flags...), "-o", bin, src)
	if out, err := exec.Command(cxx, args...).CombinedOutput(); err != nil {
		t.Fatalf("build the host harness %s: %v\n%s", src, err, out)
	}
	return bin
}
