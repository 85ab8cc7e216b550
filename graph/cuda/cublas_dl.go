//go:build cgo

package cuda

/*
#cgo LDFLAGS: -ldl
#include <dlfcn.h>
#include <stdint.h>
#include <stdlib.h>

// The few cuBLAS types and functions the worker uses, declared here so
// that it builds without cuBLAS's headers and links without the library:
// it is found and loaded at run time (dlopen), so the binary depends only
// on the driver's libcuda.so.1. The signatures are those of cublas_api.h,
// unchanged from CUDA 11 to 13.
typedef int rl_status;
typedef void *rl_handle;
typedef rl_status (*rl_create_fn)(rl_handle *);
typedef rl_status (*rl_destroy_fn)(rl_handle);
typedef rl_status (*rl_set_stream_fn)(rl_handle, void *);
typedef rl_status (*rl_sgemm_fn)(rl_handle, int, int, int, int, int, const float *, const float *, int,
                                 const float *, int, const float *, float *, int);
typedef rl_status (*rl_sgemm_strided_fn)(rl_handle, int, int, int, int, int, const float *, const float *, int,
                                         long long, const float *, int, long long, const float *, float *, int,
                                         long long, int);

typedef struct {
	void *lib, *lt;
	rl_create_fn create;
	rl_destroy_fn destroy;
	rl_set_stream_fn set_stream;
	rl_sgemm_fn sgemm;
	rl_sgemm_strided_fn sgemm_strided;
} rl_cublas;

// rl_cublas_open loads lt (may be NULL), then lib, and resolves the
// functions; it returns NULL on success and dlerror's message otherwise.
static const char *rl_cublas_open(rl_cublas *c, const char *lib, const char *lt) {
	if (lt != NULL) {
		// RTLD_GLOBAL: libcublas finds its libcublasLt already loaded,
		// wherever the two live.
		c->lt = dlopen(lt, RTLD_NOW | RTLD_GLOBAL);
	}
	c->lib = dlopen(lib, RTLD_NOW | RTLD_LOCAL);
	if (c->lib == NULL) {
		return dlerror();
	}
	struct { const char *name; void **fn; } syms[] = {
		{"cublasCreate_v2", (void **)&c->create},
		{"cublasDestroy_v2", (void **)&c->destroy},
		{"cublasSetStream_v2", (void **)&c->set_stream},
		{"cublasSgemm_v2", (void **)&c->sgemm},
		{"cublasSgemmStridedBatched", (void **)&c->sgemm_strided},
	};
	for (unsigned i = 0; i < sizeof syms / sizeof syms[0]; i++) {
		*syms[i].fn = dlsym(c->lib, syms[i].name);
		if (*syms[i].fn == NULL) {
			return dlerror();
		}
	}
	return NULL;
}

static void rl_cublas_close(rl_cublas *c) {
	if (c->lib != NULL) dlclose(c->lib);
	if (c->lt != NULL) dlclose(c->lt);
}

static rl_status rl_create(rl_cublas *c, rl_handle *h) { return c->create(h); }
static rl_status rl_destroy(rl_cublas *c, rl_handle h) { return c->destroy(h); }
static rl_status rl_set_stream(rl_cublas *c, rl_handle h) { return c->set_stream(h, NULL); }

// Device pointers arrive as integers: they are not Go pointers.
static rl_status rl_sgemm(rl_cublas *c, rl_handle h, int ta, int tb, int m, int n, int k,
                          uintptr_t a, int lda, uintptr_t b, int ldb, uintptr_t y, int ldc) {
	const float one = 1.0f, zero = 0.0f;
	return c->sgemm(h, ta, tb, m, n, k, &one, (const float *)a, lda, (const float *)b, ldb, &zero, (float *)y, ldc);
}

static rl_status rl_sgemm_strided(rl_cublas *c, rl_handle h, int ta, int tb, int m, int n, int k,
                                  uintptr_t a, int lda, long long sa, uintptr_t b, int ldb, long long sb,
                                  uintptr_t y, int ldc, long long sc, int batch) {
	const float one = 1.0f, zero = 0.0f;
	return c->sgemm_strided(h, ta, tb, m, n, k, &one, (const float *)a, lda, sa, (const float *)b, ldb, sb,
	                        &zero, (float *)y, ldc, sc, batch);
}
*/
import "C"

import (
	"errors"
	"fmt"
	"strings"
	"unsafe"

	"gonum.org/v1/gonum/blas"
)

// cublasLib is cuBLAS loaded at run time, with one handle on the current
// context once created.
type cublasLib struct {
	c      *C.rl_cublas // C memory: cgo passes it to C freely
	handle C.rl_handle
	path   string
}

// openCublas tries cublasCandidates in order and returns the first cuBLAS
// that loads and creates a handle on the current context; the error lists
// every place tried.
func openCublas() (*cublasLib, error) {
	var tried []string
	for _, cand := range cublasCandidates(osEnv) {
		l, err := loadCublas(cand)
		if err == nil {
			if err = l.createHandle(); err == nil {
				return l, nil
			}
		}
		tried = append(tried, err.Error())
	}
	return nil, fmt.Errorf("no usable cuBLAS (%s; set $CUDA_HOME or $LD_LIBRARY_PATH to a folder holding one): tried %s",
		strings.Join(cublasSonames, ", "), strings.Join(tried, "; "))
}

// loadCublas loads the library of cand and resolves the functions the
// worker calls, without touching the device.
func loadCublas(cand cublasCandidate) (*cublasLib, error) {
	c := (*C.rl_cublas)(C.calloc(1, C.size_t(unsafe.Sizeof(C.rl_cublas{}))))
	lib := C.CString(cand.lib)
	defer C.free(unsafe.Pointer(lib))
	var lt *C.char
	if cand.lt != "" {
		lt = C.CString(cand.lt)
		defer C.free(unsafe.Pointer(lt))
	}
	if msg := C.rl_cublas_open(c, lib, lt); msg != nil {
		err := errors.New(C.GoString(msg))
		C.rl_cublas_close(c)
		C.free(unsafe.Pointer(c))
		return nil, err
	}
	return &cublasLib{c: c, path: cand.lib}, nil
}

// createHandle creates the cuBLAS handle on the calling thread's current
// context, on the default stream; on failure it unloads the library.
func (l *cublasLib) createHandle() error {
	if st := C.rl_create(l.c, &l.handle); st != 0 {
		l.unload()
		return fmt.Errorf("%s: cublasCreate: %s", l.path, cublasStatus(st))
	}
	if st := C.rl_set_stream(l.c, l.handle); st != 0 {
		l.close()
		return fmt.Errorf("%s: cublasSetStream: %s", l.path, cublasStatus(st))
	}
	return nil
}

func (l *cublasLib) unload() {
	if l.c != nil {
		C.rl_cublas_close(l.c)
		C.free(unsafe.Pointer(l.c))
		l.c = nil
	}
}

func (l *cublasLib) name() string { return "cuBLAS " + l.path }

func (l *cublasLib) close() error {
	if l.c == nil {
		return nil
	}
	st := C.rl_destroy(l.c, l.handle)
	l.unload()
	if st != 0 {
		return fmt.Errorf("cublasDestroy: %s", cublasStatus(st))
	}
	return nil
}

func cublasOp(t blas.Transpose) C.int {
	if t == blas.Trans {
		return 1 // CUBLAS_OP_T
	}
	return 0 // CUBLAS_OP_N
}

// gemm runs g on device matrices a, b and c (device addresses): sgemm for
// one matrix, sgemmStridedBatched for a stack.
func (l *cublasLib) gemm(g gemmArgs, a, b, c uintptr) error {
	var st C.rl_status
	if g.batch <= 1 {
		st = C.rl_sgemm(l.c, l.handle, cublasOp(g.tA), cublasOp(g.tB), C.int(g.m), C.int(g.n), C.int(g.k),
			C.uintptr_t(a), C.int(g.lda), C.uintptr_t(b), C.int(g.ldb), C.uintptr_t(c), C.int(g.ldc))
	} else {
		st = C.rl_sgemm_strided(l.c, l.handle, cublasOp(g.tA), cublasOp(g.tB), C.int(g.m), C.int(g.n), C.int(g.k),
			C.uintptr_t(a), C.int(g.lda), C.longlong(g.strideA), C.uintptr_t(b), C.int(g.ldb), C.longlong(g.strideB),
			C.uintptr_t(c), C.int(g.ldc), C.longlong(g.strideC), C.int(g.batch))
	}
	if st != 0 {
		return fmt.Errorf("cuBLAS sgemm %d×%d×%d (batch %d): %s", g.m, g.n, g.k, max(g.batch, 1), cublasStatus(st))
	}
	return nil
}

// cublasStatus names a cublasStatus_t (cublas_api.h).
func cublasStatus(st C.rl_status) string {
	names := map[C.rl_status]string{1: "CUBLAS_STATUS_NOT_INITIALIZED", 3: "CUBLAS_STATUS_ALLOC_FAILED",
		7: "CUBLAS_STATUS_INVALID_VALUE", 8: "CUBLAS_STATUS_ARCH_MISMATCH", 11: "CUBLAS_STATUS_MAPPING_ERROR",
		13: "CUBLAS_STATUS_EXECUTION_FAILED", 14: "CUBLAS_STATUS_INTERNAL_ERROR", 15: "CUBLAS_STATUS_NOT_SUPPORTED",
		16: "CUBLAS_STATUS_LICENSE_ERROR"}
	if s, ok := names[st]; ok {
		return s
	}
	return fmt.Sprintf("cuBLAS status %d", int(st))
}
