//go:build cgo && !rlcuda

package cuda

import (
	"strings"
	"testing"
)

// TestLoadCublasResolvesTheWorkersFunctions loads every cuBLAS this machine
// has (CI installs CUDA 11.8's) and resolves the functions the worker
// calls, without a device; a missing library fails with dlopen's reason.
func TestLoadCublasResolvesTheWorkersFunctions(t *testing.T) {
	if _, err := loadCublas(cublasCandidate{lib: "/nonexistent/libcublas.so.99"}); err == nil || !strings.Contains(err.Error(), "libcublas.so.99") {
		t.Errorf("loading a missing library: %v, want dlopen's error naming it", err)
	}
	loaded := 0
	for _, cand := range cublasCandidates(osEnv) {
		l, err := loadCublas(cand)
		if err != nil {
			if strings.Contains(err.Error(), "undefined symbol") {
				t.Errorf("%s loads but lacks a function the worker calls: %v", cand.lib, err)
			} else if !strings.Contains(err.Error(), "libcublas") {
				t.Errorf("%s: error %q does not name the library", cand.lib, err)
			}
			continue
		}
		loaded++
		t.Logf("loaded %s (%s)", l.path, cand.lt)
		if l.c.create == nil || l.c.destroy == nil || l.c.set_stream == nil || l.c.sgemm == nil || l.c.sgemm_strided == nil {
			t.Errorf("%s: a function is unresolved", cand.lib)
		}
		l.unload()
	}
	t.Logf("%d cuBLAS libraries loaded", loaded)
}
