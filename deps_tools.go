//go:build tools

// This file pins modules that only tagged builds use (openblas, cuda) or
// that packages adopt as they are written, so that `go mod tidy` keeps
// them in go.mod.
package rleval

import (
	_ "codeberg.org/sbinet/npyio"
	_ "github.com/schollz/progressbar/v3"
	_ "go.yaml.in/yaml/v3"
	_ "go4.org/unsafe/assume-no-moving-gc"
	_ "gonum.org/v1/gonum/blas/blas32"
	_ "gonum.org/v1/netlib/blas/netlib"
	_ "gonum.org/v1/plot"
	_ "gorgonia.org/cu"
	_ "gorgonia.org/cu/blas"
	_ "gorgonia.org/gorgonia"
	_ "gorgonia.org/tensor"
)
