package main

import "io"

func cmdBench(args []string, stdout, stderr io.Writer) error { return usagef("bench: not built yet") }
