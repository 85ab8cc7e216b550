# rleval — see README.md. `make demo` and `make test` need only Go.
GO      ?= go
BIN     ?= bin/rleval
# OpenBLAS (Debian: libopenblas-dev) speeds up the CPU plan several times; the
# pure-Go build is used when it is absent. Override with `make TAGS=`.
OPENBLAS := $(shell (ldconfig -p 2>/dev/null | grep -q 'libopenblas\.so ') && echo openblas)
TAGS    ?= $(OPENBLAS)
PYTHON  ?= /usr/bin/python3

.PHONY: all build demo test lint bench fixtures cuda cuda-check gpu-check-bins clean

all: build

build:
	$(GO) build -tags '$(TAGS)' -o $(BIN) ./cmd/rleval

demo: build
	./$(BIN) run --out rleval-out
	@echo "Open rleval-out/2026-02-14_13-38-10_pendulum-v1/report.html in a browser."

lint:
	$(GO) vet ./...
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi

test: lint
	$(GO) test -race -tags '$(TAGS)' ./...

bench: build
	$(GO) test -run '^$$' -bench . -benchtime 3x -tags '$(TAGS)' ./loaders ./graph ./plotting
	./$(BIN) bench

fixtures:
	$(PYTHON) tools/make_fixtures.py --out testdata

# The CUDA worker: build tag rlcuda, not cuda (-tags cuda switches gorgonia
# itself to its cuDNN build, which Debian cannot provide). Building needs the
# CUDA driver API's header and link stub (cuda.h, libcuda.so: Debian non-free
# nvidia-cuda-dev); no GPU. At run time it needs only the driver's
# libcuda.so.1: it finds cuBLAS itself (dlopen: libcublas.so.13, .12, .11 in
# the linker's paths, $CUDA_HOME, /usr/local/cuda, a PyTorch wheel) or uses
# its own PTX GEMM. The checks below keep it that way and small enough to
# carry to a GPU machine (< 64 MiB). rleval finds it next to itself.
CUDA_MAX_BYTES := 67108864

cuda:
	$(GO) build -tags rlcuda -trimpath -ldflags '-s -w' -o bin/rleval-cuda ./cmd/rleval-cuda
	@if ldd bin/rleval-cuda | grep -E 'libcublas|libcudart'; then \
		echo "bin/rleval-cuda links cuBLAS or the CUDA runtime: it must load cuBLAS at run time" >&2; exit 1; fi
	@size=$$(stat -c %s bin/rleval-cuda); if [ $$size -ge $(CUDA_MAX_BYTES) ]; then \
		echo "bin/rleval-cuda is $$size bytes, over 64 MiB" >&2; exit 1; fi; \
	echo "bin/rleval-cuda: $$size bytes; needs at run time: $$(ldd bin/rleval-cuda | awk '{print $$1}' | tr '\n' ' ')"

# Binaries for tools/gpu-check.sh on a GPU machine that has no Go: rleval
# pure Go (no OpenBLAS there) and stripped, the worker as above; together
# about 40 MB, within what a device call carries (64 MiB). Carry `bin`.
gpu-check-bins: cuda
	$(GO) build -trimpath -ldflags '-s -w' -o $(BIN) ./cmd/rleval
	@du -sh bin

cuda-check:
	bash .ci/cuda.sh

clean:
	rm -rf bin rleval-out
