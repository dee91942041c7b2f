//go:build !purego

package ops

import "golang.org/x/sys/cpu"

// poolAVX2 selects the assembly 3x3 max pool and gradient routing, unless
// PoolParams.generic asks for the Go twins.
var poolAVX2 = cpu.X86.HasAVX2

// maxPool3x3S1AVX2 and maxPool3x3S2AVX2 are maxPool3x3BandGo of
// horizontal stride 1 and 2 for rows >= 1 rows with a stored tap, whose
// windows [lo, hi) inside the input horizontally are at least 8, lo <= 8
// and hi >= ystep-1 (the blocks between the first and the last one read
// the windows up to the last but one): x points at column 0 of the first
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
	if !poolAVX2 || p.generic || arg == nil || bd.hi-bd.lo < 8 || bd.lo > 8 || p.OutW-bd.hi > 1 {
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

// maxPool3x3GradS1AVX2 and maxPool3x3GradS2AVX2 are maxPoolBackwardPlane
// of horizontal stride 1 and 2 for the columns, of every input row, whose
// windows (at most 3 in a row) all exist: the columns [lo, hi) for stride
// 1, those of the windows [lo, hi) for stride 2; hi-lo >= 8. dx, dy and
// arg are the planes. With set, they set those columns of every row some
// window covers, as adding to zeros would, instead of adding to them.
//
//go:noescape
func maxPool3x3GradS1AVX2(dx, dy *float32, arg *uint8, w, h, outW, outH, sh, pt, pl, lo, hi int, set bool)

//go:noescape
func maxPool3x3GradS2AVX2(dx, dy *float32, arg *uint8, w, h, outW, outH, sh, pt, pl, lo, hi int, set bool)

// maxPool3x3BackwardPlane is maxPoolBackwardPlane for fast3x3 geometries
// (set: of a cleared dx), in assembly if it can, with
// maxPool3x3BackwardEdges for the columns [0, cLo) and [cHi, W) that the
// assembly leaves. Setting, the assembly writes dx rows without reading
// them; only the columns and rows it leaves are cleared.
func maxPool3x3BackwardPlane(dx, dy []float32, arg []uint8, offsets *[MaxPoolArgTaps]int, p *PoolParams, set bool) {
	pl := p.PadLeft
	lo, hi := max(0, 2-pl), min(p.W, p.OutW-pl)
	cLo, cHi := lo, hi
	if p.StrideW == 2 {
		lo, hi = max(1, (pl+1)/2), min(p.OutW, (p.W+pl)/2)
		cLo, cHi = 2*lo-pl, 2*hi-pl
	}
	if !poolAVX2 || p.generic || hi-lo < 8 || p.OutH == 0 {
		if set {
			clear(dx)
		}
		maxPoolBackwardPlane(dx, dy, arg, offsets, p)
		return
	}
	// The bounds checks cover the planes, which the assembly stays in.
	_, _, _ = dx[p.H*p.W-1], dy[p.OutH*p.OutW-1], arg[p.OutH*p.OutW-1]
	if set {
		for y := range p.H {
			row := dx[y*p.W : (y+1)*p.W]
			if !rowCovered(y, p) {
				clear(row)
				continue
			}
			for i := range cLo { // a column or two: no call to clear
				row[i] = 0
			}
			for i := cHi; i < len(row); i++ {
				row[i] = 0
			}
		}
	}
	if p.StrideW == 1 {
		maxPool3x3GradS1AVX2(&dx[0], &dy[0], &arg[0], p.W, p.H, p.OutW, p.OutH, p.StrideH, p.PadTop, pl, lo, hi, set)
	} else {
		maxPool3x3GradS2AVX2(&dx[0], &dy[0], &arg[0], p.W, p.H, p.OutW, p.OutH, p.StrideH, p.PadTop, pl, lo, hi, set)
	}
	maxPool3x3BackwardEdges(dx, dy, arg, offsets, p, cLo, cHi)
}

// rowCovered reports whether input row y is a tap row of some 3-high
// window: y = oy*StrideH - PadTop + ky for an output row oy and ky < 3.
func rowCovered(y int, p *PoolParams) bool {
	// The last output row at or above y + PadTop, and whether it reaches y.
	oy := min(p.OutH-1, (y+p.PadTop)/p.StrideH)
	return oy >= 0 && y+p.PadTop-oy*p.StrideH <= 2
}

// maxPool3x3BackwardEdges is maxPoolBackwardPlane for the taps outside
// the columns [cLo, cHi).
func maxPool3x3BackwardEdges(dx, dy []float32, arg []uint8, offsets *[MaxPoolArgTaps]int, p *PoolParams, cLo, cHi int) {
	sw := p.StrideW
	// The windows [a, b) have all their taps inside [cLo, cHi).
	a := (cLo + p.PadLeft + sw - 1) / sw
	b := max(a, min(p.OutW, (cHi-3+p.PadLeft)/sw+1))
	for oy := range p.OutH {
		corner := (oy*p.StrideH-p.PadTop)*p.W - p.PadLeft
		o := oy * p.OutW
		for ox := 0; ox < p.OutW; ox++ {
			if ox == a && a < b {
				ox = b - 1
				continue
			}
			k := arg[o+ox]
			if c := ox*sw - p.PadLeft + int(k)%3; k == noTap || c >= cLo && c < cHi {
				continue
			}
			dx[corner+ox*sw+offsets[k]] += dy[o+ox]
		}
	}
}

// noTapUnlessPositiveAVX2 is noTapUnlessPositiveGo for n elements, n > 0 a
// multiple of 8.
//
//go:noescape
func noTapUnlessPositiveAVX2(y *float32, arg *uint8, n int)

func noTapUnlessPositive(y []float32, arg []uint8) {
	arg = arg[:len(y)]
	if n := len(y) &^ 7; poolAVX2 && n > 0 {
		noTapUnlessPositiveAVX2(&y[0], &arg[0], n)
		y, arg = y[n:], arg[n:]
	}
	noTapUnlessPositiveGo(y, arg)
}
