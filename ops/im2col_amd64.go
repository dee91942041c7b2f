//go:build !purego

package ops

import "golang.org/x/sys/cpu"

// im2colAVX2 selects the assembly. The purego build runs the Go twins
// everywhere; TestIm2colAVX compares the two.
var im2colAVX2 = cpu.X86.HasAVX2

//go:noescape
func gather2AVX(dst, src *float32, blocks int)

//go:noescape
func axpyAVX(dst, src *float32, weight float32, blocks int)

//go:noescape
func scatterAdd2AVX(dst, src *float32, weight float32, blocks int)

// gather2 is gather2Go; blocks of 8 outputs whose 16 source elements lie
// inside src run in assembly.
func gather2(dst, src []float32) {
	if len(dst) == 0 {
		return
	}
	_ = src[2*len(dst)-2]
	blocks := min(len(dst)/8, len(src)/16)
	if !im2colAVX2 || blocks == 0 {
		gather2Go(dst, src)
		return
	}
	gather2AVX(&dst[0], &src[0], blocks)
	if n := 8 * blocks; n < len(dst) {
		gather2Go(dst[n:], src[2*n:])
	}
}

// scatterAdd2 is scatterAdd2Go; blocks of 8 inputs whose 16 destination
// elements lie inside dst run in assembly, which rewrites the odd elements
// with their own values: callers must not let another goroutine write
// them meanwhile.
func scatterAdd2(dst, src []float32, weight float32) {
	if len(src) == 0 {
		return
	}
	_ = dst[2*len(src)-2]
	blocks := min(len(src)/8, len(dst)/16)
	if !im2colAVX2 || blocks == 0 {
		scatterAdd2Go(dst, src, weight)
		return
	}
	scatterAdd2AVX(&dst[0], &src[0], weight, blocks)
	if n := 8 * blocks; n < len(src) {
		scatterAdd2Go(dst[2*n:], src[n:], weight)
	}
}

// axpy is axpyGo; blocks of 8 run in assembly.
func axpy(dst, src []float32, weight float32) {
	_ = dst[:len(src)]
	blocks := len(src) / 8
	if !im2colAVX2 || blocks == 0 {
		axpyGo(dst, src, weight)
		return
	}
	axpyAVX(&dst[0], &src[0], weight, blocks)
	if n := 8 * blocks; n < len(src) {
		axpyGo(dst[n:], src[n:], weight)
	}
}
