//go:build !rlcuda

// Without the rlcuda tag this test binary links no CUDA code, so it runs
// anywhere; with it, the package would link gorgonia.org/cu, whose init
// exits without a GPU, so the test is left out.

package cuda

import (
	"os/exec"
	"path/filepath"
	"testing"
)

// TestKernelsIndexCorrectlyOnTheHost compiles kernels.cu as plain C++ with
// one thread covering each grid-stride loop and checks every kernel's
// output, so their indexing is tested without a GPU. It needs a C++
// compiler (skipped otherwise).
func TestKernelsIndexCorrectlyOnTheHost(t *testing.T) {
	cxx, err := exec.LookPath("g++")
	if err != nil {
		if cxx, err = exec.LookPath("clang++"); err != nil {
			t.Skip("no C++ compiler to build the host harness")
		}
	}
	bin := filepath.Join(t.TempDir(), "kernels_host")
	if out, err := exec.Command(cxx, "-O1", "-I.", "-o", bin, "testdata/kernels_host.cpp").CombinedOutput(); err != nil {
		t.Fatalf("build the host harness: %v\n%s", err, out)
	}
	out, err := exec.Command(bin).CombinedOutput()
	if err != nil {
		t.Fatalf("kernels on the host: %v\n%s", err, out)
	}
}
