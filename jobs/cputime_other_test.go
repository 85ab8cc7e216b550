//go:build !unix

package jobs

import "time"

// cpuTime is unknown here: the benchmark reports 0 cores used.
func cpuTime() time.Duration { return 0 }
