package dream

import (
	"context"
	"image"
	"image/color"
	"math"
	"sync"
	"testing"

	"github.com/deepdream-go/deepdream/graph"
	"github.com/deepdream-go/deepdream/imageio"
	"github.com/deepdream-go/deepdream/internal/shared"
)

// The look's acceptance tests dream ../shared's dog at 160x120 (3 octaves
// of 5 steps, the other settings the notebook's) on BVLC GoogLeNet, and
// measure how each option changes the dream against a plain one
// (changeStats): the figures in the comments are this machine's.

// lookDreamer dreams the dog with GoogLeNet, the plain dream made once.
type lookDreamer struct {
	net   *Network
	photo *image.NRGBA
	plain func() changeStats
}

var lookDreams = sync.OnceValues(func() (*lookDreamer, error) {
	dir := shared.Dir()
	if dir == "" {
		return nil, nil
	}
	m, err := graph.Open(dir + "/models/googlenet-bvlc.onnx")
	if err != nil {
		return nil, err
	}
	n, err := NewNetwork(m, Profile{Preprocess: Caffe, DefaultLayer: "inception_4c/output_1"})
	if err != nil {
		return nil, err
	}
	photo, err := imageio.ReadFile(dir+"/images/dog.jpg", 0)
	if err != nil {
		return nil, err
	}
	d := &lookDreamer{net: n, photo: imageio.Resize(photo, 160, 120)}
	d.plain = sync.OnceValue(func() changeStats { st, _ := d.dream(func(*Request) {}); return st })
	return d, nil
})

// lookDream returns the dreamer, skipping the test without ../shared.
func lookDream(t *testing.T) *lookDreamer {
	shared.GoogLeNet(t) // skips, or fails in CI, without it
	d, err := lookDreams()
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// dream dreams the dog with the request change makes of the test's
// defaults and measures its change.
func (d *lookDreamer) dream(change func(*Request)) (changeStats, error) {
	req := Defaults()
	req.Octaves, req.Iterations = 3, 5
	change(&req)
	out, err := d.net.Dream(context.Background(), d.photo, req, nil)
	if err != nil {
		return changeStats{}, err
	}
	return measureChange(d.photo, imageio.NRGBA(out)), nil
}

func (d *lookDreamer) must(t *testing.T, change func(*Request)) changeStats {
	t.Helper()
	st, err := d.dream(change)
	if err != nil {
		t.Fatal(err)
	}
	return st
}

// halfMask returns a w x h grey mask, white on the right half, black on
// the left (or the other way round).
func halfMask(w, h int, whiteLeft bool) *image.Gray {
	m := image.NewGray(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			if (x < w/2) == whiteLeft {
				m.SetGray(x, y, color.Gray{255})
			}
		}
	}
	return m
}

// TestKeepColors: dreaming the luminance only leaves the photo's Cb and
// Cr as they were (measured: a mean change of 0.000 levels; a plain dream
// changes them by 2.7), while the luminance changes about as much as in a
// plain dream (measured: 5.55 levels, 4% more than its 5.34).
func TestKeepColors(t *testing.T) {
	d := lookDream(t)
	plain, keep := d.plain(), d.must(t, func(r *Request) { r.KeepColors = true })
	t.Logf("mean |change| in levels: plain Y %.3f Cb %.3f Cr %.3f; keep colors Y %.3f Cb %.3f Cr %.3f", plain.Y, plain.Cb, plain.Cr, keep.Y, keep.Cb, keep.Cr)
	if keep.Cb >= 2.5 || keep.Cr >= 2.5 {
		t.Errorf("keep colors changed Cb by %.3f and Cr by %.3f levels on average, want less than 2.5", keep.Cb, keep.Cr)
	}
	if r := keep.Y / plain.Y; r < 0.7 || r > 1.3 {
		t.Errorf("keep colors changed the luminance by %.3f levels, a plain dream by %.3f: want within 30%%", keep.Y, plain.Y)
	}
	if plain.Cb < 1 || plain.Cr < 1 {
		t.Errorf("a plain dream changed Cb by %.3f and Cr by %.3f: the test photo shows nothing", plain.Cb, plain.Cr)
	}
}

// TestMaskHalfBlack: a mask black on its left half leaves that half as it
// was (measured: no pixel changes), at every octave, while the white half
// dreams as much as in a plain dream (measured: 5.67 levels on average,
// 4.71 in a plain dream).
func TestMaskHalfBlack(t *testing.T) {
	d := lookDream(t)
	plain := d.plain()
	masked := d.must(t, func(r *Request) {
		r.Mask, r.Images = "half.png", map[string]Image{"half.png": {Image: halfMask(40, 30, false)}} // resized to the photo
	})
	t.Logf("mean |change| left, right: plain %.3f, %.3f; masked %.3f (at most %d), %.3f", plain.Left, plain.Right, masked.Left, masked.LeftMax, masked.Right)
	if masked.LeftMax > 2 {
		t.Errorf("the black half's pixels changed by up to %d levels, want at most 2", masked.LeftMax)
	}
	if masked.Right < 0.8*plain.Right {
		t.Errorf("the white half changed by %.3f levels on average, a plain dream by %.3f: the mask holds it back", masked.Right, plain.Right)
	}
}

// TestLayerMask: a layer's mask weighs its term where it is white, so the
// dream grows there (measured with inception_3b: 82% of the change in the
// white half, against 44% in a plain dream). A layer sees some way around
// each of its cells, so some of it reaches the black half.
func TestLayerMask(t *testing.T) {
	d := lookDream(t)
	plain := d.must(t, func(r *Request) { r.Layers = []string{"inception_3b/output_1"} })
	masked := d.must(t, func(r *Request) {
		r.Layers = []string{"inception_3b/output_1@right"}
		r.Images = map[string]Image{"right": {Image: halfMask(160, 120, false)}}
	})
	share := func(st changeStats) float64 { return st.Right / (st.Left + st.Right) }
	t.Logf("share of the change in the right half: plain %.3f, the layer masked to it %.3f", share(plain), share(masked))
	if share(masked) < 0.75 || share(masked) < share(plain)+0.2 {
		t.Errorf("with the layer masked to the right half, %.3f of the change is there (plain: %.3f); want most", share(masked), share(plain))
	}
}

// TestGradientShaping: --laplacian and --smooth move the change towards
// lower frequencies. Measured, the share of its energy that a 3x3 box
// blur takes (changeStats.HF): plain 0.35, Laplacian 4 levels 0.10,
// smooth 1 pixel 0.05.
func TestGradientShaping(t *testing.T) {
	d := lookDream(t)
	plain := d.plain()
	for _, tc := range []struct {
		name   string
		change func(*Request)
	}{
		{"laplacian 4", func(r *Request) { r.Laplacian = 4 }},
		{"smooth 1", func(r *Request) { r.Smooth = 1 }},
	} {
		st := d.must(t, tc.change)
		t.Logf("%s: high-frequency share %.3f, plain %.3f; mean |change| %.3f, plain %.3f", tc.name, st.HF, plain.HF, st.Y, plain.Y)
		if st.HF > 0.7*plain.HF {
			t.Errorf("%s: the high-frequency share of the change is %.3f, plain %.3f: want it well below", tc.name, st.HF, plain.HF)
		}
	}
}

// changeStats measures how a dream changed a photo, in levels of 0..255.
type changeStats struct {
	Y, Cb, Cr   float64 // mean |change| of the luminance and chroma (BT.601, as JPEG)
	Left, Right float64 // mean |change| of R, G and B in the left and right halves
	LeftMax     int     // the largest change of a channel in the left half
	// HF is the share of the change's energy (sum of squares over R, G,
	// B) that a 3x3 box blur takes away: its high frequencies.
	HF float64
}

func measureChange(a, b *image.NRGBA) changeStats {
	w, h := a.Rect.Dx(), a.Rect.Dy()
	var st changeStats
	var d [3][]float64
	for c := range d {
		d[c] = make([]float64, w*h)
	}
	ycc := func(p []uint8) (y, cb, cr float64) {
		r, g, b := float64(p[0]), float64(p[1]), float64(p[2])
		return 0.299*r + 0.587*g + 0.114*b, -0.168736*r - 0.331264*g + 0.5*b, 0.5*r - 0.418688*g - 0.081312*b
	}
	for y := range h {
		for x := range w {
			pa, pb := a.Pix[y*a.Stride+4*x:], b.Pix[y*b.Stride+4*x:]
			y0, cb0, cr0 := ycc(pa)
			y1, cb1, cr1 := ycc(pb)
			st.Y += math.Abs(y1-y0) / float64(w*h)
			st.Cb += math.Abs(cb1-cb0) / float64(w*h)
			st.Cr += math.Abs(cr1-cr0) / float64(w*h)
			for c := range 3 {
				v := int(pb[c]) - int(pa[c])
				d[c][y*w+x] = float64(v)
				if x < w/2 {
					st.Left += math.Abs(float64(v)) / float64(3*(w/2)*h)
					st.LeftMax = max(st.LeftMax, v, -v)
				} else {
					st.Right += math.Abs(float64(v)) / float64(3*(w-w/2)*h)
				}
			}
		}
	}
	var hf, all float64
	for c := range d {
		for y := range h {
			for x := range w {
				box := 0.0
				for dy := -1; dy <= 1; dy++ {
					for dx := -1; dx <= 1; dx++ {
						box += d[c][min(max(y+dy, 0), h-1)*w+min(max(x+dx, 0), w-1)] / 9
					}
				}
				v := d[c][y*w+x]
				hf += (v - box) * (v - box)
				all += v * v
			}
		}
	}
	st.HF = hf / all
	return st
}
