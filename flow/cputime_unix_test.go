//go:build unix

package flow

import (
	"syscall"
	"time"
)

// cpuTime returns the processor time the process has used, user and
// system, all threads.
func cpuTime() (time.Duration, bool) {
	var u syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &u); err != nil {
		return 0, false
	}
	return time.Duration(u.Utime.Nano() + u.Stime.Nano()), true
}
