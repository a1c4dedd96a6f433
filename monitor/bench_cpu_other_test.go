//go:build !unix

package monitor_test

import "time"

// cpuTime is not measured here: the benchmark reports 0 CPU per block.
func cpuTime() time.Duration { return 0 }
