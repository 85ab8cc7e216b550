// Runs the element-wise kernels of kernels.cu on the CPU, one thread
// covering the whole grid-stride loop, to check their indexing without a
// GPU. Built and run by TestKernelsIndexCorrectlyOnTheHost.
#include <cmath>
#include <cstdio>
#include "cuda_host.h"
#include "kernels.cu"
// near: within a few float ulps of the double reference.
static bool near(float got, double want) {
  return std::fabs((double)got - want) <= 4e-7 * std::fmax(1.0, std::fabs(want));
}
int main() {
  int bad = 0;
  // bias_act relu on 2x3
  float y[6] = {-1, 0.5, 2, 3, -4, 0}; float b[3] = {0.5, -1, 1};
  bias_act(y, b, 2, 3, 1, 0);
  float wy[6] = {0, 0, 3, 3.5, 0, 1};
  for (int i = 0; i < 6; i++) if (y[i] != wy[i]) { printf("bias_act[%d]=%g want %g\n", i, y[i], wy[i]); bad++; }
  // head: sac-style cols=4, actDim=2
  float h[8] = {0, 1, 9, 9, -1, 0.25, 9, 9}; float hb[4] = {0, 0, 100, 100};
  float lo[2] = {-2, 0}, half[2] = {2, 0.5}; float out[4];
  bias_tanh_scale(h, hb, lo, half, out, 2, 4, 2, 0);
  for (int r = 0; r < 2; r++) for (int j = 0; j < 2; j++) {
    float w = lo[j] + (tanhf(h[r*4+j] + hb[j]) + 1.0f) * half[j];
    if (out[r*2+j] != w) { printf("head[%d,%d]=%g want %g\n", r, j, out[r*2+j], w); bad++; }
  }
  // concat 2 rows: a 2 cols, b 1 col
  float a[4] = {1, 2, 3, 4}, c[2] = {5, 6}, cat[6];
  concat(a, c, cat, 2, 2, 1);
  float wc[6] = {1, 2, 5, 3, 4, 6};
  for (int i = 0; i < 6; i++) if (cat[i] != wc[i]) { printf("concat[%d]=%g want %g\n", i, cat[i], wc[i]); bad++; }
  float m[3]; float p[3] = {1, -2, 3}, q[3] = {0, 5, 3};
  min2(p, q, m, 3);
  if (m[0] != 0 || m[1] != -2 || m[2] != 3) { printf("min2 wrong\n"); bad++; }
  // gemm_xwt: 2 networks interleaved by row ([row][net][width]), 3 rows,
  // in 2, out 3: y[r][z][o] = sum_k x[r][z][k] * w[z][o][k].
  {
    const int B = 2, R = 3, I = 2, O = 3;
    float x[R*B*I], w[B*O*I], gy[R*B*O];
    for (int i = 0; i < R*B*I; i++) x[i] = (float)(i % 5) - 2;
    for (int i = 0; i < B*O*I; i++) w[i] = (float)(i % 7) - 3;
    gemm_xwt(x, w, gy, B, R, I, O, B*I, I, O*I, B*O, O);
    for (int z = 0; z < B; z++) for (int r = 0; r < R; r++) for (int o = 0; o < O; o++) {
      float s = 0;
      for (int k = 0; k < I; k++) s += x[r*B*I + z*I + k] * w[z*O*I + o*I + k];
      if (gy[r*B*O + z*O + o] != s) { printf("gemm_xwt[%d,%d,%d]=%g want %g\n", z, r, o, gy[r*B*O + z*O + o], s); bad++; }
    }
  }
  // The plan's epilogues, against the CPU plan's formulas in double
  // (graph/kernels.go), within float rounding.
  {
    const float in[6] = {-2.5f, -0.3f, 0.0f, 0.2f, 1.7f, -40.0f};
    const float bb[3] = {0.25f, -0.5f, 0.0f};
    for (int act = 0; act <= 5; act++) {
      float v[6]; for (int i = 0; i < 6; i++) v[i] = in[i];
      bias_act(v, bb, 2, 3, act, 0.125);
      for (int i = 0; i < 6; i++) {
        double x = (double)in[i] + bb[i % 3], w = x;
        switch (act) {
        case 1: w = x > 0 ? x : 0; break;
        case 2: w = std::tanh(x); break;
        case 3: w = x > 0 ? x : std::expm1(x); break;
        case 4: w = x / (1 + std::exp(-x)); break;
        case 5: w = x < 0 ? 0.125 * x : x; break;
        }
        if (!near(v[i], w)) { printf("bias_act act %d [%d]=%.9g want %.9g\n", act, i, v[i], w); bad++; }
      }
    }
    // Mean clamp before the tanh-scale head.
    float hc[4] = {3.0f, -0.1f, -5.0f, 0.4f}, zb[2] = {0.5f, 0}, l2[2] = {-1, 0}, h2[2] = {1, 2}, o2[4];
    bias_tanh_scale(hc, zb, l2, h2, o2, 2, 2, 2, 1.5);
    for (int i = 0; i < 4; i++) {
      double x = (double)hc[i] + zb[i % 2]; x = x > 1.5 ? 1.5 : (x < -1.5 ? -1.5 : x);
      double w = l2[i % 2] + (std::tanh(x) + 1) * h2[i % 2];
      if (!near(o2[i], w)) { printf("clamped head[%d]=%.9g want %.9g\n", i, o2[i], w); bad++; }
    }
    // Policy std: exp(clamp(v, -20, 2)).
    float ls[4] = {-30.0f, -1.0f, 0.5f, 9.0f}, sb[2] = {0, 0.25f}, so[4];
    bias_exp_clamp(ls, sb, so, 2, 2, -20, 2);
    for (int i = 0; i < 4; i++) {
      double x = (double)ls[i] + sb[i % 2]; x = x > 2 ? 2 : (x < -20 ? -20 : x);
      if (!near(so[i], std::exp(x))) { printf("exp_clamp[%d]=%.9g want %.9g\n", i, so[i], std::exp(x)); bad++; }
    }
    // Quantile mean: 2 rows of 5.
    float qv[10] = {1, 2, 3, 4, 5, -1, -2, 0.5f, 7, 0.25f}, qb[5] = {0.5f, 0, 0, 0, -1}, qo[2];
    bias_mean_rows(qv, qb, qo, 2, 5);
    for (int r = 0; r < 2; r++) {
      double s = 0; for (int c = 0; c < 5; c++) s += (double)qv[r*5+c] + qb[c];
      if (!near(qo[r], s / 5)) { printf("mean_rows[%d]=%.9g want %.9g\n", r, qo[r], s / 5); bad++; }
    }
    // Input norm: 2 rows of 3 obs + 1 action, clip 2.
    float x[8] = {1, -9, 0.5f, 0.7f, 3, 2, -1, -0.7f}, mu[3] = {0.5f, 0, 1}, sd[3] = {2, 1, 0.5f}, xo[8];
    norm_rows(x, mu, sd, xo, 2, 4, 3, 2);
    for (int i = 0; i < 8; i++) {
      int j = i % 4; double w = x[i];
      if (j < 3) { w = ((double)x[i] - mu[j]) / sd[j]; w = w > 2 ? 2 : (w < -2 ? -2 : w); }
      if (!near(xo[i], w)) { printf("norm_rows[%d]=%.9g want %.9g\n", i, xo[i], w); bad++; }
    }
  }
  printf(bad ? "FAIL\n" : "kernels ok on host\n");
  return bad;
}
