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

// The environment kernels of a rollout on the device (graph.Roller): the
// states stay in float64 on the device, as Gymnasium keeps them, and each
// kernel is envs' Go code operation by operation (envs/pendulum.go,
// envs/mountaincar.go; the host harness testdata/envs_host.cpp checks them
// against it). Every double operation is rounded on its own: nvcc would
// otherwise contract a*b+c into one fused multiply-add, which Go's amd64
// compiler never does. Only sin, cos (CUDA's, within 2 ulp; Go's within 1
// ulp) and hence observations and steps may differ from the host's by
// an ulp. A state is stepped only while alive[i] is set.
#ifdef __CUDACC__
#define DMUL(a, b) __dmul_rn((a), (b))
#define DADD(a, b) __dadd_rn((a), (b))
#define FMUL(a, b) __fmul_rn((a), (b))
#define ENV_FN static __device__ __forceinline__
#else
#define DMUL(a, b) ((double)(a) * (double)(b))
#define DADD(a, b) ((double)(a) + (double)(b))
#define FMUL(a, b) ((float)(a) * (float)(b))
#define ENV_FN static inline
#endif
#define DSUB(a, b) DADD((a), -(b))
#define ENV_PI 3.141592653589793

// clipd and clipf are Go's min(max(v, lo), hi) for lo < hi nonzero: NaN
// stays NaN (fmin/fmax would drop it).
ENV_FN double clipd(double v, double lo, double hi) { return v != v ? v : (v < lo ? lo : (v > hi ? hi : v)); }
ENV_FN float clipf(float v, float lo, float hi) { return v != v ? v : (v < lo ? lo : (v > hi ? hi : v)); }

// pendulum_obs: obs[i] = [cos θ, sin θ, θ̇] in float32 of s[i] = (θ, θ̇).
__global__ void pendulum_obs(const double *s, float *obs, long long n)
{
    for (long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x; i < n;
         i += (long long)blockDim.x * gridDim.x) {
        double th = s[2 * i], thdot = s[2 * i + 1];
        obs[3 * i] = (float)cos(th);
        obs[3 * i + 1] = (float)sin(th);
        obs[3 * i + 2] = (float)thdot;
    }
}

// pendulum_step: Pendulum-v1's step (envs/pendulum.go): u = clip(a, ±2);
// r = −(angle_normalize(θ)² + 0.1·θ̇² + 0.001·u²), u² in float32;
// θ̇' = clip(θ̇ + (15·sin θ + 3·u)·0.05, ±8); θ' = θ + θ̇'·0.05. Never done.
__global__ void pendulum_step(double *s, const float *act, const int *alive, double *rew, int *done, long long n)
{
    for (long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x; i < n;
         i += (long long)blockDim.x * gridDim.x) {
        done[i] = 0;
        if (!alive[i]) {
            continue;
        }
        double th = s[2 * i], thdot = s[2 * i + 1];
        float u32 = clipf(act[i], -2.0f, 2.0f);
        double u = (double)u32;
        double r = fmod(DADD(th, ENV_PI), 2 * ENV_PI);
        if (r < 0) {
            r = DADD(r, 2 * ENV_PI);
        }
        double an = DSUB(r, ENV_PI);
        rew[i] = -DADD(DADD(DMUL(an, an), DMUL(DMUL(0.1, thdot), thdot)), DMUL(0.001, (double)FMUL(u32, u32)));
        double nthdot = DADD(thdot, DMUL(DADD(DMUL(15.0, sin(th)), DMUL(3.0, u)), 0.05));
        nthdot = clipd(nthdot, -8.0, 8.0);
        s[2 * i] = DADD(th, DMUL(nthdot, 0.05));
        s[2 * i + 1] = nthdot;
    }
}

// mountaincar_obs: obs[i] = s[i] in float32.
__global__ void mountaincar_obs(const double *s, float *obs, long long n)
{
    for (long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x; i < 2 * n;
         i += (long long)blockDim.x * gridDim.x) {
        obs[i] = (float)s[i];
    }
}

// mountaincar_step: MountainCarContinuous-v0's step
// (envs/mountaincar.go): f = clip(a, ±1); v' = clip(v + f·0.0015 −
// 0.0025·cos 3x, ±0.07), 3x rounded to float32 when x is a float32;
// x' = clip(x + v', −1.2, 0.6), v' = 0 at the left wall moving left; done
// when x' ≥ 0.45 and v' ≥ 0; r = 100·done − 0.1·a²; the new state stored
// as float32 values.
__global__ void mountaincar_step(double *s, const float *act, const int *alive, double *rew, int *done, long long n)
{
    for (long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x; i < n;
         i += (long long)blockDim.x * gridDim.x) {
        done[i] = 0;
        if (!alive[i]) {
            continue;
        }
        double x = s[2 * i], v = s[2 * i + 1];
        double a = (double)act[i];
        double f = clipd(a, -1.0, 1.0);
        double x3 = DMUL(3.0, x);
        if (x == (double)(float)x) {
            x3 = (double)(float)x3;
        }
        v = DADD(v, DSUB(DMUL(f, 0.0015), DMUL(0.0025, cos(x3))));
        v = clipd(v, -0.07, 0.07);
        x = DADD(x, v);
        x = clipd(x, -1.2, 0.6);
        if (x == -1.2 && v < 0) {
            v = 0;
        }
        int term = x >= 0.45 && v >= 0;
        rew[i] = term ? DSUB(100.0, DMUL(DMUL(a, a), 0.1)) : DMUL(DMUL(-a, a), 0.1);
        done[i] = term;
        s[2 * i] = (double)(float)x;
        s[2 * i + 1] = (double)(float)v;
    }
}

// rollout_accumulate: after a step, for each live state ret += disc·rew
// (disc = γᵗ, computed on the host as envs.Run does), one more step taken,
// and a done state retired: alive = 0, term = 1.
__global__ void rollout_accumulate(double *ret, int *steps, int *alive, int *term, const double *rew, const int *done,
                                   long long n, double disc)
{
    for (long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x; i < n;
         i += (long long)blockDim.x * gridDim.x) {
        if (!alive[i]) {
            continue;
        }
        ret[i] = DADD(ret[i], DMUL(disc, rew[i]));
        steps[i] += 1;
        if (done[i]) {
            alive[i] = 0;
            term[i] = 1;
        }
    }
}

// count_alive: *count += the live states (one atomic add per thread).
__global__ void count_alive(const int *alive, unsigned long long *count, long long n)
{
    unsigned long long c = 0;
    for (long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x; i < n;
         i += (long long)blockDim.x * gridDim.x) {
        c += alive[i] != 0;
    }
    if (c) {
        atomicAdd(count, c);
    }
}

}
