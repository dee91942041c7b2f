package imageio

import (
	"bytes"
	"encoding/binary"
	"errors"
	"image"
	"image/color"
	"image/color/palette"
	"image/gif"
	"image/jpeg"
	"strings"
	"testing"
)

func TestConversions(t *testing.T) {
	grey := image.NewGray(image.Rect(0, 0, 4, 3))
	for i := range grey.Pix {
		grey.Pix[i] = uint8(20 * i)
	}
	cmyk := image.NewCMYK(image.Rect(0, 0, 4, 3))
	cmyk.SetCMYK(1, 2, color.CMYK{C: 255}) // cyan: no red
	cmyk.SetCMYK(2, 2, color.CMYK{K: 255}) // black
	pal := image.NewPaletted(image.Rect(0, 0, 4, 3), palette.Plan9)
	pal.SetColorIndex(3, 1, 7)
	for name, img := range map[string]image.Image{"grey": grey, "cmyk": cmyk, "paletted": pal} {
		n := NRGBA(img)
		if n.Rect != image.Rect(0, 0, 4, 3) {
			t.Fatalf("%s: bounds %v", name, n.Rect)
		}
		for y := range 3 {
			for x := range 4 {
				want := color.NRGBAModel.Convert(img.At(x, y)).(color.NRGBA)
				if got := n.NRGBAAt(x, y); got != want || got.A != 255 {
					t.Errorf("%s (%d,%d) = %v, want %v, opaque", name, x, y, got, want)
				}
			}
		}
	}
	if got := NRGBA(cmyk).NRGBAAt(1, 2); got != (color.NRGBA{0, 255, 255, 255}) {
		t.Errorf("CMYK cyan = %v", got)
	}

	// Through the decoders: a grey JPEG and a GIF with a transparent index.
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, grey, nil); err != nil {
		t.Fatal(err)
	}
	img, info, err := DecodeInfo(&buf, 0)
	if err != nil || info.Format != "jpeg" || info.HasAlpha || img.Rect.Dx() != 4 {
		t.Errorf("grey JPEG: %v %+v %v", err, info, img.Rect)
	}
	g := image.NewPaletted(image.Rect(0, 0, 4, 3), color.Palette{color.NRGBA{}, color.NRGBA{200, 10, 10, 255}})
	g.SetColorIndex(1, 1, 1)
	buf.Reset()
	if err := gif.Encode(&buf, g, nil); err != nil {
		t.Fatal(err)
	}
	img, info, err = DecodeInfo(&buf, 0)
	if err != nil {
		t.Fatal(err)
	}
	if info.Format != "gif" || !info.HasAlpha || info.Alpha.(*image.Alpha).AlphaAt(1, 1).A != 255 || info.Alpha.(*image.Alpha).AlphaAt(0, 0).A != 0 {
		t.Errorf("GIF with a transparent index: info %+v", info)
	}
	if got := img.NRGBAAt(1, 1); got != (color.NRGBA{200, 10, 10, 255}) {
		t.Errorf("GIF pixel = %v", got)
	}
}

func TestAlphaRoundTrip(t *testing.T) {
	src := image.NewNRGBA(image.Rect(0, 0, 8, 6))
	for i := 0; i < len(src.Pix); i += 4 {
		src.Pix[i], src.Pix[i+1], src.Pix[i+2], src.Pix[i+3] = uint8(i), 100, 200, uint8(i*5)
	}
	img, info, err := DecodeInfo(bytes.NewReader(encodePNG(t, src)), 0)
	if err != nil {
		t.Fatal(err)
	}
	if !info.HasAlpha || info.Alpha == nil || !bytes.Equal(img.Pix, src.Pix) {
		t.Fatalf("decoded PNG with alpha: HasAlpha %v, pixels kept %v", info.HasAlpha, bytes.Equal(img.Pix, src.Pix))
	}
	// A dream is opaque, and offset to check that bounds are honoured.
	dream := image.NewRGBA(image.Rect(5, 5, 13, 11))
	for i := range dream.Pix {
		dream.Pix[i] = uint8(i*7) | 1
		if i%4 == 3 {
			dream.Pix[i] = 255
		}
	}
	out := ApplyAlpha(dream, info.Alpha)
	path := t.TempDir() + "/dream.png"
	if err := WriteFile(path, out, EncodeOptions{}); err != nil {
		t.Fatal(err)
	}
	back, _, err := ReadFileInfo(path, 0)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < len(back.Pix); i += 4 {
		want := []byte{dream.Pix[i], dream.Pix[i+1], dream.Pix[i+2], src.Pix[i+3]}
		if !bytes.Equal(back.Pix[i:i+4], want) {
			t.Fatalf("pixel %d = %v, want the dream's colour with the original alpha %v", i/4, back.Pix[i:i+4], want)
		}
	}
	// A dream of a downscaled copy gets a scaled alpha channel.
	if half := ApplyAlpha(image.NewRGBA(image.Rect(0, 0, 4, 3)), info.Alpha).(*image.NRGBA); half.Rect.Dx() != 4 || half.Pix[3] == 255 {
		t.Errorf("scaled alpha: bounds %v, first alpha %d", half.Rect, half.Pix[3])
	}
	// An opaque image has no alpha to keep.
	if _, info, _ := DecodeInfo(bytes.NewReader(encodePNG(t, gridImage("AB"))), 0); info.HasAlpha || info.Alpha != nil {
		t.Errorf("opaque PNG: %+v", info)
	}
}

// pngHeader returns a PNG stream that stops after an IHDR declaring w x h.
func pngHeader(w, h uint32) []byte {
	ihdr := binary.BigEndian.AppendUint32(nil, w)
	ihdr = binary.BigEndian.AppendUint32(ihdr, h)
	ihdr = append(ihdr, 8, 6, 0, 0, 0) // 8-bit RGBA
	return append(append([]byte{}, pngSignature...), pngChunk("IHDR", ihdr)...)
}

func TestDecompressionBomb(t *testing.T) {
	_, _, err := DecodeInfo(bytes.NewReader(pngHeader(100000, 100000)), 0)
	if !errors.Is(err, ErrTooLarge) {
		t.Fatalf("err = %v, want ErrTooLarge", err)
	}
	for _, want := range []string{"png", "100000x100000", "10000.0 megapixels", "limit of 50.0 megapixels"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not say %q", err, want)
		}
	}
	// The limit is the caller's: 48x32 = 1536 pixels.
	jpg := encodeJPEG(t, gridImage(orientationLayouts[1]...))
	if _, _, err := DecodeInfo(bytes.NewReader(jpg), 1535); !errors.Is(err, ErrTooLarge) || !strings.Contains(err.Error(), "over the limit of 1535 pixels") {
		t.Errorf("1536 pixels with a limit of 1535: %v", err)
	}
	if _, _, err := DecodeInfo(bytes.NewReader(jpg), 1536); err != nil {
		t.Errorf("1536 pixels with a limit of 1536: %v", err)
	}
	// An input much longer than any image under the limit is not read whole.
	long := append(append([]byte{}, jpg...), make([]byte, maxFileBytes(1536))...)
	if _, _, err := DecodeInfo(bytes.NewReader(long), 1536); !errors.Is(err, ErrTooLarge) {
		t.Errorf("oversized input: %v", err)
	}
	if _, _, err := Decode(strings.NewReader("not an image"), 0); err == nil || !strings.Contains(err.Error(), "supported: JPEG, PNG, GIF, WebP") {
		t.Errorf("garbage: %v", err)
	}
}
