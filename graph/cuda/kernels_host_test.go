//go:build !rlcuda

// Without the rlcuda tag this test binary links no CUDA code, so it runs
// anywhere; with it, the package would link gorgonia.org/cu, whose init
// exits without a GPU, so the test is left out.

package cuda

import (
	"os/exec"
	"testing"

	"github.com/rleval/rleval/internal/cxxtest"
)

// TestKernelsIndexCorrectlyOnTheHost compiles kernels.cu as plain C++ with
// one thread covering each grid-stride loop and checks every kernel's
// output, so their indexing is tested without a GPU. It needs a C++
// compiler (skipped otherwise).
func TestKernelsIndexCorrectlyOnTheHost(t *testing.T) {
	bin := cxxtest.Build(t, "testdata/kernels_host.cpp", "-I.")
	out, err := exec.Command(bin).CombinedOutput()
	if err != nil {
		t.Fatalf("kernels on the host: %v\n%s", err, out)
	}
}
