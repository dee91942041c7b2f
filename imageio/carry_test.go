package imageio

import (
	"bytes"
	"compress/zlib"
	"encoding/binary"
	"fmt"
	"image"
	"io"
	"slices"
	"sort"
	"strings"
	"testing"

	exif "github.com/dsoprea/go-exif/v3"
	exifcommon "github.com/dsoprea/go-exif/v3/common"
)

// readEXIFTags reads every tag of an EXIF block with go-exif (the library
// exifOrientation reads with, independent of uprightEXIF's walker), keyed
// "IFD path 0xTAG": "IFD 0x0112", "IFD/Exif 0xa002", "IFD1 0x0201".
func readEXIFTags(t *testing.T, tiff []byte) map[string]any {
	t.Helper()
	mapping, err := exifMapping()
	if err != nil {
		t.Fatal(err)
	}
	tags := map[string]any{}
	_, _, err = exif.Visit(exifcommon.IfdStandardIfdIdentity, mapping, exifTags(), tiff, func(ite *exif.IfdTagEntry) error {
		v, err := ite.Value()
		if err != nil {
			v = err
		}
		tags[fmt.Sprintf("%s 0x%04x", ite.IfdIdentity().String(), ite.TagId())] = v
		return nil
	}, nil)
	if err != nil {
		t.Fatalf("go-exif cannot read the block: %v", err)
	}
	return tags
}

// checkUpright fails unless the EXIF block says orientation 1, has no
// IFD1, gives w x h as the pixel dimensions, and keeps the Make tag.
func checkUpright(t *testing.T, tiff []byte, w, h int) {
	t.Helper()
	tags := readEXIFTags(t, tiff)
	if got := fmt.Sprint(tags["IFD 0x0112"]); got != "[1]" {
		t.Errorf("orientation %s, want [1]", got)
	}
	for k := range tags {
		if strings.HasPrefix(k, "IFD1 ") {
			t.Errorf("IFD1 is still linked: %s", k)
		}
	}
	for tag, want := range map[string]int{"IFD/Exif 0xa002": w, "IFD/Exif 0xa003": h} {
		if got := fmt.Sprint(tags[tag]); got != fmt.Sprint([]uint16{uint16(want)}) && got != fmt.Sprint([]uint32{uint32(want)}) {
			t.Errorf("%s = %s, want %d", tag, got, want)
		}
	}
	if got := tags["IFD 0x010f"]; got != "deepdream" {
		t.Errorf("Make = %v, want deepdream", got)
	}
}

// TestCarryFromExifToolFiles reads what ExifTool wrote (testdata/README.md)
// and writes it again in both formats: the profile byte for byte, the EXIF
// made upright (orientation 1, the dream's size, no thumbnail), the rest of
// it kept in place.
func TestCarryFromExifToolFiles(t *testing.T) {
	icc := readTestdata(t, "synthetic.icc")
	thumbStart := []byte{0xFF, 0xD8, 0xFF} // the thumbnail's SOI
	for _, c := range []struct {
		file        string
		orientation int
		w, h        int // upright
	}{
		{"exiftool-orient6.jpg", 6, 16, 32},
		{"exiftool-16bit.png", 8, 8, 12},
	} {
		img, info, err := DecodeDeep(bytes.NewReader(readTestdata(t, c.file)), 0)
		if err != nil {
			t.Fatal(err)
		}
		if info.Orientation != c.orientation || img.Bounds() != image.Rect(0, 0, c.w, c.h) || len(info.Notes) != 0 {
			t.Fatalf("%s: info %+v, image %v", c.file, info, img.Bounds())
		}
		if !bytes.Equal(info.ICC, icc) {
			t.Errorf("%s: the profile read is %d bytes, not synthetic.icc's %d", c.file, len(info.ICC), len(icc))
		}
		if tags := readEXIFTags(t, info.EXIF); fmt.Sprint(tags["IFD 0x0112"]) != fmt.Sprint([]uint16{uint16(c.orientation)}) {
			t.Errorf("%s: Info.EXIF is not the file's: orientation %v", c.file, tags["IFD 0x0112"])
		}
		for _, format := range []string{"png", "jpeg"} {
			var buf bytes.Buffer
			if err := Encode(&buf, img, format, EncodeOptions{Metadata: testParams, ICC: info.ICC, EXIF: info.EXIF}); err != nil {
				t.Fatal(err)
			}
			back, binfo, err := DecodeDeep(bytes.NewReader(buf.Bytes()), 0)
			if err != nil {
				t.Fatal(err)
			}
			name := c.file + " to " + format
			if binfo.Orientation != 1 || back.Bounds() != img.Bounds() {
				t.Errorf("%s: orientation %d, %v: the dream would be turned again", name, binfo.Orientation, back.Bounds())
			}
			if !bytes.Equal(binfo.ICC, icc) {
				t.Errorf("%s: the profile is not carried byte for byte", name)
			}
			if len(binfo.EXIF) != len(info.EXIF) {
				t.Errorf("%s: EXIF of %d bytes, the photo's has %d: not edited in place", name, len(binfo.EXIF), len(info.EXIF))
			}
			checkUpright(t, binfo.EXIF, c.w, c.h)
			if bytes.Contains(info.EXIF, thumbStart) && bytes.Contains(binfo.EXIF, thumbStart) {
				t.Errorf("%s: the photo's thumbnail is still in the EXIF", name)
			}
			if tags := readEXIFTags(t, binfo.EXIF); c.file == "exiftool-orient6.jpg" && tags["IFD/GPSInfo 0x0001"] != "N" {
				t.Errorf("%s: the GPS IFD is lost: %v", name, tags)
			}
			if text, err := ReadMetadata(bytes.NewReader(buf.Bytes())); err != nil || text != testParams {
				t.Errorf("%s: the dream's record: %q, %v", name, text, err)
			}
		}
	}
}

// testProfile returns an ICC profile of n bytes (at least 260):
// synthetic.icc, its declared size set to n and filled out with bytes
// that vary, so that a chunk out of place shows.
func testProfile(t *testing.T, n int) []byte {
	p := readTestdata(t, "synthetic.icc")
	for i := len(p); i < n; i++ {
		p = append(p, byte(i*7+i>>8))
	}
	binary.BigEndian.PutUint32(p, uint32(n))
	return p
}

// TestICCRoundTrip: a profile written into PNG (iCCP) and JPEG (APP2
// chunks, several when large) is read back byte for byte, as is a WebP's
// ICCP chunk.
func TestICCRoundTrip(t *testing.T) {
	img := gridImage("AB", "CD")
	for _, n := range []int{260, 3 * maxICCChunk, 3*maxICCChunk + 1} {
		icc := testProfile(t, n)
		for _, format := range []string{"png", "jpeg"} {
			var buf bytes.Buffer
			if err := Encode(&buf, img, format, EncodeOptions{ICC: icc}); err != nil {
				t.Fatal(err)
			}
			back, info, err := DecodeInfo(bytes.NewReader(buf.Bytes()), 0)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(info.ICC, icc) || len(info.Notes) != 0 {
				t.Errorf("%s, %d bytes: read back %d bytes, notes %q", format, n, len(info.ICC), info.Notes)
			}
			checkGrid(t, back, "AB", "CD")
			if format == "jpeg" {
				if got, want := strings.Count(buf.String(), iccPrefix), (n+maxICCChunk-1)/maxICCChunk; got != want {
					t.Errorf("%d bytes in %d APP2 chunks, want %d", n, got, want)
				}
			}
		}
	}
	icc := testProfile(t, 301)
	webp := extendedWebP(t, riffChunk("ICCP", icc))
	if _, info, err := DecodeInfo(bytes.NewReader(webp), 0); err != nil || !bytes.Equal(info.ICC, icc) {
		t.Errorf("WebP ICCP: %d bytes, %v", len(info.ICC), err)
	}
}

// extendedWebP returns testdata's lossless WebP as an extended file with
// the given chunks after the image.
func extendedWebP(t *testing.T, chunks ...[]byte) []byte {
	plain := readTestdata(t, "gopher-doc.1bpp.lossless.webp")
	cfg, _, err := image.DecodeConfig(bytes.NewReader(plain))
	if err != nil {
		t.Fatal(err)
	}
	vp8x := []byte{0x28, 0, 0, 0} // ICC and EXIF flags
	vp8x = append(vp8x, byte(cfg.Width-1), byte((cfg.Width-1)>>8), byte((cfg.Width-1)>>16))
	vp8x = append(vp8x, byte(cfg.Height-1), byte((cfg.Height-1)>>8), byte((cfg.Height-1)>>16))
	body := []byte("WEBP")
	body = append(body, riffChunk("VP8X", vp8x)...)
	body = append(body, plain[12:]...) // the VP8L chunk
	for _, c := range chunks {
		body = append(body, c...)
	}
	return append(append([]byte("RIFF"), binary.LittleEndian.AppendUint32(nil, uint32(len(body)))...), body...)
}

// TestCarriedPlaces: a PNG's chunks are IHDR, the record (iTXt), iCCP,
// eXIf, then the image; a JPEG's segments are SOI, EXIF (APP1, first, as
// the EXIF specification has it), the profile (APP2), the record (COM),
// then the image's.
func TestCarriedPlaces(t *testing.T) {
	tiff := tiffOrientation(binary.BigEndian, 1)
	icc := testProfile(t, 300)
	var chunks []string
	var buf bytes.Buffer
	if err := Encode(&buf, gridImage("A"), "png", EncodeOptions{Metadata: "x", ICC: icc, EXIF: tiff}); err != nil {
		t.Fatal(err)
	}
	walkPNG(bytes.NewReader(buf.Bytes()), func(typ string, _ *io.LimitedReader) (bool, error) {
		chunks = append(chunks, typ)
		return false, nil
	})
	if want := []string{"IHDR", "iTXt", "iCCP", "eXIf", "IDAT", "IEND"}; !slices.Equal(chunks, want) {
		t.Errorf("PNG chunks %q, want %q", chunks, want)
	}
	buf.Reset()
	if err := Encode(&buf, gridImage("A"), "jpeg", EncodeOptions{Metadata: "x", ICC: icc, EXIF: tiff}); err != nil {
		t.Fatal(err)
	}
	var markers []byte
	walkJPEG(bytes.NewReader(buf.Bytes()), func(marker byte, _ *io.LimitedReader) (bool, error) {
		markers = append(markers, marker)
		return len(markers) == 4, nil
	})
	if want := []byte{jpegAPP1, jpegAPP2, jpegCOM, 0xDB}; !bytes.Equal(markers, want) {
		t.Errorf("JPEG segments % x, want % x", markers, want)
	}
}

// tiffEntry is one entry of an IFD that testTIFF lays out.
type tiffEntry struct {
	tag, typ     uint16
	count, value uint32
}

// testTIFF lays out an EXIF block in the byte order: IFD0 (its entries and
// a pointer to the Exif IFD), the Exif IFD, and IFD1 pointing at thumb,
// which follows; the offsets of the three IFDs and of the thumbnail.
func testTIFF(order interface {
	binary.ByteOrder
	binary.AppendByteOrder
}, ifd0, exifIFD []tiffEntry, thumb []byte) (tiff []byte, at [4]int) {
	size := func(n int) int { return 2 + 12*n + 4 }
	at[0] = 8
	at[1] = at[0] + size(len(ifd0)+1)
	at[2] = at[1] + size(len(exifIFD))
	at[3] = at[2] + size(2)
	ifd0 = append(slices.Clone(ifd0), tiffEntry{tagExifIFD, tiffLong, 1, uint32(at[1])})
	sort.Slice(ifd0, func(i, j int) bool { return ifd0[i].tag < ifd0[j].tag })
	ifd1 := []tiffEntry{{tagThumbOffset, tiffLong, 1, uint32(at[3])}, {tagThumbLength, tiffLong, 1, uint32(len(thumb))}}
	b := []byte("MM\x00*")
	if order == binary.LittleEndian {
		b = []byte("II*\x00")
	}
	b = order.AppendUint32(b, 8)
	for i, entries := range [][]tiffEntry{ifd0, exifIFD, ifd1} {
		b = order.AppendUint16(b, uint16(len(entries)))
		for _, e := range entries {
			b = order.AppendUint16(b, e.tag)
			b = order.AppendUint16(b, e.typ)
			b = order.AppendUint32(b, e.count)
			if e.typ == tiffShort && e.count == 1 {
				b = order.AppendUint16(b, uint16(e.value))
				b = append(b, 0, 0)
			} else {
				b = order.AppendUint32(b, e.value)
			}
		}
		next := uint32(0)
		if i == 0 {
			next = uint32(at[2])
		}
		b = order.AppendUint32(b, next)
	}
	return append(b, thumb...), at
}

// TestUprightEXIF edits a block in both byte orders: orientation 1 (from a
// malformed entry too), the dimensions as SHORT where they were and fit,
// else LONG, IFD1 unlinked, its thumbnail zeroed, and no other byte
// changed; editing again changes nothing.
func TestUprightEXIF(t *testing.T) {
	thumb := []byte("\xFF\xD8 not a photo of the dream \xFF\xD9")
	for _, order := range []interface {
		binary.ByteOrder
		binary.AppendByteOrder
	}{binary.BigEndian, binary.LittleEndian} {
		tiff, at := testTIFF(order,
			[]tiffEntry{{tagImageWidth, tiffShort, 1, 640}, {tagImageLength, tiffLong, 1, 480}, {tagOrientation, tiffLong, 2, 6}},
			[]tiffEntry{{tagPixelXDimension, tiffShort, 1, 640}, {tagPixelYDimension, tiffShort, 1, 480}},
			thumb)
		got, err := uprightEXIF(tiff, 70000, 3)
		if err != nil {
			t.Fatal(err)
		}
		want := slices.Clone(tiff)
		entry := func(ifd, i int) []byte { return want[at[ifd]+2+12*i:][:12] }
		set := func(e []byte, typ uint16, v uint32) {
			order.PutUint16(e[2:], typ)
			order.PutUint32(e[4:], 1)
			clear(e[8:])
			if typ == tiffShort {
				order.PutUint16(e[8:], uint16(v))
			} else {
				order.PutUint32(e[8:], v)
			}
		}
		set(entry(0, 0), tiffLong, 70000)  // ImageWidth: 70000 needs a LONG
		set(entry(0, 1), tiffLong, 3)      // ImageLength
		set(entry(0, 2), tiffShort, 1)     // Orientation, from LONG x 2
		set(entry(1, 0), tiffLong, 70000)  // PixelXDimension
		set(entry(1, 1), tiffShort, 3)     // PixelYDimension stays a SHORT
		order.PutUint32(want[at[1]-4:], 0) // IFD0's next IFD
		clear(want[at[3]:])                // the thumbnail
		if !bytes.Equal(got, want) {
			t.Errorf("%v:\n got % x\nwant % x", order, got, want)
		}
		if again, err := uprightEXIF(got, 70000, 3); err != nil || !bytes.Equal(again, got) {
			t.Errorf("%v: editing again: %v, changed %v", order, err, !bytes.Equal(again, got))
		}
		if exifOrientation(got) != 1 {
			t.Errorf("%v: go-exif reads orientation %d", order, exifOrientation(got))
		}
	}
	// A thumbnail that claims to lie over IFD0 is unlinked, not zeroed.
	tiff, at := testTIFF(binary.BigEndian, []tiffEntry{{tagOrientation, tiffShort, 1, 3}}, nil, nil)
	binary.BigEndian.PutUint32(tiff[at[2]+2+8:], 8)   // thumbnail offset: IFD0
	binary.BigEndian.PutUint32(tiff[at[2]+14+8:], 30) // length
	got, err := uprightEXIF(tiff, 5, 5)
	if err != nil || binary.BigEndian.Uint16(got[8:]) != 2 || exifOrientation(got) != 1 || binary.BigEndian.Uint32(got[at[1]-4:]) != 0 {
		t.Errorf("thumbnail over IFD0: %v, % x", err, got)
	}
}

// TestMalformedMetadataIsDropped: a profile or EXIF block that cannot be
// carried is dropped with a note saying why; the photo decodes as ever.
func TestMalformedMetadataIsDropped(t *testing.T) {
	jpg := encodeJPEG(t, gridImage("AB"))
	png := encodePNG(t, gridImage("AB"))
	good := testProfile(t, 300)
	app2 := func(seq, n byte, data []byte) []byte {
		return jpegSegment(jpegAPP2, []byte(iccPrefix), []byte{seq, n}, data)
	}
	withSegments := func(segs ...[]byte) []byte {
		out := slices.Clone(jpg[:2])
		for _, s := range segs {
			out = append(out, s...)
		}
		return append(out, jpg[2:]...)
	}
	iccp := func(payload []byte) []byte { return afterIHDR(png, pngChunk("iCCP", payload)) }
	zipped := func(b []byte) []byte {
		var z bytes.Buffer
		zw := zlib.NewWriter(&z)
		zw.Write(b)
		zw.Close()
		return z.Bytes()
	}
	badHeader := slices.Clone(good)
	binary.BigEndian.PutUint32(badHeader, 299)
	noSignature := slices.Clone(good)
	copy(noSignature[36:], "xxxx")
	cmyk := slices.Clone(good)
	copy(cmyk[16:], "CMYK")
	exifAt := func(tiff []byte) []byte { return withAPP1(jpg, tiff) }
	farExif, _ := testTIFF(binary.BigEndian, nil, nil, nil)
	binary.BigEndian.PutUint32(farExif[8+2+8:], 1<<20) // the Exif IFD pointer
	selfExif, _ := testTIFF(binary.BigEndian, nil, nil, nil)
	binary.BigEndian.PutUint32(selfExif[8+2+8:], 8) // the Exif IFD is IFD0
	bigEXIF := append(tiffOrientation(binary.LittleEndian, 6), make([]byte, maxCarriedEXIF)...)
	for _, c := range []struct {
		name string
		file []byte
		note string
	}{
		{"ICC chunk missing", withSegments(app2(1, 3, good[:100]), app2(3, 3, good[200:])), "ICC profile dropped: JPEG APP2 chunk 2 of 3 is missing"},
		{"ICC chunk twice", withSegments(app2(1, 1, good), app2(1, 1, good)), "chunk 1 of 1 twice"},
		{"ICC counts differ", withSegments(app2(1, 2, good[:100]), app2(2, 3, good[100:])), "counted as 2 and as 3"},
		{"ICC chunk 0", withSegments(app2(0, 1, good)), "numbered 0 of 1"},
		{"ICC chunk without number", withSegments(jpegSegment(jpegAPP2, []byte(iccPrefix))), "truncated"},
		{"ICC size", withSegments(app2(1, 1, badHeader)), "its header says 299 bytes, the profile has 300"},
		{"not a profile", withSegments(app2(1, 1, []byte(strings.Repeat("text ", 40)))), "its header says 1952807028 bytes, the profile has 200"},
		{"no signature", withSegments(app2(1, 1, noSignature)), `no "acsp" signature at byte 36 ("xxxx")`},
		{"CMYK profile", withSegments(app2(1, 1, cmyk)), `a profile of "CMYK" colours, and the image is decoded as RGB`},
		{"short profile", withSegments(app2(1, 1, good[:64])), "shorter than a profile's 128-byte header"},
		{"iCCP bad zlib", iccp([]byte("icc\x00\x00not zlib")), "ICC profile dropped: PNG iCCP chunk: zlib"},
		{"iCCP method", iccp(append([]byte("icc\x00\x01"), zipped(good)...)), "compression method"},
		{"iCCP no name", iccp(append([]byte("\x00\x00"), zipped(good)...)), "profile name"},
		{"iCCP truncated zlib", iccp(append([]byte("icc\x00\x00"), zipped(good)[:40]...)), "unexpected EOF"},
		{"EXIF header", exifAt([]byte("XX\x00*\x00\x00\x00\x08")), "EXIF dropped: EXIF: no TIFF header"},
		{"EXIF IFD0 outside", exifAt(append([]byte("MM\x00*"), 0, 0, 1, 0)), "IFD0 at offset 256 lies outside the 8-byte block"},
		{"EXIF entries past end", exifAt(append(tiffOrientation(binary.BigEndian, 6)[:8], 0, 9)), "its 9 entries run past the end"},
		{"Exif IFD outside", exifAt(farExif), "the Exif IFD at offset 1048576 lies outside"},
		{"Exif IFD is IFD0", exifAt(selfExif), "the Exif IFD at offset 8 overlaps bytes 8 to 26"},
		{"EXIF too large", afterIHDR(png, pngChunk("eXIf", bigEXIF)), fmt.Sprintf("EXIF dropped: %d bytes, over the 65527", len(bigEXIF))},
	} {
		img, info, err := DecodeInfo(bytes.NewReader(c.file), 0)
		if err != nil {
			t.Errorf("%s: %v", c.name, err)
			continue
		}
		if c.name == "EXIF too large" { // its orientation, 6, is read all the same
			checkGrid(t, img, "A", "B")
		} else {
			checkGrid(t, img, "AB")
		}
		if info.ICC != nil || info.EXIF != nil || len(info.Notes) != 1 || !strings.Contains(info.Notes[0], c.note) {
			t.Errorf("%s: ICC %d bytes, EXIF %d bytes, notes %q; want a note %q", c.name, len(info.ICC), len(info.EXIF), info.Notes, c.note)
		}
	}
}

// TestEncodeRefusesWhatItCannotCarry: Encode's own checks, for callers
// whose profile or EXIF did not come from Decode.
func TestEncodeRefusesWhatItCannotCarry(t *testing.T) {
	big := append(tiffOrientation(binary.BigEndian, 1), make([]byte, maxCarriedEXIF)...)
	grey := testProfile(t, 300)
	copy(grey[16:], "GRAY")
	for _, c := range []struct {
		format string
		opts   EncodeOptions
		want   string
	}{
		{"png", EncodeOptions{ICC: []byte("not a profile")}, "imageio: ICC profile: 13 bytes"},
		{"jpeg", EncodeOptions{ICC: grey}, `imageio: ICC profile of "GRAY" colours for an image written as "RGB "`},
		{"jpeg", EncodeOptions{EXIF: []byte("MM\x00*\x00\x00\x01\x00")}, "imageio: EXIF: IFD0 at offset 256"},
		{"jpeg", EncodeOptions{EXIF: big}, "over the 65527 a JPEG's EXIF segment holds"},
	} {
		if err := Encode(io.Discard, gridImage("A"), c.format, c.opts); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v, want %q", c.format, err, c.want)
		}
	}
	if err := Encode(io.Discard, gridImage("A"), "png", EncodeOptions{EXIF: big}); err != nil {
		t.Errorf("a PNG holds a large EXIF block: %v", err)
	}
	if err := Encode(io.Discard, image.NewGray16(image.Rect(0, 0, 2, 2)), "png", EncodeOptions{ICC: grey}); err != nil {
		t.Errorf("a grey profile on a grey PNG: %v", err)
	}
}
