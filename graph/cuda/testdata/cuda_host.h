// The CUDA built-ins kernels.cu uses, for compiling it as plain C++ on the
// host with one thread covering each grid-stride loop (kernels_host.cpp,
// envs_host.cpp).
#include <cmath>
#define __global__
struct dim3 { unsigned x, y, z; };
static dim3 blockIdx{0,0,0}, blockDim{1,1,1}, gridDim{1,1,1}, threadIdx{0,0,0};
static unsigned long long atomicAdd(unsigned long long *p, unsigned long long v) {
  unsigned long long old = *p;
  *p += v;
  return old;
}
