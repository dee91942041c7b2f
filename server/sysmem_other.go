//go:build !linux && !darwin

package server

// physicalMemory does not know the machine's RAM here: DefaultMaxMemory
// falls back to fallbackMaxMemory.
func physicalMemory() int64 { return 0 }
