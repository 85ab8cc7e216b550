// Package graph turns the networks read by loaders into Gorgonia expression
// graphs, the single description of a network, and lowers them into fast
// execution plans for the CPU and, through a separate worker process, CUDA.
package graph
