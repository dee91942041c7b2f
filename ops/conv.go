package ops

import (
	"github.com/deepdream-go/deepdream/internal/gemm"
	"github.com/deepdream-go/deepdream/internal/parallel"
)

// ConvParams describes a 2-D convolution (cross-correlation, as in ONNX):
//
//	x [N x C x H x W]            input
//	w [M x C/Group x KH x KW]    weights
//	b [M]                        bias (optional)
//	y [N x M x OH x OW]          output, OH and OW from OutH and OutW
//
// Channel group g maps input channels [g*C/Group, (g+1)*C/Group) to output
// channels [g*M/Group, (g+1)*M/Group); Group == C is a depthwise
// convolution (M a multiple of C). Pads are zero padding added before and after each spatial
// axis; strides and dilations are >= 1.
type ConvParams struct {
	N, C, H, W                           int
	M, KH, KW                            int
	Group                                int
	StrideH, StrideW                     int
	DilationH, DilationW                 int
	PadTop, PadLeft, PadBottom, PadRight int
	// Relu makes Conv output max(0, conv(x, w) + b), applied to each tile
	// while it is in cache: a Relu fused into the convolution. Its
	// backward is ReluMaskBits (with the bits ReluBits kept) on dy before
	// ConvBackwardInput.
	Relu bool
	// Kernel is the GEMM micro-kernel to compute with, and to pack weights
	// for (nil: gemm.Default()).
	Kernel *gemm.Kernel
}

// OutH is the output height.
func (p *ConvParams) OutH() int {
	return (p.H+p.PadTop+p.PadBottom-p.DilationH*(p.KH-1)-1)/p.StrideH + 1
}

// OutW is the output width.
func (p *ConvParams) OutW() int {
	return (p.W+p.PadLeft+p.PadRight-p.DilationW*(p.KW-1)-1)/p.StrideW + 1
}

// pointwise reports a 1x1, stride 1, unpadded convolution: its im2col matrix
// would be x itself, so x is used directly.
func (p *ConvParams) pointwise() bool {
	return p.KH == 1 && p.KW == 1 && p.StrideH == 1 && p.StrideW == 1 &&
		p.PadTop == 0 && p.PadLeft == 0 && p.PadBottom == 0 && p.PadRight == 0
}

// epilogue is what the GEMM applies to each finished block row of y: the
// fused ReLU, if any.
func (p *ConvParams) epilogue() func(row []float32) {
	if p.Relu {
		return reluInPlace
	}
	return nil
}

func reluInPlace(row []float32) { relu(row, row) }

// depthwise reports one input channel per group. Its GEMMs would have
// K = KH*KW and M/G rows, far too small to pay for packing, so it runs
// directly, one output channel at a time.
func (p *ConvParams) depthwise() bool { return p.C == p.Group }

// convScratchFloats bounds the im2col tile: a 2 MB tile keeps memory flat
// for any image size (whole-image im2col for conv1 of a 2048x1536 image
// would take 460 MB) while leaving Sgemm hundreds of columns per call.
const convScratchFloats = 1 << 19

// tile is the number of output pixels per im2col tile.
func (p *ConvParams) tile() int {
	pixels := p.OutH() * p.OutW()
	if p.pointwise() {
		return pixels
	}
	k := p.C / p.Group * p.KH * p.KW
	return min(max(convScratchFloats/k, 256), 4096, pixels)
}

// ConvScratchSize is the length of the scratch slice Conv and
// ConvBackwardInput need: one im2col tile with a row of ones and the
// weights with a bias column (see Conv), or 0 for pointwise and depthwise
// convolutions.
func ConvScratchSize(p *ConvParams) int {
	if p.pointwise() || p.depthwise() {
		return 0
	}
	k := p.C / p.Group * p.KH * p.KW
	return (k+1)*p.tile() + p.M/p.Group*(k+1)
}

// Conv computes y = conv(x, w) + b (b may be nil) as one GEMM per group and
// tile of output pixels:
//
//	y_g[M/G x tile] = w_g[M/G x K] * col[K x tile],  K = C/G*KH*KW
//
// where col holds the input patches of the tile's pixels (im2col), built in
// scratch (ConvScratchSize(p) elements); with a bias, w_g gains the bias as
// a last column and col a last row of ones. Depthwise convolutions
// accumulate y_m += w_m[tap] * x_g seen through each tap instead. y must
// not alias x.
func Conv(y, x, w, b, scratch []float32, p *ConvParams) {
	convForward(y, x, w, b, nil, scratch, p)
}

// ConvFilter is a convolution's weights (and bias) with each group's
// matrices packed once for the GEMMs of Conv (w_g, with the bias column of
// an im2col convolution) and of ConvBackwardInput (w_g^T): constant
// weights need not be packed again by every call, and by every core that
// takes a part of the product (8% of a 224x224 step's time).
type ConvFilter struct {
	w, b      []float32
	fwd, back []*gemm.Packed
}

// ConvFilterSize is the number of floats NewConvFilter keeps for p, with
// a bias if bias, beside the weights and bias it is given (which it
// shares): its packed matrices, for estimates of memory.
func ConvFilterSize(p *ConvParams, bias bool) int {
	if p.depthwise() {
		return 0
	}
	mg, k, kf := p.filterDims(bias)
	return p.Group * (p.Kernel.PackedSize(mg, kf) + p.Kernel.PackedSize(k, mg))
}

// filterDims are the sizes of a group's packed matrices (NewConvFilter):
// mg output channels by k weights, kf with the bias column that a
// convolution with a bias and an im2col packs beside them (a pointwise
// one adds its bias apart).
func (p *ConvParams) filterDims(bias bool) (mg, k, kf int) {
	mg, k = p.M/p.Group, p.C/p.Group*p.KH*p.KW
	kf = k
	if bias && !p.pointwise() {
		kf++
	}
	return mg, k, kf
}

// NewConvFilter packs w [M x C/Group x KH x KW] and b [M] (nil: no bias)
// for p; depthwise convolutions, which use no GEMM, get nil.
func NewConvFilter(w, b []float32, p *ConvParams) *ConvFilter {
	if p.depthwise() {
		return nil
	}
	mg, k, kf := p.filterDims(b != nil)
	f := &ConvFilter{w: w, b: b}
	for g := range p.Group {
		wg := w[g*mg*k:][:mg*k]
		var fwd *gemm.Packed
		if kf == k {
			fwd = p.Kernel.Pack(false, mg, k, 1, wg, k)
		} else { // the bias column
			wb := make([]float32, mg*kf)
			for i := range mg {
				copy(wb[i*kf:], wg[i*k:(i+1)*k])
				wb[i*kf+k] = b[g*mg+i]
			}
			fwd = p.Kernel.Pack(false, mg, kf, 1, wb, kf)
		}
		f.fwd = append(f.fwd, fwd)
		f.back = append(f.back, p.Kernel.Pack(true, k, mg, 1, wg, k))
	}
	return f
}

// ConvPacked is Conv with the weights and bias of f.
func ConvPacked(y, x []float32, f *ConvFilter, scratch []float32, p *ConvParams) {
	convForward(y, x, f.w, f.b, f, scratch, p)
}

// convForward is Conv, with the packed weights of f unless f is nil.
func convForward(y, x, w, b []float32, f *ConvFilter, scratch []float32, p *ConvParams) {
	cg, mg := p.C/p.Group, p.M/p.Group
	k := cg * p.KH * p.KW
	hw, pixels := p.H*p.W, p.OutH()*p.OutW()
	tile := p.tile()
	for n := range p.N {
		xn := x[n*p.C*hw:][:p.C*hw]
		yn := y[n*p.M*pixels:][:p.M*pixels]
		if p.depthwise() {
			patchTasks.For(p.C, p.patchGrain(p.KH*p.KW*mg*pixels), patchTask{yn, xn, w, b, p, 0, pixels, patchAccumulate})
			if p.Relu {
				Relu(yn, yn)
			}
			continue
		}
		for g := range p.Group {
			xg := xn[g*cg*hw:][:cg*hw]
			wg := w[g*mg*k:][:mg*k]
			yg := yn[g*mg*pixels:][:mg*pixels]
			var bg []float32
			if b != nil {
				bg = b[g*mg:][:mg]
			}
			if p.pointwise() {
				// The image is the im2col matrix. The GEMM sets each block
				// of y to the bias just before adding the product into it,
				// and rectifies it just after, while it is in cache.
				if f != nil {
					gemm.SgemmPackedLayer(f.fwd[g], pixels, xg, hw, bg, yg, pixels, p.epilogue())
				} else {
					p.Kernel.SgemmLayer(false, false, mg, pixels, k, 1, wg, k, xg, hw, bg, yg, pixels, p.epilogue())
				}
				continue
			}
			// The bias is one more column of the weights, facing a row of
			// ones under the im2col matrix: the GEMM then writes y
			// without reading it.
			kb, wb := k, wg
			if bg != nil {
				kb = k + 1
			}
			if bg != nil && f == nil {
				wb = scratch[(k+1)*tile:][:mg*(k+1)]
				for i := range mg {
					copy(wb[i*kb:], wg[i*k:(i+1)*k])
					wb[i*kb+k] = bg[i]
				}
			}
			for p0 := 0; p0 < pixels; p0 += tile {
				t := min(tile, pixels-p0)
				col := scratch[:kb*t]
				a := patchTask{col, xg, nil, nil, p, p0, t, patchGather}
				patchTasks.For(cg*a.groups(), p.patchGrain(t), a)
				if kb > k {
					ones := col[k*t:]
					for i := range ones {
						ones[i] = 1
					}
				}
				if f != nil {
					gemm.SgemmPackedLayer(f.fwd[g], t, col, t, nil, yg[p0:], pixels, p.epilogue())
				} else {
					p.Kernel.SgemmLayer(false, false, mg, t, kb, 1, wb, kb, col, t, nil, yg[p0:], pixels, p.epilogue())
				}
			}
		}
	}
}

// ConvBackwardInput: dx = conv^T(dy, w), added to dx if accumulate, else
// setting it whatever it held, per group and tile
//
//	dcol[K x tile] = w_g^T * dy_g[M/G x tile]
//
// then scattered and added into dx (col2im), the transpose of im2col.
// Pointwise convolutions add w_g^T * dy_g into dx directly, depthwise ones
// add w_m[tap] * dy_m into x_g seen through each tap.
//
// Setting dx spares the caller a pass clearing it, and a pointwise
// convolution's GEMM then writes dx without reading it.
func ConvBackwardInput(dx, dy, w, scratch []float32, p *ConvParams, accumulate bool) {
	convBackwardInput(dx, dy, w, nil, scratch, p, accumulate)
}

// ConvPackedBackwardInput is ConvBackwardInput with the weights of f.
func ConvPackedBackwardInput(dx, dy []float32, f *ConvFilter, scratch []float32, p *ConvParams, accumulate bool) {
	convBackwardInput(dx, dy, f.w, f, scratch, p, accumulate)
}

// convBackwardInput is ConvBackwardInput, with the packed weights of f
// unless f is nil, adding to dx if accumulate, else setting it.
func convBackwardInput(dx, dy, w []float32, f *ConvFilter, scratch []float32, p *ConvParams, accumulate bool) {
	beta := float32(1)
	if !accumulate {
		if !p.pointwise() {
			Clear(dx) // the scatters below add
		}
		beta = 0
	}
	cg, mg := p.C/p.Group, p.M/p.Group
	k := cg * p.KH * p.KW
	hw, pixels := p.H*p.W, p.OutH()*p.OutW()
	tile := p.tile()
	for n := range p.N {
		dxn := dx[n*p.C*hw:][:p.C*hw]
		dyn := dy[n*p.M*pixels:][:p.M*pixels]
		if p.depthwise() {
			patchTasks.For(p.C, p.patchGrain(p.KH*p.KW*mg*pixels), patchTask{dyn, dxn, w, nil, p, 0, pixels, patchScatter})
			continue
		}
		for g := range p.Group {
			dxg := dxn[g*cg*hw:][:cg*hw]
			wg := w[g*mg*k:][:mg*k]
			dyg := dyn[g*mg*pixels:][:mg*pixels]
			if p.pointwise() {
				if f != nil {
					gemm.SgemmPacked(f.back[g], hw, dyg, pixels, beta, dxg, hw)
				} else {
					p.Kernel.Sgemm(true, false, cg, hw, mg, 1, wg, k, dyg, pixels, beta, dxg, hw)
				}
				continue
			}
			for p0 := 0; p0 < pixels; p0 += tile {
				t := min(tile, pixels-p0)
				dcol := scratch[:k*t]
				if f != nil {
					gemm.SgemmPacked(f.back[g], t, dyg[p0:], pixels, 0, dcol, t)
				} else {
					p.Kernel.Sgemm(true, false, k, t, mg, 1, wg, k, dyg[p0:], pixels, 0, dcol, t)
				}
				a := patchTask{dcol, dxg, nil, nil, p, p0, t, patchScatter}
				patchTasks.For(cg*a.groups(), p.patchGrain(t), a)
			}
		}
	}
}

// patchGrain is the number of parallel units (see patchTask.groups) per
// chunk when each unit moves work elements.
func (p *ConvParams) patchGrain(work int) int {
	return max(elementwiseGrain/max(work, 1), 1)
}

// patchTask moves values between an image x [channels x H x W] and rows
// of t output pixels [p0, p0+t) that see x through each kernel tap
// (kh, kw): pixel (oy, ox) sees x[oy*StrideH-PadTop+kh*DilationH]
// [ox*StrideW-PadLeft+kw*DilationW], or zero padding.
//
// Without w the rows are an im2col matrix [channels*KH*KW x t], row
// (c*KH+kh)*KW+kw for channel c and tap (kh, kw): patchGather fills it,
// patchScatter adds it back into x (col2im).
//
// With w (depthwise) the rows are the M/G output channels of each input
// channel, w their weights [M x KH x KW]: patchAccumulate sets each row to
// its bias b (nil: zero) and adds every tap's weight times what it sees;
// patchScatter adds weight times row into x through every tap.
//
// Tasks split the channels of x and, without w, the taps of each channel
// into groups (see groups), so that scattering tasks write disjoint parts
// of x.
type patchTask struct {
	rows, x []float32
	w, b    []float32
	p       *ConvParams
	p0, t   int
	mode    patchMode
}

type patchMode int

const (
	patchGather     patchMode = iota // row = x through the tap
	patchAccumulate                  // row += weight * x through the tap
	patchScatter                     // x through the tap += weight * row
)

var patchTasks parallel.Tasks[patchTask, *patchTask]

// groups is the number of parallel units each channel of x splits into:
// every tap alone for patchGather, which only reads x; for patchScatter
// without w, the taps by the residue of kh*DilationH mod StrideH, which
// see disjoint rows of x (a stride-2 convolution's two row phases; not
// columns, as scatterAdd2 rewrites the columns between its own); else the
// whole channel.
func (a *patchTask) groups() int {
	switch {
	case a.w != nil:
		return 1
	case a.mode == patchGather:
		return a.p.KH * a.p.KW
	}
	return a.p.StrideH
}

// group returns the group of tap (kh, kw).
func (a *patchTask) group(kh, kw int) int {
	p := a.p
	switch {
	case a.w != nil:
		return 0
	case a.mode == patchGather:
		return kh*p.KW + kw
	}
	return kh * p.DilationH % p.StrideH
}

func (a *patchTask) Run(lo, hi int) {
	p := a.p
	hw, ow, taps := p.H*p.W, p.OutW(), p.KH*p.KW
	// units is the number of rows each channel of x has per tap: one im2col
	// row, or its M/G output channels in a depthwise convolution.
	units := 1
	if a.w != nil {
		units = p.M / p.Group
	}
	groups := a.groups()
	for cg := lo; cg < hi; cg++ {
		c, grp := cg/groups, cg%groups
		xc := a.x[c*hw:][:hw]
		for u := c * units; u < (c+1)*units; u++ {
			if a.mode == patchAccumulate {
				v := float32(0)
				if a.b != nil {
					v = a.b[u]
				}
				row := a.rows[u*a.t:][:a.t]
				for i := range row {
					row[i] = v
				}
			}
			for tap := range taps {
				kh, kw := tap/p.KW, tap%p.KW
				if a.group(kh, kw) != grp {
					continue
				}
				row, weight := a.rows[u*a.t:][:a.t], float32(1)
				if a.w != nil {
					weight = a.w[u*taps+tap]
				} else {
					row = a.rows[(u*taps+tap)*a.t:][:a.t]
				}
				// Walk the tile one output row segment at a time: within a
				// segment the input row is fixed and the columns advance
				// by the stride.
				oy, ox := a.p0/ow, a.p0%ow
				for j := 0; j < a.t; oy, ox = oy+1, 0 {
					seg := row[j:min(j+ow-ox, a.t)]
					j += len(seg)
					iy := oy*p.StrideH - p.PadTop + kh*p.DilationH
					if iy < 0 || iy >= p.H {
						if a.mode == patchGather {
							clear(seg)
						}
						continue
					}
					a.segment(seg, xc[iy*p.W:][:p.W], ox*p.StrideW-p.PadLeft+kw*p.DilationW, weight)
				}
			}
		}
	}
}

// segment moves seg[i] <-> xrow[ix0 + i*StrideW], which is zero padding
// outside xrow.
func (a *patchTask) segment(seg, xrow []float32, ix0 int, weight float32) {
	s := a.p.StrideW
	lo, hi := 0, 0 // seg[lo:hi] sees xrow
	if ix0 < 0 {
		lo = (-ix0 + s - 1) / s
	}
	if ix0 < len(xrow) {
		hi = (len(xrow)-1-ix0)/s + 1
	}
	hi = min(hi, len(seg))
	if lo >= hi { // the whole segment sees padding
		if a.mode == patchGather {
			clear(seg)
		}
		return
	}
	inside := seg[lo:hi]
	ix := ix0 + lo*s
	switch {
	case a.mode == patchGather:
		clear(seg[:lo])
		clear(seg[hi:])
		switch s {
		case 1:
			copy(inside, xrow[ix:])
		case 2:
			gather2(inside, xrow[ix:])
		default:
			for i := range inside {
				inside[i] = xrow[ix+i*s]
			}
		}
	case s == 1 && a.mode == patchAccumulate:
		for i, v := range xrow[ix:][:len(inside)] {
			inside[i] += weight * v
		}
	case s == 1: // patchScatter, unit stride
		axpy(xrow[ix:], inside, weight)
	case a.mode == patchAccumulate:
		for i := range inside {
			inside[i] += weight * xrow[ix+i*s]
		}
	case s == 2: // patchScatter
		scatterAdd2(xrow[ix:], inside, weight)
	default: // patchScatter, strided
		for i, v := range inside {
			xrow[ix+i*s] += weight * v
		}
	}
}
