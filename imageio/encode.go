package imageio

import (
	"bytes"
	"fmt"
	"image"
	"image/jpeg"
	"image/png"
	"io"
	"path/filepath"
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
// parameters of opts embedded. JPEG has no alpha channel: translucent
// pixels are written as if over black.
func Encode(w io.Writer, img image.Image, format string, opts EncodeOptions) error {
	if err := checkMetadata(opts.Metadata, format); err != nil {
		return err
	}
	var buf bytes.Buffer
	var head int   // bytes of the encoded stream before the metadata
	var tag []byte // the metadata as a chunk or segment
	switch format {
	case "png":
		// Deflate's fastest level: on a 1352x900 dream 118 ms against
		// 187 ms for the default level, 1% larger; on a photo dreamed
		// for one step, 111 against 428 ms, 8% larger.
		if err := (&png.Encoder{CompressionLevel: png.BestSpeed}).Encode(&buf, img); err != nil {
			return fmt.Errorf("imageio: %w", err)
		}
		head = len(pngSignature) + 8 + 13 + 4 // the IHDR chunk comes first, then ours
		tag = pngTextChunk(opts.Metadata)
	case "jpeg":
		q := opts.Quality
		if q == 0 {
			q = DefaultQuality
		}
		if q < 1 || q > 100 {
			return fmt.Errorf("imageio: JPEG quality %d is outside 1..100", q)
		}
		if err := jpeg.Encode(&buf, img, &jpeg.Options{Quality: q}); err != nil {
			return fmt.Errorf("imageio: %w", err)
		}
		head = 2 // SOI
		tag = jpegComment(opts.Metadata)
	default:
		return fmt.Errorf("imageio: cannot encode format %q (supported: png, jpeg)", format)
	}
	if opts.Metadata == "" {
		tag = nil
	}
	for _, part := range [][]byte{buf.Bytes()[:head], tag, buf.Bytes()[head:]} {
		if _, err := w.Write(part); err != nil {
			return err
		}
	}
	return nil
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
	return atomicfile.Write(path, func(w io.Writer) error { _, err := w.Write(buf.Bytes()); return err })
}
