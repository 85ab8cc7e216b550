package cuda

import (
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// cublasSonames are the cuBLAS libraries the worker accepts, newest first:
// CUDA 13, 12 and 11 keep the functions it calls with the same signatures.
var cublasSonames = []string{"libcublas.so.13", "libcublas.so.12", "libcublas.so.11"}

// cublasCandidate is one place to try: lib is a path or a bare soname (for
// the dynamic linker's own search), lt the matching libcublasLt, loaded
// first so that a library outside the linker's paths finds it.
type cublasCandidate struct {
	lib, lt string
}

// cublasEnv is what cublasCandidates reads from the environment, so tests
// can give their own.
type cublasEnv struct {
	getenv func(string) string
	glob   func(string) ([]string, error)
	exists func(string) bool
}

var osEnv = cublasEnv{
	getenv: os.Getenv,
	glob:   filepath.Glob,
	exists: func(p string) bool {
		st, err := os.Stat(p)
		return err == nil && !st.IsDir()
	},
}

// cublasCandidates lists where cuBLAS may be, in the order the worker tries
// them: per soname, newest first, the dynamic linker's search (ld.so.cache,
// $LD_LIBRARY_PATH), $CUDA_HOME (and $CUDA_PATH), /usr/local/cuda*, then
// the nvidia/cublas/lib (CUDA 11, 12) and nvidia/cu13/lib (CUDA 13)
// folders of the pip wheels that PyTorch installs, in every site-packages
// folder found. Paths that do not exist are left out; bare sonames are
// always listed.
func cublasCandidates(env cublasEnv) []cublasCandidate {
	var dirs []string
	add := func(ds ...string) {
		for _, d := range ds {
			if d != "" && !contains(dirs, d) {
				dirs = append(dirs, d)
			}
		}
	}
	for _, v := range []string{"CUDA_HOME", "CUDA_PATH"} {
		if h := env.getenv(v); h != "" {
			add(filepath.Join(h, "lib64"), filepath.Join(h, "lib"), filepath.Join(h, "targets/x86_64-linux/lib"))
		}
	}
	add("/usr/local/cuda/lib64", "/usr/local/cuda/targets/x86_64-linux/lib")
	cudas, _ := env.glob("/usr/local/cuda-*/lib64")
	sort.Sort(sort.Reverse(sort.StringSlice(cudas)))
	add(cudas...)
	for _, sp := range sitePackages(env) {
		add(filepath.Join(sp, "nvidia/cu13/lib"), filepath.Join(sp, "nvidia/cublas/lib"))
	}
	var out []cublasCandidate
	for _, so := range cublasSonames {
		lt := strings.Replace(so, "libcublas", "libcublasLt", 1)
		out = append(out, cublasCandidate{lib: so, lt: lt})
		for _, d := range dirs {
			if p := filepath.Join(d, so); env.exists(p) {
				c := cublasCandidate{lib: p}
				if q := filepath.Join(d, lt); env.exists(q) {
					c.lt = q
				}
				out = append(out, c)
			}
		}
	}
	return out
}

// sitePackages returns the Python package folders where a PyTorch wheel
// may have put NVIDIA's libraries: $VIRTUAL_ENV's and $CONDA_PREFIX's,
// $PYTHONPATH's entries, the user's and the system's.
func sitePackages(env cublasEnv) []string {
	var pats []string
	for _, v := range []string{"VIRTUAL_ENV", "CONDA_PREFIX"} {
		if p := env.getenv(v); p != "" {
			pats = append(pats, filepath.Join(p, "lib/python3*/site-packages"))
		}
	}
	if home := env.getenv("HOME"); home != "" {
		pats = append(pats, filepath.Join(home, ".local/lib/python3*/site-packages"))
	}
	pats = append(pats,
		"/usr/local/lib/python3*/site-packages", "/usr/local/lib/python3*/dist-packages",
		"/usr/lib/python3/dist-packages", "/usr/lib/python3*/site-packages",
		"/opt/conda/lib/python3*/site-packages")
	var out []string
	for _, p := range filepath.SplitList(env.getenv("PYTHONPATH")) {
		if p != "" {
			out = append(out, p)
		}
	}
	for _, pat := range pats {
		m, _ := env.glob(pat)
		sort.Sort(sort.Reverse(sort.StringSlice(m))) // newest Python first
		out = append(out, m...)
	}
	return out
}

func contains(s []string, x string) bool {
	for _, v := range s {
		if v == x {
			return true
		}
	}
	return false
}
