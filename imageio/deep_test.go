package imageio

import (
	"bytes"
	"image"
	"image/color"
	"image/png"
	"testing"
)

// deepImage returns a 16-bit image whose samples are not multiples of
// 257 (an 8-bit image widened has only those), translucent if asked.
func deepImage(w, h int, translucent bool) *image.NRGBA64 {
	img := image.NewNRGBA64(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			a := uint16(0xFFFF)
			if translucent {
				a = uint16(0xFFFF - 977*(x+y))
			}
			img.SetNRGBA64(x, y, color.NRGBA64{uint16(1000*x + 7*y + 1), uint16(3000*y + 11*x + 2), uint16(40000 + 13*x*y + 3), a})
		}
	}
	return img
}

// TestDecodeDeep: the 16-bit PNGs (RGBA, RGB, grey) decode to NRGBA64 with
// every sample kept, and to DecodeInfo's NRGBA as before; 8-bit files
// decode to NRGBA either way.
func TestDecodeDeep(t *testing.T) {
	grey := image.NewGray16(image.Rect(0, 0, 5, 3))
	for i := range grey.Pix {
		grey.Pix[i] = uint8(37 * i)
	}
	opaque := image.NewRGBA64(image.Rect(0, 0, 5, 3))
	copy(opaque.Pix, deepImage(5, 3, false).Pix)
	for name, src := range map[string]image.Image{"NRGBA64": deepImage(7, 4, true), "RGBA64": opaque, "Gray16": grey} {
		file := encodePNG(t, src)
		img, info, err := DecodeDeep(bytes.NewReader(file), 0)
		if err != nil {
			t.Fatal(err)
		}
		deep, ok := img.(*image.NRGBA64)
		if !ok || info.Depth != 16 || deep.Rect != src.Bounds() {
			t.Fatalf("%s: %T, depth %d, %v", name, img, info.Depth, img.Bounds())
		}
		for y := range src.Bounds().Dy() {
			for x := range src.Bounds().Dx() {
				if got, want := deep.NRGBA64At(x, y), color.NRGBA64Model.Convert(src.At(x, y)); got != want {
					t.Fatalf("%s (%d,%d) = %v, want %v", name, x, y, got, want)
				}
			}
		}
		if a, ok := info.Alpha.(*image.Alpha16); name == "NRGBA64" && (!ok || a.Alpha16At(1, 1).A != 0xFFFF-2*977) {
			t.Errorf("%s: alpha %T", name, info.Alpha)
		}
		shallow, info8, err := DecodeInfo(bytes.NewReader(file), 0)
		if err != nil || info8.Depth != 16 || !bytes.Equal(shallow.Pix, NRGBA(src).Pix) {
			t.Errorf("%s: DecodeInfo does not give NRGBA's 8 bits: %v", name, err)
		}
	}
	img, info, err := DecodeDeep(bytes.NewReader(encodePNG(t, gridImage("AB"))), 0)
	if _, ok := img.(*image.NRGBA); err != nil || !ok || info.Depth != 8 {
		t.Errorf("8-bit PNG: %T, depth %d, %v", img, info.Depth, err)
	}
}

// TestEncodeDeep: a 16-bit image is written as a 16-bit PNG (RGB when
// opaque) and read back sample for sample.
func TestEncodeDeep(t *testing.T) {
	for _, translucent := range []bool{false, true} {
		img := deepImage(9, 5, translucent)
		var buf bytes.Buffer
		if err := Encode(&buf, img, "png", EncodeOptions{Metadata: "x"}); err != nil {
			t.Fatal(err)
		}
		cfg, err := png.DecodeConfig(bytes.NewReader(buf.Bytes()))
		if err != nil {
			t.Fatal(err)
		}
		ihdr := buf.Bytes()[16:29]
		if depth, colour := ihdr[8], ihdr[9]; depth != 16 || colour != map[bool]byte{false: 2, true: 6}[translucent] {
			t.Errorf("translucent %v: IHDR bit depth %d, colour type %d, %v", translucent, depth, colour, cfg.ColorModel)
		}
		back, _, err := DecodeDeep(bytes.NewReader(buf.Bytes()), 0)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(back.(*image.NRGBA64).Pix, img.Pix) {
			t.Errorf("translucent %v: the samples changed", translucent)
		}
	}
}

// TestApplyAlphaDepths: the result has the colours' depth, whatever the
// alpha channel's; 16-bit alpha on 16-bit colours is kept exactly.
func TestApplyAlphaDepths(t *testing.T) {
	colours := deepImage(6, 4, false)
	src := deepImage(6, 4, true)
	alpha := alphaOf(src).(*image.Alpha16)
	out := ApplyAlpha(colours, alpha).(*image.NRGBA64)
	for y := range 4 {
		for x := range 6 {
			c, a := colours.NRGBA64At(x, y), alpha.Alpha16At(x, y).A
			if got := out.NRGBA64At(x, y); got != (color.NRGBA64{c.R, c.G, c.B, a}) {
				t.Fatalf("(%d,%d) = %v, want %v with alpha %d", x, y, got, c, a)
			}
		}
	}
	shallow := ApplyAlpha(NRGBA(colours), alpha).(*image.NRGBA)
	if got, want := shallow.NRGBAAt(2, 1).A, uint8(alpha.Alpha16At(2, 1).A>>8); got != want {
		t.Errorf("16-bit alpha on 8-bit colours: %d, want %d", got, want)
	}
	a8 := image.NewAlpha(image.Rect(0, 0, 6, 4))
	a8.Pix[0] = 100
	if got := ApplyAlpha(colours, a8).(*image.NRGBA64).NRGBA64At(0, 0).A; got != 100*257 {
		t.Errorf("8-bit alpha on 16-bit colours: %d, want %d", got, 100*257)
	}
	if half := ApplyAlpha(deepImage(3, 2, false), alpha); half.Bounds() != image.Rect(0, 0, 3, 2) {
		t.Errorf("scaled alpha: %v", half.Bounds())
	}
}

// TestResizeDeep: a 16-bit image stays 16-bit, an 8-bit one is Resize's,
// and one widened from 8 bits is Resize's widened.
func TestResizeDeep(t *testing.T) {
	out, ok := ResizeDeep(deepImage(40, 30, false), 17, 13).(*image.NRGBA64)
	if !ok || out.Rect != image.Rect(0, 0, 17, 13) {
		t.Fatalf("%T", out)
	}
	fractions := 0
	for i := 0; i < len(out.Pix); i += 2 {
		if v := uint16(out.Pix[i])<<8 | uint16(out.Pix[i+1]); v%257 != 0 {
			fractions++
		}
	}
	if fractions < len(out.Pix)/4 {
		t.Errorf("%d of %d samples between 8-bit levels: the resize went through 8 bits", fractions, len(out.Pix)/2)
	}
	photo := image.NewNRGBA(image.Rect(0, 0, 40, 30))
	for i := range photo.Pix {
		photo.Pix[i] = uint8(i*i/7 + i)
	}
	for i, v := range NRGBA64(photo).Pix {
		if v != photo.Pix[i/2] {
			t.Fatalf("NRGBA64: byte %d is %d, want %d: widening is not exact", i, v, photo.Pix[i/2])
		}
	}
	want := Resize(photo, 17, 13)
	if got := ResizeDeep(photo, 17, 13).(*image.NRGBA); !bytes.Equal(got.Pix, want.Pix) {
		t.Error("ResizeDeep of an 8-bit image is not Resize's")
	}
	// Widening commutes with resizing: translucent pixels too.
	if got := ResizeDeep(NRGBA64(photo), 17, 13).(*image.NRGBA64); !bytes.Equal(got.Pix, NRGBA64(want).Pix) {
		t.Error("ResizeDeep of an 8-bit image widened is not Resize's widened")
	}
}
