package imageio

import (
	"bytes"
	"encoding/binary"
	"errors"
	"image"
	"io"
	"sync"

	exif "github.com/dsoprea/go-exif/v3"
	exifcommon "github.com/dsoprea/go-exif/v3/common"
)

const (
	exifPrefix     = "Exif\x00\x00" // starts a JPEG APP1 EXIF payload
	tagOrientation = 0x0112
	maxEXIFBytes   = 1 << 20 // a PNG eXIf chunk may be large; orientation sits near its start
)

// exifOf returns the EXIF block (a TIFF structure) stored in the file data
// of the given format, or nil.
func exifOf(format string, data []byte) []byte {
	switch format {
	case "jpeg":
		return jpegEXIF(data)
	case "png":
		return pngEXIF(data)
	case "webp":
		return webpEXIF(data)
	}
	return nil
}

// jpegEXIF returns the TIFF structure of the first APP1 EXIF segment.
func jpegEXIF(data []byte) (tiff []byte) {
	walkJPEG(bytes.NewReader(data), func(marker byte, payload *io.LimitedReader) (bool, error) {
		if marker != jpegAPP1 {
			return false, nil
		}
		b, err := readAll(payload, maxEXIFBytes)
		if err != nil || !bytes.HasPrefix(b, []byte(exifPrefix)) {
			return false, nil // XMP also lives in APP1
		}
		tiff = b[len(exifPrefix):]
		return true, nil
	})
	return tiff
}

// pngEXIF returns the contents of the eXIf chunk. Some writers start it
// with the JPEG "Exif\0\0" prefix; that is dropped.
func pngEXIF(data []byte) (tiff []byte) {
	walkPNG(bytes.NewReader(data), func(typ string, chunk *io.LimitedReader) (bool, error) {
		if typ != "eXIf" {
			return false, nil
		}
		tiff, _ = readAll(chunk, maxEXIFBytes)
		return true, nil
	})
	return bytes.TrimPrefix(tiff, []byte(exifPrefix))
}

// webpEXIF returns the contents of the EXIF chunk of an extended WebP file.
// Some writers start it with the JPEG "Exif\0\0" prefix; that is dropped.
func webpEXIF(data []byte) []byte {
	return bytes.TrimPrefix(webpChunk(data, "EXIF"), []byte(exifPrefix))
}

// webpChunk returns the data of the first chunk of type fourcc in a WebP
// file, or nil.
func webpChunk(data []byte, fourcc string) []byte {
	if len(data) < 12 || string(data[:4]) != "RIFF" || string(data[8:12]) != "WEBP" {
		return nil
	}
	for rest := data[12:]; len(rest) >= 8; {
		n := uint64(binary.LittleEndian.Uint32(rest[4:8]))
		if n > uint64(len(rest)-8) {
			return nil
		}
		if string(rest[:4]) == fourcc {
			return rest[8 : 8+n]
		}
		rest = rest[8+n:]
		if n%2 == 1 && len(rest) > 0 { // chunks are padded to an even size
			rest = rest[1:]
		}
	}
	return nil
}

// The library's tables of standard IFDs and tags, built once (the tag
// index loads a YAML table on first use and locks itself).
var (
	exifMapping = sync.OnceValues(exifcommon.NewIfdMappingWithStandard)
	exifTags    = sync.OnceValue(exif.NewTagIndex)
)

// exifOrientation reads tag 0x0112 of IFD0 from a TIFF structure with
// github.com/dsoprea/go-exif. No structure, or anything unexpected, panics
// included, means 1: a camera's broken EXIF must not stop a photo from
// being dreamed.
//
// The library trusts count fields: reading a value allocates count times the
// type size first (8 GiB for a count of 2^32-1), and so does its thumbnail
// parsing for the thumbnail length. So the walk stops at the first tag
// outside IFD0, before any sub-IFD or thumbnail is parsed, and the value is
// read only from an entry of one SHORT, as the EXIF specification has it.
func exifOrientation(tiff []byte) (o int) {
	if len(tiff) == 0 {
		return 1
	}
	defer func() {
		if recover() != nil {
			o = 1
		}
	}()
	mapping, err := exifMapping()
	if err != nil {
		return 1
	}
	o = 1
	stop := errors.New("stop")
	exif.Visit(exifcommon.IfdStandardIfdIdentity, mapping, exifTags(), tiff,
		func(ite *exif.IfdTagEntry) error {
			if !ite.IfdIdentity().Equals(exifcommon.IfdStandardIfdIdentity) {
				return stop
			}
			if ite.TagId() != tagOrientation {
				return nil
			}
			if ite.TagType() == exifcommon.TypeShort && ite.UnitCount() == 1 {
				v, err := ite.Value()
				if s, ok := v.([]uint16); err == nil && ok && len(s) == 1 && s[0] >= 1 && s[0] <= 8 {
					o = int(s[0])
				}
			}
			return stop
		}, nil)
	return o
}

// orient returns img, an *image.NRGBA or *image.NRGBA64, turned upright
// for EXIF orientation o (a new image of the same type), or img itself for
// orientation 1. The eight orientations are the symmetries of a rectangle:
// o says where the stored first row and column go.
func orient(img image.Image, o int) image.Image {
	if o == 1 {
		return img
	}
	w, h := img.Bounds().Dx(), img.Bounds().Dy()
	dw, dh := w, h
	if o >= 5 {
		dw, dh = h, w
	}
	var out image.Image = image.NewNRGBA(image.Rect(0, 0, dw, dh))
	if Depth(img) == 16 {
		out = image.NewNRGBA64(image.Rect(0, 0, dw, dh))
	}
	src, sstride, n := buffer(img)
	dst, dstride, _ := buffer(out)
	px := 4 * n // bytes a pixel
	for y := 0; y < dh; y++ {
		for x := 0; x < dw; x++ {
			// (sx, sy) is the stored pixel shown at (x, y).
			var sx, sy int
			switch o {
			case 2: // mirrored left-right
				sx, sy = w-1-x, y
			case 3: // turned 180°
				sx, sy = w-1-x, h-1-y
			case 4: // mirrored top-bottom
				sx, sy = x, h-1-y
			case 5: // transposed
				sx, sy = y, x
			case 6: // to be turned 90° clockwise
				sx, sy = y, h-1-x
			case 7: // transversed
				sx, sy = w-1-y, h-1-x
			case 8: // to be turned 90° anticlockwise
				sx, sy = w-1-y, x
			}
			copy(dst[y*dstride+px*x:][:px], src[sy*sstride+px*sx:][:px])
		}
	}
	return out
}
