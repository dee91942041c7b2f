package dream

import (
	"image"

	"github.com/deepdream-go/deepdream/imageio"
	"github.com/deepdream-go/deepdream/internal/parallel"
)

// Masks: a grey image scales the dream per pixel, 1 for white, 0 for
// black. Request.Mask scales each step's move of the pixels; a layer's
// @MASK weighs its term of the objective (Layer.Mask).

// maskPlane returns img resized to w x h as a mask: per pixel its
// luminance (BT.601) over black, from 0 to 1, so that a transparent part
// of a mask dreams nothing. It is resized by area (Pillow's BOX): each
// pixel takes the mean of the mask over the part of it the pixel covers,
// so that wherever the mask is black the dream is black too, at any
// size, and a grey edge is at most a pixel wide.
func maskPlane(img image.Image, w, h int) []float32 {
	src := imageio.NRGBA(img)
	mw, mh := src.Rect.Dx(), src.Rect.Dy()
	m := make([]float32, mw*mh)
	for y := range mh {
		row := src.Pix[y*src.Stride:]
		for x := range mw {
			p := row[4*x:]
			luma := 299*int64(p[0]) + 587*int64(p[1]) + 114*int64(p[2]) // 1000 x 0..255
			m[y*mw+x] = float32(float64(luma*int64(p[3])) / (1000 * 255 * 255))
		}
	}
	if mw == w && mh == h {
		return m
	}
	xs, ys := boxWeights(w, mw), boxWeights(h, mh)
	rows := make([]float32, mh*w) // resized along x
	for y := range mh {
		in, out := m[y*mw:(y+1)*mw], rows[y*w:(y+1)*w]
		for x, taps := range xs {
			s := float32(0)
			for _, t := range taps {
				s += t.w * in[t.i]
			}
			out[x] = s
		}
	}
	out := make([]float32, w*h)
	for y, taps := range ys {
		row := out[y*w : (y+1)*w]
		for _, t := range taps {
			for x, v := range rows[t.i*w : (t.i+1)*w] {
				row[x] += t.w * v
			}
		}
	}
	return out
}

// tap is one sample of a resampling and its weight.
type tap struct {
	i int
	w float32
}

// boxWeights returns, for each of n samples covering an axis of m, the
// samples of m it covers and the share of it each covers.
func boxWeights(n, m int) [][]tap {
	out := make([][]tap, n)
	for i := range out {
		lo, hi := float64(i*m)/float64(n), float64((i+1)*m)/float64(n)
		for k := int(lo); float64(k) < hi && k < m; k++ {
			if cover := min(hi, float64(k+1)) - max(lo, float64(k)); cover > 0 {
				out[i] = append(out[i], tap{k, float32(cover / (hi - lo))})
			}
		}
	}
	return out
}

// shrinkMask writes into dst (hc x wc) the mask src (hf x wf) at the size
// of the next smaller octave, so that nothing dreamed there leaks, when
// Dream zooms its detail up to src's size, into a darker part of the
// mask: each pixel takes the least value of the pixels of src its detail
// reaches (zoom's bilinear weights). A pixel src makes black (0) thus
// never changes, at any octave; a white region shrinks by about a pixel
// of each smaller octave.
func shrinkMask(dst []float32, hc, wc int, src []float32, hf, wf int) {
	ys, yf := axisWeights(hf, hc)
	xs, xf := axisWeights(wf, wc)
	cols := make([]float32, hf*wc) // the least over x, per row of src
	for i := range cols {
		cols[i] = 1
	}
	for y := range hf {
		in, out := src[y*wf:(y+1)*wf], cols[y*wc:(y+1)*wc]
		for x, v := range in {
			reach(out, xs[x], xf[x], v)
		}
	}
	for i := range dst[:hc*wc] {
		dst[i] = 1
	}
	for y := range hf {
		in := cols[y*wc : (y+1)*wc]
		for j := 0; j < 2; j++ { // the row below ys[y], and the next if weighed
			r := ys[y] + j
			if j == 1 && (yf[y] == 0 || r >= hc) {
				break
			}
			out := dst[r*wc : (r+1)*wc]
			for x, v := range in {
				out[x] = min(out[x], v)
			}
		}
	}
}

// reach lowers out[k], and out[k+1] if zoom weighs it (f > 0), to v.
func reach(out []float32, k int, f float32, v float32) {
	out[k] = min(out[k], v)
	if f > 0 && k+1 < len(out) {
		out[k+1] = min(out[k+1], v)
	}
}

// gridMask writes into dst (gh x gw) the mean of the mask m (h x w) over
// the pixels under each cell of a layer of that size, the image being
// rolled by (ox, oy) as the step rolls it and the layer computed on the
// th x tw window of the rolled image at (y0, x0) (the whole image when
// untiled): what each of the layer's cells sees of the mask.
func gridMask(dst []float32, gh, gw int, m []float32, h, w, th, tw, y0, x0, ox, oy int) {
	gridTasks.For(gh, 1, gridTask{dst, m, gh, gw, h, w, th, tw, y0 - ((oy%h)+h)%h, x0 - ((ox%w)+w)%w})
}

// gridTask computes rows [lo, hi) of a gridMask; window pixel (y, x) is
// pixel (y+dy, x+dx) of the mask, modulo its size (dy, dx in [-h, h) and
// [-w, w) less the window's size).
type gridTask struct {
	dst, m                       []float32
	gh, gw, h, w, th, tw, dy, dx int
}

var gridTasks parallel.Tasks[gridTask, *gridTask]

func (t *gridTask) Run(lo, hi int) {
	for i := lo; i < hi; i++ {
		y0, y1 := cell(i, t.gh, t.th)
		for j := range t.gw {
			x0, x1 := cell(j, t.gw, t.tw)
			sum := 0.0
			for y := y0; y < y1; y++ {
				row := t.m[wrap(y+t.dy, t.h)*t.w:][:t.w] // rolled row y holds row y-oy
				for x := x0; x < x1; x++ {
					sum += float64(row[wrap(x+t.dx, t.w)])
				}
			}
			t.dst[i*t.gw+j] = float32(sum / float64((y1-y0)*(x1-x0)))
		}
	}
}

// wrap returns i mod n for i in [-n, n).
func wrap(i, n int) int {
	if i < 0 {
		return i + n
	}
	return i
}

// cell returns the pixels [p0, p1) of an axis of n pixels under cell i of
// a layer's axis of g cells: at least one (a layer larger than its input
// has cells of one pixel).
func cell(i, g, n int) (p0, p1 int) {
	p0 = i * n / g
	return p0, max((i+1)*n/g, p0+1)
}

// maskPyramid returns the mask m (h x w) at each octave's size, sizes[0]
// being h x w itself (see shrinkMask).
func maskPyramid(m []float32, sizes []image.Point) [][]float32 {
	out := [][]float32{m}
	for k := 1; k < len(sizes); k++ {
		f, c := sizes[k-1], sizes[k]
		next := make([]float32, c.X*c.Y)
		shrinkMask(next, c.Y, c.X, out[k-1], f.Y, f.X)
		out = append(out, next)
	}
	return out
}
