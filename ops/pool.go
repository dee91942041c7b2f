package ops

import (
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
}

// MaxPool: dst (N, C, OutH, OutW) = the maximum of each window of x
// (N, C, H, W), -inf for a window that covers padding only. 3x3 windows
// with dilation 1 and horizontal stride 1 or 2 (GoogLeNet's pools) take a
// fast path; maxPoolWith chooses.
func MaxPool(dst, x []float32, p *PoolParams) {
	maxPoolWith(dst, x, p, p.fast3x3())
}

func maxPoolWith(dst, x []float32, p *PoolParams, fast bool) {
	poolTasks.For(p.N*p.C, p.planeGrain(), poolTask{kind: maxPoolForward, fast: fast, y: dst, x: x, p: p})
}

// MaxPoolBackward: dx += dy routed to the first maximum, in row-major window
// order, of each window (as ONNX, Caffe and PyTorch route it), given the
// forward run's x and y. The winner is found again rather than stored: the
// tap equal to y. That costs a window scan here but keeps MaxPool itself a
// pure max, and no argmax buffer lives between the passes. A NaN output
// goes to the window's first NaN.
func MaxPoolBackward(dx, dy, x, y []float32, p *PoolParams) {
	maxPoolBackwardWith(dx, dy, x, y, p, p.fast3x3())
}

func maxPoolBackwardWith(dx, dy, x, y []float32, p *PoolParams, fast bool) {
	poolTasks.For(p.N*p.C, p.planeGrain(), poolTask{kind: maxPoolBackward, fast: fast, y: y, dy: dy, x: x, dx: dx, p: p})
}

// MaxPoolIndices: dst = ONNX's Indices output of MaxPool, from its x and y:
// the flat index into x (N, C, H, W) of each window's first maximum,
// row-major or, with columnMajor, with H varying fastest within a plane.
// The indices are float32, exact below 2^24; a window over padding only
// has index -1.
func MaxPoolIndices(dst, x, y []float32, p *PoolParams, columnMajor bool) {
	in, out := p.H*p.W, p.OutH*p.OutW
	for o, v := range y {
		pl := o / out
		i := firstMax(x[pl*in:(pl+1)*in], v, (o%out)/p.OutW, o%p.OutW, p)
		switch {
		case i < 0:
			dst[o] = -1
			continue
		case columnMajor:
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
	averagePoolForward
	averagePoolBackward
)

// poolTask runs one of the pooling kernels over a range of planes. y and
// dy are on the output side, x and dx on the input side; averagePoolPlane
// takes (y, x) forward and (dy, dx) backward.
type poolTask struct {
	kind         poolKind
	fast         bool // the 3x3 kernels, see fast3x3
	y, dy, x, dx []float32
	p            *PoolParams
}

var poolTasks parallel.Tasks[poolTask, *poolTask]

func (t *poolTask) Run(lo, hi int) {
	p := t.p
	in, out := p.H*p.W, p.OutH*p.OutW
	for pl := lo; pl < hi; pl++ {
		ip, op := pl*in, pl*out
		switch t.kind {
		case maxPoolForward:
			x, y := t.x[ip:ip+in], t.y[op:op+out]
			if t.fast {
				maxPool3x3Plane(y, x, p)
			} else {
				maxPoolPlane(y, x, p)
			}
		case maxPoolBackward:
			x, y, dx, dy := t.x[ip:ip+in], t.y[op:op+out], t.dx[ip:ip+in], t.dy[op:op+out]
			if t.fast {
				maxPool3x3BackwardPlane(dx, dy, x, y, p)
			} else {
				maxPoolBackwardPlane(dx, dy, x, y, p)
			}
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

// maxPoolPlane is the generic MaxPool of one plane, the fast kernels' twin.
func maxPoolPlane(y, x []float32, p *PoolParams) {
	for oy := range p.OutH {
		ky0, ky1 := taps(oy, p.StrideH, p.PadTop, p.KH, p.DilationH, 0, p.H)
		iy := oy*p.StrideH - p.PadTop
		for ox := range p.OutW {
			kx0, kx1 := taps(ox, p.StrideW, p.PadLeft, p.KW, p.DilationW, 0, p.W)
			ix := ox*p.StrideW - p.PadLeft
			m := float32(math.Inf(-1))
			for ky := ky0; ky < ky1; ky++ {
				row := (iy+ky*p.DilationH)*p.W + ix
				for kx := kx0; kx < kx1; kx++ {
					m = max(m, x[row+kx*p.DilationW])
				}
			}
			y[oy*p.OutW+ox] = m
		}
	}
}

// maxPoolBackwardPlane is the generic MaxPoolBackward of one plane.
func maxPoolBackwardPlane(dx, dy, x, y []float32, p *PoolParams) {
	for o, g := range dy {
		if i := firstMax(x, y[o], o/p.OutW, o%p.OutW, p); i >= 0 {
			dx[i] += g
		}
	}
}

// firstMax returns the index in the plane x of the first tap of window
// (oy, ox), in row-major window order, equal to v (or NaN if v is), or -1.
func firstMax(x []float32, v float32, oy, ox int, p *PoolParams) int {
	ky0, ky1 := taps(oy, p.StrideH, p.PadTop, p.KH, p.DilationH, 0, p.H)
	kx0, kx1 := taps(ox, p.StrideW, p.PadLeft, p.KW, p.DilationW, 0, p.W)
	iy, ix := oy*p.StrideH-p.PadTop, ox*p.StrideW-p.PadLeft
	for ky := ky0; ky < ky1; ky++ {
		row := (iy+ky*p.DilationH)*p.W + ix
		for kx := kx0; kx < kx1; kx++ {
			if i := row + kx*p.DilationW; x[i] == v || v != v && x[i] != x[i] {
				return i
			}
		}
	}
	return -1
}

// maxPool3x3Plane is MaxPool of one plane for fast3x3 geometries. Each
// output row is the maximum of up to three input rows; a row clipped by
// padding is replaced by a repeat of a row inside, which leaves the
// maximum unchanged. Along the row the column maxima slide: stride 1 reuses
// two of the three columns of the previous window, stride 2 one.
func maxPool3x3Plane(y, x []float32, p *PoolParams) {
	w, sw := p.W, p.StrideW
	lo, hi := interior3(p)
	for oy := range p.OutH {
		yr := y[oy*p.OutW : (oy+1)*p.OutW]
		r0, r1, r2, ok := rows3(x, oy, p)
		if !ok {
			for ox := range yr {
				yr[ox] = float32(math.Inf(-1))
			}
			continue
		}
		for ox := 0; ox < len(yr); ox++ {
			if ox == lo && lo < hi {
				ox = hi - 1 // the interior is done below
				continue
			}
			kx0, kx1 := taps(ox, sw, p.PadLeft, 3, 1, 0, w)
			m := float32(math.Inf(-1))
			for c := ox*sw - p.PadLeft + kx0; c < ox*sw-p.PadLeft+kx1; c++ {
				m = max(m, r0[c], r1[c], r2[c])
			}
			yr[ox] = m
		}
		if lo >= hi {
			continue
		}
		c := lo*sw - p.PadLeft
		yi := yr[lo:hi]
		a := max(r0[c], r1[c], r2[c])
		if sw == 1 {
			b := max(r0[c+1], r1[c+1], r2[c+1])
			r0, r1, r2 = r0[c+2:], r1[c+2:], r2[c+2:]
			r1, r2 = r1[:len(r0)], r2[:len(r0)]
			for i := range yi {
				n := max(r0[i], r1[i], r2[i])
				yi[i] = max(a, b, n)
				a, b = b, n
			}
			continue
		}
		r0, r1, r2 = r0[c+1:], r1[c+1:], r2[c+1:]
		r1, r2 = r1[:len(r0)], r2[:len(r0)]
		for i := range yi {
			b := max(r0[2*i], r1[2*i], r2[2*i])
			n := max(r0[2*i+1], r1[2*i+1], r2[2*i+1])
			yi[i] = max(a, b, n)
			a = n
		}
	}
}

// interior3 returns the outputs [lo, hi) of a row whose 3x3 windows lie
// inside the input horizontally.
func interior3(p *PoolParams) (lo, hi int) {
	lo = (p.PadLeft + p.StrideW - 1) / p.StrideW
	hi = min(p.OutW, floorDiv(p.W-3+p.PadLeft, p.StrideW)+1)
	return lo, max(lo, hi)
}

// rows3 returns the three input rows of output row oy, the clipped ones
// replaced by repeats of rows inside (ok is false when none is inside).
func rows3(x []float32, oy int, p *PoolParams) (r0, r1, r2 []float32, ok bool) {
	ky0, ky1 := taps(oy, p.StrideH, p.PadTop, 3, 1, 0, p.H)
	if ky0 == ky1 {
		return nil, nil, nil, false
	}
	iy := oy*p.StrideH - p.PadTop
	row := func(ky int) []float32 { return x[(iy+ky)*p.W : (iy+ky+1)*p.W] }
	return row(ky0), row((ky0 + ky1 - 1) / 2), row(ky1 - 1), true
}

// maxPool3x3BackwardPlane is MaxPoolBackward of one plane for fast3x3
// geometries. A window clipped by padding repeats a row or column inside in
// place of each one outside, as maxPool3x3Plane does: a repeat comes after
// the original in window order, so the first maximum stays the same.
func maxPool3x3BackwardPlane(dx, dy, x, y []float32, p *PoolParams) {
	w, sw := p.W, p.StrideW
	lo, hi := interior3(p)
	for oy := range p.OutH {
		ky0, ky1 := taps(oy, p.StrideH, p.PadTop, 3, 1, 0, p.H)
		if ky0 == ky1 {
			continue // padding only: no input has a gradient
		}
		iy := oy*p.StrideH - p.PadTop
		yr, gr := y[oy*p.OutW:(oy+1)*p.OutW], dy[oy*p.OutW:(oy+1)*p.OutW]
		if ky1-ky0 == 3 && lo < hi {
			c := iy*w + lo*sw - p.PadLeft
			for ox, v := range yr[lo:hi] {
				k := firstMax3x3(x[c:c+3:c+3], x[c+w:c+w+3:c+w+3], x[c+2*w:c+2*w+3:c+2*w+3], v)
				dx[c+k>>2*w+k&3] += gr[lo+ox]
				c += sw
			}
		}
		top := (iy + ky0) * w
		rows := [3]int{top, top + (ky1-ky0-1)/2*w, top + (ky1-ky0-1)*w}
		for ox, v := range yr {
			if ky1-ky0 == 3 && ox >= lo && ox < hi {
				continue
			}
			kx0, kx1 := taps(ox, sw, p.PadLeft, 3, 1, 0, w)
			if kx0 == kx1 {
				continue
			}
			left := ox*sw - p.PadLeft
			cols := [3]int{left + kx0, left + (kx0+kx1-1)/2, left + kx1 - 1}
			var t [3][3]float32
			for i, r := range rows {
				for j, c := range cols {
					t[i][j] = x[r+c]
				}
			}
			k := firstMax3x3(t[0][:], t[1][:], t[2][:], v)
			dx[rows[k>>2]+cols[k&3]] += gr[ox]
		}
	}
}

// firstMax3x3 returns 4*row + column of the first tap of the 3x3 window
// with rows r0, r1, r2 equal to v (or NaN, if v is).
func firstMax3x3(r0, r1, r2 []float32, v float32) int {
	for k, r := range [3][]float32{r0, r1, r2} {
		for j, f := range r[:3] {
			if f == v {
				return 4*k + j
			}
		}
	}
	for k, r := range [3][]float32{r0, r1, r2} {
		for j, f := range r[:3] {
			if f != f {
				return 4*k + j
			}
		}
	}
	panic("ops: MaxPool output is not in its window")
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
