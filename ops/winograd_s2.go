package ops

import "github.com/deepdream-go/deepdream/internal/parallel"

// A stride-2 convolution with a 7x7 kernel and pads 3 before (the first
// layer of GoogLeNet and of ResNet) runs as a stride-1 4x4 convolution of
// the four polyphase components of its input, x_rs[c][i][j] =
// x[c][2i+r][2j+s] (zero past the image), stacked as 4C channels
// (r*2+s)*C + c:
//
//	y[m][oy][ox] = sum over (r,s,c), b, d < 4 of w'[m][(r,s,c)][b][d] x_rs[c][oy-2+b][ox-2+d]
//	w'[m][(r,s,c)][b][d] = w[m][c][2b-1+r][2d-1+s]   (zero where 2b-1+r or 2d-1+s is -1)
//
// since input row 2*oy-3+kh is row oy-2+b of phase r for kh = 2b-1+r.
// That convolution runs as Winograd F(3x3, 4x4) with the machinery of
// ConvWinograd, 36 multiplications per 9 outputs and channel pair: with 4C
// = 12 channels instead of 3, the GEMMs do a third of im2col's 2*M*147
// flops per output. Its input gradient, a 4x4 convolution of dy padded by
// 1 with the flipped weights, gives the phases of dx, which interleave
// back into dx.
//
// With each core taking whole blocks of tiles (runFused), GoogLeNet's conv1
// runs in 0.65-0.7x the time of im2col (BenchmarkWinograd at 1024x768:
// 37 against 54-56 ms forward, 37-39 against 56-60 backward; at 224x224
// 2.6-3.6 against 3.3-5.9 and 2.8-3.3 against 4.0-6.4 ms). Below
// s2MinTiles tiles (an image under about 96x96) im2col is kept.
const s2MinTiles = 256

const (
	s2Taps  = 7 // kernel side of the original convolution
	s2Pad   = 3 // its pads before
	s2Phase = 4 // kernel side of the phase convolution
	s2Q     = 2 // pads before of the phase convolution
)

// polyphaseShape reports whether p runs as a Winograd convolution of its
// input's polyphase components: a 7x7 kernel, stride 2, dilation 1, one
// group, pads 3 before (any after).
func polyphaseShape(p *ConvParams) bool {
	return p.KH == s2Taps && p.KW == s2Taps && p.StrideH == 2 && p.StrideW == 2 &&
		p.DilationH == 1 && p.DilationW == 1 && p.Group == 1 &&
		p.PadTop == s2Pad && p.PadLeft == s2Pad
}

// phaseSize is the size of the polyphase components of an image side n.
func phaseSize(n int) int { return (n + 1) / 2 }

// phaseGeoms are the Winograd geometries of the phase convolution of one
// image and of its input gradient.
func phaseGeoms(p *ConvParams) (fwd, back winoGeom) {
	hp, wp := phaseSize(p.H), phaseSize(p.W)
	fwd = newWinoGeom(4*p.C, hp, wp, p.M, p.OutH(), p.OutW(), s2Q, s2Q, s2Phase)
	back = newWinoGeom(p.M, p.OutH(), p.OutW(), 4*p.C, hp, wp, s2Phase-1-s2Q, s2Phase-1-s2Q, s2Phase)
	return fwd, back
}

// phaseParams are the parameters of the phase convolution of p, which
// NewWinogradFilter transforms phaseWeights for: with p's GEMM kernel.
func phaseParams(p *ConvParams) ConvParams {
	return ConvParams{N: p.N, C: 4 * p.C, H: phaseSize(p.H), W: phaseSize(p.W), M: p.M, KH: s2Phase, KW: s2Phase,
		Group: 1, StrideH: 1, StrideW: 1, DilationH: 1, DilationW: 1,
		PadTop: s2Q, PadLeft: s2Q, PadBottom: s2Q, PadRight: s2Q, Kernel: p.Kernel}
}

// phaseWeights returns w' [M x 4C x 4 x 4] for w [M x C x 7 x 7]: the
// weights of the phase convolution (phaseParams) that NewWinogradFilter
// transforms.
func phaseWeights(w []float32, p *ConvParams) []float32 {
	c4 := 4 * p.C
	wp := make([]float32, p.M*c4*s2Phase*s2Phase)
	for m := range p.M {
		for r := range 2 {
			for s := range 2 {
				for c := range p.C {
					src := w[(m*p.C+c)*s2Taps*s2Taps:][:s2Taps*s2Taps]
					dst := wp[(m*c4+(r*2+s)*p.C+c)*s2Phase*s2Phase:][:s2Phase*s2Phase]
					for b := range s2Phase {
						kh := 2*b - 1 + r
						if kh < 0 {
							continue
						}
						for d := range s2Phase {
							if kw := 2*d - 1 + s; kw >= 0 {
								dst[b*s2Phase+d] = src[kh*s2Taps+kw]
							}
						}
					}
				}
			}
		}
	}
	return wp
}

// phaseTask moves rows between an image x [C x H x W] and its polyphase
// components xp [4C x Hp x Wp]: each unit is one row of xp.
type phaseTask struct {
	x, xp      []float32
	c, h, w    int
	merge, add bool // xp into x (adding if add), else x into xp
}

var phaseTasks parallel.Tasks[phaseTask, *phaseTask]

func (a *phaseTask) Run(lo, hi int) {
	hp, wp := phaseSize(a.h), phaseSize(a.w)
	for u := lo; u < hi; u++ {
		ch, i := u/hp, u%hp
		rs, c := ch/a.c, ch%a.c
		r, s := rs/2, rs%2
		prow := a.xp[(ch*hp+i)*wp:][:wp]
		iy := 2*i + r
		if iy >= a.h {
			if !a.merge {
				clear(prow)
			}
			continue
		}
		xrow := a.x[(c*a.h+iy)*a.w:][:a.w]
		n := (a.w - s + 1) / 2 // phase columns inside the image
		switch {
		case !a.merge:
			for j := range n {
				prow[j] = xrow[2*j+s]
			}
			clear(prow[n:])
		case a.add:
			for j, v := range prow[:n] {
				xrow[2*j+s] += v
			}
		default:
			for j, v := range prow[:n] {
				xrow[2*j+s] = v
			}
		}
	}
}

// splitPhases sets xp to the polyphase components of x [C x H x W].
func splitPhases(xp, x []float32, c, h, w int) {
	rows := 4 * c * phaseSize(h)
	phaseTasks.For(rows, max(elementwiseGrain/max(w, 1), 1), phaseTask{x: x, xp: xp, c: c, h: h, w: w})
}

// mergePhases sets x [C x H x W] (adds to it if add) from its polyphase
// components xp. Every pixel of x belongs to exactly one phase.
func mergePhases(x, xp []float32, c, h, w int, add bool) {
	rows := 4 * c * phaseSize(h)
	phaseTasks.For(rows, max(elementwiseGrain/max(w, 1), 1), phaseTask{x: x, xp: xp, c: c, h: h, w: w, merge: true, add: add})
}
