// Package hugemem allocates the large float32 buffers of a plan so that
// the kernel may back them with transparent huge pages.
//
// A 1352x900 dream touches over a gigabyte of fresh memory in 4 KB pages:
// some 280,000 page faults, each a trip into the kernel (and, on a virtual
// machine, often out of the guest). Where transparent huge pages are
// enabled for regions that ask (the usual "madvise" setting), Floats asks,
// and the faults come 2 MB at a time; the TLB also covers the big
// tensors the kernels stream through with fewer entries.
package hugemem

// minBytes is the least buffer size worth asking for: two huge pages, so
// that at least one aligned huge page lies inside it.
const minBytes = 4 << 20

// Floats returns make([]float32, n), advised to use huge pages when it is
// large enough and the system supports it. The advice is only a hint:
// the memory behaves the same either way.
func Floats(n int) []float32 {
	f := make([]float32, n)
	if n*4 >= minBytes {
		advise(f)
	}
	return f
}
