// Package cuda evaluates rleval networks on an NVIDIA GPU. It runs the
// graph.Plan lowered from each network's Gorgonia graph (received from the
// client, which lowers it with graph.Lower, and adopted with Adopt; or
// lowered here for a caller in the process): weights stay on the device
// per network, each step is one cuBLAS sgemm, and small PTX kernels
// (kernels.cu) normalise inputs, add biases and apply the plan's
// epilogues (ReLU, Tanh, ELU, SiLU, LeakyReLU, the actor's tanh-scale head
// with its mean clamp, the policy std's exp-clamp, the quantile mean),
// concatenate critic inputs and take minima. Stacks of networks that
// share an architecture (graph.Stacked) run one strided-batched sgemm per
// layer for the whole stack. Rollouts (graph.Roller) keep an
// environment's states on the device from start to end: per step its
// observation kernel, the actors' plan, its step kernel (float64, as
// package envs steps it) and the accumulation of the discounted returns.
//
// cuBLAS is not linked: the worker finds it when it starts (libcublas.so.13,
// .12 or .11; see cublasCandidates) and loads it with dlopen, so the binary
// needs only the driver's libcuda.so.1 and runs on any machine with a
// driver, whatever CUDA toolkit it has or lacks. Where no cuBLAS is found it
// says so and multiplies with its own PTX kernel (gemm_xwt), slower.
//
// It is linked only into the rleval-cuda worker, behind the build tag
// rlcuda: the gorgonia.org/cu package initialises the driver in its init
// function and exits the process when there is no device, so no binary that
// must run without a GPU may import it; worker.Remote talks to the worker
// instead. The tag is not "cuda" because that tag also switches
// gorgonia.org/gorgonia, which package graph imports, to its own CUDA
// build, which needs cuDNN and cudagen-generated kernels.
package cuda
