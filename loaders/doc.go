// Package loaders reads the files of a training run directory: config.yaml,
// the JSONL training log, torch.save checkpoints and the replay buffer.
//
// Nothing here executes code from a file: torch pickles are decoded by a
// small opcode interpreter that never calls a global, and every size a file
// claims is checked against the bytes that really exist before allocating.
package loaders
