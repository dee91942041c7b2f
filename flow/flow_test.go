package flow

import (
	"context"
	"errors"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/deepdream-go/deepdream/internal/race"
)

// TestFixtureEndPointError checks the flow of the synthetic pairs against
// their truth: a mean end-point error of at most 0.5 px (OpenCV's
// Farneback: 1.29 and 0.69, DIS medium: 0.19 and 0.20).
func TestFixtureEndPointError(t *testing.T) {
	skipUnderRace(t)
	refs := references(t)
	for _, name := range []string{"synth_a", "synth_b"} {
		a, b := pair(t, name)
		f := estimate(t, a, b, Options{})
		epe := endPointError(f, truth(t, name))
		far, dis := refs[name+"/farneback"], refs[name+"/dis_medium"]
		t.Logf("%s: EPE %.3f px, warp error %.2f (OpenCV Farneback %.3f, DIS medium %.3f)",
			name, epe, warpError(f, a, b), *far.EPE, *dis.EPE)
		if !(epe <= 0.5) {
			t.Errorf("%s: mean end-point error %.3f px, want at most 0.5", name, epe)
		}
	}
}

// TestFixtureWarpError checks the warp error on the real pairs against
// OpenCV's Farneback's, and that it is well below the zero flow's.
func TestFixtureWarpError(t *testing.T) {
	skipUnderRace(t)
	refs := references(t)
	for _, name := range []string{"walk", "box"} {
		a, b := pair(t, name)
		f := estimate(t, a, b, Options{})
		got := warpError(f, a, b)
		far, dis := refs[name+"/farneback"], refs[name+"/dis_medium"]
		t.Logf("%s: warp error %.3f (OpenCV Farneback %.3f, DIS medium %.3f, zero flow %.3f)",
			name, got, far.Warp, dis.Warp, far.WarpZeroFlow)
		if !(got <= far.Warp) {
			t.Errorf("%s: warp error %.3f, want at most OpenCV Farneback's %.3f", name, got, far.Warp)
		}
	}
}

// skipUnderRace skips the accuracy tests on the fixtures with -short
// under the race detector, which makes them take a minute: the same loops
// run under it in TestEstimateReproducible, on smaller images.
func skipUnderRace(t *testing.T) {
	if testing.Short() && race.Enabled {
		t.Skip("the accuracy on the fixtures is measured without -race (-short)")
	}
}

// TestWarpErrorMatchesReference checks this package's warp error, the
// measure the targets use, against REFERENCE.md's for the true flow and
// the zero flow: computed the same way, they agree to 0.01.
func TestWarpErrorMatchesReference(t *testing.T) {
	refs := references(t)
	for _, name := range []string{"synth_a", "synth_b"} {
		a, b := pair(t, name)
		f := truth(t, name)
		want := refs[name+"/truth"].Warp
		if got := warpError(f, a, b); math.Abs(got-want) > 0.01 {
			t.Errorf("%s: warp error of the true flow %.4f, REFERENCE.md's %.4f", name, got, want)
		}
		zero := NewField(f.W, f.H)
		want = refs[name+"/farneback"].WarpZeroFlow
		if got := warpError(zero, a, b); math.Abs(got-want) > 0.01 {
			t.Errorf("%s: warp error of the zero flow %.4f, REFERENCE.md's %.4f", name, got, want)
		}
	}
}

// texture returns a w x h image of smooth random blobs, 0..255, which a
// flow can be found on everywhere: a sum of random sinusoids, scaled to a
// standard deviation of 40 levels about 128, so that few pixels clip.
func texture(w, h int, seed uint64) *Image {
	r := rand.New(rand.NewPCG(seed, 1))
	img := NewImage(w, h)
	type wave struct{ fx, fy, phase, amp float64 }
	waves := make([]wave, 24)
	var power float64
	for i := range waves {
		waves[i] = wave{r.Float64()*0.8 - 0.4, r.Float64()*0.8 - 0.4, r.Float64() * 2 * math.Pi, 0.5 + r.Float64()}
		power += waves[i].amp * waves[i].amp / 2
	}
	scale := 40 / math.Sqrt(power)
	for y := range h {
		for x := range w {
			v := 128.0
			for _, wv := range waves {
				v += scale * wv.amp * math.Sin(wv.fx*float64(x)+wv.fy*float64(y)+wv.phase)
			}
			img.Pix[y*w+x] = float32(min(max(v, 0), 255))
		}
	}
	return img
}

// shifted returns img sampled at (x - dx, y - dy), bilinearly: the image
// moved by (dx, dy), whose flow from img is (dx, dy) everywhere.
func shifted(img *Image, dx, dy float32) *Image {
	out := NewImage(img.W, img.H)
	for y := range img.H {
		for x := range img.W {
			out.Pix[y*img.W+x] = bilinear(img.Pix, img.W, img.H, float32(x)-dx, float32(y)-dy)
		}
	}
	return out
}

// TestEstimateTranslation finds translations of a texture, over the
// interior (away from the border the motion uncovers): a whole-pixel one
// exactly; subpixel ones without bias and within 0.06 px on average (the
// moved frame is a bilinear resampling, blurred by up to a quarter of a
// pixel's worth, which no flow undoes exactly).
func TestEstimateTranslation(t *testing.T) {
	for _, m := range []struct{ dx, dy, mean float32 }{{2, -1, 1e-3}, {1.5, -0.75, 0.06}, {-4.25, 3, 0.06}, {0.3, 0.2, 0.06}} {
		a := texture(160, 120, 1)
		b := shifted(a, m.dx, m.dy)
		f, err := Estimate(context.Background(), a, b, Options{})
		if err != nil {
			t.Fatal(err)
		}
		var worst, sum, biasX, biasY float64
		var n int
		for y := 10; y < f.H-10; y++ {
			for x := 10; x < f.W-10; x++ {
				u, v := f.At(x, y)
				e := math.Hypot(float64(u-m.dx), float64(v-m.dy))
				worst, sum, n = max(worst, e), sum+e, n+1
				biasX += float64(u - m.dx)
				biasY += float64(v - m.dy)
			}
		}
		mean := sum / float64(n)
		biasX, biasY = biasX/float64(n), biasY/float64(n)
		t.Logf("shift (%v, %v): mean error %.4f px, bias (%.4f, %.4f), worst %.4f", m.dx, m.dy, mean, biasX, biasY, worst)
		if !(mean < float64(m.mean) && math.Abs(biasX) < 0.01 && math.Abs(biasY) < 0.01 && worst < 0.3) {
			t.Errorf("shift (%v, %v): mean error %.4f px, bias (%.4f, %.4f), worst %.4f; want below %v, 0.01 and 0.3",
				m.dx, m.dy, mean, biasX, biasY, worst, m.mean)
		}
	}
}

// TestEstimateIdentical: a pair of one frame twice has no motion.
func TestEstimateIdentical(t *testing.T) {
	a := texture(97, 61, 2)
	f, err := Estimate(context.Background(), a, a, Options{})
	if err != nil {
		t.Fatal(err)
	}
	for i, d := range f.D {
		if math.Abs(float64(d)) > 1e-3 {
			t.Fatalf("pixel %d: motion %v of a frame with itself", i/2, d)
		}
	}
}

// TestEstimateSizes runs tiny and odd sizes, down to 1x1, and flat
// images: the flow is finite and, for a frame with itself, zero.
func TestEstimateSizes(t *testing.T) {
	for _, sz := range [][2]int{{1, 1}, {1, 7}, {7, 1}, {2, 3}, {5, 5}, {8, 8}, {9, 9}, {17, 3}, {33, 31}, {64, 48}, {129, 65}} {
		w, h := sz[0], sz[1]
		a := texture(w, h, 3)
		b := shifted(a, 0.5, 0.25)
		flat := NewImage(w, h)
		for _, p := range []struct {
			name string
			a, b *Image
			zero bool
		}{{"moved", a, b, false}, {"same", a, a, true}, {"flat", flat, flat, true}} {
			f, err := Estimate(context.Background(), p.a, p.b, Options{})
			if err != nil {
				t.Fatalf("%dx%d %s: %v", w, h, p.name, err)
			}
			if f.W != w || f.H != h || len(f.D) != 2*w*h {
				t.Fatalf("%dx%d %s: a %dx%d field of %d values", w, h, p.name, f.W, f.H, len(f.D))
			}
			for i, d := range f.D {
				if math.IsNaN(float64(d)) || math.IsInf(float64(d), 0) || (p.zero && math.Abs(float64(d)) > 1e-3) {
					t.Fatalf("%dx%d %s: pixel %d's motion is %v", w, h, p.name, i/2, d)
				}
			}
		}
	}
}

// TestEstimateErrors: the errors say what is wrong.
func TestEstimateErrors(t *testing.T) {
	a, b := texture(20, 10, 4), texture(10, 20, 4)
	bg := context.Background()
	cases := []struct {
		name string
		a, b *Image
		o    Options
		want string
	}{
		{"sizes", a, b, Options{}, "differ in size: 20x10 and 10x20"},
		{"empty", &Image{}, &Image{}, Options{}, "a 0x0 image"},
		{"short", a, &Image{W: 20, H: 10, Pix: make([]float32, 5)}, Options{}, "a 20x10 image with 5 pixels"},
		{"patch", a, a, Options{PatchSize: -1}, "Options.PatchSize -1: want 0 to 64"},
		{"refine", a, a, Options{Refine: -2}, "Options.Refine -2"},
		{"alpha", a, a, Options{Alpha: float32(math.NaN())}, "Options.Alpha NaN"},
	}
	for _, c := range cases {
		_, err := Estimate(bg, c.a, c.b, c.o)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %v, want one saying %q", c.name, err, c.want)
		}
	}
}

// TestEstimateCancelled: a cancelled context stops the estimation.
func TestEstimateCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	a := texture(64, 48, 5)
	if _, err := Estimate(ctx, a, a, Options{}); !errors.Is(err, context.Canceled) {
		t.Fatalf("error %v, want context.Canceled", err)
	}
}

// TestEstimateReproducible: the flow does not depend on how the work is
// shared between cores, nor on the buffers a previous call left.
func TestEstimateReproducible(t *testing.T) {
	a := texture(130, 100, 6)
	b := shifted(a, 2.25, -1.5)
	first, err := Estimate(context.Background(), a, b, Options{})
	if err != nil {
		t.Fatal(err)
	}
	var f Field
	for i := range 3 {
		other := texture(50+i, 40, 7) // another size between: the buffers change
		if err := EstimateTo(context.Background(), &f, other, other, Options{}); err != nil {
			t.Fatal(err)
		}
		if err := EstimateTo(context.Background(), &f, a, b, Options{}); err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(f.D, first.D) {
			t.Fatalf("run %d differs from the first", i+2)
		}
	}
}

// TestEstimateConcurrent: estimations running at once (a video's forward
// and backward flows, say) give each the flow it gives alone.
func TestEstimateConcurrent(t *testing.T) {
	const n = 4
	var pairs [n][2]*Image
	var want [n]*Field
	for i := range n {
		a := texture(70+9*i, 50, uint64(20+i))
		pairs[i] = [2]*Image{a, shifted(a, 1.5, float32(i)-1)}
		f, err := Estimate(context.Background(), pairs[i][0], pairs[i][1], Options{})
		if err != nil {
			t.Fatal(err)
		}
		want[i] = f
	}
	var wg sync.WaitGroup
	var got [n]*Field
	var errs [n]error
	for i := range n {
		wg.Go(func() {
			got[i], errs[i] = Estimate(context.Background(), pairs[i][0], pairs[i][1], Options{})
		})
	}
	wg.Wait()
	for i := range n {
		if errs[i] != nil {
			t.Fatal(errs[i])
		}
		if !slices.Equal(got[i].D, want[i].D) {
			t.Errorf("pair %d: the flow estimated beside others differs from the one estimated alone", i)
		}
	}
}

// TestEstimateToAllocates nothing once its buffers are grown.
func TestEstimateToAllocatesNothing(t *testing.T) {
	if race.Enabled {
		t.Skip("the race detector allocates")
	}
	a := texture(160, 120, 8)
	b := shifted(a, 1, 1)
	var f Field
	ctx := context.Background()
	if err := EstimateTo(ctx, &f, a, b, Options{}); err != nil {
		t.Fatal(err)
	}
	if n := testing.AllocsPerRun(5, func() { _ = EstimateTo(ctx, &f, a, b, Options{}) }); n != 0 {
		t.Errorf("%v allocations per call after the first", n)
	}
}

// TestOptionsChangeTheFlow guards against options that are read nowhere:
// each changes the flow of a pair.
func TestOptionsChangeTheFlow(t *testing.T) {
	a := texture(96, 72, 9)
	b := shifted(a, 1.7, -2.3)
	base, err := Estimate(context.Background(), a, b, Options{})
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range []Options{
		{PatchSize: 12}, {PatchStride: 2}, {FinestScale: 1}, {Iterations: 1}, {Refine: -1},
		{Refine: 3}, {SOR: 1}, {Alpha: 200}, {Gamma: 1}, {Delta: 50},
	} {
		f, err := Estimate(context.Background(), a, b, o)
		if err != nil {
			t.Fatalf("%+v: %v", o, err)
		}
		if slices.Equal(f.D, base.D) {
			t.Errorf("%+v gives the default's flow", o)
		}
	}
}
