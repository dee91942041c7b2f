//go:build race

package gemm

// The race detector makes sync.Pool drop items at random, so pooled
// workspaces are reallocated and the allocation test cannot hold.
const raceEnabled = true
