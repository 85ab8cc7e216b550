//go:build !unix

package loaders

// cpuSeconds is unknown here; benchmarks then report wall time only.
func cpuSeconds() float64 { return 0 }
