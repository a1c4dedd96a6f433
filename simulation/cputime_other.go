//go:build !unix

package simulation

import "time"

// cpuTime is unknown here: CPU columns read 0 on systems without getrusage.
func cpuTime() time.Duration { return 0 }
