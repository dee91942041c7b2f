package server

import "golang.org/x/sys/unix"

// physicalMemory returns the machine's RAM from sysinfo(2), for a Linux
// without /proc.
func physicalMemory() int64 {
	var si unix.Sysinfo_t
	if unix.Sysinfo(&si) != nil {
		return 0
	}
	return int64(si.Totalram) * int64(si.Unit)
}
