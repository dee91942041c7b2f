package ops

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

// naivePool is the reference: every tap of every window, checked one by
// one against the input and the padded input. It returns max and average
// pools, the argmax (first maximum in row-major window order) and the
// average divisors.
func naivePool(x []float32, p *PoolParams) (maxY []float32, argmax []int32, avgY []float64, count []int) {
	planes, out := p.N*p.C, p.OutH*p.OutW
	maxY, argmax = make([]float32, planes*out), make([]int32, planes*out)
	avgY, count = make([]float64, planes*out), make([]int, planes*out)
	for pl := range planes {
		for oy := range p.OutH {
			for ox := range p.OutW {
				o := pl*out + oy*p.OutW + ox
				maxY[o], argmax[o] = float32(math.Inf(-1)), -1
				for ky := range p.KH {
					for kx := range p.KW {
						iy := oy*p.StrideH - p.PadTop + ky*p.DilationH
						ix := ox*p.StrideW - p.PadLeft + kx*p.DilationW
						inside := iy >= 0 && iy < p.H && ix >= 0 && ix < p.W
						inPadded := iy >= -p.PadTop && iy < p.H+p.PadBottom && ix >= -p.PadLeft && ix < p.W+p.PadRight
						if inside || (p.CountIncludePad && inPadded) {
							count[o]++
						}
						if !inside {
							continue
						}
						v := x[pl*p.H*p.W+iy*p.W+ix]
						avgY[o] += float64(v)
						if argmax[o] < 0 || v > maxY[o] {
							maxY[o], argmax[o] = v, int32(iy*p.W+ix)
						}
					}
				}
				if count[o] > 0 {
					avgY[o] /= float64(count[o])
				}
			}
		}
	}
	return maxY, argmax, avgY, count
}

// poolCase builds square-window params; the outputs cover the windows that
// fit in the padded input, plus extra (ceil-mode) windows, which must start
// inside the input or its leading padding.
func poolCase(n, c, h, w, k, stride, dil int, pads [4]int, extra int) PoolParams {
	ext := (k-1)*dil + 1
	return PoolParams{N: n, C: c, H: h, W: w, KH: k, KW: k, StrideH: stride, StrideW: stride,
		DilationH: dil, DilationW: dil, PadTop: pads[0], PadLeft: pads[1], PadBottom: pads[2], PadRight: pads[3],
		OutH: (h+pads[0]+pads[2]-ext)/stride + 1 + extra, OutW: (w+pads[1]+pads[3]-ext)/stride + 1 + extra}
}

var poolCases = []PoolParams{
	poolCase(1, 3, 8, 8, 2, 2, 1, [4]int{}, 0),
	poolCase(2, 2, 7, 9, 3, 2, 1, [4]int{0, 0, 1, 1}, 0), // GoogLeNet's pool1 geometry
	poolCase(1, 2, 12, 11, 3, 2, 1, [4]int{1, 1, 1, 1}, 0),
	poolCase(1, 1, 9, 10, 3, 1, 1, [4]int{1, 0, 2, 1}, 0),
	poolCase(1, 2, 8, 7, 3, 2, 1, [4]int{}, 1), // ceil mode: one window past the end
	poolCase(1, 2, 9, 9, 3, 3, 1, [4]int{1, 1, 0, 0}, 1),
	poolCase(1, 2, 9, 9, 2, 1, 2, [4]int{}, 0), // dilated
	poolCase(1, 1, 10, 10, 3, 2, 2, [4]int{2, 1, 2, 1}, 0),
	poolCase(2, 5, 6, 6, 6, 1, 1, [4]int{}, 0), // global
	poolCase(1, 64, 23, 19, 3, 2, 1, [4]int{0, 0, 1, 1}, 0),
	{N: 1, C: 3, H: 1, W: 12, KH: 1, KW: 3, StrideH: 1, StrideW: 2, DilationH: 1, DilationW: 1, PadLeft: 1, PadRight: 1, OutH: 1, OutW: 6}, // 1-D
	// The 3x3 fast path at the edges: planes narrower and shorter than a
	// window, no interior, one interior output, odd and even sizes.
	poolCase(1, 2, 1, 1, 3, 1, 1, [4]int{1, 1, 1, 1}, 0),
	poolCase(1, 2, 2, 2, 3, 1, 1, [4]int{1, 1, 1, 1}, 0),
	poolCase(1, 2, 3, 3, 3, 1, 1, [4]int{1, 1, 1, 1}, 0),
	poolCase(2, 3, 4, 5, 3, 1, 1, [4]int{1, 1, 1, 1}, 0), // inception's pool projection
	poolCase(1, 3, 17, 16, 3, 1, 1, [4]int{1, 1, 1, 1}, 0),
	poolCase(1, 2, 5, 6, 3, 1, 1, [4]int{}, 0),
	poolCase(1, 2, 2, 2, 3, 2, 1, [4]int{0, 0, 1, 1}, 0),
	poolCase(1, 2, 3, 3, 3, 2, 1, [4]int{0, 0, 1, 1}, 0),
	poolCase(2, 2, 6, 7, 3, 2, 1, [4]int{0, 0, 1, 1}, 0),
	poolCase(1, 2, 16, 17, 3, 2, 1, [4]int{0, 0, 1, 1}, 0),
	poolCase(1, 2, 8, 9, 3, 2, 1, [4]int{2, 2, 2, 2}, 0),
	poolCase(1, 2, 10, 10, 3, 2, 1, [4]int{}, 1), // ceil mode
	{N: 1, C: 2, H: 11, W: 10, KH: 3, KW: 3, StrideH: 3, StrideW: 2, DilationH: 1, DilationW: 1, PadTop: 1, PadRight: 1, OutH: 4, OutW: 5},
	{N: 1, C: 2, H: 1, W: 9, KH: 3, KW: 3, StrideH: 1, StrideW: 1, DilationH: 1, DilationW: 1, PadTop: 1, PadBottom: 1, OutH: 1, OutW: 7},
}

// poolLaneCases are 3x3 pools whose rows have about 8, 16 or 24 windows
// between the clipped edge ones, for the fast kernels' blocks of 8.
var poolLaneCases = func() []PoolParams {
	var cases []PoolParams
	for _, w := range []int{8, 9, 10, 15, 16, 17, 18, 25, 31, 33} {
		cases = append(cases,
			poolCase(1, 2, 5, w, 3, 1, 1, [4]int{1, 1, 1, 1}, 0),
			poolCase(1, 1, 4, w, 3, 1, 1, [4]int{}, 0),
			poolCase(1, 1, 4, w, 3, 1, 1, [4]int{2, 2, 2, 2}, 0))
	}
	for _, w := range []int{15, 16, 17, 18, 19, 20, 31, 33, 34, 35, 49, 50} {
		cases = append(cases,
			poolCase(1, 2, 7, w, 3, 2, 1, [4]int{0, 0, 1, 1}, 0),
			poolCase(1, 1, 6, w, 3, 2, 1, [4]int{1, 1, 1, 1}, 0),
			poolCase(1, 1, 8, w, 3, 2, 1, [4]int{}, 1),
			poolCase(1, 1, 5, w, 3, 2, 1, [4]int{2, 2, 2, 2}, 0))
	}
	// Vertical strides of 3 and 4: rows between windows, and rows below
	// the last one, that no window covers.
	for _, sw := range []int{1, 2} {
		for _, sh := range []int{3, 4} {
			for _, pads := range [][4]int{{}, {1, 1, 0, 1}, {2, 0, 2, 0}} {
				p := poolCase(1, 2, 14, 35, 3, sw, 1, pads, 0)
				p.StrideH = sh
				p.OutH = (p.H+pads[0]+pads[2]-3)/sh + 1
				cases = append(cases, p)
			}
		}
	}
	return cases
}()

// tieFloats returns n values from a small set, mostly zeros of either
// sign as after a ReLU, so that windows hold several maxima.
func tieFloats(r *rand.Rand, n int) []float32 {
	negZero := float32(math.Copysign(0, -1))
	set := []float32{0, 0, 0, negZero, negZero, 1, 1, 2, -1}
	x := make([]float32, n)
	for i := range x {
		x[i] = set[r.IntN(len(set))]
	}
	return x
}

// guardedBytes is guarded for a byte slice.
func guardedBytes(r *rand.Rand, n int) ([]uint8, func(t *testing.T, name string)) {
	const guard = 13
	full := make([]uint8, n+2*guard)
	for i := range full {
		full[i] = uint8(r.Uint32())
	}
	orig := append([]uint8(nil), full...)
	return full[guard : guard+n : guard+n], func(t *testing.T, name string) {
		t.Helper()
		for i := range full {
			if (i < guard || i >= guard+n) && full[i] != orig[i] {
				t.Fatalf("%s: guard byte %d changed", name, i-guard)
			}
		}
	}
}

// TestMaxPoolPositive checks MaxPoolPositive on ReLU outputs (zeros of
// both signs, ties, a NaN): the same maxima as MaxPool, and gradients, set
// and added, bit for bit those of MaxPool's routing followed by the
// ReLU's mask (ReluBits, ReluMaskBits). TestPoolGo runs it without the
// assembly.
func TestMaxPoolPositive(t *testing.T) {
	r := rand.New(rand.NewPCG(21, 22))
	for _, p := range append(poolCases, poolLaneCases...) {
		if p.KH*p.KW > MaxPoolArgTaps {
			continue
		}
		planes := p.N * p.C
		in, out := planes*p.H*p.W, planes*p.OutH*p.OutW
		x := tieFloats(r, in)
		x[r.IntN(in)] = float32(math.NaN())
		y, arg := make([]float32, out), make([]uint8, out)
		MaxPool(y, arg, x, &p)
		yp, argp := make([]float32, out), make([]uint8, out)
		MaxPoolPositive(yp, argp, x, &p)
		for o := range y {
			want := arg[o]
			if !(y[o] > 0) {
				want = noTap
			}
			if math.Float32bits(yp[o]) != math.Float32bits(y[o]) || argp[o] != want {
				t.Fatalf("%+v: window %d: max %v tap %d, want %v %d", p, o, yp[o], argp[o], y[o], want)
			}
		}
		mask := make([]uint64, (in+63)/64)
		ReluBits(mask, x)
		dy := randFloats(r, out)
		for _, set := range []bool{false, true} {
			want, got := randFloats(r, in), make([]float32, in)
			if set {
				MaxPoolBackward(want, dy, arg, nil, &p, false)
			} else {
				clear(want)
				MaxPoolBackward(want, dy, arg, nil, &p, true)
			}
			ReluMaskBits(want, mask)
			if set {
				for i := range got {
					got[i] = float32(math.NaN())
				}
				MaxPoolBackward(got, dy, argp, nil, &p, false)
			} else {
				MaxPoolBackward(got, dy, argp, nil, &p, true)
			}
			for i := range want {
				if math.Float32bits(got[i]) != math.Float32bits(want[i]) {
					t.Fatalf("set %v %+v: dx[%d] = %v, routing then masking gives %v", set, p, i, got[i], want[i])
				}
			}
		}
	}
}

func TestPoolMatchesReference(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 8))
	for _, p := range append(poolCases, poolLaneCases...) {
		for variant := range 4 {
			// Ties: the first maximum of each window must win.
			include, ties := variant&1 != 0, variant&2 != 0
			p.CountIncludePad = include
			name := fmt.Sprintf("%+v ties %v", p, ties)
			planes := p.N * p.C
			x := randFloats(r, planes*p.H*p.W)
			if ties {
				x = tieFloats(r, len(x))
			}
			wantMax, wantArg, wantAvg, count := naivePool(x, &p)
			out := planes * p.OutH * p.OutW

			y, checkY := guarded(r, out)
			dy := randFloats(r, out)
			dx, checkDX := guarded(r, len(x))
			wantDX := make([]float64, len(x))
			for o, a := range wantArg {
				if a >= 0 {
					wantDX[o/(p.OutH*p.OutW)*p.H*p.W+int(a)] += float64(dy[o])
				}
			}
			// The fast kernels and their generic twin.
			arg, checkArg := guardedBytes(r, out)
			for _, fast := range []bool{false, p.fast3x3()} {
				maxPoolWith(y, arg, x, &p, fast)
				checkY(t, name)
				checkArg(t, name)
				for o := range y {
					if y[o] != wantMax[o] {
						t.Fatalf("%s fast %v: MaxPool[%d] = %v, want %v", name, fast, o, y[o], wantMax[o])
					}
				}
				// Backward routes dy to the reference argmax, through
				// the stored taps or, for large windows, found again.
				clear(dx)
				if p.KH*p.KW <= MaxPoolArgTaps {
					MaxPoolBackward(dx, dy, arg, nil, &p, true)
				} else {
					MaxPoolBackward(dx, dy, nil, x, &p, true)
				}
				checkDX(t, name)
				for i := range dx {
					if math.Abs(float64(dx[i])-wantDX[i]) > 1e-5 {
						t.Fatalf("%s fast %v: MaxPoolBackward dx[%d] = %v, want %v", name, fast, i, dx[i], wantDX[i])
					}
				}
				if p.KH*p.KW > MaxPoolArgTaps {
					continue
				}
				// Setting dx, whatever it held, is adding to zeros.
				added := append([]float32(nil), dx...)
				for i := range dx {
					dx[i] = float32(math.NaN())
				}
				MaxPoolBackward(dx, dy, arg, nil, &p, false)
				checkDX(t, name)
				for i := range dx {
					if dx[i] != added[i] {
						t.Fatalf("%s fast %v: MaxPoolBackward (set) dx[%d] = %v, adding to zeros gives %v", name, fast, i, dx[i], added[i])
					}
				}
			}
			clear(dx)
			MaxPoolBackward(dx, dy, nil, x, &p, true)
			for i := range dx {
				if math.Abs(float64(dx[i])-wantDX[i]) > 1e-5 {
					t.Fatalf("%s: MaxPoolBackward (scan) dx[%d] = %v, want %v", name, i, dx[i], wantDX[i])
				}
			}
			AveragePool(y, x, &p)
			checkY(t, name)
			for o := range y {
				if math.Abs(float64(y[o])-wantAvg[o]) > 1e-6 {
					t.Fatalf("%s: AveragePool[%d] = %v, want %v", name, o, y[o], wantAvg[o])
				}
			}

			// Average pooling is linear, so its backward must be its
			// adjoint: <dy, pool(x)> = <dx, x>.
			clear(dx)
			AveragePoolBackward(dx, dy, &p)
			checkDX(t, name)
			lhs, rhs := 0.0, 0.0
			for o := range dy {
				lhs += float64(dy[o]) * wantAvg[o]
				if count[o] == 0 {
					t.Fatalf("%s: window %d counts no tap", name, o)
				}
			}
			for i := range dx {
				rhs += float64(dx[i]) * float64(x[i])
			}
			if math.Abs(lhs-rhs) > 1e-4*(1+math.Abs(lhs)) {
				t.Fatalf("%s: AveragePoolBackward is not the adjoint: <dy, pool(x)> = %v, <dx, x> = %v", name, lhs, rhs)
			}
		}
	}
}

// TestMaxPoolNaNAndSignedZeros: a NaN output routes its gradient to the
// window's first NaN; -0 and +0 tie, the first of them winning.
func TestMaxPoolNaNAndSignedZeros(t *testing.T) {
	p := poolCase(1, 2, 3, 3, 3, 1, 1, [4]int{1, 1, 1, 1}, 0)
	nan, negZero := float32(math.NaN()), float32(math.Copysign(0, -1))
	x := []float32{
		1, nan, 2, 3, nan, 0, -1, 5, 4, // every window holds x[1] or x[4]
		-1, negZero, 0, negZero, 0, -2, 0, negZero, -3,
	}
	// Plane 0: the windows of output rows 0 and 1 hold x[1], row 2's x[4].
	// Plane 1 has no NaN, so the reference applies.
	_, ref, _, _ := naivePool(x[9:], &PoolParams{N: 1, C: 1, H: 3, W: 3, OutH: 3, OutW: 3, KH: 3, KW: 3,
		StrideH: 1, StrideW: 1, DilationH: 1, DilationW: 1, PadTop: 1, PadLeft: 1, PadBottom: 1, PadRight: 1})
	want := make([]float32, len(x))
	want[1], want[4] = 6, 3
	for _, a := range ref {
		want[9+int(a)]++
	}
	y, arg, dy, dx := make([]float32, 18), make([]uint8, 18), make([]float32, 18), make([]float32, 18)
	for i := range dy {
		dy[i] = 1
	}
	for _, fast := range []bool{false, true} {
		maxPoolWith(y, arg, x, &p, fast)
		for o, v := range y[:9] {
			if v == v {
				t.Fatalf("fast %v: y[%d] = %v, want NaN", fast, o, v)
			}
		}
		clear(dx)
		MaxPoolBackward(dx, dy, arg, nil, &p, true)
		for i := range dx {
			if dx[i] != want[i] {
				t.Fatalf("fast %v: dx = %v, want %v", fast, dx, want)
			}
		}
	}
}

// TestMaxPoolNaNs: with NaNs, infinities and zeros of both signs anywhere
// in planes wide enough for the blocks of the fast kernels, these store the
// generic kernel's taps and NaN outputs.
func TestMaxPoolNaNs(t *testing.T) {
	r := rand.New(rand.NewPCG(9, 10))
	specials := []float32{float32(math.NaN()), math.Float32frombits(0xffc00000), float32(math.Inf(1)), float32(math.Inf(-1))}
	for _, p := range poolLaneCases {
		name := fmt.Sprintf("%+v", p)
		planes, out := p.N*p.C, p.N*p.C*p.OutH*p.OutW
		for _, special := range specials {
			x := tieFloats(r, planes*p.H*p.W)
			for range 3 {
				x[r.IntN(len(x))] = special
			}
			y, arg := make([]float32, out), make([]uint8, out)
			maxPoolWith(y, arg, x, &p, false)
			yFast, argFast := make([]float32, out), make([]uint8, out)
			maxPoolWith(yFast, argFast, x, &p, true)
			for o := range y {
				if argFast[o] != arg[o] || yFast[o] != y[o] && (y[o] == y[o] || yFast[o] == yFast[o]) {
					t.Fatalf("%s, %v: output %d is %v at tap %d, the generic kernel's %v at tap %d", name, special, o, yFast[o], argFast[o], y[o], arg[o])
				}
			}
		}
	}
}

func TestMaxPoolIndices(t *testing.T) {
	// ONNX's test_maxpool_with_argmax_2d_precomputed_strides: x = 1..25 in
	// a 5x5 plane, 2x2 windows, stride 2.
	p := PoolParams{N: 1, C: 1, H: 5, W: 5, OutH: 2, OutW: 2, KH: 2, KW: 2, StrideH: 2, StrideW: 2, DilationH: 1, DilationW: 1}
	x := make([]float32, 25)
	for i := range x {
		x[i] = float32(i + 1)
	}
	idx := make([]float32, 4)
	for _, c := range []struct {
		columnMajor bool
		want        []float32
	}{{false, []float32{6, 8, 16, 18}}, {true, []float32{6, 16, 8, 18}}} {
		MaxPoolIndices(idx, x, &p, c.columnMajor)
		for i := range idx {
			if idx[i] != c.want[i] {
				t.Errorf("column-major %v: indices %v, want %v", c.columnMajor, idx, c.want)
				break
			}
		}
	}
}

func TestPoolNoAllocs(t *testing.T) {
	p := poolCase(1, 64, 56, 56, 3, 2, 1, [4]int{0, 0, 1, 1}, 0)
	x, dx := make([]float32, p.C*p.H*p.W), make([]float32, p.C*p.H*p.W)
	y, arg := make([]float32, p.C*p.OutH*p.OutW), make([]uint8, p.C*p.OutH*p.OutW)
	if a := testing.AllocsPerRun(10, func() {
		MaxPool(y, arg, x, &p)
		MaxPoolBackward(dx, y, arg, nil, &p, true)
		MaxPoolBackward(dx, y, nil, x, &p, true)
		AveragePool(y, x, &p)
		AveragePoolBackward(x, y, &p)
	}); a != 0 {
		t.Errorf("pooling allocates %v times per run", a)
	}
}

// GoogLeNet's pools at 224x224: 3x3 stride 2 with pads [0,0,1,1] (Caffe's
// ceil rounding) on conv1, conv2 and inception_3b; 3x3 stride 1 pad 1 in
// the inception modules' pool projections.
var poolBenchmarks = []struct {
	name string
	p    PoolParams
}{
	{"pool1_64x112x112", poolCase(1, 64, 112, 112, 3, 2, 1, [4]int{0, 0, 1, 1}, 0)},
	{"pool2_192x56x56", poolCase(1, 192, 56, 56, 3, 2, 1, [4]int{0, 0, 1, 1}, 0)},
	{"pool3_480x28x28", poolCase(1, 480, 28, 28, 3, 2, 1, [4]int{0, 0, 1, 1}, 0)},
	{"3a_pool_192x28x28_s1", poolCase(1, 192, 28, 28, 3, 1, 1, [4]int{1, 1, 1, 1}, 0)},
	{"4a_pool_480x14x14_s1", poolCase(1, 480, 14, 14, 3, 1, 1, [4]int{1, 1, 1, 1}, 0)},
	// Three of them at DeepDream's 1024x768, whose planes outgrow the caches.
	{"pool1_64x384x512", poolCase(1, 64, 384, 512, 3, 2, 1, [4]int{0, 0, 1, 1}, 0)},
	{"pool2_192x192x256", poolCase(1, 192, 192, 256, 3, 2, 1, [4]int{0, 0, 1, 1}, 0)},
	{"3a_pool_192x96x128_s1", poolCase(1, 192, 96, 128, 3, 1, 1, [4]int{1, 1, 1, 1}, 0)},
}

// reportPool reports the input bytes read (forward) or written (backward)
// per second, and the time per input element.
func reportPool(b *testing.B, p *PoolParams) {
	in := float64(p.N * p.C * p.H * p.W)
	b.ReportMetric(in*4*float64(b.N)/b.Elapsed().Seconds()/1e9, "GB/s")
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/in, "ns/elem")
}

func BenchmarkMaxPool(b *testing.B) {
	for _, c := range poolBenchmarks {
		p := c.p
		r := rand.New(rand.NewPCG(1, 1))
		x := randFloats(r, p.C*p.H*p.W)
		dx, y := make([]float32, len(x)), make([]float32, p.C*p.OutH*p.OutW)
		arg := make([]uint8, len(y))
		MaxPool(y, arg, x, &p) // for the backward benchmark run alone
		for _, fast := range []bool{false, true} {
			kind := "generic"
			if fast {
				kind = "fast"
			}
			b.Run(c.name+"/forward/"+kind, func(b *testing.B) {
				for b.Loop() {
					maxPoolWith(y, arg, x, &p, fast)
				}
				reportPool(b, &p)
			})
		}
		b.Run(c.name+"/backward", func(b *testing.B) {
			for b.Loop() {
				MaxPoolBackward(dx, y, arg, nil, &p, true)
			}
			reportPool(b, &p)
		})
		b.Run(c.name+"/backward-set", func(b *testing.B) { // the engine's
			for b.Loop() {
				MaxPoolBackward(dx, y, arg, nil, &p, false)
			}
			reportPool(b, &p)
		})
	}
}
