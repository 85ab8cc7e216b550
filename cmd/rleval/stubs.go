package main

import "io"

func cmdHeatmap(args []string, stdout, stderr io.Writer) error { return usagef("heatmap: not built yet") }
func cmdBatch(args []string, stdout, stderr io.Writer) error   { return usagef("batch: not built yet") }
func cmdMerge(args []string, stdout, stderr io.Writer) error   { return usagef("merge: not built yet") }
func cmdBench(args []string, stdout, stderr io.Writer) error   { return usagef("bench: not built yet") }
