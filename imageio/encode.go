package imageio

import (
	"bytes"
	"fmt"
	"image"
	"image/color"
	"image/draw"
	"image/jpeg"
	"image/png"
	"io"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/deepdream-go/deepdream/internal/atomicfile"
)

// DefaultQuality is the JPEG quality used when EncodeOptions.Quality is 0.
const DefaultQuality = 90

// EncodeOptions says how to write an image.
type EncodeOptions struct {
	// Quality is the JPEG quality, 1 to 100; 0 means DefaultQuality. PNG
	// ignores it.
	Quality int
	// Metadata, the dream's parameters as UTF-8 text, is embedded in the
	// file (see the package documentation); "" embeds nothing.
	Metadata string
	// Background is the colour JPEG, which has no alpha channel, shows
	// through transparent and translucent pixels; nil means white. PNG
	// keeps the alpha channel and ignores it.
	Background color.Color
	// ICC is an ICC profile to carry (as Info.ICC), in a PNG iCCP chunk
	// or JPEG APP2 "ICC_PROFILE" segments; nil carries none.
	ICC []byte
	// EXIF is an EXIF block to carry (as Info.EXIF), in a PNG eXIf chunk
	// or a JPEG APP1 segment, made true of the image written: orientation
	// 1 (the pixels are written as given, upright), its pixel dimensions,
	// and no thumbnail (it would show the photo, not the dream); nil
	// carries none.
	EXIF []byte
}

// FormatFromPath returns the format ("png" or "jpeg") that path's extension
// asks for, case-insensitively.
func FormatFromPath(path string) (string, error) {
	switch ext := strings.ToLower(filepath.Ext(path)); ext {
	case ".png":
		return "png", nil
	case ".jpg", ".jpeg":
		return "jpeg", nil
	default:
		if ext == "" {
			ext = "no extension"
		}
		return "", fmt.Errorf("imageio: cannot write %s: %s is not a supported output format (supported: .png, .jpg, .jpeg)", path, ext)
	}
}

// CheckOutput refuses an output path that cannot be written: one whose
// extension names no supported format, or one naming the same file as the
// input (also through a link). Call it before the long work, not after.
func CheckOutput(input, output string) error {
	if _, err := FormatFromPath(output); err != nil {
		return err
	}
	if atomicfile.SameFile(input, output) {
		return fmt.Errorf("imageio: output %s is the input file %s; refusing to write over it", output, input)
	}
	return nil
}

// Encode writes img to w as format ("png" or "jpeg"), with the dream
// parameters, ICC profile and EXIF block of opts embedded. PNG keeps the
// image's depth, 16 bits a sample for a 16-bit image (see Depth); JPEG
// has 8, and no alpha channel: translucent pixels are composited on
// opts.Background (white unless told).
func Encode(w io.Writer, img image.Image, format string, opts EncodeOptions) error {
	if err := checkMetadata(opts.Metadata, format); err != nil {
		return err
	}
	exif, err := checkCarried(opts, format, img)
	if err != nil {
		return err
	}
	var buf bytes.Buffer
	var head int      // bytes of the encoded stream before ours
	var tags [][]byte // our chunks or segments, in order
	switch format {
	case "png":
		// Deflate's fastest level: on a 1352x900 dream 118 ms against
		// 187 ms for the default level, 1% larger; on a photo dreamed
		// for one step, 111 against 428 ms, 8% larger.
		if err := (&png.Encoder{CompressionLevel: png.BestSpeed}).Encode(&buf, img); err != nil {
			return fmt.Errorf("imageio: %w", err)
		}
		head = len(pngSignature) + 8 + 13 + 4 // the IHDR chunk comes first, then ours
		if opts.Metadata != "" {
			tags = append(tags, pngTextChunk(opts.Metadata))
		}
		if len(opts.ICC) > 0 {
			tags = append(tags, pngICCP(opts.ICC))
		}
		if exif != nil {
			tags = append(tags, pngChunk("eXIf", exif))
		}
	case "jpeg":
		q := opts.Quality
		if q == 0 {
			q = DefaultQuality
		}
		if q < 1 || q > 100 {
			return fmt.Errorf("imageio: JPEG quality %d is outside 1..100", q)
		}
		if err := jpeg.Encode(&buf, flatten(img, opts.Background), &jpeg.Options{Quality: q}); err != nil {
			return fmt.Errorf("imageio: %w", err)
		}
		head = 2 // SOI, then ours: EXIF first, as the EXIF specification has it
		if exif != nil {
			tags = append(tags, jpegSegment(jpegAPP1, []byte(exifPrefix), exif))
		}
		if len(opts.ICC) > 0 {
			tags = append(tags, jpegICCSegments(opts.ICC))
		}
		if opts.Metadata != "" {
			tags = append(tags, jpegComment(opts.Metadata))
		}
	default:
		return fmt.Errorf("imageio: cannot encode format %q (supported: png, jpeg)", format)
	}
	parts := append([][]byte{buf.Bytes()[:head]}, tags...)
	for _, part := range append(parts, buf.Bytes()[head:]) {
		if _, err := w.Write(part); err != nil {
			return err
		}
	}
	return nil
}

// flatten returns img composited on bg (nil: white), or img itself when
// it is opaque.
func flatten(img image.Image, bg color.Color) image.Image {
	if o, ok := img.(interface{ Opaque() bool }); ok && o.Opaque() {
		return img
	}
	if bg == nil {
		bg = color.White
	}
	b := img.Bounds()
	dst := image.NewRGBA(b)
	draw.Draw(dst, b, image.NewUniform(bg), image.Point{}, draw.Src)
	draw.Draw(dst, b, img, b.Min, draw.Over)
	return dst
}

// ParseColor reads a colour as #RRGGBB or RRGGBB (hexadecimal), or one of
// the names white, black and grey (or gray): the forms a flag gives.
func ParseColor(s string) (color.Color, error) {
	switch strings.ToLower(s) {
	case "white":
		return color.White, nil
	case "black":
		return color.Black, nil
	case "grey", "gray":
		return color.RGBA{128, 128, 128, 255}, nil
	}
	hex := strings.TrimPrefix(s, "#")
	v, err := strconv.ParseUint(hex, 16, 32)
	if len(hex) != 6 || err != nil {
		return nil, fmt.Errorf("imageio: colour %q: want #RRGGBB (hexadecimal), white, black or grey", s)
	}
	return color.RGBA{uint8(v >> 16), uint8(v >> 8), uint8(v), 255}, nil
}

// WriteFile encodes img into path in the format its extension names,
// atomically: on any error the previous file, if any, is left as it was and
// no partial file remains.
func WriteFile(path string, img image.Image, opts EncodeOptions) error {
	format, err := FormatFromPath(path)
	if err != nil {
		return err
	}
	var buf bytes.Buffer
	if err := Encode(&buf, img, format, opts); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	return atomicfile.WriteBytes(path, buf.Bytes())
}
