package imageio

import (
	"fmt"
	"image"
	"image/draw"

	xdraw "golang.org/x/image/draw"
)

// alphaOf copies the alpha channel of img, an *image.NRGBA (into an
// *image.Alpha) or an *image.NRGBA64 (into an *image.Alpha16).
func alphaOf(img image.Image) image.Image {
	r := img.Bounds()
	a := newAlpha(r, Depth(img) == 16)
	pix, stride, n := buffer(img)
	apix, astride, _ := buffer(a)
	for y := 0; y < r.Dy(); y++ {
		row, arow := pix[y*stride:], apix[y*astride:]
		for x := 0; x < r.Dx(); x++ {
			copy(arow[n*x:n*x+n], row[n*(4*x+3):])
		}
	}
	return a
}

// ApplyAlpha returns the colours of img with the alpha channel alpha, as
// kept in Info.Alpha, so that a dream of a translucent image can be saved
// with its transparency. The dream's own alpha is ignored (a dream is
// opaque); an alpha channel of another size than img is scaled to it, as
// happens when a downscaled copy was dreamed. The result has img's depth
// whatever alpha's: an *image.NRGBA64 for a 16-bit img (see Depth), else
// an *image.NRGBA.
func ApplyAlpha(img, alpha image.Image) image.Image {
	b := img.Bounds()
	r := image.Rect(0, 0, b.Dx(), b.Dy())
	deep := Depth(img) == 16
	var out draw.Image = image.NewNRGBA(r)
	if deep {
		out = image.NewNRGBA64(r)
	}
	pix, stride, n := buffer(out)
	switch img.(type) {
	case *image.NRGBA, *image.NRGBA64: // out's type, as their depths agree
		// Copied, not drawn: drawing would zero the colour of transparent pixels.
		ipix, istride, _ := buffer(img)
		for y := 0; y < r.Dy(); y++ {
			copy(pix[y*stride:(y+1)*stride], ipix[y*istride:])
		}
	default:
		draw.Draw(out, r, img, b.Min, draw.Src)
	}
	a := newAlpha(r, deep)
	if ab := alpha.Bounds(); ab.Size() != r.Size() {
		xdraw.BiLinear.Scale(a, r, alpha, ab, draw.Src, nil)
	} else {
		draw.Draw(a, r, alpha, ab.Min, draw.Src)
	}
	apix, astride, _ := buffer(a)
	for y := 0; y < r.Dy(); y++ {
		row, arow := pix[y*stride:], apix[y*astride:]
		for x := 0; x < r.Dx(); x++ {
			copy(row[n*(4*x+3):n*(4*x+4)], arow[n*x:])
		}
	}
	return out
}

// newAlpha returns an alpha channel of 16 bits a sample if deep, else 8.
func newAlpha(r image.Rectangle, deep bool) draw.Image {
	if deep {
		return image.NewAlpha16(r)
	}
	return image.NewAlpha(r)
}

// buffer returns the samples of an NRGBA, NRGBA64, Alpha or Alpha16
// image from its first pixel on: n bytes a sample (1, or 2 big-endian),
// rows stride bytes apart.
func buffer(img image.Image) (pix []byte, stride, n int) {
	switch m := img.(type) {
	case *image.NRGBA:
		return m.Pix[m.PixOffset(m.Rect.Min.X, m.Rect.Min.Y):], m.Stride, 1
	case *image.NRGBA64:
		return m.Pix[m.PixOffset(m.Rect.Min.X, m.Rect.Min.Y):], m.Stride, 2
	case *image.Alpha:
		return m.Pix[m.PixOffset(m.Rect.Min.X, m.Rect.Min.Y):], m.Stride, 1
	case *image.Alpha16:
		return m.Pix[m.PixOffset(m.Rect.Min.X, m.Rect.Min.Y):], m.Stride, 2
	}
	panic(fmt.Sprintf("imageio: buffer of a %T", img))
}
