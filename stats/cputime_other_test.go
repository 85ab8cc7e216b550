//go:build !unix

package stats

import "time"

// cpuTime is unknown here: the benchmark reports 0 cores used.
func cpuTime() time.Duration { return 0 }
