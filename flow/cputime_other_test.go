//go:build !unix

package flow

import "time"

// cpuTime is not measured here.
func cpuTime() (time.Duration, bool) { return 0, false }
