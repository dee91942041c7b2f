//go:build !purego

package ops

import "golang.org/x/sys/cpu"

// poolAVX2 selects the assembly 3x3 max pool; tests turn it off to run the
// Go twin.
var poolAVX2 = cpu.X86.HasAVX2

// maxPool3x3S1AVX2 and maxPool3x3S2AVX2 are maxPool3x3BandGo of
// horizontal stride 1 and 2 for rows >= 1 rows with a stored tap, whose
// windows [lo, hi) inside the input horizontally are at least 8, and
// those outside the first or last 8: x points at column 0 of the first
// tap row of the first output row, whose window 0 starts at column c0
// (-PadLeft); the rows are w elements apart, the third tap row d2 from
// the first (w when it repeats the second), and the first tap rows of
// successive output rows xstep apart; y and arg point at the first output
// row, rows ystep (OutW) apart; tapOffset is added to the taps. They
// report a NaN in the input or a maximum of -inf in a clipped window,
// leaving y and arg to be redone.
//
//go:noescape
func maxPool3x3S1AVX2(y *float32, arg *uint8, x *float32, w, d2, xstep, ystep, rows, c0, lo, hi, tapOffset int) (redo bool)

//go:noescape
func maxPool3x3S2AVX2(y *float32, arg *uint8, x *float32, w, d2, xstep, ystep, rows, c0, lo, hi, tapOffset int) (redo bool)

// maxPool3x3Band is maxPool3x3BandGo, in assembly if it can: the assembly
// works on blocks of 8 windows, the last block of a row overlapping the
// others, and does the clipped windows in the first and last blocks.
func maxPool3x3Band(y []float32, arg []uint8, x []float32, p *PoolParams, bd band3) {
	if !poolAVX2 || arg == nil || bd.hi-bd.lo < 8 || bd.lo > 8 || p.OutW-bd.hi > 8 {
		maxPool3x3BandGo(y, arg, x, p, bd)
		return
	}
	// The bounds checks cover the rows the assembly reads and writes; it
	// reads no column outside the input.
	w, iy := p.W, bd.oy0*p.StrideH-p.PadTop+bd.ky0
	_ = x[((bd.oy1-1)*p.StrideH-p.PadTop+bd.ky0+bd.rows)*w-1]
	o := bd.oy0 * p.OutW
	_, _ = y[bd.oy1*p.OutW-1], arg[bd.oy1*p.OutW-1]
	kernel := maxPool3x3S1AVX2
	if p.StrideW == 2 {
		kernel = maxPool3x3S2AVX2
	}
	if kernel(&y[o], &arg[o], &x[iy*w], w, (bd.rows-1)*w, p.StrideH*w, p.OutW, bd.oy1-bd.oy0, -p.PadLeft, bd.lo, bd.hi, 3*bd.ky0) {
		maxPool3x3BandGo(y, arg, x, p, bd)
	}
}
