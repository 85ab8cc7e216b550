// Package bench measures how fast rleval evaluates networks: the library
// behind `rleval bench`.
//
// For each device, batch size and workload (the actor, one critic, and the
// full Q workload of an evaluation: the actor plus four critic passes) Run
// times batches of rows on a graph.Backend, excluding a warm-up, until both a
// minimum number of passes over the rows and a minimum time are reached. It
// reports rows per second, the median and 95th percentile latency per batch,
// the achieved GFLOP/s counted from the layer widths, and that rate's share
// of the machine's GEMM ceiling: the rate graph's own CPU kernels (OpenBLAS,
// gonum or its AVX2 kernel, whichever this build runs) reach on 4096-row
// chunks of 256×256 layers (MeasureSGEMMCeiling). Backends that split their time between host↔device
// transfers and compute (worker.Remote, through TransferStats) get those
// columns too.
//
// A Report prints as an aligned table (WriteTable), bench.json (WriteJSON),
// bench.csv (WriteCSV, the table's rows and columns at full precision) and a
// log–log plot of rows/s against batch size (WritePlot). RunTorch runs the
// PyTorch reference script on the same networks and settings; AddTorch
// merges its rows and the ratio of our rate to torch's into the report.
package bench
