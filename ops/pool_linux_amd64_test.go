//go:build !purego

package ops

import (
	"syscall"
	"testing"
	"unsafe"
)

// fenced returns n float32s and n bytes placed against inaccessible pages,
// ending where one starts if atEnd, else starting where one ends, so that
// a kernel reading past them faults.
func fenced(t *testing.T, n int, atEnd bool) ([]float32, []uint8) {
	page := syscall.Getpagesize()
	size := (4*n+page-1)/page*page + 2*page
	mem, err := syscall.Mmap(-1, 0, size, syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_ANON|syscall.MAP_PRIVATE)
	if err != nil {
		t.Skip("mmap:", err)
	}
	t.Cleanup(func() { syscall.Munmap(mem) })
	if err := syscall.Mprotect(mem[:page], syscall.PROT_NONE); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Mprotect(mem[size-page:], syscall.PROT_NONE); err != nil {
		t.Fatal(err)
	}
	floats, bytes := mem[page:page+4*n], mem[page:page+n]
	if atEnd {
		floats, bytes = mem[size-page-4*n:size-page], mem[size-page-n:size-page]
	}
	return unsafe.Slice((*float32)(unsafe.Pointer(unsafe.SliceData(floats))), n), bytes
}

// TestMaxPoolAVX2Fenced runs the assembly on tensors against inaccessible
// pages: it must read and write nothing outside them.
func TestMaxPoolAVX2Fenced(t *testing.T) {
	for _, p := range append(poolCases, poolLaneCases...) {
		if !p.fast3x3() {
			continue
		}
		in, out := p.N*p.C*p.H*p.W, p.N*p.C*p.OutH*p.OutW
		for _, atEnd := range []bool{false, true} {
			x, _ := fenced(t, in, atEnd)
			dx, _ := fenced(t, in, atEnd)
			y, _ := fenced(t, out, atEnd)
			dy, _ := fenced(t, out, atEnd)
			_, arg := fenced(t, out, atEnd)
			for i := range x {
				x[i] = float32(i % 7)
			}
			MaxPool(y, arg, x, &p)
			copy(dy, y)
			MaxPoolBackward(dx, dy, arg, nil, &p, true)
		}
	}
}
