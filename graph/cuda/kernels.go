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
	expClamp, meanRows, norm          cu.Function
	accumulate, countAlive            cu.Function // a rollout's (rollout_device.go)
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
	}{{"bias_act", &k.biasAct}, {"bias_tanh_scale", &k.head}, {"concat", &k.concat}, {"min2", &k.min2}, {"gemm_xwt", &k.gemm},
		{"bias_exp_clamp", &k.expClamp}, {"bias_mean_rows", &k.meanRows}, {"norm_rows", &k.norm},
		{"rollout_accumulate", &k.accumulate}, {"count_alive", &k.countAlive}} {
		if *f.fn, err = mod.Function(f.name); err != nil {
			mod.Unload()
			return nil, fmt.Errorf("PTX module has no kernel %s: %w", f.name, err)
		}
	}
	return k, nil
}

// launch runs fn over total elements. Every argument must be 8 bytes wide
// (a cu.DevicePtr, an int64 or a float64, a double in the kernel): cu's
// Launch copies 8 bytes per argument.
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
		case float64:
			params[i] = unsafe.Pointer(&v)
		default:
			return fmt.Errorf("kernel argument %d is %T, want cu.DevicePtr, int64 or float64", i, a)
		}
	}
	return fn.Launch(int(grid), 1, 1, blockSize, 1, 1, 0, cu.NoStream, params)
}

// biasActRows applies y = act(y + b) to rows×cols y in place; alpha is
// LeakyReLU's slope.
func (k *kernels) biasActRows(y, b cu.DevicePtr, rows, cols int, act int64, alpha float32) error {
	return launch(k.biasAct, int64(rows)*int64(cols), y, b, int64(rows), int64(cols), act, float64(alpha))
}

// headRows writes low + (tanh(clamp(y+b, ±clip))+1)*half (no clamp when
// clip is 0) for the first actDim of cols columns of y into out
// (rows×actDim).
func (k *kernels) headRows(y, b, low, half, out cu.DevicePtr, rows, cols, actDim int, clip float32) error {
	return launch(k.head, int64(rows)*int64(actDim), y, b, low, half, out, int64(rows), int64(cols), int64(actDim), float64(clip))
}

// expClampRows writes exp(clamp(y+b, lo, hi)) of rows×cols y into out.
func (k *kernels) expClampRows(y, b, out cu.DevicePtr, rows, cols int, lo, hi float32) error {
	return launch(k.expClamp, int64(rows)*int64(cols), y, b, out, int64(rows), int64(cols), float64(lo), float64(hi))
}

// meanOfRows writes the mean of each row of y+b (rows×cols) into out.
func (k *kernels) meanOfRows(y, b, out cu.DevicePtr, rows, cols int) error {
	return launch(k.meanRows, int64(rows), y, b, out, int64(rows), int64(cols))
}

// normRows writes x (rows×cols) into out with its first ncols columns
// normalised: clamp((x - mean) / std, ±clip).
func (k *kernels) normRows(x, mean, std, out cu.DevicePtr, rows, cols, ncols int, clip float32) error {
	return launch(k.norm, int64(rows)*int64(cols), x, mean, std, out, int64(rows), int64(cols), int64(ncols), float64(clip))
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
