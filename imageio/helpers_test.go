package imageio

import (
	"bytes"
	"encoding/binary"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"os"
	"testing"
)

// Six saturated colours, far apart even after JPEG compression.
var blockColours = map[byte]color.NRGBA{
	'A': {255, 0, 0, 255}, 'B': {0, 255, 0, 255}, 'C': {0, 0, 255, 255},
	'D': {255, 255, 0, 255}, 'E': {0, 255, 255, 255}, 'F': {255, 0, 255, 255},
}

const blockSize = 16

// gridImage paints rows of letters as blockSize squares of blockColours.
func gridImage(rows ...string) *image.NRGBA {
	img := image.NewNRGBA(image.Rect(0, 0, blockSize*len(rows[0]), blockSize*len(rows)))
	for y := range img.Rect.Dy() {
		for x := range img.Rect.Dx() {
			img.SetNRGBA(x, y, blockColours[rows[y/blockSize][x/blockSize]])
		}
	}
	return img
}

// checkGrid fails unless the centre of each block of img is near the colour
// of the letter at that place in rows.
func checkGrid(t *testing.T, img image.Image, rows ...string) {
	t.Helper()
	want := image.Rect(0, 0, blockSize*len(rows[0]), blockSize*len(rows))
	if img.Bounds() != want {
		t.Fatalf("bounds %v, want %v (%v)", img.Bounds(), want, rows)
	}
	for by, row := range rows {
		for bx := range len(row) {
			c := color.NRGBAModel.Convert(img.At(bx*blockSize+blockSize/2, by*blockSize+blockSize/2)).(color.NRGBA)
			w := blockColours[row[bx]]
			if d := absDiff(c.R, w.R) + absDiff(c.G, w.G) + absDiff(c.B, w.B); d > 60 {
				t.Errorf("block (%d,%d) = %v, want %c %v (layout %v)", bx, by, c, row[bx], w, rows)
			}
		}
	}
}

func absDiff(a, b uint8) int {
	if a > b {
		return int(a - b)
	}
	return int(b - a)
}

// tiffOrientation hand-assembles a TIFF structure whose IFD0 holds only the
// orientation tag (SHORT, count 1, value in the entry), in the byte order.
func tiffOrientation(order binary.AppendByteOrder, o uint16) []byte {
	var b []byte
	if order == binary.BigEndian {
		b = append(b, "MM\x00\x2a"...)
	} else {
		b = append(b, "II\x2a\x00"...)
	}
	b = order.AppendUint32(b, 8)      // IFD0 offset
	b = order.AppendUint16(b, 1)      // one entry
	b = order.AppendUint16(b, 0x0112) // Orientation
	b = order.AppendUint16(b, 3)      // SHORT
	b = order.AppendUint32(b, 1)      // count
	b = order.AppendUint16(b, o)      // value, left-justified in 4 bytes
	b = order.AppendUint16(b, 0)
	return order.AppendUint32(b, 0) // no next IFD
}

// withAPP1 inserts an APP1 segment holding "Exif\0\0" and tiff after the SOI
// of a JPEG stream.
func withAPP1(jpg, tiff []byte) []byte {
	payload := append([]byte("Exif\x00\x00"), tiff...)
	seg := []byte{0xFF, 0xE1}
	seg = binary.BigEndian.AppendUint16(seg, uint16(2+len(payload)))
	seg = append(seg, payload...)
	out := append([]byte{}, jpg[:2]...)
	out = append(out, seg...)
	return append(out, jpg[2:]...)
}

func encodeJPEG(t testing.TB, img image.Image) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, img, &jpeg.Options{Quality: 95}); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func encodePNG(t testing.TB, img image.Image) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// afterIHDR inserts chunk into a PNG stream right after its IHDR chunk.
func afterIHDR(p, chunk []byte) []byte {
	const at = 8 + 8 + 13 + 4
	out := append([]byte{}, p[:at]...)
	out = append(out, chunk...)
	return append(out, p[at:]...)
}

func readTestdata(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile("testdata/" + name)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
