package dream

import (
	"bytes"
	"context"
	"fmt"
	"image"
	"image/color"
	"io"
	"os"
	"strings"
	"testing"

	"github.com/deepdream-go/deepdream/imageio"
	"github.com/deepdream-go/deepdream/internal/shared"
)

// TestPreprocessDeep: every 16-bit sample goes into the network's units
// and back within 1 of 65535, on both preprocessings; an 8-bit image
// widened to 16 bits is the same tensor as itself, and its tensor comes
// back at 16 bits as v*257 exactly.
func TestPreprocessDeep(t *testing.T) {
	img := image.NewNRGBA64(image.Rect(0, 0, 256, 256))
	for i := range 65536 {
		img.SetNRGBA64(i%256, i/256, color.NRGBA64{uint16(i), uint16(65535 - i), uint16(i * 7919), 0xFFFF})
	}
	shallow := testImage(40, 30)
	for name, p := range map[string]Preprocess{"Caffe": Caffe, "ImageNet": ImageNet} {
		back := p.Image16(p.Tensor(img), 256, 256)
		worst := 0
		for i := 0; i < len(img.Pix); i += 2 {
			a, b := int(img.Pix[i])<<8|int(img.Pix[i+1]), int(back.Pix[i])<<8|int(back.Pix[i+1])
			worst = max(worst, a-b, b-a)
		}
		if worst > 1 {
			t.Errorf("%s: a 16-bit sample came back %d levels of 65535 off", name, worst)
		}
		tensor := p.Tensor(shallow)
		if wide := p.Tensor(imageio.NRGBA64(shallow)); !equalFloats(wide, tensor) {
			t.Errorf("%s: an 8-bit image widened is another tensor", name)
		}
		narrow, wide := p.Image(tensor, 40, 30), p.Image16(tensor, 40, 30)
		for i, v := range narrow.Pix {
			if w := uint16(wide.Pix[2*i])<<8 | uint16(wide.Pix[2*i+1]); w != uint16(v)*257 {
				t.Fatalf("%s: sample %d is %d at 8 bits, %d at 16, not %d", name, i, v, w, uint16(v)*257)
			}
		}
	}
}

func equalFloats(a, b []float32) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// deepPhoto returns a translucent 16-bit PNG whose samples are not
// multiples of 257 and keep away from 0 and 65535 (at most 64x40 pixels),
// and its pixels.
func deepPhoto(t *testing.T, w, h int) ([]byte, *image.NRGBA64) {
	img := image.NewNRGBA64(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			img.SetNRGBA64(x, y, color.NRGBA64{uint16(8000 + 900*x + 37*y), uint16(6000 + 1500*y + 11*x), uint16(20000 + 19*x*y), uint16(65535 - 401*(x+y))})
		}
	}
	var buf bytes.Buffer
	if err := imageio.Encode(&buf, img, "png", imageio.EncodeOptions{}); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes(), img
}

// sample16 is sample c (0 R ... 3 A) of pixel (x, y).
func sample16(img *image.NRGBA64, x, y, c int) int {
	i := img.PixOffset(x, y) + 2*c
	return int(img.Pix[i])<<8 | int(img.Pix[i+1])
}

// TestDreamPhotoDeep: a 16-bit photo dreamed at its own depth comes out
// 16-bit: where a mask holds the dream back, every sample is the photo's
// within 1 of 65535, alpha exactly; where it dreams, the samples lie
// between the 8-bit levels. At 8 bits the dream is the dream of the
// photo's 8-bit decode, as before; an 8-bit photo dreamed at 16 bits is
// its 8-bit dream with the fractions kept.
func TestDreamPhotoDeep(t *testing.T) {
	n := tinyNetwork()
	const w, h = 48, 32
	file, photo := deepPhoto(t, w, h)
	req := Defaults()
	req.Layers = []string{"r"}
	req.Octaves, req.Iterations, req.Seed = 2, 3, 4
	mask := image.NewGray(image.Rect(0, 0, w, h))
	for y := range h {
		for x := w / 2; x < w; x++ {
			mask.Pix[y*w+x] = 255
		}
	}
	req.Mask, req.Images = "right.png", map[string]Image{"right.png": {Image: mask, SHA256: "x"}}
	rec := Record{Version: "test", Model: "tiny", Request: req}
	dreamAt := func(src []byte, depth int) ([]byte, image.Image) {
		t.Helper()
		out, img, err := n.DreamPhoto(context.Background(), bytes.NewReader(src), Photo{Format: "png", Depth: depth}, rec, nil)
		if err != nil {
			t.Fatal(err)
		}
		return out, img
	}
	out, img := dreamAt(file, DepthOfPhoto)
	dream, ok := img.(*image.NRGBA64)
	if !ok {
		t.Fatalf("the dream of a 16-bit photo is a %T", img)
	}
	back, info, err := imageio.DecodeDeep(bytes.NewReader(out), 0)
	if err != nil || info.Depth != 16 || !bytes.Equal(back.(*image.NRGBA64).Pix, dream.Pix) {
		t.Fatalf("the file is not the 16-bit dream: depth %d, %v", info.Depth, err)
	}
	held, between := 0, 0
	for y := range h {
		for x := range w {
			for c := range 4 {
				got, was := sample16(dream, x, y, c), sample16(photo, x, y, c)
				switch {
				case c == 3 && got != was:
					t.Fatalf("alpha at (%d,%d) is %d, the photo's %d", x, y, got, was)
				case x < w/2-2 && (got-was > 1 || was-got > 1): // the mask's edge aside
					t.Fatalf("(%d,%d) channel %d is %d where the mask holds it back, the photo's %d", x, y, c, got, was)
				case x < w/2-2:
					held++
				case x >= w/2 && c < 3 && got%257 != 0:
					between++
				}
			}
		}
	}
	t.Logf("held back: %d samples within 1 of the photo's; dreamed: %d of %d samples between 8-bit levels", held, between, w/2*h*3)
	if held < (w/2-2)*h*4 {
		t.Errorf("%d samples held back, want %d", held, (w/2-2)*h*4)
	}
	if between < w/2*h*3*9/10 {
		t.Errorf("%d of %d dreamed samples lie between 8-bit levels: the dream went through 8 bits", between, w/2*h*3)
	}
	_, img8 := dreamAt(file, 8)
	dream8, ok := img8.(*image.NRGBA)
	if !ok {
		t.Fatalf("the 8-bit dream of a 16-bit photo is a %T", img8)
	}
	photo8, _, err := imageio.DecodeInfo(bytes.NewReader(file), 0)
	if err != nil {
		t.Fatal(err)
	}
	if want, err := n.Dream(context.Background(), photo8, req, nil); err != nil || !bytes.Equal(imageio.ApplyAlpha(want, photo8).(*image.NRGBA).Pix, dream8.Pix) {
		t.Errorf("at 8 bits, the dream is not the dream of the photo's 8-bit decode (%v)", err)
	}

	// An 8-bit photo at 16 bits: its 8-bit dream, with the fractions kept,
	// also when a downscaled copy is dreamed (ResizeDeep).
	var src8 bytes.Buffer
	if err := imageio.Encode(&src8, testImage(w, h), "png", imageio.EncodeOptions{}); err != nil {
		t.Fatal(err)
	}
	for _, maxSize := range []int{0, 40} {
		rec.Request.MaxSize = maxSize
		_, wide := dreamAt(src8.Bytes(), 16)
		_, narrow := dreamAt(src8.Bytes(), DepthOfPhoto)
		if _, ok := narrow.(*image.NRGBA); !ok {
			t.Fatalf("an 8-bit photo's own depth gave a %T", narrow)
		}
		checkNear(t, fmt.Sprintf("an 8-bit photo, max size %d", maxSize), wide.(*image.NRGBA64), narrow.(*image.NRGBA))
	}
}

// checkNear fails unless the 16-bit dream rounds to the 8-bit one within
// a level (the 8-bit dream rounds the network's numbers once, the 16-bit
// one twice, to 16 bits then 8), and exactly but for 1 sample in 100.
func checkNear(t *testing.T, what string, deep *image.NRGBA64, shallow *image.NRGBA) {
	t.Helper()
	off := 0
	for y := range deep.Rect.Dy() {
		for x := range deep.Rect.Dx() {
			for c := range 3 {
				v16 := sample16(deep, x, y, c)
				v8 := int(shallow.Pix[shallow.PixOffset(x, y)+c])
				if d := (v16+128)/257 - v8; d < -1 || d > 1 {
					t.Fatalf("%s: (%d,%d) channel %d is %d at 16 bits, %d at 8", what, x, y, c, v16, v8)
				} else if d != 0 {
					off++
				}
			}
		}
	}
	t.Logf("%s: %d of %d samples round to another level", what, off, len(shallow.Pix)*3/4)
	if off > len(shallow.Pix)/100 {
		t.Errorf("%s: %d samples of the 16-bit dream round to another level than the 8-bit dream's", what, off)
	}
}

// TestDreamPhotoDepthRefused: a depth the format cannot have is refused
// before the photo is read.
func TestDreamPhotoDepthRefused(t *testing.T) {
	rec := Record{Request: Defaults()}
	rec.Request.Layers = []string{"r"}
	for _, c := range []struct {
		p    Photo
		want string
	}{
		{Photo{Format: "jpeg", Depth: 16}, "a jpeg dream has 8 bits a sample, not 16"},
		{Photo{Format: "png", Depth: 12}, "a depth of 12 bits a sample; want 8 or 16"},
	} {
		_, _, err := tinyNetwork().DreamPhoto(context.Background(), unread{t}, c.p, rec, nil)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%+v: %v, want %q", c.p, err, c.want)
		}
	}
}

// unread fails a test that reads it.
type unread struct{ t *testing.T }

func (u unread) Read([]byte) (int, error) {
	u.t.Error("the photo was read")
	return 0, io.EOF
}

// TestDreamPhotoCarries dreams a camera's photo (../shared's dog.jpg, its
// orientation made 6): the dream carries its ICC profile byte for byte
// and its EXIF, with orientation 1 (the dream is upright already); a
// broken profile is dropped, with a note, and the dream made all the same.
func TestDreamPhotoCarries(t *testing.T) {
	photo, err := os.ReadFile(shared.Path(t, "images/dog.jpg"))
	if err != nil {
		t.Fatal(err)
	}
	orientation := []byte("\x01\x12\x00\x03\x00\x00\x00\x01\x00\x01") // big-endian SHORT 1
	i := bytes.Index(photo, orientation)
	if i < 0 {
		t.Fatal("no orientation 1 tag in dog.jpg")
	}
	photo[i+9] = 6
	_, in, err := imageio.DecodeInfo(bytes.NewReader(photo), 0)
	if err != nil || in.Orientation != 6 || len(in.ICC) == 0 {
		t.Fatalf("dog.jpg: orientation %d, %d bytes of profile, %v", in.Orientation, len(in.ICC), err)
	}
	req := Defaults()
	req.Layers = []string{"r"}
	req.Octaves, req.Iterations, req.MaxSize = 1, 1, 64
	rec := Record{Version: "test", Model: "tiny", Request: req}
	for _, format := range []string{"png", "jpeg"} {
		var notes []string
		p := Photo{Format: format, Note: func(s string) { notes = append(notes, s) }}
		file, _, err := tinyNetwork().DreamPhoto(context.Background(), bytes.NewReader(photo), p, rec, nil)
		if err != nil {
			t.Fatal(err)
		}
		img, out, err := imageio.DecodeInfo(bytes.NewReader(file), 0)
		if err != nil {
			t.Fatal(err)
		}
		if out.Orientation != 1 || img.Rect.Dx() != 48 || img.Rect.Dy() != 64 || len(notes) != 0 {
			t.Errorf("%s: orientation %d, %v, notes %q: want an upright 48x64 dream", format, out.Orientation, img.Rect, notes)
		}
		if !bytes.Equal(out.ICC, in.ICC) {
			t.Errorf("%s: the dream's profile is not the photo's", format)
		}
		if !bytes.Contains(out.EXIF, []byte("Canon PowerShot S95")) || len(out.EXIF) != len(in.EXIF) {
			t.Errorf("%s: the photo's EXIF is not carried", format)
		}
	}
	// Chunk 1 of 1 renumbered 2 of 1: the profile cannot be read.
	j := bytes.Index(photo, []byte("ICC_PROFILE\x00\x01\x01"))
	broken := bytes.Clone(photo)
	broken[j+12] = 2
	var notes []string
	p := Photo{Format: "png", Note: func(s string) { notes = append(notes, s) }}
	file, _, err := tinyNetwork().DreamPhoto(context.Background(), bytes.NewReader(broken), p, rec, nil)
	if err != nil {
		t.Fatal(err)
	}
	_, out, err := imageio.DecodeInfo(bytes.NewReader(file), 0)
	if err != nil || out.ICC != nil || out.EXIF == nil || len(notes) != 1 || !strings.HasPrefix(notes[0], "ICC profile dropped: JPEG APP2 chunk numbered 2 of 1") {
		t.Errorf("a broken profile: %v, %d bytes of it carried, notes %q", err, len(out.ICC), notes)
	}
}
