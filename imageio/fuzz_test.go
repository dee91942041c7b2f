package imageio

import (
	"bytes"
	"encoding/binary"
	"image"
	"image/color"
	"image/gif"
	"runtime"
	"testing"
)

// fuzzMaxPixels keeps each fuzzed decode small and fast.
const fuzzMaxPixels = 1 << 16

func FuzzDecode(f *testing.F) {
	grid := gridImage(orientationLayouts[1]...)
	jpg := encodeJPEG(f, grid)
	f.Add(jpg)
	f.Add(withAPP1(jpg, tiffOrientation(binary.BigEndian, 6)))
	f.Add(withAPP1(jpg, tiffOrientation(binary.LittleEndian, 7)))
	f.Add(encodePNG(f, grid))
	f.Add(afterIHDR(encodePNG(f, grid), pngChunk("eXIf", tiffOrientation(binary.LittleEndian, 5))))
	f.Add(pngHeader(100000, 100000))
	var buf bytes.Buffer
	g := image.NewPaletted(image.Rect(0, 0, 5, 3), color.Palette{color.NRGBA{}, color.NRGBA{1, 2, 3, 255}})
	if err := gif.Encode(&buf, g, nil); err != nil {
		f.Fatal(err)
	}
	f.Add(buf.Bytes())
	f.Add(readTestdata(f, "gopher-doc.1bpp.lossless.webp"))
	f.Fuzz(func(t *testing.T, data []byte) {
		img, info, err := DecodeInfo(bytes.NewReader(data), fuzzMaxPixels)
		if err != nil {
			return
		}
		w, h := info.Width, info.Height
		if info.Orientation >= 5 {
			w, h = h, w
		}
		if info.Orientation < 1 || info.Orientation > 8 || img.Rect != image.Rect(0, 0, w, h) || w*h > fuzzMaxPixels {
			t.Fatalf("image %v for info %+v", img.Rect, info)
		}
		if info.HasAlpha != (info.Alpha != nil) || info.HasAlpha && info.Alpha.Bounds() != img.Rect {
			t.Fatalf("alpha %v for info %+v", info.Alpha != nil, info)
		}
	})
}

func FuzzReadMetadata(f *testing.F) {
	for _, format := range []string{"png", "jpeg"} {
		var buf bytes.Buffer
		if err := Encode(&buf, gridImage("AB"), format, EncodeOptions{Metadata: testParams}); err != nil {
			f.Fatal(err)
		}
		f.Add(buf.Bytes())
	}
	f.Add(afterIHDR(encodePNG(f, gridImage("A")), pngChunk("iTXt", []byte("deepdream\x00\x01\x00\x00\x00x\x9c"))))
	f.Fuzz(func(t *testing.T, data []byte) {
		text, err := ReadMetadata(bytes.NewReader(data))
		if err == nil && len(text) > maxMetadataBytes {
			t.Fatalf("%d bytes of metadata, over the limit", len(text))
		}
	})
}

// FuzzEXIFOrientation aims at the EXIF library directly, where FuzzDecode
// would spend its time in the JPEG decoder; it also watches for allocations
// sized by header fields.
func FuzzEXIFOrientation(f *testing.F) {
	for o := uint16(0); o <= 9; o++ {
		f.Add(tiffOrientation(binary.BigEndian, o))
		f.Add(tiffOrientation(binary.LittleEndian, o))
	}
	exifOrientation(tiffOrientation(binary.BigEndian, 1)) // load the tag tables before measuring
	f.Fuzz(func(t *testing.T, tiff []byte) {
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		o := exifOrientation(tiff)
		runtime.ReadMemStats(&after)
		if o < 1 || o > 8 {
			t.Fatalf("orientation %d", o)
		}
		if n := after.TotalAlloc - before.TotalAlloc; n > 64<<20 {
			t.Fatalf("%d bytes allocated reading %d bytes of EXIF", n, len(tiff))
		}
	})
}

// carrySeeds are files that hold ICC profiles and EXIF blocks, some
// malformed.
func carrySeeds(f *testing.F) [][]byte {
	icc := readTestdata(f, "synthetic.icc")
	jpg := encodeJPEG(f, gridImage("AB"))
	var seeds [][]byte
	for _, name := range []string{"exiftool-orient6.jpg", "exiftool-16bit.png"} {
		seeds = append(seeds, readTestdata(f, name))
	}
	for _, format := range []string{"jpeg", "png"} {
		var buf bytes.Buffer
		tiff, _ := testTIFF(binary.LittleEndian, []tiffEntry{{tagOrientation, tiffShort, 1, 6}}, []tiffEntry{{tagPixelXDimension, tiffShort, 1, 32}}, []byte("\xFF\xD8\xFF\xD9"))
		if err := Encode(&buf, gridImage("AB"), format, EncodeOptions{ICC: icc, EXIF: tiff}); err != nil {
			f.Fatal(err)
		}
		seeds = append(seeds, buf.Bytes())
	}
	app2 := func(seq, n byte, data []byte) []byte {
		return jpegSegment(jpegAPP2, []byte(iccPrefix), []byte{seq, n}, data)
	}
	seeds = append(seeds, append(append(append([]byte{0xFF, 0xD8}, app2(2, 2, icc[100:])...), app2(1, 2, icc[:100])...), jpg[2:]...))
	return seeds
}

// FuzzCarry reads profiles and EXIF blocks from any bytes, as JPEG, PNG
// and WebP: what is kept is an RGB profile by its header and an EXIF block
// uprightEXIF can edit, and reading allocates no more than a bounded
// inflation of the input.
func FuzzCarry(f *testing.F) {
	for _, s := range carrySeeds(f) {
		f.Add(s)
	}
	exifOrientation(tiffOrientation(binary.BigEndian, 1)) // load the tag tables before measuring
	f.Fuzz(func(t *testing.T, data []byte) {
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		for _, format := range []string{"jpeg", "png", "webp"} {
			var info Info
			info.carry(format, data, exifOf(format, data))
			if info.ICC != nil && (checkICC(info.ICC) != nil || iccSpace(info.ICC) != "RGB ") {
				t.Fatalf("%s: kept a profile that is not an RGB one: %v", format, checkICC(info.ICC))
			}
			if info.EXIF != nil {
				if _, err := uprightEXIF(info.EXIF, 1<<32-1, 0); err != nil || len(info.EXIF) > maxCarriedEXIF {
					t.Fatalf("%s: kept an EXIF block of %d bytes that cannot be carried: %v", format, len(info.EXIF), err)
				}
			}
		}
		runtime.ReadMemStats(&after)
		if n := after.TotalAlloc - before.TotalAlloc; n > uint64(12*len(data)+6*maxICCBytes+1<<20) {
			t.Fatalf("%d bytes allocated reading %d bytes", n, len(data))
		}
	})
}

// FuzzUprightEXIF edits any block: an edit keeps its size, says
// orientation 1 to go-exif, and editing it again changes nothing.
func FuzzUprightEXIF(f *testing.F) {
	for _, o := range []uint16{1, 6} {
		f.Add(tiffOrientation(binary.BigEndian, o), uint32(20), uint32(30))
	}
	tiff, _ := testTIFF(binary.BigEndian, []tiffEntry{{tagImageWidth, tiffShort, 1, 9}, {tagOrientation, tiffShort, 1, 8}},
		[]tiffEntry{{tagPixelXDimension, tiffShort, 1, 9}, {tagPixelYDimension, tiffLong, 1, 4}}, []byte("thumbnail"))
	f.Add(tiff, uint32(70000), uint32(1))
	for _, s := range carrySeeds(f) {
		if tiff := exifOf("jpeg", s); tiff != nil {
			f.Add(tiff, uint32(16), uint32(32))
		}
	}
	exifOrientation(tiffOrientation(binary.BigEndian, 1))
	f.Fuzz(func(t *testing.T, tiff []byte, w, h uint32) {
		out, err := uprightEXIF(tiff, int(w), int(h))
		if err != nil {
			return
		}
		if len(out) != len(tiff) {
			t.Fatalf("%d bytes made %d", len(tiff), len(out))
		}
		if again, err := uprightEXIF(out, int(w), int(h)); err != nil || !bytes.Equal(again, out) {
			t.Fatalf("editing again: %v, changed %v", err, !bytes.Equal(again, out))
		}
		if o := exifOrientation(out); o != 1 {
			t.Fatalf("go-exif reads orientation %d", o)
		}
	})
}
