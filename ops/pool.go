package ops

import (
	"fmt"
	"math"

	"github.com/deepdream-go/deepdream/internal/parallel"
)

// PoolParams is the geometry of a 2-D pooling window sliding over each of
// the N*C planes of an NCHW tensor. A 1-D pool is H = 1 with KH = 1; a
// global pool is one window covering the whole plane.
//
// The window of output (oy, ox) has taps (ky, kx), ky < KH, kx < KW, at input
// row oy*StrideH - PadTop + ky*DilationH (columns alike). Taps outside the
// input read padding: -inf for MaxPool, so padding never wins, and nothing
// for AveragePool, whose divisor counts the taps inside the input or, with
// CountIncludePad, inside the padded input [-PadTop, H+PadBottom). A ceil-mode
// window may reach past the bottom or right padding; those taps never count.
type PoolParams struct {
	N, C, H, W                           int // input
	OutH, OutW                           int
	KH, KW                               int
	StrideH, StrideW                     int
	DilationH, DilationW                 int
	PadTop, PadLeft, PadBottom, PadRight int
	CountIncludePad                      bool
	// generic runs the Go twins of the assembly kernels, for tests that
	// compare the two.
	generic bool
}

// MaxPoolArgTaps is the largest window whose first maximum MaxPool stores:
// the tap fits a byte, with noTap for a window over padding only.
const MaxPoolArgTaps = 255

const noTap = 255

// MaxPool: dst (N, C, OutH, OutW) = the maximum of each window of x
// (N, C, H, W), -inf for a window that covers padding only, and, if arg is
// not nil and the window has at most MaxPoolArgTaps taps, arg (one byte
// per output) = the tap ky*KW + kx of the window's first maximum in
// row-major window order (its first NaN if any), noTap (255) for padding
// only. Storing the tap lets MaxPoolBackward run without x and y, so
// neither has to live until the backward pass. 3x3 windows with dilation 1
// and horizontal stride 1 or 2 (GoogLeNet's pools) take a fast path;
// maxPoolWith chooses.
func MaxPool(dst []float32, arg []uint8, x []float32, p *PoolParams) {
	maxPoolWith(dst, arg, x, p, p.fast3x3())
}

func maxPoolWith(dst []float32, arg []uint8, x []float32, p *PoolParams, fast bool) {
	if p.KH*p.KW > MaxPoolArgTaps {
		arg = nil
	}
	poolTasks.For(p.N*p.C, p.planeGrain(), poolTask{kind: maxPoolForward, fast: fast, y: dst, arg: arg, x: x, p: p})
}

// MaxPoolPositive is MaxPool storing no tap for the windows whose maximum
// is not positive (zero, or NaN): the backward passes then route dy only
// to positive maxima, which is the gradient of MaxPool(Relu(z)) with
// respect to z when x = Relu(z) (a window's maximum is the element it
// routes to), so the Relu's own mask x > 0 need not be kept or applied.
// arg must not be nil and the window must have at most MaxPoolArgTaps
// taps.
func MaxPoolPositive(dst []float32, arg []uint8, x []float32, p *PoolParams) {
	if arg == nil || p.KH*p.KW > MaxPoolArgTaps {
		panic(fmt.Sprintf("ops: MaxPoolPositive needs stored taps; window %dx%d", p.KH, p.KW))
	}
	poolTasks.For(p.N*p.C, p.planeGrain(), poolTask{kind: maxPoolForward, fast: p.fast3x3(), positive: true, y: dst, arg: arg, x: x, p: p})
}

// MaxPoolBackward: dx += dy routed to the first maximum of each window (as
// ONNX, Caffe and PyTorch route it) if accumulate, else dx = that, whatever
// dx held. The maximum is the tap MaxPool stored in arg or, where arg is
// nil (windows of more than MaxPoolArgTaps taps, which MaxPool stores no
// tap for), found again in the forward run's x.
//
// Setting dx, the 3x3 assembly writes each row of dx the first time it
// routes to it without reading it, and only what it leaves is cleared;
// other windows clear each plane just before routing into it, while it is
// in cache, instead of by a pass over the whole buffer.
func MaxPoolBackward(dx, dy []float32, arg []uint8, x []float32, p *PoolParams, accumulate bool) {
	t := poolTask{kind: maxPoolBackward, set: !accumulate, fast: p.fast3x3(), dy: dy, arg: arg, dx: dx, p: p}
	if arg == nil {
		t.kind, t.fast, t.x = maxPoolBackwardScan, false, x
	}
	poolTasks.For(p.N*p.C, p.planeGrain(), t)
}

// MaxPoolIndices: dst = ONNX's Indices output of MaxPool of x: the flat
// index into x (N, C, H, W) of each window's first maximum, row-major or,
// with columnMajor, with H varying fastest within a plane. The indices are
// float32, exact below 2^24; a window over padding only has index -1.
func MaxPoolIndices(dst, x []float32, p *PoolParams, columnMajor bool) {
	in, out := p.H*p.W, p.OutH*p.OutW
	for o := range dst {
		pl, oy, ox := o/out, o%out/p.OutW, o%p.OutW
		_, k := maxTap(x[pl*in:(pl+1)*in], oy, ox, p)
		if k < 0 {
			dst[o] = -1
			continue
		}
		i := p.tapIndex(oy, ox, k)
		if columnMajor {
			i = i%p.W*p.H + i/p.W
		}
		dst[o] = float32(pl*in + i)
	}
}

// AveragePool: dst (N, C, OutH, OutW) = the mean of each window of x
// (N, C, H, W), over the taps the divisor counts (see PoolParams). A window
// with no counted tap gives 0.
func AveragePool(dst, x []float32, p *PoolParams) {
	poolTasks.For(p.N*p.C, p.planeGrain(), poolTask{kind: averagePoolForward, y: dst, x: x, p: p})
}

// AveragePoolBackward: dx += dy / divisor over each window's input taps.
func AveragePoolBackward(dx, dy []float32, p *PoolParams) {
	poolTasks.For(p.N*p.C, p.planeGrain(), poolTask{kind: averagePoolBackward, dy: dy, dx: dx, p: p})
}

type poolKind uint8

const (
	maxPoolForward poolKind = iota
	maxPoolBackward
	maxPoolBackwardScan
	averagePoolForward
	averagePoolBackward
)

// poolTask runs one of the pooling kernels over a range of planes. y and
// dy are on the output side, x and dx on the input side, arg is MaxPool's
// stored taps; averagePoolPlane takes (y, x) forward and (dy, dx) backward.
type poolTask struct {
	kind         poolKind
	fast         bool // the 3x3 kernels, see fast3x3
	set          bool // maxPoolBackward sets dx, as adding to zeros would
	positive     bool // maxPoolForward stores no tap for a maximum not > 0
	y, dy, x, dx []float32
	arg          []uint8
	p            *PoolParams
}

var poolTasks parallel.Tasks[poolTask, *poolTask]

func (t *poolTask) Run(lo, hi int) {
	p := t.p
	in, out := p.H*p.W, p.OutH*p.OutW
	// offsets[k] is tap k's index in the plane relative to its window's
	// top-left corner, for maxPoolBackward.
	var offsets [MaxPoolArgTaps]int
	if t.kind == maxPoolBackward {
		for k := range p.KH * p.KW {
			offsets[k] = k/p.KW*p.DilationH*p.W + k%p.KW*p.DilationW
		}
	}
	for pl := lo; pl < hi; pl++ {
		ip, op := pl*in, pl*out
		switch t.kind {
		case maxPoolForward:
			x, y := t.x[ip:ip+in], t.y[op:op+out]
			var arg []uint8
			if t.arg != nil {
				arg = t.arg[op : op+out]
			}
			if t.fast {
				maxPool3x3Plane(y, arg, x, p)
			} else {
				maxPoolPlane(y, arg, x, p)
			}
			if t.positive {
				noTapUnlessPositive(y, arg)
			}
		case maxPoolBackward:
			if t.fast {
				maxPool3x3BackwardPlane(t.dx[ip:ip+in], t.dy[op:op+out], t.arg[op:op+out], &offsets, p, t.set)
				break
			}
			if t.set {
				clear(t.dx[ip : ip+in])
			}
			maxPoolBackwardPlane(t.dx[ip:ip+in], t.dy[op:op+out], t.arg[op:op+out], &offsets, p)
		case maxPoolBackwardScan:
			if t.set {
				clear(t.dx[ip : ip+in])
			}
			maxPoolBackwardScanPlane(t.dx[ip:ip+in], t.dy[op:op+out], t.x[ip:ip+in], p)
		case averagePoolForward:
			averagePoolPlane(t.y[op:op+out], t.x[ip:ip+in], p, false)
		case averagePoolBackward:
			averagePoolPlane(t.dy[op:op+out], t.dx[ip:ip+in], p, true)
		}
	}
}

// planeGrain is the number of planes per parallel chunk that makes the
// chunk worth a core.
func (p *PoolParams) planeGrain() int {
	return max(1, elementwiseGrain/max(1, p.OutH*p.OutW*p.KH*p.KW))
}

// fast3x3 reports whether the 3x3 kernels apply: a 3x3 window, dilation
// 1, horizontal stride 1 or 2; any vertical stride and padding.
func (p *PoolParams) fast3x3() bool {
	return p.KH == 3 && p.KW == 3 && p.DilationH == 1 && p.DilationW == 1 && (p.StrideW == 1 || p.StrideW == 2)
}

// maxTap returns the maximum of window (oy, ox) of the plane x and its
// first tap ky*KW + kx in row-major window order (the first NaN, if any,
// as max returns NaN then), or -inf and -1 for a window over padding only.
func maxTap(x []float32, oy, ox int, p *PoolParams) (m float32, k int) {
	ky0, ky1 := taps(oy, p.StrideH, p.PadTop, p.KH, p.DilationH, 0, p.H)
	kx0, kx1 := taps(ox, p.StrideW, p.PadLeft, p.KW, p.DilationW, 0, p.W)
	iy, ix := oy*p.StrideH-p.PadTop, ox*p.StrideW-p.PadLeft
	m, k = float32(math.Inf(-1)), -1
	for ky := ky0; ky < ky1; ky++ {
		row := (iy+ky*p.DilationH)*p.W + ix
		for kx := kx0; kx < kx1; kx++ {
			if v := x[row+kx*p.DilationW]; k < 0 || v > m || v != v && m == m {
				m, k = v, ky*p.KW+kx
			}
		}
	}
	return m, k
}

// tapIndex returns the index in its plane of tap k of window (oy, ox).
func (p *PoolParams) tapIndex(oy, ox, k int) int {
	return (oy*p.StrideH-p.PadTop+k/p.KW*p.DilationH)*p.W + ox*p.StrideW - p.PadLeft + k%p.KW*p.DilationW
}

// noTapUnlessPositiveGo sets arg to noTap where y is not > 0 (MaxPoolPositive).
func noTapUnlessPositiveGo(y []float32, arg []uint8) {
	arg = arg[:len(y)]
	for i, v := range y {
		if !(v > 0) {
			arg[i] = noTap
		}
	}
}

// tapByte is maxTap's tap as MaxPool stores it.
func tapByte(k int) uint8 {
	if k < 0 {
		return noTap
	}
	return uint8(k)
}

// maxPoolPlane is the generic MaxPool of one plane, the fast kernel's
// twin; arg is nil when no tap is stored.
func maxPoolPlane(y []float32, arg []uint8, x []float32, p *PoolParams) {
	for oy := range p.OutH {
		for ox := range p.OutW {
			o := oy*p.OutW + ox
			m, k := maxTap(x, oy, ox, p)
			y[o] = m
			if arg != nil {
				arg[o] = tapByte(k)
			}
		}
	}
}

// maxPoolBackwardPlane is MaxPoolBackward of one plane, given the
// offsets of the taps in the plane from their window's top-left corner.
func maxPoolBackwardPlane(dx, dy []float32, arg []uint8, offsets *[MaxPoolArgTaps]int, p *PoolParams) {
	for oy := range p.OutH {
		corner := (oy*p.StrideH-p.PadTop)*p.W - p.PadLeft
		o := oy * p.OutW
		for ox, k := range arg[o : o+p.OutW] {
			if k != noTap {
				dx[corner+ox*p.StrideW+offsets[k]] += dy[o+ox]
			}
		}
	}
}

// maxPoolBackwardScanPlane is MaxPoolBackwardScan of one plane.
func maxPoolBackwardScanPlane(dx, dy, x []float32, p *PoolParams) {
	for o, g := range dy {
		oy, ox := o/p.OutW, o%p.OutW
		if _, k := maxTap(x, oy, ox, p); k >= 0 {
			dx[p.tapIndex(oy, ox, k)] += g
		}
	}
}

// maxPool3x3Plane is MaxPool of one plane for fast3x3 geometries; arg is
// nil when no tap is stored. The rows of windows with two or three tap
// rows inside the input are bands for maxPool3x3Band; maxTap does the
// others (planes less than two rows high, wide padding).
func maxPool3x3Plane(y []float32, arg []uint8, x []float32, p *PoolParams) {
	lo, hi := interior3(p.OutW, p.W, p.PadLeft, p.StrideW)
	top, bottom := interior3(p.OutH, p.H, p.PadTop, p.StrideH)
	for oy := 0; oy < p.OutH; oy++ {
		if oy == top && top < bottom {
			maxPool3x3Band(y, arg, x, p, band3{top, bottom, lo, hi, 0, 3})
			oy = bottom - 1
			continue
		}
		if ky0, ky1 := taps(oy, p.StrideH, p.PadTop, 3, 1, 0, p.H); ky1-ky0 == 2 {
			maxPool3x3Band(y, arg, x, p, band3{oy, oy + 1, lo, hi, ky0, 2})
			continue
		}
		for ox := range p.OutW {
			m, k := maxTap(x, oy, ox, p)
			y[oy*p.OutW+ox] = m
			if arg != nil {
				arg[oy*p.OutW+ox] = tapByte(k)
			}
		}
	}
}

// band3 is a block of output rows [oy0, oy1) of a 3x3 max pool whose
// windows have their tap rows ky0 to ky0+rows-1 inside the input, rows 2
// or 3; the windows of columns [lo, hi) lie inside it horizontally.
type band3 struct {
	oy0, oy1, lo, hi int
	ky0, rows        int
}

// maxPool3x3BandGo is MaxPool of the rows of band bd in Go, the
// assembly's twin: maxPool3x3InteriorGo does the windows of columns
// [lo, hi), maxPool3x3Edge the others.
func maxPool3x3BandGo(y []float32, arg []uint8, x []float32, p *PoolParams, bd band3) {
	if bd.lo < bd.hi {
		maxPool3x3InteriorGo(y, arg, x, p, bd)
	}
	for ox := 0; ox < p.OutW; ox++ {
		if ox == bd.lo && bd.lo < bd.hi {
			ox = bd.hi - 1
			continue
		}
		maxPool3x3Edge(y, arg, x, p, bd, ox)
	}
}

// maxPool3x3Edge is MaxPool of the windows of column ox of band bd, which
// the left or right edge clips, like maxPool3x3InteriorGo: each is copied
// to a 3x3 window whose rows repeat their last column inside the input,
// which changes neither its maximum nor its first tap equal to it.
func maxPool3x3Edge(y []float32, arg []uint8, x []float32, p *PoolParams, bd band3, ox int) {
	w := p.W
	kx0, kx1 := taps(ox, p.StrideW, p.PadLeft, 3, 1, 0, w)
	if kx0 == kx1 {
		for oy := bd.oy0; oy < bd.oy1; oy++ {
			y[oy*p.OutW+ox] = float32(math.Inf(-1))
			if arg != nil {
				arg[oy*p.OutW+ox] = noTap
			}
		}
		return
	}
	// cols maps the window's columns to input columns.
	c := ox*p.StrideW - p.PadLeft
	cols := [3]int{c + kx0, c + min(kx0+1, kx1-1), c + kx1 - 1}
	for oy := bd.oy0; oy < bd.oy1; oy++ {
		iy := oy*p.StrideH - p.PadTop + bd.ky0
		var win [3][3]float32
		for ky, r := range [3]int{iy, iy + 1, iy + bd.rows - 1} {
			row := x[r*w : (r+1)*w]
			win[ky] = [3]float32{row[cols[0]], row[cols[1]], row[cols[2]]}
		}
		m := max(max(win[0][0], win[1][0], win[2][0]), max(win[0][1], win[1][1], win[2][1]), max(win[0][2], win[1][2], win[2][2]))
		o := oy*p.OutW + ox
		y[o] = m
		if arg == nil {
			continue
		}
		k := firstMax3x3(&win[0], &win[1], &win[2], m)
		if k == noTap {
			_, k = maxTap(x, oy, ox, p)
		} else {
			k += 3*bd.ky0 - k%3 + cols[k%3] - c
		}
		arg[o] = tapByte(k)
	}
}

// maxPool3x3InteriorGo is MaxPool of the windows of columns [lo, hi) of
// band bd. A window of two rows reads its second row twice, as its third:
// that changes neither the maximum nor the first tap equal to it, which
// then only needs the offset of the window's first row. Along the row the
// column maxima slide: stride 1 reuses two of the three columns of the
// previous window, stride 2 one. The first maximum is then the first of
// the nine taps equal to the maximum.
func maxPool3x3InteriorGo(y []float32, arg []uint8, x []float32, p *PoolParams, bd band3) {
	w, sw := p.W, p.StrideW
	for oy := bd.oy0; oy < bd.oy1; oy++ {
		iy := oy*p.StrideH - p.PadTop + bd.ky0
		r0, r1, r2 := x[iy*w:(iy+1)*w], x[(iy+1)*w:(iy+2)*w], x[(iy+bd.rows-1)*w:(iy+bd.rows)*w]
		c := bd.lo*sw - p.PadLeft
		yi := y[oy*p.OutW+bd.lo : oy*p.OutW+bd.hi]
		a := max(r0[c], r1[c], r2[c])
		if sw == 1 {
			b := max(r0[c+1], r1[c+1], r2[c+1])
			s0, s1, s2 := r0[c+2:], r1[c+2:], r2[c+2:]
			s1, s2 = s1[:len(s0)], s2[:len(s0)]
			for i := range yi {
				n := max(s0[i], s1[i], s2[i])
				yi[i] = max(a, b, n)
				a, b = b, n
			}
		} else {
			s0, s1, s2 := r0[c+1:], r1[c+1:], r2[c+1:]
			s1, s2 = s1[:len(s0)], s2[:len(s0)]
			for i := range yi {
				b := max(s0[2*i], s1[2*i], s2[2*i])
				n := max(s0[2*i+1], s1[2*i+1], s2[2*i+1])
				yi[i] = max(a, b, n)
				a = n
			}
		}
		if arg == nil {
			continue
		}
		ar := arg[oy*p.OutW+bd.lo : oy*p.OutW+bd.hi]
		for i, m := range yi {
			k := firstMax3x3((*[3]float32)(r0[c:]), (*[3]float32)(r1[c:]), (*[3]float32)(r2[c:]), m)
			if k == noTap {
				_, k = maxTap(x, oy, bd.lo+i, p)
			} else {
				k += 3 * bd.ky0
			}
			ar[i] = tapByte(k)
			c += sw
		}
	}
}

// interior3 returns the outputs [lo, hi) of out along an axis of size n
// whose 3-tap windows lie inside the input.
func interior3(out, n, pad, stride int) (lo, hi int) {
	lo = (pad + stride - 1) / stride
	hi = min(out, floorDiv(n-3+pad, stride)+1)
	return lo, max(lo, hi)
}

// firstMax3x3 returns the first tap 3*row + column of the 3x3 window
// with rows r0, r1, r2 equal to its maximum m, or noTap if none is (m is
// NaN). It tests the taps last to first with conditional moves rather
// than branches, which ties (common after a ReLU) would make
// unpredictable: v >= m is v == m as m is the maximum, but the compiler
// turns it, unlike ==, into a conditional move.
func firstMax3x3(r0, r1, r2 *[3]float32, m float32) int {
	k := noTap
	if r2[2] >= m {
		k = 8
	}
	if r2[1] >= m {
		k = 7
	}
	if r2[0] >= m {
		k = 6
	}
	if r1[2] >= m {
		k = 5
	}
	if r1[1] >= m {
		k = 4
	}
	if r1[0] >= m {
		k = 3
	}
	if r0[2] >= m {
		k = 2
	}
	if r0[1] >= m {
		k = 1
	}
	if r0[0] >= m {
		k = 0
	}
	return k
}

// averagePoolPlane computes one plane of AveragePool (y = window means of x)
// or, backward, of its gradient (x += y spread over the windows).
func averagePoolPlane(y, x []float32, p *PoolParams, backward bool) {
	for oy := range p.OutH {
		ky0, ky1 := taps(oy, p.StrideH, p.PadTop, p.KH, p.DilationH, 0, p.H)
		rows := ky1 - ky0
		if p.CountIncludePad {
			py0, py1 := taps(oy, p.StrideH, p.PadTop, p.KH, p.DilationH, -p.PadTop, p.H+p.PadBottom)
			rows = py1 - py0
		}
		iy := oy*p.StrideH - p.PadTop
		for ox := range p.OutW {
			kx0, kx1 := taps(ox, p.StrideW, p.PadLeft, p.KW, p.DilationW, 0, p.W)
			cols := kx1 - kx0
			if p.CountIncludePad {
				px0, px1 := taps(ox, p.StrideW, p.PadLeft, p.KW, p.DilationW, -p.PadLeft, p.W+p.PadRight)
				cols = px1 - px0
			}
			ix := ox*p.StrideW - p.PadLeft
			o := oy*p.OutW + ox
			count := rows * cols
			if count == 0 {
				if !backward {
					y[o] = 0
				}
				continue
			}
			if backward {
				g := y[o] / float32(count)
				for ky := ky0; ky < ky1; ky++ {
					row := (iy+ky*p.DilationH)*p.W + ix
					for kx := kx0; kx < kx1; kx++ {
						x[row+kx*p.DilationW] += g
					}
				}
				continue
			}
			// float64 keeps large (global) windows accurate.
			sum := 0.0
			for ky := ky0; ky < ky1; ky++ {
				row := (iy+ky*p.DilationH)*p.W + ix
				for kx := kx0; kx < kx1; kx++ {
					sum += float64(x[row+kx*p.DilationW])
				}
			}
			y[o] = float32(sum / float64(count))
		}
	}
}

// taps returns the range [k0, k1) of the k taps of output position o whose
// input coordinate o*stride - pad + tap*dil lies in [lo, hi).
func taps(o, stride, pad, k, dil, lo, hi int) (k0, k1 int) {
	base := o*stride - pad
	k0 = max(0, -floorDiv(base-lo, dil))
	k1 = min(k, floorDiv(hi-1-base, dil)+1)
	return k0, max(k0, k1)
}

// floorDiv is a/d rounded toward -inf, for d > 0.
func floorDiv(a, d int) int {
	if d == 1 {
		return a
	}
	q := a / d
	if a%d != 0 && a < 0 {
		q--
	}
	return q
}
