// Kernels of the rleval CUDA worker: element-wise ones, and gemm_xwt, the
// GEMM used when no cuBLAS library can be found at run time. Matrices are row-major
// rows×cols float32. Every parameter is 8 bytes wide (pointers and long
// long) because gorgonia.org/cu's Launch copies each argument as 8 bytes.
//
// Rebuild kernels.ptx after editing (see go:generate in kernels.go):
//   nvcc -ptx -arch=compute_70 -o kernels.ptx kernels.cu

extern "C" {

// Activation codes of bias_act (kernels.go mirrors them): the epilogues of
// graph.Plan's hidden steps, each as the CPU plan computes it (graph/kernels.go).
#define ACT_IDENTITY 0
#define ACT_RELU 1
#define ACT_TANH 2
#define ACT_ELU 3
#define ACT_SILU 4
#define ACT_LEAKY 5

// bias_act: y[r][c] = act(y[r][c] + b[c]): identity, relu max(v, 0), tanh,
// elu (v > 0 ? v : expm1(v)), silu v·sigmoid(v), leaky_relu
// (v >= 0 ? v : alpha·v). Scalars are doubles: every argument is 8 bytes.
__global__ void bias_act(float *y, const float *b, long long rows, long long cols, long long act, double alpha)
{
    long long total = rows * cols;
    float a = (float)alpha;
    for (long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x; i < total;
         i += (long long)blockDim.x * gridDim.x) {
        float v = y[i] + b[i % cols];
        switch (act) {
        case ACT_RELU: v = v > 0.0f ? v : 0.0f; break;
        case ACT_TANH: v = tanhf(v); break;
        case ACT_ELU: v = v > 0.0f ? v : expm1f(v); break;
        case ACT_SILU: v = v / (1.0f + expf(-v)); break;
        case ACT_LEAKY: v = v < 0.0f ? v * a : v; break;
        }
        y[i] = v;
    }
}

// bias_tanh_scale: the actor head. For the first actDim of cols columns:
// v = y[r][j] + b[j], clamped to ±clip when clip > 0 (a mean clamp), then
// out[r][j] = low[j] + (tanh(v) + 1) * half[j], half = (high-low)/2.
__global__ void bias_tanh_scale(const float *y, const float *b, const float *low, const float *half,
                                float *out, long long rows, long long cols, long long actDim, double clip)
{
    long long total = rows * actDim;
    float c = (float)clip;
    for (long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x; i < total;
         i += (long long)blockDim.x * gridDim.x) {
        long long r = i / actDim, j = i % actDim;
        float v = y[r * cols + j] + b[j];
        if (c > 0.0f) {
            v = fminf(fmaxf(v, -c), c);
        }
        out[i] = low[j] + (tanhf(v) + 1.0f) * half[j];
    }
}

// bias_exp_clamp: a SAC actor's policy std, out[i] = exp(clamp(y[i] + b[c], lo, hi)).
__global__ void bias_exp_clamp(const float *y, const float *b, float *out, long long rows, long long cols,
                               double lo, double hi)
{
    long long total = rows * cols;
    float l = (float)lo, h = (float)hi;
    for (long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x; i < total;
         i += (long long)blockDim.x * gridDim.x) {
        out[i] = expf(fminf(fmaxf(y[i] + b[i % cols], l), h));
    }
}

// bias_mean_rows: a quantile critic's value, out[r] = mean over c of
// y[r][c] + b[c], summed left to right as the CPU plan (and Gorgonia's
// Mean) does. One thread a row.
__global__ void bias_mean_rows(const float *y, const float *b, float *out, long long rows, long long cols)
{
    for (long long r = (long long)blockIdx.x * blockDim.x + threadIdx.x; r < rows;
         r += (long long)blockDim.x * gridDim.x) {
        const float *yr = y + r * cols;
        float s = 0.0f;
        for (long long c = 0; c < cols; c++) {
            s += yr[c] + b[c];
        }
        out[r] = s / (float)cols;
    }
}

// norm_rows: the input normalisation, out[r][c] = clamp((x[r][c] - mean[c]) /
// std[c], ±clip) for the first ncols of cols columns, x[r][c] for the rest
// (a critic's action).
__global__ void norm_rows(const float *x, const float *mean, const float *std, float *out, long long rows,
                          long long cols, long long ncols, double clip)
{
    long long total = rows * cols;
    float c = (float)clip;
    for (long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x; i < total;
         i += (long long)blockDim.x * gridDim.x) {
        long long j = i % cols;
        float v = x[i];
        if (j < ncols) {
            v = fminf(fmaxf((v - mean[j]) / std[j], -c), c);
        }
        out[i] = v;
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
