# rleval — see README.md. `make demo` and `make test` need only Go.
GO      ?= go
BIN     ?= bin/rleval
# The pure-Go build is the default: on amd64 with AVX2/FMA its assembly GEMM
# is as fast as OpenBLAS 0.3.21 (AMD EPYC Turin: 42.5 vs 38.1 GFLOP/s, the
# full Q workload 121k vs 110k rows per CPU-second) and only its results are
# bit-identical whatever the chunking (OpenBLAS rounds a row by its place in
# a kernel tile). `make TAGS=openblas` (Debian: libopenblas-dev) for CPUs
# without AVX2.
TAGS    ?=
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

# test prints what `go test` prints, then every skipped test with its reason
# (tools/testreport), and keeps the raw `go test -json` stream in $(TESTJSON).
# With SKIPS_ALLOWED=<file> a skip that the file's expressions do not match
# fails the target (CI: .ci/skips-allowed, GPU tests only).
# -timeout 30m: the race detector slows the numeric tests several times over,
# and jobs' end-to-end tests ran past go test's default 10 minutes on a 2-core
# machine shared with other builds (load average 25).
TESTJSON      ?= bin/test.json
SKIPS_ALLOWED ?=

test: lint
	@mkdir -p $(dir $(TESTJSON)) bin
	@$(GO) build -o bin/testreport ./tools/testreport
	$(GO) test -race -timeout 30m -tags '$(TAGS)' -json ./... 2>&1 | ./bin/testreport -o $(TESTJSON) $(if $(SKIPS_ALLOWED),-allow $(SKIPS_ALLOWED))

bench: build
	$(GO) test -run '^$$' -bench . -benchtime 3x -tags '$(TAGS)' ./loaders ./graph ./plotting
	./$(BIN) bench

fixtures:
	$(PYTHON) tools/make_fixtures.py --out testdata
	# The rollout references use the demo run's actor: after it.
	$(PYTHON) tools/make_rollout_fixtures.py

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
