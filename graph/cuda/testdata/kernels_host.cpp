// Runs the element-wise kernels of kernels.cu on the CPU, one thread
// covering the whole grid-stride loop, to check their indexing without a
// GPU. Built and run by TestKernelsIndexCorrectlyOnTheHost.
#include <cmath>
#include <cstdio>
#define __global__
struct dim3 { unsigned x, y, z; };
static dim3 blockIdx{0,0,0}, blockDim{1,1,1}, gridDim{1,1,1}, threadIdx{0,0,0};
#include "kernels.cu"
int main() {
  int bad = 0;
  // bias_act relu on 2x3
  float y[6] = {-1, 0.5, 2, 3, -4, 0}; float b[3] = {0.5, -1, 1};
  bias_act(y, b, 2, 3, 1);
  float wy[6] = {0, 0, 3, 3.5, 0, 1};
  for (int i = 0; i < 6; i++) if (y[i] != wy[i]) { printf("bias_act[%d]=%g want %g\n", i, y[i], wy[i]); bad++; }
  // head: sac-style cols=4, actDim=2
  float h[8] = {0, 1, 9, 9, -1, 0.25, 9, 9}; float hb[4] = {0, 0, 100, 100};
  float lo[2] = {-2, 0}, half[2] = {2, 0.5}; float out[4];
  bias_tanh_scale(h, hb, lo, half, out, 2, 4, 2);
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
  printf(bad ? "FAIL\n" : "kernels ok on host\n");
  return bad;
}
