package worker

import (
	"os"
	"syscall"
)

// growPipe enlarges a pipe's kernel buffer from 64 KiB towards 1 MiB (the
// usual /proc/sys/fs/pipe-max-size), so a multi-megabyte frame crosses in
// a few context switches instead of one per 64 KiB. Best effort: an error
// leaves the default size.
func growPipe(f *os.File) {
	const fSetPipeSz = 1031 // F_SETPIPE_SZ, Linux 2.6.35+
	for _, size := range []int{1 << 20, 256 << 10} {
		if _, _, errno := syscall.Syscall(syscall.SYS_FCNTL, f.Fd(), fSetPipeSz, uintptr(size)); errno == 0 {
			return
		}
	}
}
