package ops

import (
	"math"
	"math/rand/v2"
	"testing"
)

// resizeParams makes the params of a Resize of planes [h x w] to [oh x ow]
// with sampling s on both axes, the scales being oh/h and ow/w.
func resizeParams(planes, h, w, oh, ow int, s *Sampling) *ResizeParams {
	p := &ResizeParams{Planes: planes, H: h, W: w,
		Rows: NewResampleAxis(h, oh, float64(oh)/float64(h), s),
		Cols: NewResampleAxis(w, ow, float64(ow)/float64(w), s),
	}
	p.RowsT, p.ColsT = p.Rows.Transpose(h), p.Cols.Transpose(w)
	return p
}

// TestResizeBilinearByHand checks bilinear resizes of a 2x3 plane
//
//	 0 10 20
//	30 40 50
//
// against values worked out on paper.
func TestResizeBilinearByHand(t *testing.T) {
	x := []float32{0, 10, 20, 30, 40, 50}
	for _, c := range []struct {
		name   string
		mode   CoordinateMode
		oh, ow int
		want   []float32
	}{
		// Rows: (o + 0.5)/1.5 - 0.5 = -1/6 (edge), 1/2, 7/6 (edge);
		// columns: (o + 0.5)*3/5 - 0.5 = -0.2 (edge), 0.4, 1, 1.6, 2.2 (edge).
		{"half_pixel up", HalfPixel, 3, 5, []float32{
			0, 4, 10, 16, 20,
			15, 19, 25, 31, 35,
			30, 34, 40, 46, 50}},
		// Rows: o * 1/2 = 0, 1/2, 1; columns: o * 2/4 = 0, 0.5, ..., 2.
		{"align_corners up", AlignCorners, 3, 5, []float32{
			0, 5, 10, 15, 20,
			15, 20, 25, 30, 35,
			30, 35, 40, 45, 50}},
		// Rows: (0 + 0.5)*2 - 0.5 = 0.5; columns: (o + 0.5)*1.5 - 0.5 = 0.25, 1.75.
		{"half_pixel down", HalfPixel, 1, 2, []float32{17.5, 32.5}},
		// Rows: 0 (a single output); columns: o * 2/1 = 0, 2.
		{"align_corners down", AlignCorners, 1, 2, []float32{0, 20}},
	} {
		s := &Sampling{Mode: Linear, Coordinates: c.mode}
		p := resizeParams(1, 2, 3, c.oh, c.ow, s)
		y := make([]float32, c.oh*c.ow)
		Resize(y, x, p)
		for i := range y {
			if math.Abs(float64(y[i]-c.want[i])) > 1e-5 {
				t.Errorf("%s: y = %v, want %v", c.name, y, c.want)
				break
			}
		}
	}
}

// TestResizeIsLinear checks every sampling against a direct evaluation of
// its taps (the product of the two axes' weights), with guard bands, and
// the backward pass as the exact transpose: <R x, dy> = <x, R^T dy>, set
// and added.
func TestResizeIsLinear(t *testing.T) {
	r := rand.New(rand.NewPCG(11, 12))
	samplings := []Sampling{
		{Mode: Nearest, Coordinates: Asymmetric, Nearest: Floor},
		{Mode: Nearest, Coordinates: HalfPixel, Nearest: RoundPreferFloor},
		{Mode: Nearest, Coordinates: TFHalfPixelForNN, Nearest: RoundPreferCeil},
		{Mode: Nearest, Coordinates: AlignCorners, Nearest: Ceil},
		{Mode: Linear, Coordinates: HalfPixel},
		{Mode: Linear, Coordinates: PytorchHalfPixel},
		{Mode: Linear, Coordinates: AlignCorners},
		{Mode: Linear, Coordinates: HalfPixelSymmetric},
		{Mode: Linear, Coordinates: TFCropAndResize, ROI: [2]float64{-0.2, 0.9}},
		{Mode: Cubic, Coordinates: HalfPixel, CubicA: -0.75},
		{Mode: Cubic, Coordinates: Asymmetric, CubicA: -0.5, ExcludeOutside: true},
	}
	sizes := [][4]int{{1, 1, 1, 1}, {2, 3, 5, 7}, {5, 7, 2, 3}, {4, 4, 4, 4}, {3, 8, 9, 3}, {7, 1, 2, 64}}
	for _, s := range samplings {
		for _, sz := range sizes {
			h, w, oh, ow := sz[0], sz[1], sz[2], sz[3]
			p := resizeParams(3, h, w, oh, ow, &s)
			x := randFloats(r, p.Planes*h*w)
			y, checkY := guarded(r, p.Planes*oh*ow)
			p.Extrapolation = 7
			Resize(y, x, p)
			checkY(t, "Resize")
			for plane := range p.Planes {
				for oy := range oh {
					for ox := range ow {
						want := 0.0
						if p.Rows.Outside != nil && p.Rows.Outside[oy] || p.Cols.Outside != nil && p.Cols.Outside[ox] {
							want = 7
						}
						for i := p.Rows.Start[oy]; i < p.Rows.Start[oy+1]; i++ {
							for j := p.Cols.Start[ox]; j < p.Cols.Start[ox+1]; j++ {
								want += float64(p.Rows.Weight[i]) * float64(p.Cols.Weight[j]) * float64(x[(plane*h+int(p.Rows.Index[i]))*w+int(p.Cols.Index[j])])
							}
						}
						if got := y[(plane*oh+oy)*ow+ox]; math.Abs(float64(got)-want) > 1e-5*(1+math.Abs(want)) {
							t.Fatalf("%+v %v: y[%d][%d][%d] = %v, want %v", s, sz, plane, oy, ox, got, want)
						}
					}
				}
			}
			// The extrapolated outputs are constants: their gradient is 0.
			p.Extrapolation = 0
			Resize(y, x, p)
			dy := randFloats(r, len(y))
			for _, accumulate := range []bool{false, true} {
				dx, checkDX := guarded(r, len(x))
				base := append([]float32(nil), dx...)
				ResizeBackwardInput(dx, dy, p, accumulate)
				checkDX(t, "ResizeBackwardInput")
				lhs, rhs := 0.0, 0.0
				for i := range y {
					lhs += float64(y[i]) * float64(dy[i])
				}
				for i := range x {
					g := dx[i]
					if accumulate {
						g -= base[i]
					}
					rhs += float64(x[i]) * float64(g)
				}
				if math.Abs(lhs-rhs) > 1e-4*(1+math.Abs(lhs)) {
					t.Fatalf("%+v %v accumulate %v: <Rx, dy> = %v, <x, R^T dy> = %v", s, sz, accumulate, lhs, rhs)
				}
			}
		}
	}
}

// Linear and cubic weights of an output sum to 1 (edge taps merged), so a
// constant plane stays constant.
func TestResizeKeepsConstants(t *testing.T) {
	for _, s := range []Sampling{
		{Mode: Linear, Coordinates: HalfPixel},
		{Mode: Cubic, Coordinates: HalfPixel, CubicA: -0.75},
		{Mode: Cubic, Coordinates: AlignCorners, CubicA: -0.5, ExcludeOutside: true},
	} {
		a := NewResampleAxis(5, 13, 13.0/5, &s)
		for o := range a.Len() {
			sum := float32(0)
			for k := a.Start[o]; k < a.Start[o+1]; k++ {
				sum += a.Weight[k]
				if a.Index[k] < 0 || a.Index[k] >= 5 {
					t.Fatalf("%+v: output %d reads index %d of 5", s, o, a.Index[k])
				}
			}
			if math.Abs(float64(sum-1)) > 1e-6 {
				t.Fatalf("%+v: output %d's weights sum to %v", s, o, sum)
			}
		}
		if id := NewResampleAxis(5, 5, 1, &s); !id.Identity() {
			t.Errorf("%+v: scale 1 is not the identity", s)
		}
	}
}

// BenchmarkResize: a feature pyramid's 2x upsampling (nearest and
// bilinear) of 256 channels of 64x64, forward and backward.
func BenchmarkResize(b *testing.B) {
	r := rand.New(rand.NewPCG(1, 2))
	for _, c := range []struct {
		name string
		s    Sampling
	}{
		{"nearest", Sampling{Mode: Nearest, Coordinates: Asymmetric, Nearest: Floor}},
		{"bilinear", Sampling{Mode: Linear, Coordinates: HalfPixel}},
	} {
		p := resizeParams(256, 64, 64, 128, 128, &c.s)
		x, y := randFloats(r, 256*64*64), make([]float32, 256*128*128)
		b.Run(c.name+"/forward", func(b *testing.B) {
			b.SetBytes(int64(4 * (len(x) + len(y))))
			for b.Loop() {
				Resize(y, x, p)
			}
		})
		b.Run(c.name+"/backward", func(b *testing.B) {
			b.SetBytes(int64(4 * (len(x) + len(y))))
			for b.Loop() {
				ResizeBackwardInput(x, y, p, false)
			}
		})
	}
}

func TestResizeDoesNotAllocate(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	for _, s := range []Sampling{{Mode: Nearest}, {Mode: Linear}, {Mode: Cubic, CubicA: -0.75}} {
		p := resizeParams(64, 32, 32, 64, 48, &s)
		x, y := randFloats(r, 64*32*32), make([]float32, 64*64*48)
		if a := testing.AllocsPerRun(10, func() {
			Resize(y, x, p)
			ResizeBackwardInput(x, y, p, true)
		}); a != 0 {
			t.Errorf("%+v: %v allocations per forward and backward pass", s, a)
		}
	}
}
