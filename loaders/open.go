package loaders

import (
	"os"

	"github.com/rleval/rleval/loaders/internal/datafile"
)

// openRegular opens a file of a run for reading and returns its size,
// refusing anything but a regular file (a FIFO, a device, a socket) with
// ErrInvalid, naming the file.
func openRegular(path string) (*os.File, int64, error) { return datafile.Open(path) }

// OpenRegular opens a file of a run for reading as the loaders do, for the
// readers of other packages (the batch's config grouping): only a regular
// file, its size returned.
func OpenRegular(path string) (*os.File, int64, error) { return datafile.Open(path) }
