//go:build !amd64 || purego

package parallel

// pause spins n times: a stand-in for the amd64 PAUSE loop.
func pause(n int) {
	for range n {
	}
}
