//go:build !purego

package parallel

// pause executes the PAUSE instruction n (> 0) times: a spinning thread
// hands the core's execution resources to its SMT sibling meanwhile.
//
//go:noescape
func pause(n int)
