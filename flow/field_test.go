package flow

import (
	"bytes"
	"fmt"
	"image"
	"image/color"
	"image/draw"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/deepdream-go/deepdream/internal/npy"
)

// TestWarpTranslation warps planes by a constant subpixel motion and
// compares with bilinear sampling written out by hand, and the inside
// mask with where the motion leads.
func TestWarpTranslation(t *testing.T) {
	const w, h, channels = 13, 9, 3
	const dx, dy = 2.25, -1.5
	r := rand.New(rand.NewPCG(1, 2))
	src := make([]float32, channels*w*h)
	for i := range src {
		src[i] = r.Float32() * 255
	}
	f := NewField(w, h)
	for i := range w * h {
		f.D[2*i], f.D[2*i+1] = dx, dy
	}
	dst := make([]float32, len(src))
	for i := range dst {
		dst[i] = -1 // every value must be written
	}
	inside := make([]bool, w*h)
	f.Warp(dst, src, channels, inside)
	for c := range channels {
		p := src[c*w*h : (c+1)*w*h]
		at := func(x, y int) float64 { return float64(p[y*w+x]) }
		for y := range h {
			for x := range w {
				sx, sy := float64(x)+dx, float64(y)+dy
				in := sx >= 0 && sx <= w-1 && sy >= 0 && sy <= h-1
				if inside[y*w+x] != in {
					t.Fatalf("(%d, %d): inside %v, want %v", x, y, inside[y*w+x], in)
				}
				want := 0.0
				if in {
					x0, y0 := int(sx), int(sy) // sx has .25, sy .5: x0+1, y0+1 inside
					ax, ay := sx-float64(x0), sy-float64(y0)
					want = (1-ay)*((1-ax)*at(x0, y0)+ax*at(x0+1, y0)) + ay*((1-ax)*at(x0, y0+1)+ax*at(x0+1, y0+1))
				}
				if got := float64(dst[c*w*h+y*w+x]); math.Abs(got-want) > 1e-3 {
					t.Fatalf("channel %d (%d, %d): %v, want %v", c, x, y, got, want)
				}
			}
		}
	}
	// The motion leads 2.25 px right and 1.5 px up: the last 3 columns
	// and the first 2 rows fall outside.
	var n int
	for _, in := range inside {
		if in {
			n++
		}
	}
	if want := (w - 3) * (h - 2); n != want {
		t.Errorf("%d pixels inside, want %d", n, want)
	}
	// A nil mask is allowed; the edge of the image is inside.
	g := NewField(2, 1)
	g.D[0] = 1 // (0,0) samples (1,0), the last pixel: inside
	out := make([]float32, 2)
	g.Warp(out, []float32{5, 7}, 1, nil)
	if out[0] != 7 || out[1] != 7 {
		t.Errorf("warp to the edge: %v, want [7 7]", out)
	}
	g.D[2] = float32(math.NaN())
	mask := []bool{false, true}
	g.Warp(out, []float32{5, 7}, 1, mask)
	if out[1] != 0 || mask[1] {
		t.Errorf("a NaN motion: %v, inside %v, want 0 outside", out[1], mask[1])
	}
}

// TestConsistentOccludingSquare: a square moves 6 px right over a still
// background. Forward and backward flows are exact; the pixels of the
// first frame that the square covers in the second (a strip 6 px wide
// on its right), and those that leave the frame, are the inconsistent
// ones, and only they.
func TestConsistentOccludingSquare(t *testing.T) {
	const w, h = 40, 30
	const x0, y0, side, move = 10, 8, 12, 6
	inSquare := func(x, y, at int) bool { return x >= at && x < at+side && y >= y0 && y < y0+side }
	fwd, bwd := NewField(w, h), NewField(w, h)
	for y := range h {
		for x := range w {
			i := y*w + x
			if inSquare(x, y, x0) {
				fwd.D[2*i] = move
			}
			if inSquare(x, y, x0+move) {
				bwd.D[2*i] = -move
			}
		}
	}
	// A pixel of the background in the last column moves out of frame.
	fwd.D[2*(5*w+w-1)] = 1
	mask := make([]bool, w*h)
	Consistent(fwd, bwd, mask)
	for y := range h {
		for x := range w {
			covered := !inSquare(x, y, x0) && inSquare(x, y, x0+move)
			out := x == w-1 && y == 5
			if want := !covered && !out; mask[y*w+x] != want {
				t.Errorf("(%d, %d): consistent %v, want %v", x, y, mask[y*w+x], want)
			}
		}
	}
	// Relative agreement: a large motion and its slightly-off inverse
	// agree (1% of the squared magnitudes), a small one off by as much
	// does not.
	for _, c := range []struct {
		u, back float32
		want    bool
	}{{20, -21, true}, {20, -24, false}, {0.5, -1, true}, {0.5, -2, false}} {
		f, g := NewField(100, 1), NewField(100, 1)
		for i := range 100 {
			f.D[2*i], g.D[2*i] = c.u, c.back
		}
		m := make([]bool, 100)
		Consistent(f, g, m)
		if m[10] != c.want {
			t.Errorf("forward %v, backward %v: consistent %v, want %v", c.u, c.back, m[10], c.want)
		}
	}
}

func TestFieldNpy(t *testing.T) {
	f := NewField(3, 2)
	for i := range f.D {
		f.D[i] = float32(i) - 2.5
	}
	var buf bytes.Buffer
	if err := f.WriteNpy(&buf); err != nil {
		t.Fatal(err)
	}
	a, err := npy.Decode(buf.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	if len(a.Shape) != 3 || a.Shape[0] != 2 || a.Shape[1] != 3 || a.Shape[2] != 2 {
		t.Fatalf("shape %v, want [2 3 2] (H, W, dx dy)", a.Shape)
	}
	g, err := DecodeField(buf.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	if g.W != 3 || g.H != 2 || !slices.Equal(g.D, f.D) {
		t.Fatalf("read back %dx%d %v, want 3x2 %v", g.W, g.H, g.D, f.D)
	}
	if dx, dy := g.At(1, 1); dx != f.D[8] || dy != f.D[9] {
		t.Errorf("At(1, 1) = %v, %v", dx, dy)
	}
}

func TestDecodeFieldErrors(t *testing.T) {
	write := func(shape []int, data []float32) []byte {
		var buf bytes.Buffer
		if err := npy.WriteFloat32(&buf, shape, data); err != nil {
			t.Fatal(err)
		}
		return buf.Bytes()
	}
	nan := []float32{0, 0, float32(math.NaN()), 0}
	cases := map[string]struct {
		data []byte
		want string
	}{
		"shape":    {write([]int{2, 2}, make([]float32, 4)), "shape [2 2] is not a flow: want H x W x 2"},
		"channels": {write([]int{1, 2, 3}, make([]float32, 6)), "shape [1 2 3]"},
		"nan":      {write([]int{1, 2, 2}, nan), "pixel (1, 0) is NaN"},
		"empty":    {write([]int{0, 3, 2}, nil), "shape [0 3 2] has no pixels"},
		"npy":      {[]byte("not npy"), "npy: not a .npy file"},
	}
	for name, c := range cases {
		_, err := DecodeField(c.data)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %v, want one saying %q", name, err, c.want)
		}
	}
}

// TestGray checks each fast path against the general one (color.Color's
// RGBA), on the same pictures, sub-images included.
func TestGray(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	nrgba := image.NewNRGBA(image.Rect(0, 0, 9, 7))
	for i := range nrgba.Pix {
		nrgba.Pix[i] = uint8(r.IntN(256))
	}
	for i := 3; i < len(nrgba.Pix); i += 8 {
		nrgba.Pix[i] = 255 // half the pixels opaque
	}
	rgba := image.NewRGBA(nrgba.Rect)
	draw.Draw(rgba, rgba.Rect, nrgba, image.Point{}, draw.Src)
	gray := image.NewGray(nrgba.Rect)
	draw.Draw(gray, gray.Rect, nrgba, image.Point{}, draw.Src)
	// A YCbCr image of colours in gamut, as a JPEG's are: its Y is
	// their luma, rounded.
	ycc := image.NewYCbCr(nrgba.Rect, image.YCbCrSubsampleRatio444)
	for y := range 7 {
		for x := range 9 {
			c := rgba.RGBAAt(x, y)
			i := ycc.YOffset(x, y)
			ycc.Y[i], ycc.Cb[i], ycc.Cr[i] = color.RGBToYCbCr(c.R, c.G, c.B)
		}
	}
	sub := image.Rect(2, 1, 8, 6)
	for _, img := range []image.Image{nrgba, rgba, gray, ycc,
		nrgba.SubImage(sub), rgba.SubImage(sub), gray.SubImage(sub), ycc.SubImage(sub)} {
		got := Gray(img)
		want := Gray(generic{img})
		b := img.Bounds()
		if got.W != b.Dx() || got.H != b.Dy() {
			t.Fatalf("%T %v: a %dx%d image", img, b, got.W, got.H)
		}
		tol := float32(0.01)
		if _, ok := img.(*image.YCbCr); ok {
			tol = 1.5 // Y against the luma of its RGB, both rounded
		}
		for i := range got.Pix {
			if d := got.Pix[i] - want.Pix[i]; d > tol || d < -tol {
				t.Fatalf("%T %v: pixel %d is %v, the general path's %v", img, b, i, got.Pix[i], want.Pix[i])
			}
		}
	}
}

// generic hides an image's type, for Gray's general path.
type generic struct{ image.Image }

func TestColor(t *testing.T) {
	// Directions at full length: Middlebury's colours.
	f := NewField(6, 1)
	moves := [][2]float32{{0, 0}, {3, 0}, {0, 3}, {-3, 0}, {0, -3}, {6, 0}}
	for i, m := range moves {
		f.D[2*i], f.D[2*i+1] = m[0], m[1]
	}
	img := f.Color(3)
	// Middlebury's flowToColor gives these (its colour wheel's entries
	// 0, 13.5, 27 and 40.5 of 55).
	want := []color.RGBA{
		{255, 255, 255, 255}, // none: white
		{255, 0, 0, 255},     // right: red
		{255, 229, 0, 255},   // down: orange-yellow
		{0, 209, 255, 255},   // left: cyan-blue
		{87, 0, 255, 255},    // up: blue-violet
		{191, 0, 0, 255},     // right, beyond the range: darkened to 3/4
	}
	for i, c := range want {
		if got := img.RGBAAt(i, 0); got != c {
			t.Errorf("motion %v: colour %v, want %v", moves[i], got, c)
		}
	}
	// Half the range: halfway to white. maxMotion 0 takes the longest.
	g := NewField(2, 1)
	g.D[0], g.D[2] = 1, 2
	img = g.Color(0)
	if got := img.RGBAAt(0, 0); got != (color.RGBA{255, 127, 127, 255}) {
		t.Errorf("half the range: %v", got)
	}
	if got := img.RGBAAt(1, 0); got != (color.RGBA{255, 0, 0, 255}) {
		t.Errorf("the longest motion: %v", got)
	}
	// No motion anywhere: white, not NaN's black.
	if got := NewField(1, 1).Color(0).RGBAAt(0, 0); got != (color.RGBA{255, 255, 255, 255}) {
		t.Errorf("no motion: %v", got)
	}
}

// FuzzDecodeField checks that DecodeField, given any bytes, returns
// either an error from this package or npy, or a flow of W x H finite
// motions that WriteNpy writes back to the same flow.
func FuzzDecodeField(f *testing.F) {
	var buf bytes.Buffer
	g := NewField(3, 2)
	for i := range g.D {
		g.D[i] = float32(i)/4 - 1
	}
	if err := g.WriteNpy(&buf); err != nil {
		f.Fatal(err)
	}
	f.Add(buf.Bytes())
	// Version 1 files of other dtypes, a NaN, a shape that is no flow.
	npyFile := func(descr, shape string, data ...byte) []byte {
		h := fmt.Sprintf("{'descr': '%s', 'fortran_order': False, 'shape': (%s), }\n", descr, shape)
		return append(append([]byte{0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0, byte(len(h)), byte(len(h) >> 8)}, h...), data...)
	}
	f.Add(npyFile("<f8", "1, 1, 2", 0, 0, 0, 0, 0, 0, 0xf0, 0x3f, 0, 0, 0, 0, 0, 0, 0, 0xc0))
	f.Add(npyFile("<f4", "1, 1, 2", 0, 0, 0xc0, 0x7f, 0, 0, 0, 0))
	f.Add(npyFile("|u1", "2, 1, 2", 1, 2, 3, 4))
	f.Add(npyFile("<f4", "1, 2", 0, 0, 0, 0, 0, 0, 0, 0))
	f.Fuzz(func(t *testing.T, data []byte) {
		g, err := DecodeField(data)
		if err != nil {
			if msg := err.Error(); !strings.HasPrefix(msg, "flow: ") && !strings.HasPrefix(msg, "npy: ") {
				t.Fatalf("error %q names neither flow nor npy", msg)
			}
			return
		}
		if g.W <= 0 || g.H <= 0 || len(g.D) != 2*g.W*g.H {
			t.Fatalf("a %dx%d flow of %d values", g.W, g.H, len(g.D))
		}
		for i, v := range g.D {
			if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
				t.Fatalf("value %d is %v", i, v)
			}
		}
		var out bytes.Buffer
		if err := g.WriteNpy(&out); err != nil {
			t.Fatal(err)
		}
		back, err := DecodeField(out.Bytes())
		if err != nil {
			t.Fatalf("the flow written back does not read: %v", err)
		}
		if back.W != g.W || back.H != g.H || !slices.Equal(back.D, g.D) {
			t.Fatalf("written back as %dx%d %v, was %dx%d %v", back.W, back.H, back.D, g.W, g.H, g.D)
		}
	})
}
