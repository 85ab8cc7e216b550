// Package loaders reads the files of a training run directory: config.yaml,
// the JSONL training log, torch.save checkpoints and the replay buffer.
//
// Runs of other libraries become the same Run: each layout is one file
// (layout_*.go) that registers itself with RegisterLayout and recognises a
// folder by what it holds: the upstream code's runs, Stable-Baselines3 / RL
// Zoo folders (model zips, replay_buffer.pkl, vecnormalize.pkl,
// evaluations.npz, monitor.csv), CleanRL runs (.cleanrl_model and
// TensorBoard event files) and original-TD3 folders, which hold one run per
// `<policy>_<env>_<seed>` prefix, addressed as <folder>/<prefix>. Their
// evaluation curves fill the Run's TrainLog tables, so every analysis reads
// them as it reads train.jsonl.
//
// Nothing here executes code from a file: torch and numpy pickles are
// decoded by a small opcode interpreter that never calls a global, and
// every size a file claims is checked against the bytes that really exist
// before allocating. The generic format readers live in internal packages,
// apart from the domain: internal/pickle (the object model and the
// interpreter), internal/torchzip (torch.save files, tensors),
// internal/npy (.npy, .npz and numpy's pickled arrays), internal/tfevents
// (TensorBoard scalars); internal/datafile holds the errors they share,
// which this package exports as ErrNotExist, ErrInvalid and
// ErrUnsafePickle.
package loaders
