//go:build tools

// This file pins modules that only tagged builds use (openblas, cuda), so
// that `go mod tidy` keeps them in go.mod.
package rleval

import (
	_ "gonum.org/v1/netlib/blas/netlib"
	_ "gorgonia.org/cu"
	_ "gorgonia.org/cu/blas"
)
