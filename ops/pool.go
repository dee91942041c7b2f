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
// (N, C, H, W). argmax (same size as dst) receives, per output, the index
// within its input plane of the first maximum in row-major window order, or
// -1 for a window that covers padding only (its output is -inf).
func MaxPool(dst []float32, argmax []int32, x []float32, p *PoolParams) {
	poolTasks.For(p.N*p.C, p.planeGrain(), poolTask{kind: maxPoolForward, y: dst, x: x, argmax: argmax, p: p})
}

// MaxPoolBackward: dx += dy routed to the maxima MaxPool recorded in argmax.
func MaxPoolBackward(dx, dy []float32, argmax []int32, p *PoolParams) {
	poolTasks.For(p.N*p.C, p.planeGrain(), poolTask{kind: maxPoolBackward, y: dy, x: dx, argmax: argmax, p: p})
}

// MaxPoolIndices: dst = ONNX's Indices output of MaxPool from its argmax:
// the flat index into x (N, C, H, W) of each maximum, row-major or, with
// columnMajor, with H varying fastest within a plane. The indices are
// float32, exact below 2^24; a window over padding only has index -1.
func MaxPoolIndices(dst []float32, argmax []int32, p *PoolParams, columnMajor bool) {
	out := p.OutH * p.OutW
	for o, a := range argmax {
		i := int(a)
		switch {
		case i < 0:
			dst[o] = -1
			continue
		case columnMajor:
			i = i%p.W*p.H + i/p.W
		}
		dst[o] = float32(o/out*p.H*p.W + i)
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
	poolTasks.For(p.N*p.C, p.planeGrain(), poolTask{kind: averagePoolBackward, y: dy, x: dx, p: p})
}

type poolKind uint8

const (
	maxPoolForward poolKind = iota
	maxPoolBackward
	averagePoolForward
	averagePoolBackward
)

// poolTask runs one of the pooling kernels over a range of planes. y is the
// output side (dst or dy), x the input side (x or dx).
type poolTask struct {
	kind   poolKind
	y, x   []float32
	argmax []int32
	p      *PoolParams
}

var poolTasks parallel.Tasks[poolTask, *poolTask]

func (t *poolTask) Run(lo, hi int) {
	p := t.p
	in, out := p.H*p.W, p.OutH*p.OutW
	for pl := lo; pl < hi; pl++ {
		x, y := t.x[pl*in:(pl+1)*in], t.y[pl*out:(pl+1)*out]
		switch t.kind {
		case maxPoolForward:
			maxPoolPlane(y, t.argmax[pl*out:(pl+1)*out], x, p)
		case maxPoolBackward:
			for o, a := range t.argmax[pl*out : (pl+1)*out] {
				if a >= 0 {
					x[a] += y[o]
				}
			}
		case averagePoolForward, averagePoolBackward:
			averagePoolPlane(y, x, p, t.kind == averagePoolBackward)
		}
	}
}

// planeGrain is the number of planes per parallel chunk that makes the
// chunk worth a core.
func (p *PoolParams) planeGrain() int {
	return max(1, elementwiseGrain/max(1, p.OutH*p.OutW*p.KH*p.KW))
}

func maxPoolPlane(y []float32, argmax []int32, x []float32, p *PoolParams) {
	w, sw, dw, dh := p.W, p.StrideW, p.DilationW, p.DilationH
	for oy := range p.OutH {
		ky0, ky1 := taps(oy, p.StrideH, p.PadTop, p.KH, dh, 0, p.H)
		iy := oy*p.StrideH - p.PadTop
		for ox := range p.OutW {
			kx0, kx1 := taps(ox, sw, p.PadLeft, p.KW, dw, 0, w)
			ix := ox*sw - p.PadLeft
			// Compare order keys with a branch-free select: a
			// compare-and-branch per tap mispredicts on every new
			// maximum, which costs more than the whole window.
			best, arg := int64(math.MinInt32), int64(-1)
			for ky := ky0; ky < ky1; ky++ {
				row := (iy+ky*dh)*w + ix
				for kx := kx0; kx < kx1; kx++ {
					i := int64(row + kx*dw)
					k := int64(orderKey(x[i]))
					// All ones when k > best: strictly greater keeps the
					// first maximum, which the backward pass must route to.
					gt := (best - k) >> 63
					best ^= (best ^ k) & gt
					arg ^= (arg ^ i) & gt
				}
			}
			v := float32(math.Inf(-1))
			if arg >= 0 {
				v = x[arg]
			}
			o := oy*p.OutW + ox
			y[o], argmax[o] = v, int32(arg)
		}
	}
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

// orderKey maps a float32 to an int32 that orders like it: x < y implies
// orderKey(x) < orderKey(y), and -0 and +0 tie. NaNs sort beyond the
// infinities of their sign.
func orderKey(v float32) int32 {
	b := int32(math.Float32bits(v))
	sign := b >> 31 // 0 or -1
	return (b&math.MaxInt32 ^ sign) - sign
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
