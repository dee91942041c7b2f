package imageio

import (
	"bytes"
	"errors"
	"fmt"
	"image"
	"image/color"
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
	// Depth is the bits a sample the file stores: 16 for a 16-bit PNG, 8
	// for the rest (see Depth).
	Depth int
	// Orientation is the EXIF orientation that was applied, 1 (none) to 8.
	// Orientations 5 to 8 swap width and height.
	Orientation int
	// HasAlpha reports whether some pixel is not fully opaque; Alpha is then
	// the alpha channel of the returned image (nil otherwise): an
	// *image.Alpha16 when the image is 16-bit, else an *image.Alpha.
	HasAlpha bool
	Alpha    image.Image
	// ICC is the file's ICC profile (PNG iCCP, JPEG APP2 "ICC_PROFILE"
	// chunks, WebP ICCP), nil if it has none. EXIF is its EXIF block
	// (PNG eXIf, JPEG APP1, WebP EXIF) as a TIFF structure, unchanged, its
	// orientation included: EncodeOptions.EXIF makes it true of the image
	// it writes. Both are what a dream carries from its photo; either is
	// nil when it was malformed or too large to carry, or (the profile)
	// is not of RGB colours, which Notes says.
	ICC, EXIF []byte
	// Notes says what the file held that was dropped, and why.
	Notes []string
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
// orientation applied) as NRGBA, 8 bits a sample; see the package
// documentation.
func DecodeInfo(r io.Reader, maxPixels int) (*image.NRGBA, Info, error) {
	img, info, err := decode(r, maxPixels, false)
	if err != nil {
		return nil, info, err
	}
	return img.(*image.NRGBA), info, nil
}

// DecodeDeep is DecodeInfo keeping a 16-bit image's precision: it returns
// an *image.NRGBA64 for a file of 16 bits a sample (Info.Depth 16), and
// an *image.NRGBA for the rest.
func DecodeDeep(r io.Reader, maxPixels int) (image.Image, Info, error) {
	return decode(r, maxPixels, true)
}

func decode(r io.Reader, maxPixels int, deep bool) (image.Image, Info, error) {
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
	info := Info{Format: format, Width: b.Dx(), Height: b.Dy(), Depth: Depth(img)}
	tiff := exifOf(format, data)
	info.Orientation = exifOrientation(tiff)
	var out image.Image
	if deep && info.Depth == 16 {
		out = orient(NRGBA64(img), info.Orientation)
	} else {
		out = orient(NRGBA(img), info.Orientation)
	}
	if !isOpaque(out) {
		info.HasAlpha = true
		info.Alpha = alphaOf(out)
	}
	info.carry(format, data, tiff)
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

// ResizeDeep is Resize keeping a 16-bit image's precision: it returns an
// *image.NRGBA64 for a 16-bit img (see Depth), and Resize's *image.NRGBA
// for the rest. A 16-bit img that holds 8-bit levels only (every sample a
// multiple of 257: an 8-bit image widened) is resized as its 8-bit self,
// then widened, so that widening and resizing commute: a dream of an
// 8-bit photo at 16 bits is its 8-bit dream, with the fractions kept.
func ResizeDeep(img image.Image, w, h int) image.Image {
	if Depth(img) != 16 {
		return Resize(img, w, h)
	}
	src := NRGBA64(img)
	if shallow(src) {
		return NRGBA64(Resize(src, w, h))
	}
	dst := image.NewNRGBA64(image.Rect(0, 0, w, h))
	xdraw.BiLinear.Scale(dst, dst.Bounds(), src, src.Bounds(), draw.Src, nil)
	return dst
}

// shallow reports whether every sample of img is an 8-bit level (v*257).
func shallow(img *image.NRGBA64) bool {
	for y := range img.Rect.Dy() {
		row := img.Pix[y*img.Stride : y*img.Stride+8*img.Rect.Dx()]
		for i := 0; i < len(row); i += 2 {
			if row[i] != row[i+1] { // v*257 is the byte v twice
				return false
			}
		}
	}
	return true
}

// Depth returns the bits a sample of img's colour model: 16 for the
// models of 16 bits a sample (RGBA64, NRGBA64, Gray16, Alpha16), which a
// 16-bit PNG decodes to, and 8 for the rest.
func Depth(img image.Image) int {
	switch img.ColorModel() {
	case color.RGBA64Model, color.NRGBA64Model, color.Gray16Model, color.Alpha16Model:
		return 16
	}
	return 8
}

// NRGBA returns img as *image.NRGBA with its origin at (0, 0), converting
// (grey, CMYK, paletted, YCbCr, 16-bit) where needed.
func NRGBA(img image.Image) *image.NRGBA {
	if n, ok := img.(*image.NRGBA); ok && n.Rect.Min == (image.Point{}) {
		return n
	}
	b := img.Bounds()
	r := image.Rect(0, 0, b.Dx(), b.Dy())
	if isOpaque(img) {
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

// NRGBA64 is NRGBA for 16 bits a sample: it returns img as
// *image.NRGBA64 with its origin at (0, 0), converting where needed (an
// 8-bit sample v becomes v*257, exactly).
func NRGBA64(img image.Image) *image.NRGBA64 {
	if n, ok := img.(*image.NRGBA64); ok && n.Rect.Min == (image.Point{}) {
		return n
	}
	b := img.Bounds()
	r := image.Rect(0, 0, b.Dx(), b.Dy())
	if n, ok := img.(*image.NRGBA); ok {
		// Sample by sample: drawing goes through premultiplied colours,
		// which lose the colour of translucent pixels.
		dst := image.NewNRGBA64(r)
		for y := range r.Dy() {
			src := n.Pix[n.PixOffset(b.Min.X, b.Min.Y+y):][:4*r.Dx()]
			row := dst.Pix[y*dst.Stride:]
			for i, v := range src {
				row[2*i], row[2*i+1] = v, v
			}
		}
		return dst
	}
	if isOpaque(img) { // as in NRGBA
		dst := image.NewRGBA64(r)
		draw.Draw(dst, r, img, b.Min, draw.Src)
		return &image.NRGBA64{Pix: dst.Pix, Stride: dst.Stride, Rect: r}
	}
	dst := image.NewNRGBA64(r)
	draw.Draw(dst, r, img, b.Min, draw.Src)
	return dst
}

// isOpaque reports whether img says it is opaque.
func isOpaque(img image.Image) bool {
	o, ok := img.(interface{ Opaque() bool })
	return ok && o.Opaque()
}
