package dream

import (
	"image"
	"image/color"
	"math"
	"math/rand/v2"
	"testing"
)

// TestMaskPlane: a mask is its luminance over black, resized by area: a
// grey level is its share of white, transparency is black, and wherever
// the mask is black the plane is 0 at any size, with at most one grey
// pixel at an edge.
func TestMaskPlane(t *testing.T) {
	img := image.NewNRGBA(image.Rect(0, 0, 5, 2))
	for x := range 5 {
		img.Set(x, 0, color.NRGBA{255, 255, 255, 255})
	}
	img.Set(1, 0, color.NRGBA{0, 0, 0, 255})
	img.Set(2, 0, color.NRGBA{51, 51, 51, 255})
	img.Set(3, 0, color.NRGBA{255, 255, 255, 0}) // transparent white
	img.Set(4, 0, color.NRGBA{255, 0, 0, 255})   // red: its luminance
	got := maskPlane(img, 5, 2)
	for i, want := range []float32{1, 0, 0.2, 0, 0.299, 0, 0, 0, 0, 0} {
		if math.Abs(float64(got[i]-want)) > 1e-6 {
			t.Errorf("mask value %d is %g, want %g", i, got[i], want)
		}
	}
	// 7 columns, the left 3 black, onto 17, 16 and 3 pixels.
	half := image.NewGray(image.Rect(0, 0, 7, 1))
	for x := 3; x < 7; x++ {
		half.Pix[x] = 255
	}
	for _, w := range []int{17, 16, 3} {
		m := maskPlane(half, w, 2)
		grey := 0
		for x, v := range m[:w] {
			covers := float64(x+1) * 7 / float64(w) // the mask columns pixel x reaches
			if covers <= 3 && v != 0 {
				t.Errorf("at width %d, pixel %d covers only black and is %g", w, x, v)
			}
			if v > 0 && v < 1 {
				grey++
			}
			if m[w+x] != v {
				t.Errorf("at width %d, the rows differ", w)
			}
		}
		if w > 7 && grey > 1 {
			t.Errorf("at width %d, %d grey pixels at one edge", w, grey)
		}
	}
}

// TestShrinkMask checks the promise of the smaller octaves' masks: detail
// dreamed at the smaller size, scaled by its mask, then zoomed up as
// Dream zooms it, is 0 wherever the larger mask is 0, at sizes of the
// octave scales 1.4, 1 and 5.
func TestShrinkMask(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for _, size := range [][4]int{{40, 56, 29, 40}, {17, 13, 12, 9}, {10, 10, 10, 10}, {5, 9, 1, 2}} {
		hf, wf, hc, wc := size[0], size[1], size[2], size[3]
		fine := make([]float32, hf*wf)
		for i := range fine {
			if rng.IntN(3) > 0 { // black in a third of the pixels, else grey or white
				fine[i] = rng.Float32()
			}
		}
		coarse := make([]float32, hc*wc)
		shrinkMask(coarse, hc, wc, fine, hf, wf)
		detail := make([]float32, hc*wc)
		for i := range detail {
			detail[i] = (rng.Float32() + 0.5) * coarse[i]
		}
		up := make([]float32, hf*wf)
		zoom(up, hf, wf, detail, 1, hc, wc, false)
		for i, v := range up {
			if fine[i] == 0 && v != 0 {
				t.Fatalf("%dx%d from %dx%d: pixel %d is black in the mask, and gets %g from the smaller octave", wf, hf, wc, hc, i, v)
			}
		}
	}
}

// TestGridMask: a layer's cells see the mean of the mask over the pixels
// under them, rolled as the image is.
func TestGridMask(t *testing.T) {
	const h, w = 8, 12
	m := make([]float32, h*w)
	for y := range h {
		for x := 6; x < w; x++ {
			m[y*w+x] = 1 // the right half white
		}
	}
	grid := make([]float32, 2*3)
	gridMask(grid, 2, 3, m, h, w, h, w, 0, 0, 0, 0)
	want := []float32{0, 0.5, 1, 0, 0.5, 1}
	for i := range want {
		if grid[i] != want[i] {
			t.Fatalf("grid %v, want %v", grid, want)
		}
	}
	// Rolled by (2, 5): the image's column x is the rolled image's x+2,
	// so its white columns 6..11 are 8..11 and 0..1, and the cells of 4
	// columns see 1/2, 0 and 1 (the rows, all alike, do not show oy).
	gridMask(grid, 2, 3, m, h, w, h, w, 0, 0, 2, 5)
	want = []float32{0.5, 0, 1, 0.5, 0, 1}
	for i := range want {
		if grid[i] != want[i] {
			t.Fatalf("rolled by (2, 5): grid %v, want %v", grid, want)
		}
	}
	// The top half white, rolled down by half the height.
	clear(m)
	for i := range m[:h/2*w] {
		m[i] = 1
	}
	gridMask(grid, 2, 3, m, h, w, h, w, 0, 0, 7, 4)
	want = []float32{0, 0, 0, 1, 1, 1}
	for i := range want {
		if grid[i] != want[i] {
			t.Fatalf("the top half white, rolled by (7, 4): grid %v, want %v", grid, want)
		}
	}
}
