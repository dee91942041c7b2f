package ops

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

// transposed describes a transposed convolution the way ONNX does: x [n
// x c x h x w] to y [n x m x oh x ow], weights [c x m/group x k x k],
// oh = stride*(h-1) + dilation*(k-1) + 1 - padTop - padBottom + outPad.
type transposed struct {
	n, c, h, w, m, k, group      int
	stride, dilation             int
	padTop, padBottom, outPad    int
	padLeft, padRight, outPadCol int
}

func (t transposed) out() (oh, ow int) {
	oh = t.stride*(t.h-1) + t.dilation*(t.k-1) + 1 - t.padTop - t.padBottom + t.outPad
	ow = t.stride*(t.w-1) + t.dilation*(t.k-1) + 1 - t.padLeft - t.padRight + t.outPadCol
	return oh, ow
}

// params returns the ConvParams of the convolution t transposes, as
// graph's ConvTranspose builder makes them: the output padding comes off
// the end padding, which the convolution's floor absorbs.
func (t transposed) params() ConvParams {
	oh, ow := t.out()
	return ConvParams{N: t.n, C: t.m, H: oh, W: ow, M: t.c, KH: t.k, KW: t.k, Group: t.group,
		StrideH: t.stride, StrideW: t.stride, DilationH: t.dilation, DilationW: t.dilation,
		PadTop: t.padTop, PadLeft: t.padLeft,
		PadBottom: max(t.padBottom-t.outPad, 0), PadRight: max(t.padRight-t.outPadCol, 0)}
}

// naiveConvTranspose is the float64 reference from the definition: every
// input element adds itself times each tap's weight into the output
// element the tap reaches. Its input gradient is the same sum read the
// other way.
func naiveConvTranspose(x, w, b, dy []float32, t transposed) (y, dx []float64) {
	oh, ow := t.out()
	cg, mg := t.c/t.group, t.m/t.group
	y, dx = make([]float64, t.n*t.m*oh*ow), make([]float64, len(x))
	for i := range y {
		if b != nil {
			y[i] = float64(b[i/(oh*ow)%t.m])
		}
	}
	for n := range t.n {
		for c := range t.c {
			g := c / cg
			for iy := range t.h {
				for ix := range t.w {
					xi := ((n*t.c+c)*t.h+iy)*t.w + ix
					for ml := range mg {
						m := g*mg + ml
						for kh := range t.k {
							for kw := range t.k {
								oy := iy*t.stride - t.padTop + kh*t.dilation
								ox := ix*t.stride - t.padLeft + kw*t.dilation
								if oy < 0 || oy >= oh || ox < 0 || ox >= ow {
									continue
								}
								wv := float64(w[((c*mg+ml)*t.k+kh)*t.k+kw])
								yi := ((n*t.m+m)*oh+oy)*ow + ox
								y[yi] += float64(x[xi]) * wv
								dx[xi] += float64(dy[yi]) * wv
							}
						}
					}
				}
			}
		}
	}
	return y, dx
}

func TestConvTransposeMatchesReference(t *testing.T) {
	r := rand.New(rand.NewPCG(13, 14))
	for _, c := range []transposed{
		{n: 1, c: 1, h: 3, w: 3, m: 2, k: 3, group: 1, stride: 1, dilation: 1},                                                   // ONNX's test_convtranspose
		{n: 1, c: 4, h: 5, w: 7, m: 6, k: 2, group: 1, stride: 2, dilation: 1},                                                   // DBNet's 2x upsampling
		{n: 2, c: 3, h: 4, w: 5, m: 4, k: 3, group: 1, stride: 3, dilation: 1, padTop: 1, padBottom: 1, padLeft: 2, padRight: 2}, // pads
		{n: 1, c: 2, h: 3, w: 4, m: 3, k: 3, group: 1, stride: 3, dilation: 1, outPad: 2, outPadCol: 1},                          // output padding
		{n: 1, c: 2, h: 5, w: 3, m: 2, k: 3, group: 1, stride: 2, dilation: 2, padTop: 1, padBottom: 2, outPad: 1},               // dilations, output padding inside the end pad
		{n: 1, c: 4, h: 4, w: 5, m: 6, k: 3, group: 2, stride: 2, dilation: 1, padLeft: 1, padRight: 1},                          // groups
		{n: 1, c: 3, h: 6, w: 5, m: 3, k: 3, group: 3, stride: 2, dilation: 1, padTop: 1, padBottom: 1, padLeft: 1, padRight: 1}, // depthwise
		{n: 1, c: 2, h: 4, w: 4, m: 6, k: 2, group: 2, stride: 2, dilation: 1},                                                   // depthwise multiplier 3
		{n: 2, c: 5, h: 3, w: 7, m: 3, k: 1, group: 1, stride: 1, dilation: 1},                                                   // pointwise
		{n: 1, c: 3, h: 1, w: 9, m: 2, k: 3, group: 1, stride: 2, dilation: 1, padLeft: 1},                                       // one input row, which the kernel spreads over three
	} {
		p := c.params()
		if p.OutH() != c.h || p.OutW() != c.w {
			t.Fatalf("%+v: the convolution maps %dx%d to %dx%d, want %dx%d", c, p.H, p.W, p.OutH(), p.OutW(), c.h, c.w)
		}
		x := randFloats(r, c.n*c.c*c.h*c.w)
		w := randFloats(r, c.c*c.m/c.group*c.k*c.k)
		b := randFloats(r, c.m)
		oh, ow := c.out()
		dy := randFloats(r, c.n*c.m*oh*ow)
		for _, bias := range [][]float32{nil, b} {
			wantY, wantDX := naiveConvTranspose(x, w, bias, dy, c)
			for _, packed := range []bool{false, true} {
				f := NewConvFilter(w, nil, &p)
				if packed && f == nil {
					continue // depthwise: no GEMM, nothing to pack
				}
				name := fmt.Sprintf("%+v bias %v packed %v", c, bias != nil, packed)
				scratch, checkScratch := guarded(r, ConvTransposeScratchSize(&p))
				y, checkY := guarded(r, len(wantY))
				if packed {
					ConvTransposePacked(y, x, f, bias, scratch, &p)
				} else {
					ConvTranspose(y, x, w, bias, scratch, &p)
				}
				checkY(t, name+": y")
				checkScratch(t, name+": scratch")
				closeTo(t, name+": y", y, wantY)
				for _, accumulate := range []bool{false, true} {
					dx, checkDX := guarded(r, len(x))
					base := append([]float32(nil), dx...)
					if packed {
						ConvTransposePackedBackwardInput(dx, dy, f, scratch, &p, accumulate)
					} else {
						ConvTransposeBackwardInput(dx, dy, w, scratch, &p, accumulate)
					}
					checkDX(t, name+": dx")
					checkScratch(t, name+": scratch")
					if accumulate {
						for i := range dx {
							dx[i] -= base[i]
						}
					}
					closeTo(t, fmt.Sprintf("%s accumulate %v: dx", name, accumulate), dx, wantDX)
				}
			}
		}
	}
}

func closeTo(t *testing.T, what string, got []float32, want []float64) {
	t.Helper()
	for i := range want {
		if math.Abs(float64(got[i])-want[i]) > 1e-4*(1+math.Abs(want[i])) {
			t.Fatalf("%s[%d] = %v, want %v", what, i, got[i], want[i])
		}
	}
}

// BenchmarkConvTranspose: DBNet's 2x upsampling (64 channels of 80x80, 2x2
// kernel, stride 2) and a 4x4 stride-2 one of a decoder, forward and
// backward, with packed weights.
func BenchmarkConvTranspose(b *testing.B) {
	r := rand.New(rand.NewPCG(1, 2))
	for _, c := range []struct {
		name string
		t    transposed
	}{
		{"dbnet/64x80x80/k2s2", transposed{n: 1, c: 64, h: 80, w: 80, m: 64, k: 2, group: 1, stride: 2, dilation: 1}},
		{"decoder/128x40x40/k4s2", transposed{n: 1, c: 128, h: 40, w: 40, m: 64, k: 4, group: 1, stride: 2, dilation: 1, padTop: 1, padBottom: 1, padLeft: 1, padRight: 1}},
	} {
		t := c.t
		p := t.params()
		x, w := randFloats(r, t.n*t.c*t.h*t.w), randFloats(r, t.c*t.m/t.group*t.k*t.k)
		oh, ow := t.out()
		y, scratch := make([]float32, t.n*t.m*oh*ow), make([]float32, ConvTransposeScratchSize(&p))
		f := NewConvFilter(w, nil, &p)
		flops := 2 * float64(len(x)) * float64(t.m/t.group*t.k*t.k)
		b.Run(c.name+"/forward", func(b *testing.B) {
			for b.Loop() {
				ConvTransposePacked(y, x, f, nil, scratch, &p)
			}
			b.ReportMetric(flops*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
		})
		b.Run(c.name+"/backward", func(b *testing.B) {
			for b.Loop() {
				ConvTransposePackedBackwardInput(x, y, f, scratch, &p, false)
			}
			b.ReportMetric(flops*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
		})
	}
}
