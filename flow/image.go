package flow

import (
	"image"
	"image/color"
)

// Image is a grey image, values 0..255, row-major: the pixel (x, y) is
// Pix[y*W+x].
type Image struct {
	W, H int
	Pix  []float32
}

// NewImage returns a black w x h image.
func NewImage(w, h int) *Image {
	return &Image{W: w, H: h, Pix: make([]float32, w*h)}
}

// BT.601 luma weights, as JPEG's Y.
const (
	lumaR = 0.299
	lumaG = 0.587
	lumaB = 0.114
)

// Gray converts an image to grey (BT.601 luma: 0.299 R + 0.587 G +
// 0.114 B, on 0..255, not rounded). A translucent pixel counts as its
// colour over black, as image.Image's At reports it. A JPEG's YCbCr image
// gives its Y plane, which is that luma.
func Gray(img image.Image) *Image {
	b := img.Bounds()
	g := NewImage(b.Dx(), b.Dy())
	switch m := img.(type) {
	case *image.YCbCr:
		g.fromPlane(m.Y[m.YOffset(b.Min.X, b.Min.Y):], m.YStride)
	case *image.Gray:
		g.fromPlane(m.Pix[m.PixOffset(b.Min.X, b.Min.Y):], m.Stride)
	case *image.RGBA:
		for y := 0; y < g.H; y++ {
			row := m.Pix[m.PixOffset(b.Min.X, b.Min.Y+y):]
			dst := g.Pix[y*g.W : (y+1)*g.W]
			for x := range dst {
				p := row[4*x : 4*x+3 : 4*x+3]
				dst[x] = lumaR*float32(p[0]) + lumaG*float32(p[1]) + lumaB*float32(p[2])
			}
		}
	case *image.NRGBA:
		for y := 0; y < g.H; y++ {
			row := m.Pix[m.PixOffset(b.Min.X, b.Min.Y+y):]
			dst := g.Pix[y*g.W : (y+1)*g.W]
			for x := range dst {
				p := row[4*x : 4*x+4 : 4*x+4]
				l := lumaR*float32(p[0]) + lumaG*float32(p[1]) + lumaB*float32(p[2])
				if p[3] != 255 {
					l *= float32(p[3]) / 255
				}
				dst[x] = l
			}
		}
	default:
		for y := 0; y < g.H; y++ {
			for x := 0; x < g.W; x++ {
				c := color.RGBA64Model.Convert(img.At(b.Min.X+x, b.Min.Y+y)).(color.RGBA64)
				g.Pix[y*g.W+x] = (lumaR*float32(c.R) + lumaG*float32(c.G) + lumaB*float32(c.B)) / 257
			}
		}
	}
	return g
}

// fromPlane fills g from an 8-bit plane whose first row starts at
// plane[0], rows stride bytes apart.
func (g *Image) fromPlane(plane []uint8, stride int) {
	for y := 0; y < g.H; y++ {
		row := plane[y*stride:][:g.W]
		dst := g.Pix[y*g.W : (y+1)*g.W]
		for x := range dst {
			dst[x] = float32(row[x])
		}
	}
}

// halve writes into dst (w/2 x h/2 of src, each at least 1) src's 2x2 box
// averages: the pixel (x, y) of dst covers (2x, 2y) to (2x+1, 2y+1) of
// src, so that its centre is at ((x+0.5)*2-0.5, ...) in src. A side of 1
// is kept, its pixels averaged in the other direction only.
func halve(dst, src []float32, w, h int) {
	dw, dh := max(w/2, 1), max(h/2, 1)
	for y := range dh {
		y0, y1 := 2*y, min(2*y+1, h-1)
		r0, r1 := src[y0*w:(y0+1)*w], src[y1*w:(y1+1)*w]
		out := dst[y*dw : (y+1)*dw]
		for x := range out {
			x0, x1 := 2*x, min(2*x+1, w-1)
			out[x] = 0.25 * (r0[x0] + r0[x1] + r1[x0] + r1[x1])
		}
	}
}

// texel is a pixel of the first image as the patch search reads it: its
// value and its x and y derivatives, side by side.
type texel struct{ v, gx, gy float32 }

// sobel fills the rows [lo, hi) of dst with the pixels of img (w x h)
// and their derivatives: 3x3 Sobel filters divided by 8, so that a ramp
// of slope s gives s, the border replicated.
func sobel(dst []texel, img []float32, w, h, lo, hi int) {
	for y := lo; y < hi; y++ {
		up, mid, down := img[max(y-1, 0)*w:][:w], img[y*w:][:w], img[min(y+1, h-1)*w:][:w]
		out := dst[y*w:][:w]
		for x := range out {
			l, r := max(x-1, 0), min(x+1, w-1)
			out[x] = texel{
				v:  mid[x],
				gx: 0.125 * ((up[r] - up[l]) + 2*(mid[r]-mid[l]) + (down[r] - down[l])),
				gy: 0.125 * ((down[l] - up[l]) + 2*(down[x]-up[x]) + (down[r] - up[r])),
			}
		}
	}
}

// pad copies img (w x h) into the rows [lo, hi) of dst, (w+2b) x
// (h+2b), with a border of b pixels that repeats the edge.
func pad(dst, img []float32, w, h, b, lo, hi int) {
	pw := w + 2*b
	for y := lo - b; y < hi-b; y++ {
		src := img[min(max(y, 0), h-1)*w:][:w]
		row := dst[(y+b)*pw:][:pw]
		left, right := src[0], src[w-1]
		for x := range b {
			row[x] = left
			row[b+w+x] = right
		}
		copy(row[b:b+w], src)
	}
}

// bilinear samples img (w x h) at (x, y), clamped to the image.
func bilinear(img []float32, w, h int, x, y float32) float32 {
	x = min(max(x, 0), float32(w-1))
	y = min(max(y, 0), float32(h-1))
	x0, y0 := int(x), int(y)
	x1, y1 := min(x0+1, w-1), min(y0+1, h-1)
	ax, ay := x-float32(x0), y-float32(y0)
	top := img[y0*w+x0] + ax*(img[y0*w+x1]-img[y0*w+x0])
	bot := img[y1*w+x0] + ax*(img[y1*w+x1]-img[y1*w+x0])
	return top + ay*(bot-top)
}
