//go:build !purego

package ops

import "golang.org/x/sys/cpu"

// reluAVX2 selects the assembly ReLU kernels. The purego build runs the Go
// twins everywhere; TestReluAVX2 compares the two.
var reluAVX2 = cpu.X86.HasAVX2

// The assembly kernels take whole vectors of 8 (relu, reluBackward) or
// whole 64-element mask words (reluBits, reluMaskBits); the Go twins
// finish the rest. The bounds checks cover what the assembly reads and
// writes.

//go:noescape
func reluAsm(dst, x *float32, n int)

//go:noescape
func reluBackwardAsm(dx, dy, y *float32, n int)

//go:noescape
func reluBitsAsm(mask *uint64, y *float32, words int)

//go:noescape
func reluMaskBitsAsm(dy *float32, mask *uint64, words int)

func relu(dst, x []float32) {
	if n := len(dst) &^ 7; reluAVX2 && n > 0 {
		_ = x[n-1]
		reluAsm(&dst[0], &x[0], n)
		dst, x = dst[n:], x[n:]
	}
	reluGo(dst, x)
}

func reluBackward(dx, dy, y []float32) {
	if n := len(dx) &^ 7; reluAVX2 && n > 0 {
		_, _ = dy[n-1], y[n-1]
		reluBackwardAsm(&dx[0], &dy[0], &y[0], n)
		dx, dy, y = dx[n:], dy[n:], y[n:]
	}
	reluBackwardGo(dx, dy, y)
}

func reluBits(mask []uint64, y []float32) {
	if n := len(y) / 64; reluAVX2 && n > 0 {
		_ = mask[n-1]
		reluBitsAsm(&mask[0], &y[0], n)
		mask, y = mask[n:], y[64*n:]
	}
	reluBitsGo(mask, y)
}

func reluMaskBits(dy []float32, mask []uint64) {
	if n := len(dy) / 64; reluAVX2 && n > 0 {
		_ = mask[n-1]
		reluMaskBitsAsm(&dy[0], &mask[0], n)
		dy, mask = dy[64*n:], mask[n:]
	}
	reluMaskBitsGo(dy, mask)
}
