package cuda

import (
	"os"
	"path/filepath"
	"reflect"
	"testing"
)

// TestCublasCandidatesFindsToolkitAndTorchWheels lays out a CUDA toolkit
// and a virtualenv holding PyTorch's cuBLAS wheels in a temporary folder
// and checks the order in which the worker would try them.
func TestCublasCandidatesFindsToolkitAndTorchWheels(t *testing.T) {
	root := t.TempDir()
	touch := func(rel string) string {
		p := filepath.Join(root, rel)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, nil, 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	cuda12 := touch("cuda/lib64/libcublas.so.12")
	cuda12lt := touch("cuda/lib64/libcublasLt.so.12")
	wheel13 := touch("venv/lib/python3.12/site-packages/nvidia/cu13/lib/libcublas.so.13")
	wheel13lt := touch("venv/lib/python3.12/site-packages/nvidia/cu13/lib/libcublasLt.so.13")
	wheel11 := touch("venv/lib/python3.12/site-packages/nvidia/cublas/lib/libcublas.so.11")
	touch("venv/lib/python3.12/site-packages/nvidia/cublas/lib/libcublas.so.10") // too old
	vars := map[string]string{"CUDA_HOME": filepath.Join(root, "cuda"), "VIRTUAL_ENV": filepath.Join(root, "venv")}
	env := osEnv
	env.getenv = func(k string) string { return vars[k] }
	env.glob = func(pat string) ([]string, error) {
		if filepath.IsAbs(pat) && !hasPrefix(pat, root) {
			return nil, nil // keep the machine's own folders out
		}
		return filepath.Glob(pat)
	}
	want := []cublasCandidate{
		{lib: "libcublas.so.13", lt: "libcublasLt.so.13"},
		{lib: wheel13, lt: wheel13lt},
		{lib: "libcublas.so.12", lt: "libcublasLt.so.12"},
		{lib: cuda12, lt: cuda12lt},
		{lib: "libcublas.so.11", lt: "libcublasLt.so.11"},
		{lib: wheel11},
	}
	got := cublasCandidates(env)
	// /usr/local/cuda is not under root; drop what the machine itself has.
	var mine []cublasCandidate
	for _, c := range got {
		if !filepath.IsAbs(c.lib) || hasPrefix(c.lib, root) {
			mine = append(mine, c)
		}
	}
	if !reflect.DeepEqual(mine, want) {
		t.Errorf("candidates:\n got %v\nwant %v", mine, want)
	}
}

func hasPrefix(p, root string) bool {
	rel, err := filepath.Rel(root, p)
	return err == nil && rel != ".." && !filepath.IsAbs(rel) && (len(rel) < 2 || rel[:2] != "..")
}
