package video

import (
	"bytes"
	"fmt"
	"image"
	"image/color"
	"image/draw"
	"image/gif"
	"io"
	"math"

	"github.com/deepdream-go/deepdream/imageio"
	"github.com/deepdream-go/deepdream/internal/atomicfile"
)

// gifWriter keeps the frames until Close: the palette is the whole
// animation's.
type gifWriter struct {
	path   string
	o      WriteOptions
	frames []*image.NRGBA
	hist   *histogram
}

func createGIF(path string, o WriteOptions) (*gifWriter, error) {
	if err := atomicfile.Check(path); err != nil {
		return nil, err
	}
	return &gifWriter{path: path, o: o, hist: &histogram{}}, nil
}

func (g *gifWriter) Write(img image.Image) error {
	if b := img.Bounds(); b.Dx() != g.o.Width || b.Dy() != g.o.Height {
		return fmt.Errorf("video: a frame of %dx%d in a GIF of %dx%d", b.Dx(), b.Dy(), g.o.Width, g.o.Height)
	}
	n := imageio.NRGBA(opaque(img))
	if n == img { // the caller's: keep a copy
		n = &image.NRGBA{Pix: append([]byte(nil), n.Pix...), Stride: n.Stride, Rect: n.Rect}
	}
	g.hist.add(n)
	g.frames = append(g.frames, n)
	return nil
}

func (g *gifWriter) Close() error {
	if len(g.frames) == 0 {
		return fmt.Errorf("video: %s: no frames", g.path)
	}
	var buf bytes.Buffer
	if err := EncodeGIF(&buf, g.frames, g.o.Rate, g.hist.palette(256), g.o.Comment); err != nil {
		return fmt.Errorf("%s: %w", g.path, err)
	}
	g.frames = nil
	return atomicfile.WriteBytes(g.path, buf.Bytes())
}

func (g *gifWriter) Abort() { g.frames = nil }

// EncodeGIF writes frames as an animated GIF that loops forever, at rate
// (each frame's delay rounded to GIF's hundredths of a second so that
// the animation keeps its length: 3, 3, 4, ... at 30 frames a second),
// dithered (Floyd-Steinberg) onto palette, which every frame shares: a
// palette per frame would make the colours flicker. A comment, if not
// "", goes into a comment extension. Browsers show delays under 2
// hundredths as 10: an animation over 50 frames a second plays slower.
func EncodeGIF(w io.Writer, frames []*image.NRGBA, rate Rate, palette color.Palette, comment string) error {
	if len(frames) == 0 {
		return fmt.Errorf("video: a GIF of no frames")
	}
	b := frames[0].Bounds()
	anim := &gif.GIF{Config: image.Config{ColorModel: palette, Width: b.Dx(), Height: b.Dy()}}
	for i, f := range frames {
		p := image.NewPaletted(f.Bounds(), palette)
		draw.FloydSteinberg.Draw(p, p.Rect, f, f.Rect.Min)
		anim.Image = append(anim.Image, p)
		at := func(k int) int { return int(math.Round(100 * float64(k) / rate.FPS())) }
		anim.Delay = append(anim.Delay, at(i+1)-at(i))
	}
	var buf bytes.Buffer
	if err := gif.EncodeAll(&buf, anim); err != nil {
		return fmt.Errorf("video: %w", err)
	}
	data := buf.Bytes()
	if comment != "" {
		data = withGIFComment(data, comment)
	}
	_, err := w.Write(data)
	return err
}

// withGIFComment inserts a comment extension after the logical screen
// descriptor and global colour table of the GIF data.
func withGIFComment(data []byte, comment string) []byte {
	at := 13
	if data[10]&0x80 != 0 {
		at += 3 << (data[10]&7 + 1)
	}
	ext := []byte{0x21, 0xfe}
	for c := []byte(comment); len(c) > 0; {
		n := min(len(c), 255)
		ext = append(append(ext, byte(n)), c[:n]...)
		c = c[n:]
	}
	ext = append(ext, 0)
	return append(append(append([]byte(nil), data[:at]...), ext...), data[at:]...)
}

// GIFComment returns the text of the first comment extension of GIF
// data, "" when there is none.
func GIFComment(data []byte) string {
	if len(data) < 13 {
		return ""
	}
	at := 13
	if data[10]&0x80 != 0 {
		at += 3 << (data[10]&7 + 1)
	}
	if at+2 > len(data) || data[at] != 0x21 || data[at+1] != 0xfe {
		return ""
	}
	var text []byte
	for at += 2; at < len(data) && data[at] != 0; at += 1 + int(data[at]) {
		n := int(data[at])
		if at+1+n > len(data) {
			return ""
		}
		text = append(text, data[at+1:at+1+n]...)
	}
	return string(text)
}
