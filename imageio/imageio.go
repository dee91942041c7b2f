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

// Info describes an image as its file stored it.
type Info struct {
	Format        string // "jpeg", "png", "gif" or "webp"
	Width, Height int    // stored size, before the orientation is applied
	// Orientation is the EXIF orientation that was applied, 1 (none) to 8.
	// Orientations 5 to 8 swap width and height.
	Orientation int
	// HasAlpha reports whether some pixel is not fully opaque; Alpha is then
	// the alpha channel of the returned image (nil otherwise).
	HasAlpha bool
	Alpha    *image.Alpha
}

// maxFileBytes bounds how much of the input is read into memory for a pixel
// limit: an uncompressed 16-bit RGBA PNG needs 8 bytes a pixel, and 16 MiB
// leaves room for metadata.
func maxFileBytes(maxPixels int) int64 {
	return 8*int64(maxPixels) + 16<<20
}

// DecodeInfo reads a JPEG, PNG, GIF or WebP image, refusing any whose header
// declares more than maxPixels pixels (maxPixels <= 0 means
// DefaultMaxPixels) before decoding it. The image is returned upright (EXIF
// orientation applied) as NRGBA; see the package documentation.
func DecodeInfo(r io.Reader, maxPixels int) (*image.NRGBA, Info, error) {
	if maxPixels <= 0 {
		maxPixels = DefaultMaxPixels
	}
	limit := maxFileBytes(maxPixels)
	data, err := io.ReadAll(io.LimitReader(r, limit+1))
	if err != nil {
		return nil, Info{}, fmt.Errorf("imageio: %w", err)
	}
	if len(data) == 0 {
		return nil, Info{}, errors.New("imageio: the file is empty")
	}
	if int64(len(data)) > limit {
		return nil, Info{}, fmt.Errorf("imageio: input is over %d bytes, more than an image of at most %d pixels needs: %w",
			limit, maxPixels, ErrTooLarge)
	}
	cfg, format, err := image.DecodeConfig(bytes.NewReader(data))
	if err != nil {
		return nil, Info{}, fmt.Errorf("imageio: %w (supported: JPEG, PNG, GIF, WebP)", err)
	}
	if cfg.Width <= 0 || cfg.Height <= 0 {
		return nil, Info{}, fmt.Errorf("imageio: %s image has size %dx%d", format, cfg.Width, cfg.Height)
	}
	if int64(cfg.Width)*int64(cfg.Height) > int64(maxPixels) {
		return nil, Info{}, fmt.Errorf("imageio: %s image is %dx%d = %s, over the limit of %s: %w",
			format, cfg.Width, cfg.Height, pixels(int64(cfg.Width)*int64(cfg.Height)), pixels(int64(maxPixels)), ErrTooLarge)
	}
	img, format, err := image.Decode(bytes.NewReader(data))
	if err != nil {
		return nil, Info{}, fmt.Errorf("imageio: decoding %s: %w", format, err)
	}
	b := img.Bounds()
	info := Info{Format: format, Width: b.Dx(), Height: b.Dy(), Orientation: orientation(format, data)}
	out := orient(NRGBA(img), info.Orientation)
	if !out.Opaque() {
		info.HasAlpha = true
		info.Alpha = alphaOf(out)
	}
	return out, info, nil
}

// pixels writes a pixel count, in megapixels from a tenth of one.
func pixels(n int64) string {
	if n < 100_000 {
		return fmt.Sprintf("%d pixels", n)
	}
	return fmt.Sprintf("%.1f megapixels (%d pixels)", float64(n)/1e6, n)
}

// Decode is DecodeInfo returning only the image and its format name.
func Decode(r io.Reader, maxPixels int) (image.Image, string, error) {
	img, info, err := DecodeInfo(r, maxPixels)
	if err != nil {
		return nil, "", err
	}
	return img, info.Format, nil
}

// ReadFileInfo decodes the image at path with DecodeInfo; errors name the file.
func ReadFileInfo(path string, maxPixels int) (*image.NRGBA, Info, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, Info{}, err
	}
	defer f.Close()
	img, info, err := DecodeInfo(f, maxPixels)
	if err != nil {
		return nil, Info{}, fmt.Errorf("%s: %w", path, err)
	}
	return img, info, nil
}

// ReadFile decodes the image at path; errors name the file.
func ReadFile(path string, maxPixels int) (image.Image, error) {
	img, _, err := ReadFileInfo(path, maxPixels)
	if err != nil {
		return nil, err
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
	r := image.Rect(0, 0, b.Dx(), b.Dy())
	if o, ok := img.(interface{ Opaque() bool }); ok && o.Opaque() {
		// Opaque RGBA and NRGBA pixels are the same bytes, and image/draw
		// has fast paths into RGBA only.
		dst := image.NewRGBA(r)
		draw.Draw(dst, r, img, b.Min, draw.Src)
		return &image.NRGBA{Pix: dst.Pix, Stride: dst.Stride, Rect: r}
	}
	dst := image.NewNRGBA(r)
	draw.Draw(dst, r, img, b.Min, draw.Src)
	return dst
}

// alphaOf copies the alpha channel of img.
func alphaOf(img *image.NRGBA) *image.Alpha {
	b := img.Bounds()
	a := image.NewAlpha(b)
	for y := 0; y < b.Dy(); y++ {
		src := img.Pix[y*img.Stride : y*img.Stride+4*b.Dx()]
		dst := a.Pix[y*a.Stride : y*a.Stride+b.Dx()]
		for x := range dst {
			dst[x] = src[4*x+3]
		}
	}
	return a
}

// ApplyAlpha returns the colours of img with the alpha channel alpha, as
// kept in Info.Alpha, so that a dream of a translucent image can be saved
// with its transparency. The dream's own alpha is ignored (a dream is
// opaque); an alpha channel of another size than img is scaled to it, as
// happens when a downscaled copy was dreamed.
func ApplyAlpha(img image.Image, alpha *image.Alpha) *image.NRGBA {
	b := img.Bounds()
	r := image.Rect(0, 0, b.Dx(), b.Dy())
	out := image.NewNRGBA(r)
	if n, ok := img.(*image.NRGBA); ok {
		// Copied, not drawn: drawing would zero the colour of transparent pixels.
		for y := 0; y < r.Dy(); y++ {
			copy(out.Pix[y*out.Stride:(y+1)*out.Stride], n.Pix[n.PixOffset(b.Min.X, b.Min.Y+y):])
		}
	} else {
		draw.Draw(out, r, img, b.Min, draw.Src)
	}
	if alpha.Bounds().Size() != r.Size() {
		scaled := image.NewAlpha(r)
		xdraw.BiLinear.Scale(scaled, r, alpha, alpha.Bounds(), draw.Src, nil)
		alpha = scaled
	}
	ab := alpha.Bounds()
	for y := 0; y < r.Dy(); y++ {
		row := out.Pix[y*out.Stride : y*out.Stride+4*r.Dx()]
		arow := alpha.Pix[alpha.PixOffset(ab.Min.X, ab.Min.Y+y):]
		for x := 0; x < r.Dx(); x++ {
			row[4*x+3] = arow[x]
		}
	}
	return out
}
