package flow

import (
	"context"
	"encoding/json"
	"image"
	"math"
	"os"
	"path/filepath"
	"testing"

	"github.com/deepdream-go/deepdream/imageio"
	"github.com/deepdream-go/deepdream/internal/shared"
)

// The fixtures of ../shared/fixtures/motion (REFERENCE.md there): frame
// pairs, the true flow of the synthetic ones, and OpenCV 4.6's errors.

const motion = "fixtures/motion"

// frame reads a fixture frame.
func frame(tb testing.TB, name string) image.Image {
	tb.Helper()
	img, err := imageio.ReadFile(shared.Path(tb, filepath.Join(motion, name)), 0)
	if err != nil {
		tb.Fatal(err)
	}
	return img
}

// pair reads the frames of a fixture pair.
func pair(tb testing.TB, name string) (a, b image.Image) {
	return frame(tb, name+"_frame1.png"), frame(tb, name+"_frame2.png")
}

// truth reads the true flow of a synthetic pair.
func truth(tb testing.TB, name string) *Field {
	tb.Helper()
	data, err := os.ReadFile(shared.Path(tb, filepath.Join(motion, name+"_flow.npy")))
	if err != nil {
		tb.Fatal(err)
	}
	f, err := DecodeField(data)
	if err != nil {
		tb.Fatalf("%s_flow.npy: %v", name, err)
	}
	return f
}

// reference is an entry of reference.json: OpenCV's errors on a pair.
type reference struct {
	EPE          *float64 `json:"epe"`
	Warp         float64  `json:"warp_err"`
	WarpZeroFlow float64  `json:"warp_err_zero_flow"`
}

// references reads reference.json, keyed "pair/method".
func references(tb testing.TB) map[string]reference {
	tb.Helper()
	data, err := os.ReadFile(shared.Path(tb, filepath.Join(motion, "reference.json")))
	if err != nil {
		tb.Fatal(err)
	}
	var refs map[string]reference
	if err := json.Unmarshal(data, &refs); err != nil {
		tb.Fatalf("reference.json: %v", err)
	}
	return refs
}

// endPointError is the mean distance between the flows f and g, px.
func endPointError(f, g *Field) float64 {
	var sum float64
	for i := 0; i < len(f.D); i += 2 {
		dx, dy := float64(f.D[i]-g.D[i]), float64(f.D[i+1]-g.D[i+1])
		sum += math.Sqrt(dx*dx + dy*dy)
	}
	return sum / float64(f.W*f.H)
}

// planes returns img's red, green and blue as three planes of 0..255.
func planes(img image.Image) []float32 {
	b := img.Bounds()
	n := b.Dx() * b.Dy()
	p := make([]float32, 3*n)
	for y := range b.Dy() {
		for x := range b.Dx() {
			r, g, bl, _ := img.At(b.Min.X+x, b.Min.Y+y).RGBA()
			i := y*b.Dx() + x
			p[i], p[n+i], p[2*n+i] = float32(r)/257, float32(g)/257, float32(bl)/257
		}
	}
	return p
}

// warpError is REFERENCE.md's: the mean absolute difference (0..255, the
// three channels averaged) between frame a and frame b sampled
// bilinearly at x + f(x), over the pixels whose sample is inside.
func warpError(f *Field, a, b image.Image) float64 {
	pa, pb := planes(a), planes(b)
	warped := make([]float32, len(pb))
	inside := make([]bool, f.W*f.H)
	f.Warp(warped, pb, 3, inside)
	n := f.W * f.H
	var sum float64
	var count int
	for i, in := range inside {
		if !in {
			continue
		}
		count++
		for c := range 3 {
			d := float64(warped[c*n+i] - pa[c*n+i])
			sum += max(d, -d)
		}
	}
	return sum / float64(3*count)
}

// estimate runs Estimate on a pair's frames.
func estimate(tb testing.TB, a, b image.Image, o Options) *Field {
	tb.Helper()
	f, err := Estimate(context.Background(), Gray(a), Gray(b), o)
	if err != nil {
		tb.Fatal(err)
	}
	return f
}
