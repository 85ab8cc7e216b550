#!/bin/sh
# Build and vet the CUDA worker (graph/cuda, cmd/rleval-cuda; build tag rlcuda) against CUDA
# 11.8 from Debian non-free, installing the toolkit when it is missing. No
# GPU is needed: nothing here runs CUDA code (gorgonia.org/cu exits at init
# without a device). The CUDA tests in ./graph skip unless a GPU is present.
set -eu
cd "$(dirname "$0")/.."

if ! command -v nvcc >/dev/null 2>&1 || [ ! -e /usr/include/cublas_v2.h ]; then
	echo "cuda.sh: installing nvidia-cuda-toolkit and nvidia-cuda-dev (~1.6 GB)" >&2
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
		nvidia-cuda-toolkit nvidia-cuda-dev
fi

# The committed PTX should be what kernels.cu compiles to (exactly so with
# the same nvcc; another version differs in its header, hence a warning).
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
nvcc -ptx -arch=compute_70 -o "$tmp/kernels.ptx" graph/cuda/kernels.cu
if ! diff -q "$tmp/kernels.ptx" graph/cuda/kernels.ptx >/dev/null; then
	echo "cuda.sh: warning: graph/cuda/kernels.ptx differs from nvcc's output for kernels.cu: run go generate -tags rlcuda ./graph/cuda and commit it" >&2
fi

# The tag is rlcuda, not cuda: -tags cuda would also switch gorgonia to its
# own CUDA build, which needs cuDNN (not in Debian).
go build -tags rlcuda ./...
go vet -tags rlcuda ./...
go test -tags rlcuda -run 'CUDA' ./graph
