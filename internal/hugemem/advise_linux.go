package hugemem

import (
	"unsafe"

	"golang.org/x/sys/unix"
)

// advise asks for huge pages on the 2 MB-aligned part of f's memory,
// before anything touches it (a fresh large allocation is zero pages the
// kernel has not yet given out).
func advise(f []float32) {
	const huge = 2 << 20
	p := unsafe.Pointer(unsafe.SliceData(f))
	start := uintptr(p)
	end := start + uintptr(len(f))*4
	lo, hi := (start+huge-1)&^(huge-1), end&^(huge-1)
	if hi <= lo {
		return
	}
	b := unsafe.Slice((*byte)(unsafe.Add(p, lo-start)), hi-lo)
	_ = unix.Madvise(b, unix.MADV_HUGEPAGE) // a hint: an error changes nothing
}
