// Package worker runs rleval's networks in a separate process that owns a
// GPU: Remote is the client, a graph.Backend that starts the rleval-cuda
// worker and speaks the wire protocol to it over the worker's stdin and
// stdout; Serve is the worker's side of that protocol, over any
// graph.Backend (the CUDA device in rleval-cuda, the CPU plan in tests).
//
// Importing the package installs graph.OpenCUDA, so graph.Open("cuda") and
// graph.Open("auto") start the worker; a program that does not import it
// evaluates on the CPU only. Keeping the client out of graph lets graph
// hold what evaluates (graphs, plans, kernels, backends, the engine) and
// this package how work crosses to another process.
package worker
