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
