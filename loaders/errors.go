package loaders

import (
	"errors"

	"github.com/rleval/rleval/loaders/internal/datafile"
	"github.com/rleval/rleval/loaders/internal/pickle"
)

// Errors callers branch on. Every error the loaders return wraps one of
// these where it applies, together with the file's path.
var (
	// ErrNotExist means a file of the run is absent (crashed run, run still
	// training, buffer not saved). It matches fs.ErrNotExist too.
	ErrNotExist = datafile.ErrNotExist
	// ErrInvalid means a file exists but is not what its name promises:
	// truncated, corrupt, or of an unexpected layout.
	ErrInvalid = datafile.ErrInvalid
	// ErrUnsupported means a file is sound but holds a network rleval does
	// not evaluate; the run's other analyses still run.
	ErrUnsupported = errors.New("network not supported")
	// ErrUnsafePickle means a pickle asked to call something a checkpoint has
	// no business calling (os.system, builtins.eval, ...). Nothing was called.
	ErrUnsafePickle = pickle.ErrUnsafe
)
