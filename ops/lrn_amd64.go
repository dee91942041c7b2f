//go:build !purego

package ops

import "golang.org/x/sys/cpu"

// lrnAVX selects the assembly row kernels, which need only AVX (VSQRTPS
// and VDIVPS on YMM). The purego build runs the Go ones everywhere;
// TestLRNRowsAVX compares the two.
var lrnAVX = cpu.X86.HasAVX

// The assembly kernels take n, a multiple of 8, elements from each pointer.

//go:noescape
func lrnForwardRowAVX(y, f, x0, x1, x2, x3, x4 *float32, n int, k, bias float32)

//go:noescape
func lrnFactorRingRowAVX(w, f, dy, x0, x1, x2, x3, x4 *float32, n int, k, bias float32)

//go:noescape
func lrnGradRowAVX(dx, dy, x, f, w0, w1, w2, w3, w4 *float32, n int, k2 float32, set, relu bool)

// The wrappers cut every slice to the first one's length, which bounds
// what the assembly touches, and leave the last n%8 elements to the Go
// twins.

// lrnForwardRow is lrnForwardRowGo; the assembly handles beta = 0.75,
// GoogLeNet's and AlexNet's.
func lrnForwardRow(y, f, x0, x1, x2, x3, x4 []float32, k, bias, beta float32) {
	n := len(y)
	f, x0, x1, x2, x3, x4 = f[:n], x0[:n], x1[:n], x2[:n], x3[:n], x4[:n]
	if m := n &^ 7; lrnAVX && beta == 0.75 && m > 0 {
		lrnForwardRowAVX(&y[0], &f[0], &x0[0], &x1[0], &x2[0], &x3[0], &x4[0], m, k, bias)
		y, f, x0, x1, x2, x3, x4 = y[m:], f[m:], x0[m:], x1[m:], x2[m:], x3[m:], x4[m:]
	}
	lrnForwardRowGo(y, f, x0, x1, x2, x3, x4, k, bias, beta)
}

func lrnGradRow(dx, dy, x, f, w0, w1, w2, w3, w4 []float32, k2 float32, set, relu bool) {
	n := len(dx)
	dy, x, f, w0, w1, w2, w3, w4 = dy[:n], x[:n], f[:n], w0[:n], w1[:n], w2[:n], w3[:n], w4[:n]
	if m := n &^ 7; lrnAVX && m > 0 {
		lrnGradRowAVX(&dx[0], &dy[0], &x[0], &f[0], &w0[0], &w1[0], &w2[0], &w3[0], &w4[0], m, k2, set, relu)
		dx, dy, x, f, w0, w1, w2, w3, w4 = dx[m:], dy[m:], x[m:], f[m:], w0[m:], w1[m:], w2[m:], w3[m:], w4[m:]
	}
	lrnGradRowGo(dx, dy, x, f, w0, w1, w2, w3, w4, k2, set, relu)
}

// lrnFactorRingRow is lrnFactorRingRowGo; the assembly handles beta =
// 0.75.
func lrnFactorRingRow(w, f, dy, x0, x1, x2, x3, x4 []float32, k, bias, beta float32) {
	n := len(w)
	f, dy, x0, x1, x2, x3, x4 = f[:n], dy[:n], x0[:n], x1[:n], x2[:n], x3[:n], x4[:n]
	if m := n &^ 7; lrnAVX && beta == 0.75 && m > 0 {
		lrnFactorRingRowAVX(&w[0], &f[0], &dy[0], &x0[0], &x1[0], &x2[0], &x3[0], &x4[0], m, k, bias)
		w, f, dy, x0, x1, x2, x3, x4 = w[m:], f[m:], dy[m:], x0[m:], x1[m:], x2[m:], x3[m:], x4[m:]
	}
	lrnFactorRingRowGo(w, f, dy, x0, x1, x2, x3, x4, k, bias, beta)
}
