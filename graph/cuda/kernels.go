//go:build rlcuda

package cuda

import (
	_ "embed"
	"fmt"
	"unsafe"

	"gonum.org/v1/gonum/blas"
	"gorgonia.org/cu"
)

// kernelsPTX is kernels.cu compiled for compute_70: the driver JIT-compiles
// it for the GPU at hand (Volta through Hopper), so the worker needs no nvcc
// at run time and the build no GPU. The file is committed; regenerate it
// after editing kernels.cu.
//
//go:generate nvcc -ptx -arch=compute_70 -o kernels.ptx kernels.cu
//go:embed kernels.ptx
var kernelsPTX string

// Activation codes of the bias_act kernel.
const (
	actIdentity int64 = 0
	actReLU     int64 = 1
	actTanh     int64 = 2
)

// blockSize is the threads per block of the element-wise kernels; they
// loop grid-stride, so the grid is capped at maxGrid blocks.
const (
	blockSize = 256
	maxGrid   = 65535
)

// kernels holds the module's functions.
type kernels struct {
	mod                               cu.Module
	biasAct, head, concat, min2, gemm cu.Function
}

func loadKernels() (*kernels, error) {
	mod, err := cu.LoadData(kernelsPTX)
	if err != nil {
		return nil, fmt.Errorf("load PTX module (needs a driver for CUDA 11.8 or newer): %w", err)
	}
	k := &kernels{mod: mod}
	for _, f := range []struct {
		name string
		fn   *cu.Function
	}{{"bias_act", &k.biasAct}, {"bias_tanh_scale", &k.head}, {"concat", &k.concat}, {"min2", &k.min2}, {"gemm_xwt", &k.gemm}} {
		if *f.fn, err = mod.Function(f.name); err != nil {
			mod.Unload()
			return nil, fmt.Errorf("PTX module has no kernel %s: %w", f.name, err)
		}
	}
	return k, nil
}

// launch runs fn over total elements. Every argument must be 8 bytes wide
// (a cu.DevicePtr or an int64): cu's Launch copies 8 bytes per argument.
func launch(fn cu.Function, total int64, args ...any) error {
	if total <= 0 {
		return nil
	}
	grid := min((total+blockSize-1)/blockSize, maxGrid)
	params := make([]unsafe.Pointer, len(args))
	for i, a := range args {
		switch v := a.(type) {
		case cu.DevicePtr:
			params[i] = unsafe.Pointer(&v)
		case int64:
			params[i] = unsafe.Pointer(&v)
		default:
			return fmt.Errorf("kernel argument %d is %T, want cu.DevicePtr or int64", i, a)
		}
	}
	return fn.Launch(int(grid), 1, 1, blockSize, 1, 1, 0, cu.NoStream, params)
}

// biasActRows applies y = act(y + b) to rows×cols y in place.
func (k *kernels) biasActRows(y, b cu.DevicePtr, rows, cols int, act int64) error {
	return launch(k.biasAct, int64(rows)*int64(cols), y, b, int64(rows), int64(cols), act)
}

// headRows writes low + (tanh(y+b)+1)*half for the first actDim of cols
// columns of y into out (rows×actDim).
func (k *kernels) headRows(y, b, low, half, out cu.DevicePtr, rows, cols, actDim int) error {
	return launch(k.head, int64(rows)*int64(actDim), y, b, low, half, out, int64(rows), int64(cols), int64(actDim))
}

// concatRows writes [a | b] row by row into out.
func (k *kernels) concatRows(a, b, out cu.DevicePtr, rows, ca, cb int) error {
	return launch(k.concat, int64(rows)*int64(ca+cb), a, b, out, int64(rows), int64(ca), int64(cb))
}

// minOf writes the element-wise minimum of a and b (n values) into out.
func (k *kernels) minOf(a, b, out cu.DevicePtr, n int) error {
	return launch(k.min2, int64(n), a, b, out, int64(n))
}

// ptxGemm is the GEMM of the worker without cuBLAS: the gemm_xwt kernel.
type ptxGemm struct{ k *kernels }

func (p ptxGemm) name() string { return "built-in PTX GEMM (no cuBLAS found: slower)" }

func (p ptxGemm) close() error { return nil }

// gemm runs the layer and stack GEMMs of layerGemm and stackGemm, the only
// shapes the worker asks for: A a row-major weight (op Aᵀ), B the inputs.
func (p ptxGemm) gemm(g gemmArgs, a, b, c cu.DevicePtr) error {
	if g.tA != blas.Trans || g.tB != blas.NoTrans || g.lda != g.k {
		return fmt.Errorf("PTX GEMM: unsupported arguments %+v", g)
	}
	return launch(p.k.gemm, int64(max(g.batch, 1))*int64(g.n)*int64(g.m),
		b, a, c, int64(max(g.batch, 1)), int64(g.n), int64(g.k), int64(g.m),
		int64(g.ldb), int64(g.strideB), int64(g.strideA), int64(g.ldc), int64(g.strideC))
}
