// Kernels of the rleval CUDA worker: element-wise ones, and gemm_xwt, the
// GEMM used when no cuBLAS library can be found at run time. Matrices are row-major
// rows×cols float32. Every parameter is 8 bytes wide (pointers and long
// long) because gorgonia.org/cu's Launch copies each argument as 8 bytes.
//
// Rebuild kernels.ptx after editing (see go:generate in kernels.go):
//   nvcc -ptx -arch=compute_70 -o kernels.ptx kernels.cu

extern "C" {

// bias_act: y[r][c] = act(y[r][c] + b[c]); act 0 = identity, 1 = relu, 2 = tanh.
__global__ void bias_act(float *y, const float *b, long long rows, long long cols, long long act)
{
    long long total = rows * cols;
    for (long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x; i < total;
         i += (long long)blockDim.x * gridDim.x) {
        float v = y[i] + b[i % cols];
        if (act == 1) {
            v = v > 0.0f ? v : 0.0f;
        } else if (act == 2) {
            v = tanhf(v);
        }
        y[i] = v;
    }
}

// bias_tanh_scale: the actor head. For the first actDim of cols columns
// (cols = 2*actDim for a Gaussian actor's mean/log_std output):
// out[r][j] = low[j] + (tanh(y[r][j] + b[j]) + 1) * half[j], half = (high-low)/2.
__global__ void bias_tanh_scale(const float *y, const float *b, const float *low, const float *half,
                                float *out, long long rows, long long cols, long long actDim)
{
    long long total = rows * actDim;
    for (long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x; i < total;
         i += (long long)blockDim.x * gridDim.x) {
        long long r = i / actDim, j = i % actDim;
        out[i] = low[j] + (tanhf(y[r * cols + j] + b[j]) + 1.0f) * half[j];
    }
}

// concat: out[r] = [a[r] (ca values), b[r] (cb values)], the critic input.
__global__ void concat(const float *a, const float *b, float *out, long long rows, long long ca, long long cb)
{
    long long w = ca + cb, total = rows * w;
    for (long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x; i < total;
         i += (long long)blockDim.x * gridDim.x) {
        long long r = i / w, c = i % w;
        out[i] = c < ca ? a[r * ca + c] : b[r * cb + (c - ca)];
    }
}

// min2: out[i] = min(a[i], b[i]), the clipped double-Q target.
__global__ void min2(const float *a, const float *b, float *out, long long n)
{
    for (long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x; i < n;
         i += (long long)blockDim.x * gridDim.x) {
        out[i] = fminf(a[i], b[i]);
    }
}

// gemm_xwt: y = x·Wᵀ for batch networks at once, the GEMM the worker uses
// when it finds no cuBLAS: for z < batch, r < rows, o < out,
//   y[z*sy + r*ldy + o] = sum_k x[z*sx + r*ldx + k] * w[z*sw + o*in + k],
// w being torch's row-major out×in weight of network z. One thread per
// output, fused multiply-adds in k order, consecutive threads on
// consecutive outputs of one row (x is then read by the whole warp at one
// address). Simple rather than fast: it keeps the worker usable where only
// the driver is installed.
__global__ void gemm_xwt(const float *x, const float *w, float *y, long long batch, long long rows,
                         long long in, long long out, long long ldx, long long sx, long long sw,
                         long long ldy, long long sy)
{
    long long total = batch * rows * out;
    for (long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x; i < total;
         i += (long long)blockDim.x * gridDim.x) {
        long long o = i % out, t = i / out, r = t % rows, z = t / rows;
        const float *xr = x + z * sx + r * ldx;
        const float *wo = w + z * sw + o * in;
        float s = 0.0f;
        for (long long k = 0; k < in; k++) {
            s = fmaf(xr[k], wo[k], s);
        }
        y[z * sy + r * ldy + o] = s;
    }
}

}
