package ops

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

// naiveConv is the float64 reference: y = conv(x, w) + b, and the transpose
// dx = conv^T(dy, w), straight from the definition. mag bounds the rounding
// error of each output (the sum of the magnitudes of its terms).
func naiveConv(x, w, b, dy []float32, p *ConvParams) (y, ymag, dx, dxmag []float64) {
	oh, ow := p.OutH(), p.OutW()
	cg, mg := p.C/p.Group, p.M/p.Group
	y = make([]float64, p.N*p.M*oh*ow)
	ymag = make([]float64, len(y))
	dx = make([]float64, p.N*p.C*p.H*p.W)
	dxmag = make([]float64, len(dx))
	for n := range p.N {
		for m := range p.M {
			g := m / mg
			for oy := range oh {
				for ox := range ow {
					yi := ((n*p.M+m)*oh+oy)*ow + ox
					if b != nil {
						y[yi] = float64(b[m])
						ymag[yi] = math.Abs(float64(b[m]))
					}
					for c := range cg {
						for kh := range p.KH {
							for kw := range p.KW {
								iy := oy*p.StrideH - p.PadTop + kh*p.DilationH
								ix := ox*p.StrideW - p.PadLeft + kw*p.DilationW
								if iy < 0 || iy >= p.H || ix < 0 || ix >= p.W {
									continue
								}
								xi := ((n*p.C+g*cg+c)*p.H+iy)*p.W + ix
								wv := float64(w[((m*cg+c)*p.KH+kh)*p.KW+kw])
								y[yi] += wv * float64(x[xi])
								ymag[yi] += math.Abs(wv * float64(x[xi]))
								dx[xi] += wv * float64(dy[yi])
								dxmag[xi] += math.Abs(wv * float64(dy[yi]))
							}
						}
					}
				}
			}
		}
	}
	return y, ymag, dx, dxmag
}

func randFloats(r *rand.Rand, n int) []float32 {
	x := make([]float32, n)
	for i := range x {
		x[i] = float32(r.NormFloat64())
	}
	return x
}

// guarded returns a slice of n elements with guard bands of known values
// on both sides, and a check that they are untouched.
func guarded(r *rand.Rand, n int) ([]float32, func(t *testing.T, name string)) {
	const guard = 13
	full := randFloats(r, n+2*guard)
	orig := append([]float32(nil), full...)
	return full[guard : guard+n : guard+n], func(t *testing.T, name string) {
		t.Helper()
		for i := range full {
			if (i < guard || i >= guard+n) && math.Float32bits(full[i]) != math.Float32bits(orig[i]) {
				t.Fatalf("%s: guard element %d changed", name, i-guard)
			}
		}
	}
}

func conv(n, c, h, w, m, kh, kw, group, stride, dilation int, pads [4]int) ConvParams {
	return ConvParams{N: n, C: c, H: h, W: w, M: m, KH: kh, KW: kw, Group: group,
		StrideH: stride, StrideW: stride, DilationH: dilation, DilationW: dilation,
		PadTop: pads[0], PadLeft: pads[1], PadBottom: pads[2], PadRight: pads[3]}
}

// fusedRelu returns p with its ReLU fused.
func fusedRelu(p ConvParams) ConvParams {
	p.Relu = true
	return p
}

func TestConv(t *testing.T) {
	none, one := [4]int{}, [4]int{1, 1, 1, 1}
	cases := []ConvParams{
		conv(1, 1, 5, 5, 1, 3, 3, 1, 1, 1, none),
		conv(1, 3, 7, 9, 4, 3, 3, 1, 1, 1, one),
		conv(2, 3, 7, 9, 4, 3, 3, 1, 1, 1, one),                  // batch
		conv(1, 2, 11, 8, 3, 3, 2, 1, 2, 1, one),                 // stride 2, non-square kernel
		conv(1, 2, 10, 13, 3, 3, 3, 1, 3, 1, one),                // stride 3
		conv(1, 3, 9, 9, 2, 3, 3, 1, 1, 2, [4]int{2, 2, 2, 2}),   // dilation 2
		conv(1, 2, 9, 7, 3, 3, 3, 1, 2, 2, [4]int{0, 1, 2, 0}),   // asymmetric pads
		conv(1, 4, 6, 6, 6, 3, 3, 2, 1, 1, one),                  // groups
		conv(2, 4, 6, 7, 4, 3, 3, 4, 2, 1, one),                  // depthwise
		conv(1, 6, 5, 5, 12, 3, 3, 6, 1, 1, one),                 // depthwise, multiplier 2
		conv(1, 3, 10, 9, 3, 3, 3, 3, 2, 2, [4]int{2, 1, 0, 3}),  // depthwise, strided, dilated, asymmetric
		conv(2, 8, 33, 31, 8, 5, 5, 8, 3, 1, [4]int{2, 2, 2, 2}), // depthwise, stride 3
		conv(1, 3, 5, 5, 6, 1, 1, 3, 1, 1, none),                 // depthwise pointwise, multiplier 2
		conv(1, 5, 6, 7, 3, 1, 1, 1, 1, 1, none),                 // pointwise
		conv(2, 4, 6, 7, 6, 1, 1, 2, 1, 1, none),                 // pointwise, groups
		conv(1, 5, 6, 7, 3, 1, 1, 1, 2, 1, none),                 // 1x1 stride 2: not pointwise
		conv(1, 5, 6, 7, 3, 1, 1, 1, 1, 1, one),                  // 1x1 padded: not pointwise
		conv(1, 2, 4, 4, 3, 5, 5, 1, 1, 1, [4]int{3, 3, 3, 3}),   // padding wider than the image
		conv(1, 1, 1, 1, 1, 1, 1, 1, 1, 1, none),
		conv(1, 3, 2, 3, 2, 2, 3, 1, 4, 1, none), // stride larger than the image
		// Tiles of 256 pixels (K = 2304): 1 and 257 pixels per output row,
		// so tiles start mid-row, and the boundaries at 255, 256, 257, 513.
		conv(1, 256, 1, 257, 2, 3, 3, 1, 1, 1, one),
		conv(1, 256, 255, 1, 2, 3, 3, 1, 1, 1, one),
		conv(1, 256, 16, 16, 2, 3, 3, 1, 1, 1, one),
		conv(1, 256, 19, 27, 2, 3, 3, 1, 1, 1, one),
		conv(1, 256, 27, 19, 2, 3, 3, 1, 1, 1, [4]int{0, 0, 0, 0}),
		// A tile starting at the last pixel of a row, which sees only the
		// right padding through the last column of taps.
		conv(1, 256, 3, 257, 2, 3, 3, 1, 1, 1, [4]int{0, 0, 0, 2}),
	}
	r := rand.New(rand.NewPCG(1, 2))
	for _, p := range cases {
		for _, bias := range []bool{true, false} {
			name := fmt.Sprintf("%+v bias=%v", p, bias)
			oh, ow := p.OutH(), p.OutW()
			x := randFloats(r, p.N*p.C*p.H*p.W)
			w := randFloats(r, p.M*p.C/p.Group*p.KH*p.KW)
			var b []float32
			if bias {
				b = randFloats(r, p.M)
			}
			dy := randFloats(r, p.N*p.M*oh*ow)
			want, ymag, wantDx, dxmag := naiveConv(x, w, b, dy, &p)

			y, checkY := guarded(r, len(want))
			scratch, checkScratch := guarded(r, ConvScratchSize(&p))
			Conv(y, x, w, b, scratch, &p)
			checkY(t, name+": y")
			checkScratch(t, name+": scratch")
			compare(t, name+": y", y, nil, want, ymag)

			dx, checkDx := guarded(r, len(x))
			before := append([]float32(nil), dx...)
			ConvBackwardInput(dx, dy, w, scratch, &p, true)
			checkDx(t, name+": dx")
			checkScratch(t, name+": scratch")
			compare(t, name+": dx", dx, before, wantDx, dxmag)

			// Packed weights: the same products, so the same bits.
			f := NewConvFilter(w, b, &p)
			if f == nil {
				continue // depthwise: no GEMM
			}
			yp, checkYp := guarded(r, len(want))
			ConvPacked(yp, x, f, scratch, &p)
			checkYp(t, name+": packed y")
			checkScratch(t, name+": packed scratch")
			dxp := append([]float32(nil), before...)
			ConvPackedBackwardInput(dxp, dy, f, scratch, &p, true)
			for i := range want {
				if math.Float32bits(yp[i]) != math.Float32bits(y[i]) {
					t.Fatalf("%s: packed y[%d] = %v, Conv gives %v", name, i, yp[i], y[i])
				}
			}
			for i := range dxp {
				if math.Float32bits(dxp[i]) != math.Float32bits(dx[i]) {
					t.Fatalf("%s: packed dx[%d] = %v, ConvBackwardInput gives %v", name, i, dxp[i], dx[i])
				}
			}
			// Setting dx, whatever it held, is adding to zeros.
			zeros := make([]float32, len(x))
			ConvPackedBackwardInput(zeros, dy, f, scratch, &p, true)
			set := make([]float32, len(x))
			for i := range set {
				set[i] = float32(math.NaN())
			}
			ConvPackedBackwardInput(set, dy, f, scratch, &p, false)
			for i := range set {
				if set[i] != zeros[i] {
					t.Fatalf("%s: set dx[%d] = %v, adding to zeros gives %v", name, i, set[i], zeros[i])
				}
			}
		}
	}
}

// compare checks got - base (base nil: zero) against want within float32
// rounding of sums whose magnitudes are mag.
func compare(t *testing.T, name string, got, base []float32, want, mag []float64) {
	t.Helper()
	for i, w := range want {
		g := float64(got[i])
		tol := 1e-5 * (mag[i] + 1)
		if base != nil {
			g -= float64(base[i])
			tol += 1e-6 * math.Abs(float64(base[i]))
		}
		if !(math.Abs(g-w) <= tol) {
			t.Fatalf("%s: element %d = %v, want %v", name, i, g, w)
		}
	}
}

// TestConvGoogLeNetConv1 checks the first layer of GoogLeNet (7x7 stride 2,
// pad 3, 3x224x224 -> 64x112x112) on a sample of outputs, since the naive
// reference over the whole layer is slow.
func TestConvGoogLeNetConv1(t *testing.T) {
	p := conv(1, 3, 224, 224, 64, 7, 7, 1, 2, 1, [4]int{3, 3, 3, 3})
	if p.OutH() != 112 || p.OutW() != 112 {
		t.Fatalf("output %dx%d, want 112x112", p.OutH(), p.OutW())
	}
	r := rand.New(rand.NewPCG(5, 6))
	x, w, b := randFloats(r, 3*224*224), randFloats(r, 64*3*49), randFloats(r, 64)
	y := make([]float32, 64*112*112)
	Conv(y, x, w, b, make([]float32, ConvScratchSize(&p)), &p)
	for range 2000 {
		m, oy, ox := r.IntN(64), r.IntN(112), r.IntN(112)
		want, mag := float64(b[m]), math.Abs(float64(b[m]))
		for c := range 3 {
			for kh := range 7 {
				for kw := range 7 {
					iy, ix := oy*2-3+kh, ox*2-3+kw
					if iy >= 0 && iy < 224 && ix >= 0 && ix < 224 {
						v := float64(w[((m*3+c)*7+kh)*7+kw]) * float64(x[(c*224+iy)*224+ix])
						want += v
						mag += math.Abs(v)
					}
				}
			}
		}
		if got := float64(y[(m*112+oy)*112+ox]); math.Abs(got-want) > 1e-5*(mag+1) {
			t.Fatalf("y[%d,%d,%d] = %v, want %v", m, oy, ox, got, want)
		}
	}
}

func TestConvNoAllocs(t *testing.T) {
	p := conv(1, 16, 40, 40, 32, 3, 3, 1, 1, 1, [4]int{1, 1, 1, 1})
	r := rand.New(rand.NewPCG(7, 8))
	x, w, b := randFloats(r, 16*40*40), randFloats(r, 32*16*9), randFloats(r, 32)
	y, dx := make([]float32, 32*40*40), make([]float32, len(x))
	scratch := make([]float32, ConvScratchSize(&p))
	run := func() {
		Conv(y, x, w, b, scratch, &p)
		ConvBackwardInput(dx, y, w, scratch, &p, true)
	}
	run()
	if a := testing.AllocsPerRun(10, run); a != 0 {
		t.Errorf("Conv + ConvBackwardInput allocate %v times per run", a)
	}
}

// BenchmarkConv runs GoogLeNet layers at 224x224 and 1024x768 (and a
// MobileNetV2 one) as GEMMs, with their weights packed once as the engine
// does, forward and backward to the input; both cost 2*M*K*OH*OW flops
// (K = C/group*KH*KW). The engine runs the 1x1 layers this way; the 3x3,
// 5x5 and 7x7 stride-2 ones it runs as Winograd (WinogradPays), which
// BenchmarkWinograd compares with this path.
func BenchmarkConv(b *testing.B) {
	layers := []struct {
		name string
		p    ConvParams
	}{
		{"conv1_7x7_s2", conv(1, 3, 224, 224, 64, 7, 7, 1, 2, 1, [4]int{3, 3, 3, 3})},
		{"conv1_7x7_s2/1024", conv(1, 3, 768, 1024, 64, 7, 7, 1, 2, 1, [4]int{3, 3, 3, 3})},
		{"inception_3b_5x5/1024", conv(1, 32, 96, 128, 96, 5, 5, 1, 1, 1, [4]int{2, 2, 2, 2})},
		{"conv2_3x3", conv(1, 64, 56, 56, 192, 3, 3, 1, 1, 1, [4]int{1, 1, 1, 1})},
		{"inception_4c_3x3", conv(1, 128, 14, 14, 256, 3, 3, 1, 1, 1, [4]int{1, 1, 1, 1})},
		{"inception_4c_1x1", conv(1, 512, 14, 14, 128, 1, 1, 1, 1, 1, [4]int{})},
		// inception_3b's three 1x1 convolutions of its input, stacked
		// as the engine runs them (see graph.siblingGroup), ReLU fused.
		{"inception_3b_1x1_stack/1024", fusedRelu(conv(1, 256, 96, 128, 128+128+32, 1, 1, 1, 1, 1, [4]int{}))},
		// A depthwise layer of MobileNetV2 (no GEMM).
		{"mobilenetv2_dw_3x3", conv(1, 144, 56, 56, 144, 3, 3, 144, 1, 1, [4]int{1, 1, 1, 1})},
	}
	for _, l := range layers {
		p := l.p
		r := rand.New(rand.NewPCG(1, 1))
		x, w, bias := randFloats(r, p.N*p.C*p.H*p.W), randFloats(r, p.M*p.C/p.Group*p.KH*p.KW), randFloats(r, p.M)
		y := make([]float32, p.N*p.M*p.OutH()*p.OutW())
		scratch := make([]float32, ConvScratchSize(&p))
		flops := 2 * float64(p.N*p.M*p.C/p.Group*p.KH*p.KW*p.OutH()*p.OutW())
		report := func(b *testing.B) {
			b.ReportMetric(flops*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
		}
		// The engine's path: weights packed once (depthwise: none).
		f := NewConvFilter(w, bias, &p)
		b.Run(l.name+"/forward", func(b *testing.B) {
			for b.Loop() {
				if f != nil {
					ConvPacked(y, x, f, scratch, &p)
				} else {
					Conv(y, x, w, bias, scratch, &p)
				}
			}
			report(b)
		})
		b.Run(l.name+"/backward", func(b *testing.B) {
			for b.Loop() {
				if f != nil {
					ConvPackedBackwardInput(x, y, f, scratch, &p, true)
				} else {
					ConvBackwardInput(x, y, w, scratch, &p, true)
				}
			}
			report(b)
		})
	}
}
