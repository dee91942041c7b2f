package imageio

import (
	"bytes"
	"compress/zlib"
	"encoding/binary"
	"errors"
	"fmt"
	"image"
	"image/color"
	"io"
)

// What a dream carries from its photo besides the pixels: the ICC profile,
// so that colour-managed viewers show the dream in the photo's colour
// space, and the EXIF block, made true of the dream (uprightEXIF).
// Either is read from the file's bytes already in memory; a malformed or
// oversized one is dropped with a note, never failing the decode. What is
// kept always fits in either output format.

const (
	iccPrefix = "ICC_PROFILE\x00" // starts a JPEG APP2 payload holding a chunk of a profile
	// maxICCChunk is what an APP2 segment holds of a profile after the
	// prefix, the chunk's sequence number and the count of chunks.
	maxICCChunk = 0xFFFF - 2 - len(iccPrefix) - 2
	// maxICCBytes is the largest profile a JPEG can carry, in 255 chunks
	// (16 MB; profiles are a few KB, a large printer's a few MB).
	maxICCBytes = 255 * maxICCChunk
	// maxCarriedEXIF is the largest EXIF block a JPEG can carry: an APP1
	// segment's, after the "Exif\0\0" prefix.
	maxCarriedEXIF = 0xFFFF - 2 - len(exifPrefix)
	// iccpName names the profile in the iCCP chunks written.
	iccpName = "ICC profile"
	jpegAPP2 = 0xE2
)

// carry sets i.ICC and i.EXIF from the file data of the given format and
// tiff, its EXIF block (exifOf), dropping with a note what cannot be
// carried. Both are copies: they keep nothing else of data alive.
func (i *Info) carry(format string, data, tiff []byte) {
	if tiff != nil {
		if len(tiff) > maxCarriedEXIF {
			i.Notes = append(i.Notes, fmt.Sprintf("EXIF dropped: %d bytes, over the %d a JPEG's EXIF segment holds", len(tiff), maxCarriedEXIF))
		} else if _, err := uprightEXIF(tiff, 1, 1); err != nil {
			i.Notes = append(i.Notes, fmt.Sprintf("EXIF dropped: %v", err))
		} else {
			i.EXIF = bytes.Clone(tiff)
		}
	}
	icc, err := iccOf(format, data)
	if err == nil && icc != nil {
		err = checkICC(icc)
	}
	if err == nil && icc != nil && iccSpace(icc) != "RGB " {
		// A grey or CMYK image is decoded to RGB, which such a profile
		// does not describe.
		err = fmt.Errorf("a profile of %q colours, and the image is decoded as RGB", iccSpace(icc))
	}
	if err != nil {
		i.Notes = append(i.Notes, fmt.Sprintf("ICC profile dropped: %v", err))
		return
	}
	i.ICC = bytes.Clone(icc)
}

// iccOf returns the ICC profile stored in the file data of the given
// format, or nil.
func iccOf(format string, data []byte) ([]byte, error) {
	switch format {
	case "jpeg":
		return jpegICC(data)
	case "png":
		return pngICC(data)
	case "webp":
		return webpChunk(data, "ICCP"), nil
	}
	return nil, nil
}

// checkICC refuses bytes that are not an ICC profile by its header: at
// least the 128-byte header, the size it declares, and the "acsp"
// signature at byte 36 (what libpng checks of an iCCP chunk).
func checkICC(icc []byte) error {
	switch {
	case len(icc) < 128:
		return fmt.Errorf("%d bytes, shorter than a profile's 128-byte header", len(icc))
	case binary.BigEndian.Uint32(icc) != uint32(len(icc)):
		return fmt.Errorf("its header says %d bytes, the profile has %d", binary.BigEndian.Uint32(icc), len(icc))
	case string(icc[36:40]) != "acsp":
		return fmt.Errorf("no \"acsp\" signature at byte 36 (%q)", icc[36:40])
	case len(icc) > maxICCBytes:
		return fmt.Errorf("%d bytes, over the %d a JPEG carries", len(icc), maxICCBytes)
	}
	return nil
}

// iccSpace returns the colour space of a profile's data ("RGB ", "GRAY",
// "CMYK", ...), from its header.
func iccSpace(icc []byte) string { return string(icc[16:20]) }

// jpegICC joins the profile chunks of the APP2 "ICC_PROFILE" segments, by
// their sequence numbers (1 to the count, which every chunk repeats).
func jpegICC(data []byte) (icc []byte, err error) {
	var chunks [][]byte // by sequence number - 1
	walkJPEG(bytes.NewReader(data), func(marker byte, payload *io.LimitedReader) (bool, error) {
		if marker != jpegAPP2 {
			return false, nil
		}
		b, e := readAll(payload, 0xFFFF)
		if e != nil || !bytes.HasPrefix(b, []byte(iccPrefix)) {
			return false, nil
		}
		if len(b) < len(iccPrefix)+2 {
			err = errors.New("JPEG APP2 chunk truncated before its sequence number")
			return true, nil
		}
		seq, n := int(b[len(iccPrefix)]), int(b[len(iccPrefix)+1])
		switch {
		case seq < 1 || seq > n:
			err = fmt.Errorf("JPEG APP2 chunk numbered %d of %d", seq, n)
		case chunks == nil:
			chunks = make([][]byte, n)
		case n != len(chunks):
			err = fmt.Errorf("JPEG APP2 chunks counted as %d and as %d", len(chunks), n)
		case chunks[seq-1] != nil:
			err = fmt.Errorf("JPEG APP2 chunk %d of %d twice", seq, n)
		}
		if err != nil {
			return true, nil
		}
		chunks[seq-1] = b[len(iccPrefix)+2:]
		return false, nil
	})
	if err != nil || chunks == nil {
		return nil, err
	}
	for i, c := range chunks {
		if c == nil {
			return nil, fmt.Errorf("JPEG APP2 chunk %d of %d is missing", i+1, len(chunks))
		}
		icc = append(icc, c...)
	}
	return icc, nil
}

// pngICC returns the profile of the iCCP chunk, which comes before IDAT.
func pngICC(data []byte) (icc []byte, err error) {
	walkPNG(bytes.NewReader(data), func(typ string, chunk *io.LimitedReader) (bool, error) {
		switch typ {
		case "IDAT":
			return true, nil
		case "iCCP":
			icc, err = parseICCP(chunk)
			return true, nil
		}
		return false, nil
	})
	return icc, err
}

// parseICCP returns the profile an iCCP chunk holds: a name of 1 to 79
// bytes, NUL, compression method 0, and the profile compressed with zlib.
func parseICCP(chunk *io.LimitedReader) ([]byte, error) {
	b, err := readAll(chunk, int64(maxICCBytes))
	if err != nil {
		return nil, fmt.Errorf("PNG iCCP chunk: %w", err)
	}
	name, rest, ok := bytes.Cut(b, []byte{0})
	switch {
	case !ok || len(name) == 0 || len(name) > 79:
		return nil, errors.New("PNG iCCP chunk without a profile name of 1 to 79 bytes")
	case len(rest) == 0 || rest[0] != 0:
		return nil, errors.New("PNG iCCP chunk: compression method not 0 (zlib)")
	}
	zr, err := zlib.NewReader(bytes.NewReader(rest[1:]))
	if err != nil {
		return nil, fmt.Errorf("PNG iCCP chunk: %w", err)
	}
	icc, err := io.ReadAll(io.LimitReader(zr, int64(maxICCBytes)+1))
	switch {
	case err != nil:
		return nil, fmt.Errorf("PNG iCCP chunk: %w", err)
	case len(icc) > maxICCBytes:
		return nil, fmt.Errorf("PNG iCCP chunk inflates past %d bytes", maxICCBytes)
	}
	return icc, nil
}

// pngICCP returns an iCCP chunk holding the profile icc.
func pngICCP(icc []byte) []byte {
	var z bytes.Buffer
	zw := zlib.NewWriter(&z)
	zw.Write(icc) // a bytes.Buffer does not fail
	zw.Close()
	return pngChunk("iCCP", append([]byte(iccpName+"\x00\x00"), z.Bytes()...))
}

// jpegICCSegments returns the APP2 segments holding the profile icc, in
// order; checkCarried has checked that 255 hold it.
func jpegICCSegments(icc []byte) []byte {
	n := (len(icc) + maxICCChunk - 1) / maxICCChunk
	var out []byte
	for i := range n {
		chunk := icc[i*maxICCChunk : min(len(icc), (i+1)*maxICCChunk)]
		out = append(out, jpegSegment(jpegAPP2, []byte(iccPrefix), []byte{byte(i + 1), byte(n)}, chunk)...)
	}
	return out
}

// jpegSegment returns a segment: the marker, the length, the payload
// (parts joined), which must fit the 16-bit length.
func jpegSegment(marker byte, parts ...[]byte) []byte {
	n := 2
	for _, p := range parts {
		n += len(p)
	}
	seg := binary.BigEndian.AppendUint16([]byte{0xFF, marker}, uint16(n))
	for _, p := range parts {
		seg = append(seg, p...)
	}
	return seg
}

// checkCarried refuses an ICC profile or EXIF block that format cannot
// carry with img; it returns the EXIF made true of img (uprightEXIF).
func checkCarried(opts EncodeOptions, format string, img image.Image) (exif []byte, err error) {
	if len(opts.ICC) > 0 {
		if err := checkICC(opts.ICC); err != nil {
			return nil, fmt.Errorf("imageio: ICC profile: %v", err)
		}
		want := "RGB " // the encoders write RGB but from grey images
		if m := img.ColorModel(); m == color.GrayModel || m == color.Gray16Model {
			want = "GRAY"
		}
		if iccSpace(opts.ICC) != want {
			return nil, fmt.Errorf("imageio: ICC profile of %q colours for an image written as %q", iccSpace(opts.ICC), want)
		}
	}
	if len(opts.EXIF) == 0 {
		return nil, nil
	}
	if format == "jpeg" && len(opts.EXIF) > maxCarriedEXIF {
		return nil, fmt.Errorf("imageio: EXIF of %d bytes, over the %d a JPEG's EXIF segment holds", len(opts.EXIF), maxCarriedEXIF)
	}
	if exif, err = uprightEXIF(opts.EXIF, img.Bounds().Dx(), img.Bounds().Dy()); err != nil {
		return nil, fmt.Errorf("imageio: %w", err)
	}
	return exif, nil
}
