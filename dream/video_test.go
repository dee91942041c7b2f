package dream

import (
	"bytes"
	"context"
	"errors"
	"image"
	"io"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/deepdream-go/deepdream/flow"
	"github.com/deepdream-go/deepdream/imageio"
	"github.com/deepdream-go/deepdream/internal/race"
	"github.com/deepdream-go/deepdream/internal/shared"
	"github.com/deepdream-go/deepdream/video"
)

// sliceFrames is a FrameReader of frames in memory.
type sliceFrames []*image.NRGBA

func (s *sliceFrames) Read() (*image.NRGBA, error) {
	if len(*s) == 0 {
		return nil, io.EOF
	}
	img := (*s)[0]
	*s = (*s)[1:]
	return img, nil
}

// movingFrames are n frames of a textured picture panning right by 2
// pixels a frame.
func movingFrames(n, w, h int) []*image.NRGBA {
	wide := imageio.NRGBA(testImage(w+2*n, h))
	for y := range h {
		for x := range w + 2*n {
			if (x/5+y/5)%2 == 0 { // a checkerboard, for the flow to hold on to
				p := wide.PixOffset(x, y)
				wide.Pix[p], wide.Pix[p+1] = 255-wide.Pix[p], 255-wide.Pix[p+1]
			}
		}
	}
	var frames []*image.NRGBA
	for i := range n {
		frames = append(frames, imageio.NRGBA(imageio.Resize(wide.SubImage(image.Rect(2*(n-1-i), 0, 2*(n-1-i)+w, h)), w, h)))
	}
	return frames
}

// TestVideo dreams a short panning video with tinynet: with a blend of
// 0 each frame is its own dream; the flicker is measured from the second
// frame on; a resumed job gives the uninterrupted one's frames.
func TestVideo(t *testing.T) {
	n := tinyNetwork()
	req := VideoDefaults()
	req.Layers = []string{"r"}
	req.Octaves, req.Iterations, req.Jitter, req.Step = 1, 3, 0, 4
	src := movingFrames(4, 48, 36)
	run := func(v VideoOptions) []Frame {
		t.Helper()
		frames := sliceFrames(src)
		var out []Frame
		err := n.Video(context.Background(), &frames, req, v, func(f Frame) error { out = append(out, f); return nil }, nil)
		if err != nil {
			t.Fatal(err)
		}
		return out
	}
	alone := run(VideoOptions{Measure: true})
	for i, f := range alone {
		want, err := n.Dream(context.Background(), src[i], req, nil)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(f.Image.Pix, imageio.NRGBA(want).Pix) {
			t.Errorf("frame %d with a blend of 0 is not the frame's own dream", i)
		}
	}
	carried := run(VideoOptions{Blend: 0.8, Measure: true})
	if !math.IsNaN(carried[0].Flicker) || !(carried[1].Flicker >= 0) || !(carried[1].Followed > 0.8) {
		t.Errorf("flicker %v then %v over %v of the pixels", carried[0].Flicker, carried[1].Flicker, carried[1].Followed)
	}
	// The whole picture moves by 2 pixels: nearly every pixel followed moves.
	if !math.IsNaN(carried[0].MovingFlicker) || !(carried[1].MovingFlicker >= 0) || !(carried[1].Moving > 0.7) {
		t.Errorf("flicker where it moves %v then %v over %v of the pixels", carried[0].MovingFlicker, carried[1].MovingFlicker, carried[1].Moving)
	}
	resumed := sliceFrames(src)
	var rest []Frame
	err := n.Video(context.Background(), &resumed, req, VideoOptions{Blend: 0.8, Measure: true, Done: 2, Last: carried[1].Image},
		func(f Frame) error { rest = append(rest, f); return nil }, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(rest) != 2 || rest[0].Index != 2 {
		t.Fatalf("resumed: %d frames", len(rest))
	}
	for i, f := range rest {
		if !bytes.Equal(f.Image.Pix, carried[2+i].Image.Pix) || f.Flicker != carried[2+i].Flicker {
			t.Errorf("resumed frame %d differs from the uninterrupted video's", f.Index)
		}
	}
	short := sliceFrames(src[:1])
	if err := n.Video(context.Background(), &short, req, VideoOptions{Done: 2, Last: carried[1].Image}, func(Frame) error { return nil }, nil); err == nil {
		t.Error("resuming past the video's end is not refused")
	}
}

// TestDetailFollowsTheFlow carries a dot of dream detail into a frame
// where the picture moved 2 pixels right: along the flow it lands 2
// pixels right, with the blend's weight; without it, where it was.
func TestDetailFollowsTheFlow(t *testing.T) {
	src := movingFrames(2, 64, 48)
	prev, cur := newMotionFrame(src[0]), newMotionFrame(src[1])
	prev.out = imageio.NRGBA(src[0])
	prev.out = &image.NRGBA{Pix: append([]byte(nil), prev.out.Pix...), Stride: prev.out.Stride, Rect: prev.out.Rect}
	p := prev.out.PixOffset(30, 20)
	prev.out.Pix[p+2] = min(255, prev.out.Pix[p+2]+100) // a dot of blue detail
	var s flowState
	if err := s.estimate(context.Background(), cur, prev, flow.Options{}); err != nil {
		t.Fatal(err)
	}
	blue := func(img *image.NRGBA, x, y int) int {
		return int(img.Pix[img.PixOffset(x, y)+2]) - int(cur.in.Pix[cur.in.PixOffset(x, y)+2])
	}
	along := cur.carry(prev, &s, VideoOptions{Blend: 0.5})
	if d := blue(along, 32, 20); d < 35 || d > 65 {
		t.Errorf("along the flow, the dot's blue at (32, 20) is %+d, want about +50", d)
	}
	if d := blue(along, 30, 20); d > 15 {
		t.Errorf("along the flow, the dot stayed: %+d at (30, 20)", d)
	}
	still := cur.carry(prev, &s, VideoOptions{Blend: 0.5, NoFlow: true})
	if d := blue(still, 30, 20); d < 35 {
		t.Errorf("without the flow, the dot's blue at (30, 20) is %+d, want about +50", d)
	}
}

// TestCarriedVideoFlickersLess dreams the first 8 frames of ../shared's
// walk.mp4 with GoogLeNet, small (128x96, 2 octaves of 4 steps): the
// mean flicker (each dream against the last one moved along the flow) is
// at most half of what it is when each frame is dreamed on its own, and
// the carried dreams are about as strong (their mean difference from
// their frames). docs/motion.md has the same measured on the whole video
// at --max-size 512 with the command.
func TestCarriedVideoFlickersLess(t *testing.T) {
	if testing.Short() && race.Enabled {
		t.Skip("the flicker is measured without -race (-short); TestVideo runs the same code under it with tinynet")
	}
	n := googLeNet(t)
	walk := shared.Path(t, filepath.Join("videos", "walk.mp4"))
	if err := video.Available(); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("CI installs ffmpeg with scripts/setup.sh: %v", err)
		}
		t.Skip(err)
	}
	req := VideoDefaults()
	req.Octaves, req.Iterations, req.MaxSize = 2, 4, 128
	type measure struct{ flicker, strength float64 }
	dream := func(blend float64) measure {
		in, err := video.Open(context.Background(), walk, video.ReadOptions{Duration: 800 * time.Millisecond})
		if err != nil {
			t.Fatal(err)
		}
		defer in.Close()
		var m measure
		frames := 0
		err = n.Video(context.Background(), in, req, VideoOptions{Blend: blend, Measure: true}, func(f Frame) error {
			frames++
			if f.Index > 0 {
				m.flicker += f.Flicker / 7
				m.strength += meanAbsDiff(f.Image, f.Input) / 7
			}
			return nil
		}, nil)
		if err != nil || frames != 8 {
			t.Fatalf("%d frames, %v", frames, err)
		}
		return m
	}
	alone, carried := dream(0), dream(DefaultBlend)
	t.Logf("flicker %.3f carried (blend %v), %.3f alone (ratio %.2f); strength %.2f and %.2f",
		carried.flicker, DefaultBlend, alone.flicker, carried.flicker/alone.flicker, carried.strength, alone.strength)
	if !(carried.flicker <= alone.flicker/2) {
		t.Errorf("flicker %.3f carried, %.3f alone: want at most half", carried.flicker, alone.flicker)
	}
	if !(carried.strength > 0.75*alone.strength) {
		t.Errorf("the carried dreams differ from their frames by %.2f levels on average, the frames dreamed alone by %.2f: they faded", carried.strength, alone.strength)
	}
}

// meanAbsDiff is the mean absolute difference of the RGB samples of two
// images of one size, in levels.
func meanAbsDiff(a, b *image.NRGBA) float64 {
	pa, pb := planes(nil, a), planes(nil, b)
	var s float64
	for i := range pa {
		s += math.Abs(float64(pa[i] - pb[i]))
	}
	return s / float64(len(pa))
}

// TestNoDetailWhereTheFlowLosesThePicture carries detail into a frame in
// which a small block changed its colours in place (something the flow
// lost): the block gets none, the rest of the picture gets it.
func TestNoDetailWhereTheFlowLosesThePicture(t *testing.T) {
	src := movingFrames(1, 64, 48)[0]
	changed := imageio.NRGBA(src)
	changed = &image.NRGBA{Pix: append([]byte(nil), changed.Pix...), Stride: changed.Stride, Rect: changed.Rect}
	for y := 20; y < 24; y++ {
		for x := 30; x < 34; x++ {
			p := changed.PixOffset(x, y)
			changed.Pix[p], changed.Pix[p+1], changed.Pix[p+2] = 255-changed.Pix[p], 255-changed.Pix[p+1], 255-changed.Pix[p+2]
		}
	}
	prev, cur := newMotionFrame(src), newMotionFrame(changed)
	prev.out = &image.NRGBA{Pix: append([]byte(nil), src.Pix...), Stride: src.Stride, Rect: src.Rect}
	for i := 2; i < len(prev.out.Pix); i += 4 {
		prev.out.Pix[i] = uint8(min(255, int(prev.out.Pix[i])+40)) // blue detail everywhere
	}
	var s flowState
	if err := s.estimate(context.Background(), cur, prev, flow.Options{}); err != nil {
		t.Fatal(err)
	}
	out := cur.carry(prev, &s, VideoOptions{Blend: 0.5})
	blue := func(x, y int) int {
		return int(out.Pix[out.PixOffset(x, y)+2]) - int(cur.in.Pix[cur.in.PixOffset(x, y)+2])
	}
	if d := blue(31, 21); d != 0 {
		t.Errorf("the changed block got %+d of blue detail, want none", d)
	}
	if d := blue(10, 10); d < 10 {
		t.Errorf("the unchanged picture got %+d of blue detail, want about +20", d)
	}
}

// TestEstimateVideoBoundsEveryFrame dreams a video in the memory
// EstimateVideo says its frames take: every frame fits, the ones that
// carry detail (a mask more than the first frame's dream) included,
// which the first frame's Estimate does not hold; in less it is refused.
func TestEstimateVideoBoundsEveryFrame(t *testing.T) {
	n := tinyNetwork()
	req := VideoDefaults()
	req.Layers = []string{"r"}
	req.Octaves, req.Iterations, req.Tile = 1, 1, -1
	src := movingFrames(2, 48, 36)
	v := VideoOptions{Blend: 0.5}
	dreamIn := func(budget int64) error {
		frames := sliceFrames(src)
		r := req
		r.MaxMemory = budget
		return n.Video(context.Background(), &frames, r, v, func(Frame) error { return nil }, nil)
	}
	first, err := n.Estimate(48, 36, req)
	if err != nil {
		t.Fatal(err)
	}
	e, err := n.EstimateVideo(48, 36, req, v)
	if err != nil {
		t.Fatal(err)
	}
	if e.Bytes <= first.Bytes {
		t.Fatalf("a video's frames take %d bytes, its first frame's dream %d: the carried detail's mask is not counted", e.Bytes, first.Bytes)
	}
	var me *MemoryError
	if err := dreamIn(first.Bytes); !errors.As(err, &me) || !strings.Contains(err.Error(), "frame 2") {
		t.Errorf("in the first frame's estimate, %d bytes: %v; want the second frame refused", first.Bytes, err)
	}
	if err := dreamIn(e.Bytes); err != nil {
		t.Errorf("in EstimateVideo's %d bytes: %v", e.Bytes, err)
	}
	req.MaxMemory = e.Bytes - 1
	if _, err := n.EstimateVideo(48, 36, req, v); !errors.As(err, &me) || me.Estimate.Bytes != e.Bytes {
		t.Errorf("EstimateVideo in a byte less: %v", err)
	}
}
