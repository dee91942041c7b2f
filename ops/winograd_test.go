package ops

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/deepdream-go/deepdream/internal/gemm"
)

// winogradTol bounds the error of ConvWinograd relative to the sum of the
// magnitudes of an output's terms (plus one), as compare does for im2col:
// the transforms' extra roundings bring the worst case of these tests to
// 4.4e-6.
const winogradTol = 1e-5

// TestConvWinograd runs the cases below every way run can take: each core
// taking whole blocks (runFused), blocks split by output channels into 1,
// 2 or 3 parts, and the blocks staged.
func TestConvWinograd(t *testing.T) {
	forEachWinogradWay(t, testConvWinograd)
}

// winoWay is a tuning that makes run take one of its ways, and the GEMM
// kernel to pack the filters for.
type winoWay struct {
	tune   winoTuning
	kernel *gemm.Kernel
}

// winoKernels are the GEMM kernels the Winograd tests pack for: this
// machine's default and, where that is not the avx512 kernel, a Go kernel
// with its geometry (gemm.Geometry): its panels are 48 tiles wide, so
// runFused takes blocks of 48 tiles and the input transform writes 48-wide
// panels, which a machine without AVX-512 would otherwise never run.
func winoKernels() []*gemm.Kernel {
	ks := []*gemm.Kernel{gemm.Default()}
	if ks[0].Name() != "avx512" {
		// The purego build defines no assembly kernel, nor its geometry.
		if k, err := gemm.Geometry("avx512"); err == nil {
			ks = append(ks, k)
		}
	}
	return ks
}

// forEachWinogradWay runs test with tunings that make run take each of its
// ways, and each of winoKernels, for the test to give its filters.
func forEachWinogradWay(t *testing.T, test func(*testing.T, winoWay)) {
	ways := []struct {
		name string
		tune winoTuning
	}{
		{"fused", winoTuning{fusedMinBlocks: 0, splitRows: true, prefetch: 1}},
		{"split=1", winoTuning{fusedMinBlocks: 1 << 30, splitRows: true, rowParts: 1, prefetch: 1}},
		{"split=2", winoTuning{fusedMinBlocks: 1 << 30, splitRows: true, rowParts: 2, prefetch: 1}},
		{"split=3", winoTuning{fusedMinBlocks: 1 << 30, splitRows: true, rowParts: 3, prefetch: 1}},
		{"staged", winoTuning{fusedMinBlocks: 1 << 30, prefetch: 1}},
		{"staged, no prefetch", winoTuning{fusedMinBlocks: 1 << 30}},
	}
	for _, k := range winoKernels() {
		for _, w := range ways {
			t.Run(k.Name()+"/"+w.name, func(t *testing.T) { test(t, winoWay{w.tune, k}) })
		}
	}
}

// newTunedFilter is NewWinogradFilter packed for way's kernel, with its
// tuning.
func newTunedFilter(w []float32, p *ConvParams, way winoWay) *WinogradFilter {
	p.Kernel = way.kernel
	f := NewWinogradFilter(w, p)
	f.tune = way.tune
	return f
}

func testConvWinograd(t *testing.T, way winoWay) {
	one := [4]int{1, 1, 1, 1}
	cases := []ConvParams{
		conv(1, 1, 1, 1, 1, 3, 3, 1, 1, 1, one), // 1x1 image: only the centre tap sees it
		conv(1, 1, 4, 4, 1, 3, 3, 1, 1, 1, one), // one tile
		conv(1, 3, 5, 5, 5, 3, 3, 1, 1, 1, one), // one tile and one pixel
		conv(1, 5, 7, 9, 3, 3, 3, 1, 1, 1, one),
		conv(2, 3, 8, 6, 4, 3, 3, 1, 1, 1, one), // batch, even sizes
		conv(1, 7, 13, 2, 9, 3, 3, 1, 1, 1, one),
		conv(1, 4, 1, 17, 3, 3, 3, 1, 1, 1, one),
		conv(1, 3, 9, 11, 2, 3, 3, 1, 1, 1, [4]int{}),            // unpadded
		conv(1, 3, 3, 3, 2, 3, 3, 1, 1, 1, [4]int{}),             // unpadded, one output pixel
		conv(1, 2, 6, 7, 3, 3, 3, 1, 1, 1, [4]int{2, 2, 2, 2}),   // pads 2: the gradient's own
		conv(1, 2, 7, 6, 3, 3, 3, 1, 1, 1, [4]int{0, 1, 2, 0}),   // asymmetric pads
		conv(1, 33, 30, 29, 17, 3, 3, 1, 1, 1, one),              // several blocks of tiles
		conv(1, 16, 57, 3, 8, 3, 3, 1, 1, 1, [4]int{1, 0, 2, 1}), // several blocks, ragged
		conv(1, 3, 10, 26, 5, 3, 3, 1, 1, 1, one),                // rows of 7 tiles, rounded up to 8
		conv(2, 2, 9, 45, 3, 3, 3, 1, 1, 1, [4]int{1, 1, 0, 0}),  // rows of 11 tiles, rounded up to 16
		// F(2x2, 5x5)
		conv(1, 1, 1, 1, 1, 5, 5, 1, 1, 1, [4]int{2, 2, 2, 2}),  // 1x1 image
		conv(1, 1, 2, 2, 1, 5, 5, 1, 1, 1, [4]int{2, 2, 2, 2}),  // one tile
		conv(1, 3, 5, 5, 4, 5, 5, 1, 1, 1, [4]int{}),            // unpadded, one output pixel
		conv(1, 5, 9, 7, 3, 5, 5, 1, 1, 1, [4]int{2, 2, 2, 2}),  // odd sizes
		conv(2, 3, 8, 20, 4, 5, 5, 1, 1, 1, [4]int{2, 2, 2, 2}), // batch, lanes side by side
		conv(1, 2, 7, 6, 3, 5, 5, 1, 1, 1, [4]int{4, 4, 4, 4}),  // pads 4: the gradient's own
		conv(1, 2, 7, 9, 3, 5, 5, 1, 1, 1, [4]int{0, 1, 3, 2}),  // asymmetric pads
		conv(1, 4, 1, 37, 3, 5, 5, 1, 1, 1, [4]int{2, 2, 2, 2}),
		conv(1, 19, 30, 35, 11, 5, 5, 1, 1, 1, [4]int{2, 2, 2, 2}), // several blocks of tiles
		// F(3x3, 4x4)
		conv(1, 1, 1, 1, 1, 4, 4, 1, 1, 1, [4]int{2, 2, 1, 1}),
		conv(1, 3, 3, 3, 2, 4, 4, 1, 1, 1, [4]int{2, 2, 1, 1}),    // one tile
		conv(1, 5, 9, 7, 3, 4, 4, 1, 1, 1, [4]int{2, 2, 1, 1}),    // odd sizes
		conv(2, 3, 8, 29, 4, 4, 4, 1, 1, 1, [4]int{2, 2, 1, 1}),   // batch, lanes side by side
		conv(1, 2, 7, 6, 3, 4, 4, 1, 1, 1, [4]int{3, 0, 3, 2}),    // asymmetric pads
		conv(1, 12, 31, 40, 9, 4, 4, 1, 1, 1, [4]int{2, 2, 1, 1}), // several blocks of tiles
		// 7x7 stride 2 as F(3x3, 4x4) of the polyphase components
		conv(1, 3, 1, 1, 4, 7, 7, 1, 2, 1, [4]int{3, 3, 3, 3}),
		conv(1, 3, 2, 3, 4, 7, 7, 1, 2, 1, [4]int{3, 3, 3, 3}),
		conv(1, 3, 16, 16, 5, 7, 7, 1, 2, 1, [4]int{3, 3, 3, 3}),  // even sizes
		conv(2, 3, 17, 23, 4, 7, 7, 1, 2, 1, [4]int{3, 3, 3, 3}),  // batch, odd sizes
		conv(1, 2, 19, 20, 3, 7, 7, 1, 2, 1, [4]int{3, 3, 0, 2}),  // other pads after
		conv(1, 1, 13, 70, 2, 7, 7, 1, 2, 1, [4]int{3, 3, 1, 0}),  // lanes side by side
		conv(1, 3, 60, 61, 16, 7, 7, 1, 2, 1, [4]int{3, 3, 3, 3}), // several blocks of tiles
	}
	r := rand.New(rand.NewPCG(3, 4))
	for _, p := range cases {
		if !winogradShape(&p) && !polyphaseShape(&p) {
			t.Fatalf("%+v: not a Winograd shape", p)
		}
		for _, relu := range []bool{false, true} {
			p.Relu = relu
			name := fmt.Sprintf("%+v", p)
			x := randFloats(r, p.N*p.C*p.H*p.W)
			w := randFloats(r, p.M*p.C*p.KH*p.KW)
			b := randFloats(r, p.M)
			if relu {
				b = nil
			}
			dy := randFloats(r, p.N*p.M*p.OutH()*p.OutW())
			want, ymag, wantDx, dxmag := naiveConv(x, w, b, dy, &p)
			if relu {
				for i, v := range want {
					want[i] = max(v, 0)
				}
			}
			f := newTunedFilter(w, &p, way)

			y, checkY := guarded(r, len(want))
			scratch, checkScratch := guarded(r, WinogradScratchSize(&p))
			ConvWinograd(y, x, f, b, scratch, &p)
			checkY(t, name+": y")
			checkScratch(t, name+": scratch")
			compareTol(t, name+": y", y, nil, want, ymag, winogradTol)

			dx, checkDx := guarded(r, len(x))
			before := append([]float32(nil), dx...)
			ConvWinogradBackwardInput(dx, dy, f, scratch, &p, true)
			checkDx(t, name+": dx")
			checkScratch(t, name+": scratch")
			compareTol(t, name+": dx", dx, before, wantDx, dxmag, winogradTol)

			// Setting dx, whatever it held, is adding to zeros.
			zeros := make([]float32, len(x))
			ConvWinogradBackwardInput(zeros, dy, f, scratch, &p, true)
			set, checkSet := guarded(r, len(x))
			for i := range set {
				set[i] = float32(math.NaN())
			}
			ConvWinogradBackwardInput(set, dy, f, scratch, &p, false)
			checkSet(t, name+": set dx")
			for i := range set {
				if set[i] != zeros[i] {
					t.Fatalf("%s: set dx[%d] = %v, adding to zeros gives %v", name, i, set[i], zeros[i])
				}
			}
		}
	}
}

// compareTol is compare with tolerance tol relative to mag + 1.
func compareTol(t *testing.T, name string, got, base []float32, want, mag []float64, tol float64) {
	t.Helper()
	worst := 0.0
	for i, w := range want {
		g := float64(got[i])
		lim := tol * (mag[i] + 1)
		if base != nil {
			g -= float64(base[i])
			lim += 1e-6 * math.Abs(float64(base[i]))
		}
		if !(math.Abs(g-w) <= lim) {
			t.Fatalf("%s: element %d = %v, want %v (error %.3g of the term magnitudes %.3g)", name, i, g, w, math.Abs(g-w), mag[i])
		}
		worst = max(worst, math.Abs(g-w)/(mag[i]+1))
	}
	if testing.Verbose() {
		t.Logf("%s: worst error %.3g of the term magnitudes", name, worst)
	}
}

func TestConvWinogradNoAllocs(t *testing.T) {
	forEachWinogradWay(t, testConvWinogradNoAllocs)
}

func testConvWinogradNoAllocs(t *testing.T, way winoWay) {
	p := conv(1, 16, 40, 40, 32, 3, 3, 1, 1, 1, [4]int{1, 1, 1, 1})
	r := rand.New(rand.NewPCG(7, 8))
	x, w, b := randFloats(r, 16*40*40), randFloats(r, 32*16*9), randFloats(r, 32)
	f := newTunedFilter(w, &p, way)
	y, dx := make([]float32, 32*40*40), make([]float32, len(x))
	scratch := make([]float32, WinogradScratchSize(&p))
	run := func() {
		ConvWinograd(y, x, f, b, scratch, &p)
		ConvWinogradBackwardInput(dx, y, f, scratch, &p, true)
	}
	run()
	if a := testing.AllocsPerRun(10, run); a != 0 {
		t.Errorf("%v allocations per run, want 0", a)
	}
}

// TestConvWinogradBlocks runs images in several staged blocks of tiles,
// the last one shorter, which layers small enough for the naive reference
// never do.
func TestConvWinogradBlocks(t *testing.T) {
	for _, kn := range winoKernels() {
		for _, k := range []int{3, 4, 5} {
			p := conv(1, 6, 23, 19, 5, k, k, 1, 1, 1, [4]int{k / 2, k / 2, (k - 1) / 2, (k - 1) / 2})
			p.Kernel = kn
			testConvWinogradBlocks(t, p)
		}
	}
}

func testConvWinogradBlocks(t *testing.T, p ConvParams) {
	r := rand.New(rand.NewPCG(9, 10))
	x, w, b, dy := randFloats(r, 6*23*19), randFloats(r, 5*6*p.KH*p.KW), randFloats(r, 5), randFloats(r, 5*p.OutH()*p.OutW())
	want, ymag, wantDx, dxmag := naiveConv(x, w, b, dy, &p)
	filter := NewWinogradFilter(w, &p)
	for _, block := range []int{1, 7, 29} {
		f, bw := forwardGeom(&p), backwardGeom(&p)
		f.block, bw.block = block, block
		f.tune = winoTuning{fusedMinBlocks: 1 << 30} // staged
		bw.tune = f.tune
		scratch := make([]float32, f.scratchSize())
		y := make([]float32, len(want))
		f.run(y, x, &filter.fwd, b, scratch, false, false)
		compareTol(t, fmt.Sprintf("%dx%d, block %d: y", p.KH, p.KW, block), y, nil, want, ymag, winogradTol)
		dx := make([]float32, len(x))
		bw.run(dx, dy, &filter.back, nil, scratch, false, true)
		compareTol(t, fmt.Sprintf("%dx%d, block %d: dx", p.KH, p.KW, block), dx, nil, wantDx, dxmag, winogradTol)
	}
}

// BenchmarkWinograd compares ConvWinograd with the im2col Conv on the 3x3,
// 5x5 and 7x7 stride-2 layers of GoogLeNet at 224x224 and 1024x768, forward and
// backward to the input, both with their weights prepared once as the
// engine does. GFLOP/s counts the direct convolution's 2*M*C*K*K*OH*OW
// flops, so it is an effective rate, comparable between the two.
func BenchmarkWinograd(b *testing.B) {
	one, two, three := [4]int{1, 1, 1, 1}, [4]int{2, 2, 2, 2}, [4]int{3, 3, 3, 3}
	layers := []struct {
		name string
		p    ConvParams
	}{
		{"conv1_7x7_s2/224", conv(1, 3, 224, 224, 64, 7, 7, 1, 2, 1, three)},
		{"conv1_7x7_s2/1024", conv(1, 3, 768, 1024, 64, 7, 7, 1, 2, 1, three)},
		{"conv2_3x3/224", conv(1, 64, 56, 56, 192, 3, 3, 1, 1, 1, one)},
		{"conv2_3x3/1024", conv(1, 64, 192, 256, 192, 3, 3, 1, 1, 1, one)},
		{"inception_3b_3x3/224", conv(1, 128, 28, 28, 192, 3, 3, 1, 1, 1, one)},
		{"inception_3b_3x3/1024", conv(1, 128, 96, 128, 192, 3, 3, 1, 1, 1, one)},
		{"inception_4c_3x3/224", conv(1, 128, 14, 14, 256, 3, 3, 1, 1, 1, one)},
		{"inception_4c_3x3/1024", conv(1, 128, 48, 64, 256, 3, 3, 1, 1, 1, one)},
		{"inception_3a_5x5/224", conv(1, 16, 28, 28, 32, 5, 5, 1, 1, 1, two)},
		{"inception_3a_5x5/1024", conv(1, 16, 96, 128, 32, 5, 5, 1, 1, 1, two)},
		{"inception_3b_5x5/224", conv(1, 32, 28, 28, 96, 5, 5, 1, 1, 1, two)},
		{"inception_3b_5x5/1024", conv(1, 32, 96, 128, 96, 5, 5, 1, 1, 1, two)},
		{"inception_4a_5x5/224", conv(1, 16, 14, 14, 48, 5, 5, 1, 1, 1, two)},
		{"inception_4c_5x5/224", conv(1, 24, 14, 14, 64, 5, 5, 1, 1, 1, two)},
		{"inception_4c_5x5/1024", conv(1, 24, 48, 64, 64, 5, 5, 1, 1, 1, two)},
	}
	for _, l := range layers {
		p := l.p
		r := rand.New(rand.NewPCG(1, 1))
		x, w, bias := randFloats(r, p.C*p.H*p.W), randFloats(r, p.M*p.C*p.KH*p.KW), randFloats(r, p.M)
		y := make([]float32, p.M*p.OutH()*p.OutW())
		f, packed := NewWinogradFilter(w, &p), NewConvFilter(w, bias, &p)
		scratch := make([]float32, max(ConvScratchSize(&p), WinogradScratchSize(&p)))
		flops := 2 * float64(p.M*p.C*p.KH*p.KW*p.OutH()*p.OutW())
		bench := func(name string, run func()) {
			b.Run(l.name+"/"+name, func(b *testing.B) {
				for b.Loop() {
					run()
				}
				b.ReportMetric(flops*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
			})
		}
		bench("im2col/forward", func() { ConvPacked(y, x, packed, scratch, &p) })
		bench("winograd/forward", func() { ConvWinograd(y, x, f, bias, scratch, &p) })
		bench("im2col/backward", func() { ConvPackedBackwardInput(x, y, packed, scratch, &p, true) })
		bench("winograd/backward", func() { ConvWinogradBackwardInput(x, y, f, scratch, &p, true) })
		if strings.HasSuffix(l.name, "/1024") { // what prefetching the planes gives
			nf := *f
			nf.tune.prefetch = 0
			bench("winograd-noprefetch/forward", func() { ConvWinograd(y, x, &nf, bias, scratch, &p) })
			bench("winograd-noprefetch/backward", func() { ConvWinogradBackwardInput(x, y, &nf, scratch, &p, true) })
		}
	}
}

// TestFilterSizes checks WinogradFilterSize and ConvFilterSize against
// the matrices NewWinogradFilter and NewConvFilter pack, for each of
// winoKernels and the generic kernel: a polyphase filter (conv1) too,
// which packs for p's kernel.
func TestFilterSizes(t *testing.T) {
	r := rand.New(rand.NewPCG(11, 12))
	packed := func(pas ...*gemm.Packed) (n int) {
		for _, pa := range pas {
			n += pa.Kernel().PackedSize(pa.Rows(), pa.Cols())
		}
		return n
	}
	generic, err := gemm.Lookup("generic")
	if err != nil {
		t.Fatal(err)
	}
	for _, kn := range append(winoKernels(), generic) {
		for _, p := range []ConvParams{
			conv(1, 6, 23, 19, 5, 3, 3, 1, 1, 1, [4]int{1, 1, 1, 1}),
			conv(1, 7, 20, 18, 9, 5, 5, 1, 1, 1, [4]int{2, 2, 2, 2}),
			conv(1, 3, 40, 38, 8, 7, 7, 1, 2, 1, [4]int{3, 3, 3, 3}),
		} {
			p.Kernel = kn
			f := NewWinogradFilter(randFloats(r, p.M*p.C*p.KH*p.KW), &p)
			for xi := range wgXi {
				if f.fwd[xi].Kernel() != kn || f.back[xi].Kernel() != kn {
					t.Fatalf("%s %dx%d: filter packed for %s, not for p's kernel", kn.Name(), p.KH, p.KW, f.fwd[xi].Kernel().Name())
				}
			}
			if got, want := WinogradFilterSize(&p), packed(append(f.fwd[:], f.back[:]...)...); got != want {
				t.Errorf("%s %dx%d: WinogradFilterSize %d, the filter keeps %d", kn.Name(), p.KH, p.KW, got, want)
			}
		}
		for _, c := range []struct {
			p    ConvParams
			bias bool
		}{
			{conv(1, 6, 9, 8, 10, 1, 1, 1, 1, 1, [4]int{}), true},
			{conv(1, 6, 9, 8, 10, 3, 3, 1, 1, 1, [4]int{1, 1, 1, 1}), true},
			{conv(1, 6, 9, 8, 10, 3, 3, 1, 2, 1, [4]int{}), false},
			{conv(1, 6, 9, 8, 10, 3, 3, 2, 1, 1, [4]int{1, 1, 1, 1}), true},
		} {
			p := c.p
			p.Kernel = kn
			var b []float32
			if c.bias {
				b = randFloats(r, p.M)
			}
			f := NewConvFilter(randFloats(r, p.M*p.C/p.Group*p.KH*p.KW), b, &p)
			if got, want := ConvFilterSize(&p, c.bias), packed(append(f.fwd, f.back...)...); got != want {
				t.Errorf("%s %+v: ConvFilterSize %d, the filter keeps %d", kn.Name(), p, got, want)
			}
		}
	}
}
