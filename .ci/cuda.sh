#!/bin/sh
# Build and vet the CUDA worker (graph/cuda, cmd/rleval-cuda; build tag
# rlcuda), and check that it links no cuBLAS and no CUDA runtime and fits in
# 64 MiB (make cuda). No GPU is needed: nothing here runs CUDA code
# (gorgonia.org/cu exits at init without a device); the worker's GPU tests
# in ./worker skip without one, and tools/gpu-check.sh is the check on a GPU.
#
# The worker loads cuBLAS at run time, so building needs only the driver
# API: cuda.h and the libcuda.so link stub. Debian ships both only in
# non-free nvidia-cuda-dev (CUDA 11.8), installed when missing; nvcc
# (nvidia-cuda-toolkit) is no longer needed here and is used, when present,
# only to check the committed PTX. Any failed install step fails the script.
set -eu
cd "$(dirname "$0")/.."

have_cuda_h() {
	for d in /usr/include /usr/local/cuda/include; do
		[ -e "$d/cuda.h" ] && return 0
	done
	return 1
}

if ! have_cuda_h; then
	echo "cuda.sh: installing nvidia-cuda-dev (cuda.h, libcuda.so stub; ~0.8 GB download)" >&2
	SUDO=
	[ "$(id -u)" -eq 0 ] || SUDO=sudo
	src=/etc/apt/sources.list.d/debian.sources
	if [ -f "$src" ] && ! grep -q '^Components:.*non-free' "$src"; then
		$SUDO sed -i 's/^Components: main$/Components: main contrib non-free non-free-firmware/' "$src"
	elif [ -f /etc/apt/sources.list ] && ! grep -q 'non-free' /etc/apt/sources.list; then
		$SUDO sed -i -E 's/^(deb .* main)$/\1 contrib non-free non-free-firmware/' /etc/apt/sources.list
	fi
	$SUDO apt-get -o DPkg::Lock::Timeout=600 update
	DEBIAN_FRONTEND=noninteractive $SUDO apt-get -o DPkg::Lock::Timeout=600 install -y --no-install-recommends \
		nvidia-cuda-dev
	if ! have_cuda_h; then
		echo "cuda.sh: nvidia-cuda-dev installed but no cuda.h found" >&2
		exit 1
	fi
fi

# The committed PTX must be what kernels.cu compiles to: exactly so with the
# nvcc release that wrote it (its header names it), which fails the script
# when they differ; another release differs in more than its header, hence
# only a warning then.
if command -v nvcc >/dev/null 2>&1; then
	tmp=$(mktemp -d)
	trap 'rm -rf "$tmp"' EXIT
	nvcc -ptx -arch=compute_70 -o "$tmp/kernels.ptx" graph/cuda/kernels.cu
	if ! diff -q "$tmp/kernels.ptx" graph/cuda/kernels.ptx >/dev/null; then
		release() { grep -m1 '^// Cuda compilation tools' "$1"; }
		if [ "$(release "$tmp/kernels.ptx")" = "$(release graph/cuda/kernels.ptx)" ]; then
			echo "cuda.sh: graph/cuda/kernels.ptx is not what $(release graph/cuda/kernels.ptx | sed 's|^// ||') makes of kernels.cu: run go generate -tags rlcuda ./graph/cuda and commit it" >&2
			exit 1
		fi
		echo "cuda.sh: warning: graph/cuda/kernels.ptx differs from this nvcc's output for kernels.cu (another release: $(release "$tmp/kernels.ptx" | sed 's|^// ||')); regenerate it with the release that wrote it" >&2
	fi
else
	echo "cuda.sh: no nvcc: the committed kernels.ptx is not compared with kernels.cu" >&2
fi
# Every kernel the worker loads must be in the committed PTX.
for k in bias_act bias_tanh_scale bias_exp_clamp bias_mean_rows norm_rows concat min2 gemm_xwt \
	pendulum_obs pendulum_step mountaincar_obs mountaincar_step rollout_accumulate count_alive; do
	grep -q "^\.visible \.entry $k(" graph/cuda/kernels.ptx || { echo "cuda.sh: kernels.ptx lacks kernel $k" >&2; exit 1; }
done

# The tag is rlcuda, not cuda: -tags cuda would also switch gorgonia to its
# own CUDA build, which needs cuDNN (not in Debian).
go build -tags rlcuda ./...
go vet -tags rlcuda ./...
make cuda
go test -tags rlcuda -run 'CUDA' ./worker
