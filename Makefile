# rleval — see README.md. `make demo` and `make test` need only Go.
GO      ?= go
BIN     ?= bin/rleval
# OpenBLAS (Debian: libopenblas-dev) speeds up the CPU plan several times; the
# pure-Go build is used when it is absent. Override with `make TAGS=`.
OPENBLAS := $(shell (ldconfig -p 2>/dev/null | grep -q 'libopenblas\.so ') && echo openblas)
TAGS    ?= $(OPENBLAS)
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
