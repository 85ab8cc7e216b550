// Package graph turns the networks read by loaders into Gorgonia expression
// graphs, the single description of a network, and lowers them into fast
// execution plans for the CPU and, through a separate worker process, CUDA.
//
// Three executors evaluate a network and are checked against each other:
//
//   - Build makes the Gorgonia graph (Graph.Describe is what inspect prints);
//     Reference runs it on a TapeMachine, the reference executor (device
//     "gorgonia").
//   - LowerGraph walks a graph's nodes into a Plan of steps (direct loops for
//     a narrow first layer, GEMMs with the bias prefilled and the hidden
//     activation fused, a dot for a one-output layer, the action, policy-std
//     or quantile-mean head); CPU runs plans, one call per core. A graph
//     holding ops the plan has no kernels for runs on the TapeMachine.
//   - Remote (remote.go) sends the same networks to the CUDA worker.
//
// Open picks a Backend by device name; an Engine runs workloads (Policy, Q,
// QPolicy and their streaming variants) over Rows such as a Grid of states or
// a replay buffer's slices, chunk by chunk on parallel workers.
//
// Build tags: the default build is pure Go and correct everywhere; on amd64
// with AVX2 and FMA its GEMM, ReLU and output dot are Go assembly kernels
// (about OpenBLAS's speed), elsewhere gonum's sgemm and Go loops. With
// -tags openblas the GEMMs run on OpenBLAS through
// cgo (Debian: apt-get install libopenblas-dev; the package links
// -lopenblas itself) with one BLAS thread per worker, and the element-wise
// kernels are C loops that gcc vectorises; the Gorgonia reference then uses
// OpenBLAS too. The pure-Go build's results do not depend on chunk size or
// worker count, bit for bit (BitReproducible); OpenBLAS's kernels round a
// row by its position in their register tiles, so the OpenBLAS build's do,
// by an ulp, within ANALYSES.md's tolerance.
package graph
