package main

import "io"

func cmdBatch(args []string, stdout, stderr io.Writer) error { return usagef("batch: not built yet") }
func cmdMerge(args []string, stdout, stderr io.Writer) error { return usagef("merge: not built yet") }
func cmdBench(args []string, stdout, stderr io.Writer) error { return usagef("bench: not built yet") }
