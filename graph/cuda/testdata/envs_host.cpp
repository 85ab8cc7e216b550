// Runs the rollout kernels of kernels.cu (the environment steps and
// observations, rollout_accumulate, count_alive) on the CPU, for the tests
// of envs (envs/device_test.go), which compare them with envs' Go code.
// One request on stdin, the answer on stdout, all little-endian binary:
// int64 mode, int64 env (0 Pendulum-v1, 1 MountainCarContinuous-v0), then
//
//   mode 1 (step):   int64 n, double s[2n], float act[n], int32 alive[n]
//                    → float obs[n·obsDim] (of s), double s'[2n],
//                      double rew[n], int32 done[n]
//   mode 2 (accumulate): int64 n, double disc, double ret[n], int32
//                    steps[n], alive[n], term[n], double rew[n], int32
//                    done[n] → double ret[n], int32 steps[n], alive[n],
//                    term[n], uint64 live (count_alive)
//   mode 3 (rollout): int64 n, int64 horizon, int64 segment, double gamma,
//                    int64 hidden h, double w1[h·obsDim], b1[h], w2[h], b2,
//                    bound, double s[2n] → double ret[n], int32 steps[n],
//                    term[n]
//
// Mode 3 is the device's rollout loop (graph/cuda/rollout.go, runSegment)
// on the host: per step the observation kernel, the policy, the step
// kernel and rollout_accumulate with disc = γᵗ multiplied up as envs.Run
// does; every segment steps count_alive and stops when none is left. Its
// policy is a one-hidden-layer tanh MLP in double whose action is rounded
// to float: a = (float)(bound·tanh(b2 + Σ_j w2[j]·tanh(b1[j] + Σ_k
// w1[j][k]·obs[k]))), sums left to right, as the Go test computes it.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <vector>
#include "cuda_host.h"
#include "../kernels.cu"

template <class T> static void rd(std::vector<T> &v, size_t n) {
  v.resize(n);
  if (n && fread(v.data(), sizeof(T), n, stdin) != n) { fprintf(stderr, "short input\n"); exit(2); }
}
template <class T> static T rd1() { std::vector<T> v; rd(v, 1); return v[0]; }
template <class T> static void wr(const std::vector<T> &v) { fwrite(v.data(), sizeof(T), v.size(), stdout); }

struct env {
  int obsDim;
  void (*obs)(const double *, float *, long long);
  void (*step)(double *, const float *, const int *, double *, int *, long long);
};
static const env envs[] = {{3, pendulum_obs, pendulum_step}, {2, mountaincar_obs, mountaincar_step}};

int main() {
  int64_t mode = rd1<int64_t>(), id = rd1<int64_t>();
  if (id < 0 || id > 1) { fprintf(stderr, "env %lld\n", (long long)id); return 2; }
  const env &e = envs[id];
  int64_t n = rd1<int64_t>();
  if (mode == 1) {
    std::vector<double> s, rew(n); std::vector<float> act, obs(n * e.obsDim); std::vector<int32_t> alive, done(n);
    rd(s, 2 * n); rd(act, n); rd(alive, n);
    e.obs(s.data(), obs.data(), n);
    e.step(s.data(), act.data(), alive.data(), rew.data(), done.data(), n);
    wr(obs); wr(s); wr(rew); wr(done);
  } else if (mode == 2) {
    double disc = rd1<double>();
    std::vector<double> ret, rew; std::vector<int32_t> steps, alive, term, done;
    rd(ret, n); rd(steps, n); rd(alive, n); rd(term, n); rd(rew, n); rd(done, n);
    rollout_accumulate(ret.data(), steps.data(), alive.data(), term.data(), rew.data(), done.data(), n, disc);
    unsigned long long live = 0;
    count_alive(alive.data(), &live, n);
    wr(ret); wr(steps); wr(alive); wr(term);
    fwrite(&live, sizeof live, 1, stdout);
  } else if (mode == 3) {
    int64_t horizon = rd1<int64_t>(), seg = rd1<int64_t>();
    double gamma = rd1<double>();
    int64_t h = rd1<int64_t>();
    std::vector<double> w1, b1, w2, s;
    rd(w1, h * e.obsDim); rd(b1, h); rd(w2, h);
    double b2 = rd1<double>(), bound = rd1<double>();
    rd(s, 2 * n);
    std::vector<double> ret(n), rew(n); std::vector<int32_t> steps(n), alive(n, 1), term(n), done(n);
    std::vector<float> obs(n * e.obsDim), act(n);
    double disc = 1;
    for (int64_t t = 0; t < horizon;) {
      for (int64_t k = 0; k < seg && t < horizon; k++, t++) {
        e.obs(s.data(), obs.data(), n);
        for (int64_t i = 0; i < n; i++) {
          double y = b2;
          for (int64_t j = 0; j < h; j++) {
            double z = b1[j];
            for (int k2 = 0; k2 < e.obsDim; k2++) z += w1[j * e.obsDim + k2] * (double)obs[i * e.obsDim + k2];
            y += w2[j] * std::tanh(z);
          }
          act[i] = (float)(bound * std::tanh(y));
        }
        e.step(s.data(), act.data(), alive.data(), rew.data(), done.data(), n);
        rollout_accumulate(ret.data(), steps.data(), alive.data(), term.data(), rew.data(), done.data(), n, disc);
        disc *= gamma;
      }
      unsigned long long live = 0;
      count_alive(alive.data(), &live, n);
      if (live == 0) break;
    }
    wr(ret); wr(steps); wr(term);
  } else {
    fprintf(stderr, "mode %lld\n", (long long)mode);
    return 2;
  }
  return fflush(stdout) != 0;
}
