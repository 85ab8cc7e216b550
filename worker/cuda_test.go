//go:build rlcuda

package worker

// With -tags rlcuda the CUDA tests build the worker themselves; without it
// they need $RLEVAL_CUDA_WORKER. Either way they skip when the worker
// finds no GPU. (This file links no CUDA code: a test binary that did
// would exit in gorgonia.org/cu's init on a machine without a GPU.)
func init() { buildCUDAWorker = true }
