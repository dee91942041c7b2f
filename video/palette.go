package video

import (
	"image"
	"image/color"
	"slices"
)

// A palette for many frames by median cut: the colours are counted in
// bins of 5 bits a channel (their mean kept, so that a bin stands for its
// colours exactly when they are few), the bins are split into boxes, each
// time the box of the largest squared error along its widest axis at its
// weighted median, and the palette is the boxes' means, refined by two
// rounds of k-means over the bins.

// histogram counts the colours of frames.
type histogram struct {
	n    [1 << 15]uint32
	sums [1 << 15][3]uint64
}

// add counts every pixel of img.
func (h *histogram) add(img *image.NRGBA) {
	b := img.Rect
	for y := range b.Dy() {
		row := img.Pix[y*img.Stride : y*img.Stride+4*b.Dx()]
		for i := 0; i < len(row); i += 4 {
			r, g, bl := row[i], row[i+1], row[i+2]
			k := int(r>>3)<<10 | int(g>>3)<<5 | int(bl>>3)
			h.n[k]++
			h.sums[k][0] += uint64(r)
			h.sums[k][1] += uint64(g)
			h.sums[k][2] += uint64(bl)
		}
	}
}

// bin is an occupied bin: its mean colour and its count.
type bin struct {
	c [3]float64
	w float64
}

// box is a set of bins and their statistics.
type box struct {
	bins []bin
	mean [3]float64
	err  float64 // sum of w * |c - mean|^2
	axis int     // of the largest variance
}

func newBox(bins []bin) box {
	b := box{bins: bins}
	var w float64
	for _, e := range bins {
		for c := range 3 {
			b.mean[c] += e.w * e.c[c]
		}
		w += e.w
	}
	for c := range 3 {
		b.mean[c] /= w
	}
	var v [3]float64
	for _, e := range bins {
		for c := range 3 {
			d := e.c[c] - b.mean[c]
			v[c] += e.w * d * d
		}
	}
	b.err = v[0] + v[1] + v[2]
	for c := range 3 {
		if v[c] > v[b.axis] {
			b.axis = c
		}
	}
	return b
}

// palette returns at most n colours for the colours counted.
func (h *histogram) palette(n int) color.Palette {
	var bins []bin
	for k, cnt := range h.n {
		if cnt > 0 {
			w := float64(cnt)
			s := h.sums[k]
			bins = append(bins, bin{c: [3]float64{float64(s[0]) / w, float64(s[1]) / w, float64(s[2]) / w}, w: w})
		}
	}
	if len(bins) == 0 {
		return color.Palette{color.Black}
	}
	boxes := []box{newBox(bins)}
	for len(boxes) < n {
		i := -1
		for j, b := range boxes {
			if len(b.bins) > 1 && (i < 0 || b.err > boxes[i].err) {
				i = j
			}
		}
		if i < 0 || boxes[i].err == 0 {
			break
		}
		b := boxes[i]
		slices.SortFunc(b.bins, func(x, y bin) int {
			switch {
			case x.c[b.axis] < y.c[b.axis]:
				return -1
			case x.c[b.axis] > y.c[b.axis]:
				return 1
			}
			return 0
		})
		var total, acc float64
		for _, e := range b.bins {
			total += e.w
		}
		cut := 1
		for j, e := range b.bins[:len(b.bins)-1] {
			acc += e.w
			cut = j + 1
			if acc >= total/2 {
				break
			}
		}
		boxes[i] = newBox(b.bins[:cut])
		boxes = append(boxes, newBox(b.bins[cut:]))
	}
	centres := make([][3]float64, len(boxes))
	for i, b := range boxes {
		centres[i] = b.mean
	}
	for range 2 {
		centres = refine(centres, bins)
	}
	p := make(color.Palette, len(centres))
	for i, c := range centres {
		p[i] = color.RGBA{round8(c[0]), round8(c[1]), round8(c[2]), 255}
	}
	return p
}

// refine is one round of k-means: each bin goes to its nearest centre,
// each centre to the mean of its bins (a centre without bins stays).
func refine(centres [][3]float64, bins []bin) [][3]float64 {
	sums := make([][4]float64, len(centres))
	for _, e := range bins {
		best, bestD := 0, -1.0
		for i, c := range centres {
			d0, d1, d2 := e.c[0]-c[0], e.c[1]-c[1], e.c[2]-c[2]
			if d := d0*d0 + d1*d1 + d2*d2; bestD < 0 || d < bestD {
				best, bestD = i, d
			}
		}
		for c := range 3 {
			sums[best][c] += e.w * e.c[c]
		}
		sums[best][3] += e.w
	}
	out := make([][3]float64, len(centres))
	for i, s := range sums {
		out[i] = centres[i]
		if s[3] > 0 {
			out[i] = [3]float64{s[0] / s[3], s[1] / s[3], s[2] / s[3]}
		}
	}
	return out
}

func round8(v float64) uint8 { return uint8(min(255, max(0, v+0.5))) }
