package video

import (
	"bytes"
	"context"
	"errors"
	"image"
	"image/color"
	"image/color/palette"
	"image/draw"
	"image/gif"
	"io"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/deepdream-go/deepdream/imageio"
)

// needFFmpeg skips the test without ffmpeg, except in CI, where
// scripts/setup.sh installs it.
func needFFmpeg(t *testing.T) {
	t.Helper()
	if err := Available(); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("CI installs ffmpeg with scripts/setup.sh: %v", err)
		}
		t.Skip(err)
	}
}

// writeFrames writes the first n frames of testFrame, of o's size, to
// path, failing the test on any error, and closes the writer.
func writeFrames(t *testing.T, path string, o WriteOptions, n int) {
	t.Helper()
	w, err := Create(context.Background(), path, o)
	if err != nil {
		t.Fatal(err)
	}
	for i := range n {
		if err := w.Write(testFrame(o.Width, o.Height, i)); err != nil {
			w.Abort()
			t.Fatalf("%s: frame %d: %v", path, i, err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
}

// testFrame is frame i of a small moving pattern: a gradient with a
// square that moves right by 2 pixels a frame.
func testFrame(w, h, i int) *image.NRGBA {
	img := image.NewNRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			c := color.NRGBA{uint8(255 * x / w), uint8(255 * y / h), 128, 255}
			if x >= 4+2*i && x < 14+2*i && y >= h/4 && y < h/4+10 {
				c = color.NRGBA{250, 250, 40, 255}
			}
			img.SetNRGBA(x, y, c)
		}
	}
	return img
}

// meanDiff is the mean absolute difference of the RGB samples of a and b.
func meanDiff(a, b *image.NRGBA) float64 {
	var sum float64
	for i := range a.Pix {
		if i%4 != 3 {
			sum += math.Abs(float64(a.Pix[i]) - float64(b.Pix[i]))
		}
	}
	return sum / float64(len(a.Pix)*3/4)
}

func TestParseRate(t *testing.T) {
	for s, want := range map[string]Rate{"30000/1001": {30000, 1001}, "24": {24, 1}, "29.97": {2997, 100}, "50/2": {25, 1}, "12.5": {25, 2}} {
		got, err := ParseRate(s)
		if err != nil || got != want {
			t.Errorf("ParseRate(%q) = %v, %v; want %v", s, got, err, want)
		}
		if again, _ := ParseRate(got.String()); again != got {
			t.Errorf("%v does not read back: %v", got, again)
		}
	}
	for _, s := range []string{"0", "-1", "abc", "1/0", "0/1", "NaN", "1e9"} {
		if _, err := ParseRate(s); err == nil {
			t.Errorf("ParseRate(%q) is not refused", s)
		}
	}
	if n := (Rate{30000, 1001}).Frames(4004 * time.Millisecond); n != 120 {
		t.Errorf("4.004 s at 29.97: %d frames, want 120", n)
	}
}

func TestFramesInNaturalOrder(t *testing.T) {
	dir := t.TempDir()
	for _, name := range []string{"f10.png", "f2.png", "f1.png", "notes.txt", ".hidden.png", "F3.JPG", "f02b.png"} {
		if err := os.WriteFile(filepath.Join(dir, name), nil, 0o666); err != nil {
			t.Fatal(err)
		}
	}
	got, err := Frames(dir)
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"F3.JPG", "f1.png", "f2.png", "f02b.png", "f10.png"}; !slices.Equal(got, want) {
		t.Errorf("Frames = %v, want %v", got, want)
	}
}

// TestDirRoundTrip writes a directory of frames with their records and
// reads it back, part of it by --start and --duration.
func TestDirRoundTrip(t *testing.T) {
	out := filepath.Join(t.TempDir(), "frames")
	w, err := Create(context.Background(), out, WriteOptions{Width: 32, Height: 24, FrameComment: func(i int) string { return "frame " + FrameName(i) }})
	if err != nil {
		t.Fatal(err)
	}
	for i := range 5 {
		if err := w.Write(testFrame(32, 24, i)); err != nil {
			t.Fatal(err)
		}
		if _, err := os.Stat(out); err == nil {
			t.Fatal("the directory is there before Close")
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if text, err := imageio.ReadMetadataFile(filepath.Join(out, "frame-00002.png")); err != nil || text != "frame frame-00002.png" {
		t.Errorf("the second frame's record: %q, %v", text, err)
	}
	r, err := Open(context.Background(), out, ReadOptions{Rate: Rate{10, 1}, Start: 100 * time.Millisecond, Duration: 300 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	if info := r.Info(); info.Width != 32 || info.Height != 24 || info.Frames != 3 || info.Rate != (Rate{10, 1}) {
		t.Errorf("Info = %+v", info)
	}
	for i := 1; ; i++ {
		img, err := r.Read()
		if err == io.EOF {
			if i != 4 {
				t.Errorf("read %d frames, want 3", i-1)
			}
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(img.Pix, testFrame(32, 24, i).Pix) {
			t.Errorf("frame %d differs", i)
		}
	}
	// Writing again replaces the frames whole; a directory of other files is refused.
	writeFrames(t, out, WriteOptions{Width: 32, Height: 24}, 1)
	if names, _ := Frames(out); len(names) != 1 {
		t.Errorf("after a second write of one frame: %v", names)
	}
	os.WriteFile(filepath.Join(out, "mine.txt"), nil, 0o666)
	if _, err := Create(context.Background(), out, WriteOptions{Width: 32, Height: 24}); err == nil || !strings.Contains(err.Error(), "mine.txt") {
		t.Errorf("a directory of other files: %v", err)
	}
	// Abort leaves nothing.
	other := filepath.Join(filepath.Dir(out), "other")
	w, err = Create(context.Background(), other, WriteOptions{Width: 32, Height: 24})
	if err != nil {
		t.Fatal(err)
	}
	w.Write(testFrame(32, 24, 0))
	w.Abort()
	if entries, _ := os.ReadDir(filepath.Dir(out)); len(entries) != 1 {
		t.Errorf("after Abort: %v", entries)
	}
}

// blockError is the mean, over 4x4 blocks and channels, of the absolute
// difference between the blocks' means in got and want: dithering trades
// error per pixel for error per area, which is what the eye sees.
func blockError(got, want *image.NRGBA) float64 {
	b := want.Rect
	var sum float64
	n := 0
	for by := 0; by+4 <= b.Dy(); by += 4 {
		for bx := 0; bx+4 <= b.Dx(); bx += 4 {
			for c := range 3 {
				var d float64
				for y := by; y < by+4; y++ {
					for x := bx; x < bx+4; x++ {
						d += float64(got.Pix[got.PixOffset(x, y)+c]) - float64(want.Pix[want.PixOffset(x, y)+c])
					}
				}
				sum += math.Abs(d) / 16
				n++
			}
		}
	}
	return sum / float64(n)
}

// TestGIF writes frames of the example photo: each frame of the GIF is
// close to its frame in the mean over 4x4 blocks (closer than with the
// standard library's Plan 9 palette, and than without dithering); the
// delays add up to the animation's length; it loops; it has the record.
func TestGIF(t *testing.T) {
	photo, err := imageio.ReadFile(filepath.Join("..", "examples", "dog.jpg"), 0)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "a.gif")
	rate := Rate{30000, 1001}
	w, err := Create(context.Background(), path, WriteOptions{Width: 160, Height: 120, Rate: rate, Comment: `{"a":1}`})
	if err != nil {
		t.Fatal(err)
	}
	var frames []*image.NRGBA
	small := imageio.Resize(photo, 320, 240)
	for i := range 6 { // a pan across the photo
		f := imageio.NRGBA(small.SubImage(image.Rect(20*i, 40, 20*i+160, 160)))
		frames = append(frames, f)
		if err := w.Write(f); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if c := GIFComment(data); c != `{"a":1}` {
		t.Errorf("comment %q", c)
	}
	g, err := gif.DecodeAll(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	if len(g.Image) != 6 || g.LoopCount != 0 {
		t.Fatalf("%d frames, loop count %d", len(g.Image), g.LoopCount)
	}
	total := 0
	for _, d := range g.Delay {
		total += d
	}
	if want := int(math.Round(600 / rate.FPS())); total != want {
		t.Errorf("delays %v sum to %d hundredths, want %d", g.Delay, total, want)
	}
	for i, p := range g.Image {
		if len(p.Palette) > 256 {
			t.Fatalf("a palette of %d colours", len(p.Palette))
		}
		ours := blockError(imageio.NRGBA(p), frames[i])
		plain := image.NewPaletted(p.Rect, p.Palette)
		draw.Draw(plain, plain.Rect, frames[i], image.Point{}, draw.Src)
		plan9 := image.NewPaletted(p.Rect, palette.Plan9)
		draw.FloydSteinberg.Draw(plan9, plan9.Rect, frames[i], image.Point{})
		undithered, withPlan9 := blockError(imageio.NRGBA(plain), frames[i]), blockError(imageio.NRGBA(plan9), frames[i])
		t.Logf("frame %d: 4x4 block mean error %.2f levels (undithered %.2f, Plan 9 palette %.2f)", i, ours, undithered, withPlan9)
		if ours > 1.5 || ours >= undithered || ours >= withPlan9 {
			t.Errorf("frame %d: 4x4 blocks %.2f levels off on average; want at most 1.5, and less than undithered (%.2f) and with Plan 9's palette (%.2f)",
				i, ours, undithered, withPlan9)
		}
	}
}

// TestVideoRoundTrip writes an MP4 and a WebM through ffmpeg at NTSC's
// rate with a record, and reads them back: the frames, rate and size
// kept, the record in the comment tag.
func TestVideoRoundTrip(t *testing.T) {
	needFFmpeg(t)
	ctx := context.Background()
	dir := t.TempDir()
	for _, name := range []string{"a.mp4", "a.webm"} {
		path := filepath.Join(dir, name)
		w, err := Create(ctx, path, WriteOptions{Width: 64, Height: 48, Rate: Rate{30000, 1001}, Comment: `{"model":"googlenet"}`})
		if err != nil {
			t.Fatal(err)
		}
		for i := range 12 {
			if err := w.Write(testFrame(64, 48, i)); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := os.Stat(path); err == nil {
			t.Fatal("the video is there before Close")
		}
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
		if c, err := Comment(ctx, path); err != nil || c != `{"model":"googlenet"}` {
			t.Errorf("%s: comment %q, %v", name, c, err)
		}
		r, err := Open(ctx, path, ReadOptions{})
		if err != nil {
			t.Fatal(err)
		}
		info := r.Info()
		if info.Width != 64 || info.Height != 48 || info.Rate != (Rate{30000, 1001}) {
			t.Errorf("%s: %+v", name, info)
		}
		n := 0
		for ; ; n++ {
			img, err := r.Read()
			if err == io.EOF {
				break
			}
			if err != nil {
				t.Fatal(err)
			}
			if d := meanDiff(img, testFrame(64, 48, n)); d > 6 {
				t.Errorf("%s: frame %d is %.1f levels off on average", name, n, d)
			}
		}
		r.Close()
		if n != 12 {
			t.Errorf("%s: %d frames read back, want 12", name, n)
		}
	}
}

// TestAudioIsCopied makes a video with a sound (ffmpeg's test source
// and a sine) and writes frames with its audio: copied into an MP4,
// re-encoded as Opus into a WebM, which cannot hold AAC.
func TestAudioIsCopied(t *testing.T) {
	needFFmpeg(t)
	ctx := context.Background()
	dir := t.TempDir()
	in := filepath.Join(dir, "in.mp4")
	out, err := exec.Command("ffmpeg", "-nostdin", "-v", "error", "-f", "lavfi", "-i", "testsrc=size=64x48:rate=10", "-f", "lavfi", "-i", "sine=frequency=440",
		"-t", "1", "-c:v", "libx264", "-pix_fmt", "yuv420p", "-c:a", "aac", in).CombinedOutput()
	if err != nil {
		t.Fatalf("making the input: %v: %s", err, out)
	}
	info, err := Probe(ctx, in)
	if err != nil || info.Audio != "aac" || info.Frames != 10 {
		t.Fatalf("the input: %+v, %v", info, err)
	}
	for name, codec := range map[string]string{"out.mp4": "aac", "out.webm": "opus"} {
		path := filepath.Join(dir, name)
		writeFrames(t, path, WriteOptions{Width: 64, Height: 48, Rate: Rate{10, 1}, Audio: in, AudioStart: 200 * time.Millisecond, AudioDuration: 500 * time.Millisecond}, 5)
		got, err := Probe(ctx, path)
		if err != nil || got.Audio != codec {
			t.Errorf("%s: audio %q (%v), want %s", name, got.Audio, err, codec)
		}
	}
}

// TestWithoutFFmpeg hides ffmpeg: a video file is refused naming the
// package to install; a directory of frames and a GIF still work.
func TestWithoutFFmpeg(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("PATH", dir)
	frames := filepath.Join(dir, "frames")
	writeFrames(t, frames, WriteOptions{Width: 8, Height: 8}, 1)
	if _, err := Open(context.Background(), frames, ReadOptions{}); err != nil {
		t.Errorf("a directory without ffmpeg: %v", err)
	}
	if _, err := CheckOutput(filepath.Join(dir, "a.gif")); err != nil {
		t.Errorf("a GIF without ffmpeg: %v", err)
	}
	movie := filepath.Join(dir, "in.mp4")
	os.WriteFile(movie, []byte("not really"), 0o666)
	_, err1 := Open(context.Background(), movie, ReadOptions{})
	_, err2 := CheckOutput(filepath.Join(dir, "out.mp4"))
	for _, err := range []error{err1, err2} {
		if !errors.Is(err, ErrNoFFmpeg) || !strings.Contains(err.Error(), "apt-get install ffmpeg") {
			t.Errorf("without ffmpeg: %v", err)
		}
	}
}

// TestCancelLeavesNothing cancels ffmpeg while it writes.
func TestCancelLeavesNothing(t *testing.T) {
	needFFmpeg(t)
	dir := t.TempDir()
	ctx, cancel := context.WithCancel(context.Background())
	w, err := Create(ctx, filepath.Join(dir, "a.mp4"), WriteOptions{Width: 64, Height: 48})
	if err != nil {
		t.Fatal(err)
	}
	w.Write(testFrame(64, 48, 0))
	cancel()
	for i := 1; i < 100 && w.Write(testFrame(64, 48, i)) == nil; i++ {
	}
	if err := w.Close(); err == nil {
		t.Error("Close after the cancel succeeded")
	}
	w.Abort()
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Errorf("left behind: %v", entries)
	}
}
