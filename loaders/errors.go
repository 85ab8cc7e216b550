package loaders

import (
	"errors"
	"io/fs"
	"syscall"
)

// Errors callers branch on. Every error the loaders return wraps one of
// these where it applies, together with the file's path.
var (
	// ErrNotExist means a file of the run is absent (crashed run, run still
	// training, buffer not saved). It matches fs.ErrNotExist too.
	ErrNotExist = notExist{}
	// ErrInvalid means a file exists but is not what its name promises:
	// truncated, corrupt, or of an unexpected layout.
	ErrInvalid = errors.New("invalid file")
	// ErrUnsupported means a file is sound but holds a network rleval does
	// not evaluate (sfujim DDPG.py's critic, which takes the action at its
	// second layer); the run's other analyses still run.
	ErrUnsupported = errors.New("network not supported")
	// ErrUnsafePickle means a pickle asked to call something a checkpoint has
	// no business calling (os.system, builtins.eval, ...). Nothing was called.
	ErrUnsafePickle = errors.New("unsafe pickle: refused to call a global")
)

type notExist struct{}

func (notExist) Error() string        { return "file does not exist" }
func (notExist) Is(target error) bool { return target == fs.ErrNotExist }

// isNotExist reports a file that is absent, including a path that runs
// through a file (model.zip/log_alpha.pt: ENOTDIR), which a network held
// inside an archive gives to callers looking beside it.
func isNotExist(err error) bool {
	return errors.Is(err, fs.ErrNotExist) || errors.Is(err, syscall.ENOTDIR)
}
