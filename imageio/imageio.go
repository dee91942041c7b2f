// Package imageio decodes photos for dreaming and encodes dreams: size
// limits checked with DecodeConfig before any pixel is decoded, and
// resampling through golang.org/x/image/draw.
package imageio

import (
	"bytes"
	"errors"
	"fmt"
	"image"
	"image/draw"
	_ "image/gif"  // GIF decoding (first frame)
	_ "image/jpeg" // JPEG decoding
	_ "image/png"  // PNG decoding
	"io"
	"os"

	xdraw "golang.org/x/image/draw"
	_ "golang.org/x/image/webp" // WebP decoding
)

// DefaultMaxPixels is the default decompression-bomb limit: 50 megapixels.
const DefaultMaxPixels = 50_000_000

// ErrTooLarge is wrapped by errors for images over the pixel limit.
var ErrTooLarge = errors.New("image is too large")

// Decode reads an image, refusing any whose header declares more than
// maxPixels pixels (maxPixels <= 0 means DefaultMaxPixels) before decoding it.
func Decode(r io.Reader, maxPixels int) (image.Image, string, error) {
	if maxPixels <= 0 {
		maxPixels = DefaultMaxPixels
	}
	data, err := io.ReadAll(r)
	if err != nil {
		return nil, "", fmt.Errorf("imageio: %w", err)
	}
	cfg, format, err := image.DecodeConfig(bytes.NewReader(data))
	if err != nil {
		return nil, "", fmt.Errorf("imageio: %w (supported: JPEG, PNG, GIF, WebP)", err)
	}
	if cfg.Width <= 0 || cfg.Height <= 0 {
		return nil, "", fmt.Errorf("imageio: %s image has size %dx%d", format, cfg.Width, cfg.Height)
	}
	if int64(cfg.Width)*int64(cfg.Height) > int64(maxPixels) {
		return nil, "", fmt.Errorf("imageio: %s image is %dx%d = %.1f megapixels, over the limit of %.1f: %w",
			format, cfg.Width, cfg.Height, float64(cfg.Width)*float64(cfg.Height)/1e6, float64(maxPixels)/1e6, ErrTooLarge)
	}
	img, format, err := image.Decode(bytes.NewReader(data))
	if err != nil {
		return nil, "", fmt.Errorf("imageio: decoding %s: %w", format, err)
	}
	return img, format, nil
}

// ReadFile decodes the image at path; errors name the file.
func ReadFile(path string, maxPixels int) (image.Image, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	img, _, err := Decode(f, maxPixels)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return img, nil
}

// Resize scales img to w x h (aspect ratio not kept) with an antialiased
// bilinear filter: the triangle filter's support widens when shrinking, as
// Pillow's BILINEAR does.
func Resize(img image.Image, w, h int) *image.NRGBA {
	dst := image.NewNRGBA(image.Rect(0, 0, w, h))
	xdraw.BiLinear.Scale(dst, dst.Bounds(), img, img.Bounds(), draw.Src, nil)
	return dst
}

// NRGBA returns img as *image.NRGBA with its origin at (0, 0), converting
// (grey, CMYK, paletted, YCbCr) where needed.
func NRGBA(img image.Image) *image.NRGBA {
	if n, ok := img.(*image.NRGBA); ok && n.Rect.Min == (image.Point{}) {
		return n
	}
	b := img.Bounds()
	dst := image.NewNRGBA(image.Rect(0, 0, b.Dx(), b.Dy()))
	draw.Draw(dst, dst.Bounds(), img, b.Min, draw.Src)
	return dst
}
