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

.PHONY: all build demo test lint bench fixtures cuda cuda-check clean

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
# itself to its cuDNN build, which Debian cannot provide). Needs CUDA 11.8
# (Debian non-free: nvidia-cuda-toolkit nvidia-cuda-dev); it runs only where
# a GPU is present, and rleval finds it next to itself.
cuda:
	$(GO) build -tags rlcuda -o bin/rleval-cuda ./cmd/rleval-cuda

cuda-check:
	bash .ci/cuda.sh

clean:
	rm -rf bin rleval-out
