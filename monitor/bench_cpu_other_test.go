//go:build !unix

package monitor_test

import "time"

// cpuTime and peakRSS are not measured here: the benchmark reports 0.
func cpuTime() time.Duration { return 0 }

func peakRSS() int64 { return 0 }
