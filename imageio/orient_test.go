package imageio

import (
	"bytes"
	"encoding/binary"
	"image"
	"runtime"
	"testing"
)

// The stored image is the grid ABC/DEF; each layout is how a viewer shows it
// for that EXIF orientation, written out by hand from the EXIF specification.
var orientationLayouts = [9][]string{
	1: {"ABC", "DEF"},
	2: {"CBA", "FED"},
	3: {"FED", "CBA"},
	4: {"DEF", "ABC"},
	5: {"AD", "BE", "CF"},
	6: {"DA", "EB", "FC"},
	7: {"FC", "EB", "DA"},
	8: {"CF", "BE", "AD"},
}

func TestJPEGOrientation(t *testing.T) {
	jpg := encodeJPEG(t, gridImage(orientationLayouts[1]...))
	for _, order := range []binary.AppendByteOrder{binary.BigEndian, binary.LittleEndian} {
		for o := 1; o <= 8; o++ {
			t.Run(order.String()+"/"+string(rune('0'+o)), func(t *testing.T) {
				img, info, err := DecodeInfo(bytes.NewReader(withAPP1(jpg, tiffOrientation(order, uint16(o)))), 0)
				if err != nil {
					t.Fatal(err)
				}
				if info.Orientation != o || info.Format != "jpeg" || info.Width != 48 || info.Height != 32 || info.HasAlpha {
					t.Errorf("info = %+v, want orientation %d of a 48x32 opaque jpeg", info, o)
				}
				checkGrid(t, img, orientationLayouts[o]...)
			})
		}
	}
}

func TestPNGAndWebPOrientation(t *testing.T) {
	p := afterIHDR(encodePNG(t, gridImage(orientationLayouts[1]...)), pngChunk("eXIf", tiffOrientation(binary.LittleEndian, 6)))
	img, info, err := DecodeInfo(bytes.NewReader(p), 0)
	if err != nil {
		t.Fatal(err)
	}
	if info.Orientation != 6 {
		t.Errorf("PNG eXIf orientation = %d, want 6", info.Orientation)
	}
	checkGrid(t, img, orientationLayouts[6]...)

	// An extended WebP: VP8X (EXIF flag, canvas size), the image, then EXIF.
	// The lossless image is golang.org/x/image's testdata (BSD licence).
	plain := readTestdata(t, "gopher-doc.1bpp.lossless.webp")
	cfg, _, err := image.DecodeConfig(bytes.NewReader(plain))
	if err != nil {
		t.Fatal(err)
	}
	vp8x := []byte{0x08, 0, 0, 0}
	vp8x = append(vp8x, byte(cfg.Width-1), byte((cfg.Width-1)>>8), byte((cfg.Width-1)>>16))
	vp8x = append(vp8x, byte(cfg.Height-1), byte((cfg.Height-1)>>8), byte((cfg.Height-1)>>16))
	body := []byte("WEBP")
	body = append(body, riffChunk("VP8X", vp8x)...)
	body = append(body, plain[12:]...) // the VP8L chunk
	body = append(body, riffChunk("EXIF", append([]byte("Exif\x00\x00"), tiffOrientation(binary.BigEndian, 8)...))...)
	webp := append([]byte("RIFF"), binary.LittleEndian.AppendUint32(nil, uint32(len(body)))...)
	webp = append(webp, body...)
	img, info, err = DecodeInfo(bytes.NewReader(webp), 0)
	if err != nil {
		t.Fatal(err)
	}
	if info.Format != "webp" || info.Orientation != 8 || img.Rect.Dx() != cfg.Height || img.Rect.Dy() != cfg.Width {
		t.Errorf("WebP: info %+v, image %v; want orientation 8 turning %dx%d", info, img.Rect, cfg.Width, cfg.Height)
	}
}

func riffChunk(fourcc string, data []byte) []byte {
	c := append([]byte(fourcc), binary.LittleEndian.AppendUint32(nil, uint32(len(data)))...)
	c = append(c, data...)
	if len(data)%2 == 1 {
		c = append(c, 0)
	}
	return c
}

// Broken EXIF blocks decode as orientation 1, and cheaply.
func TestMalformedEXIF(t *testing.T) {
	be := binary.BigEndian
	good := tiffOrientation(be, 6)
	tagCount := func(count uint32) []byte { // the orientation entry's count field
		b := append([]byte{}, good...)
		be.PutUint32(b[14:], count)
		return b
	}
	cycle := append([]byte{}, good...)
	be.PutUint32(cycle[22:], 8) // the next IFD is IFD0 again
	// IFD0 holds a Make tag and links to IFD1, whose thumbnail claims 4 GiB.
	thumb := be.AppendUint32([]byte("MM\x00\x2a"), 8)
	thumb = be.AppendUint16(thumb, 1)
	thumb = append(thumb, 0x01, 0x0F, 0, 2, 0, 0, 0, 2, 'X', 0, 0, 0) // Make "X"
	thumb = be.AppendUint32(thumb, 26)                                // IFD1 follows
	thumb = be.AppendUint16(thumb, 2)
	thumb = append(thumb, 0x02, 0x01, 0, 4, 0, 0, 0, 1, 0, 0, 0, 0)             // thumbnail offset 0
	thumb = append(thumb, 0x02, 0x02, 0, 4, 0, 0, 0, 1, 0xFF, 0xFF, 0xFF, 0xFF) // length 4 GiB
	thumb = be.AppendUint32(thumb, 0)
	cases := map[string][]byte{
		"thumbnail length": thumb,
		"empty":            {},
		"bad byte order":   append([]byte("XX"), good[2:]...),
		"truncated":        good[:12],
		"IFD past end":     append([]byte("MM\x00\x2a"), be.AppendUint32(nil, 1<<30)...),
		// 2 bytes * 0x80000002 overflows 32 bits to 4: a 16 GiB allocation in
		// a parser that trusts it.
		"count overflow": tagCount(0x80000002),
		"huge count":     tagCount(0xFFFFFFFF),
		"value 0":        tiffOrientation(be, 0),
		"value 9":        tiffOrientation(be, 9),
		"IFD cycle":      cycle,
	}
	jpg := encodeJPEG(t, gridImage(orientationLayouts[1]...))
	exifOrientation(good) // loads the library's tag tables, once per process
	for name, tiff := range cases {
		t.Run(name, func(t *testing.T) {
			var before, after runtime.MemStats
			runtime.ReadMemStats(&before)
			img, info, err := DecodeInfo(bytes.NewReader(withAPP1(jpg, tiff)), 0)
			runtime.ReadMemStats(&after)
			if err != nil {
				t.Fatal(err)
			}
			if name != "IFD cycle" && info.Orientation != 1 {
				t.Errorf("orientation %d, want 1", info.Orientation)
			}
			if info.Orientation == 1 {
				checkGrid(t, img, orientationLayouts[1]...)
			}
			if n := after.TotalAlloc - before.TotalAlloc; n > 1<<20 {
				t.Errorf("decoding a 48x32 JPEG allocated %d bytes", n)
			}
		})
	}
	// An APP1 segment that is XMP, not EXIF, is no orientation either.
	xmp := append([]byte{0xFF, 0xD8, 0xFF, 0xE1, 0, 12}, "http://ns."...)
	if got := exifOrientation(exifOf("jpeg", append(xmp, jpg[2:]...))); got != 1 {
		t.Errorf("XMP APP1: orientation %d, want 1", got)
	}
}
