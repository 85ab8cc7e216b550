// Package worker runs rleval's networks in a separate process that owns a
// GPU: Remote is the client, a graph.Backend that starts the rleval-cuda
// worker and speaks the wire protocol to it over the worker's stdin and
// stdout; Serve is the worker's side of that protocol, over any
// graph.Backend that adopts plans (graph.PlanAdopter: the CUDA device in
// rleval-cuda, the CPU plan in tests).
//
// The worker receives plans, not networks: Remote lowers each network's
// Gorgonia graph with graph.Lower, exactly as the CPU backend does, and
// sends the steps' weights, epilogues (ReLU, Tanh, ELU, SiLU, LeakyReLU,
// the tanh-scale head with its mean clamp, the quantile mean) with their
// parameters and the input normalisation; so a CUDA run evaluates what a
// CPU run evaluates. A network the lowering has no kernels for (the CPU
// runs it on Gorgonia's TapeMachine) is refused with ErrUnsupported.
//
// Importing the package registers the device "cuda"
// (graph.RegisterDevice), so graph.Open("cuda") and graph.Open("auto")
// start the worker; a program that does not import it
// evaluates on the CPU only. Keeping the client out of graph lets graph
// hold what evaluates (graphs, plans, kernels, backends, the engine) and
// this package how work crosses to another process.
package worker
