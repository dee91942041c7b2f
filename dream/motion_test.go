package dream

import (
	"bytes"
	"context"
	"errors"
	"image"
	"image/color"
	"testing"

	"github.com/deepdream-go/deepdream/imageio"
)

// TestCameraMoves checks the camera's geometry on exact cases: standing
// still and moving by whole pixels copy pixels; a quarter turn turns the
// picture counterclockwise; zooming in keeps the centre.
func TestCameraMoves(t *testing.T) {
	img := imageio.NRGBA(testImage(9, 9))
	if got := (Camera{Zoom: 1}).move(img); !bytes.Equal(got.Pix, img.Pix) {
		t.Error("a camera that does not move changed the picture")
	}
	right := (Camera{Zoom: 1, PanX: 2}).move(img) // the view moves right: the picture left
	for y := range 9 {
		for x := range 7 {
			if right.NRGBAAt(x, y) != img.NRGBAAt(x+2, y) {
				t.Fatalf("pan: pixel (%d, %d) is %v, want (%d, %d)'s %v", x, y, right.NRGBAAt(x, y), x+2, y, img.NRGBAAt(x+2, y))
			}
		}
	}
	if right.NRGBAAt(8, 4) != img.NRGBAAt(8, 4) {
		t.Error("pan: beyond the picture is not its edge")
	}
	marked := imageio.NRGBA(testImage(9, 9))
	marked.SetNRGBA(8, 0, color.NRGBA{255, 0, 0, 255}) // the top right corner
	turned := (Camera{Zoom: 1, Rotate: 90}).move(marked)
	if c := turned.NRGBAAt(0, 0); c != (color.NRGBA{255, 0, 0, 255}) {
		t.Errorf("a quarter turn counterclockwise: the top left corner is %v, want the top right's red", c)
	}
	zoomed := (Camera{Zoom: 1.5}).move(img)
	if zoomed.NRGBAAt(4, 4) != img.NRGBAAt(4, 4) {
		t.Error("zooming moved the centre")
	}
}

// TestZoomResumes dreams a zoom of 4 frames with tinynet, then again from
// its second frame as a resumed job would: the frames are the same, and
// the progress counts the steps of the frames dreamed.
func TestZoomResumes(t *testing.T) {
	n := tinyNetwork()
	req := ZoomDefaults()
	req.Layers = []string{"r"}
	req.Octaves, req.Iterations, req.Jitter = 1, 2, 2
	z := ZoomOptions{Frames: 4, Camera: Camera{Zoom: 1.05, Rotate: 2, PanX: 0.5}}
	var whole []*image.NRGBA
	var last MotionProgress
	steps := 0
	err := n.Zoom(context.Background(), testImage(40, 30), req, z, func(f Frame) error {
		if f.Index != len(whole) {
			t.Errorf("frame %d given as the %d-th", f.Index, len(whole))
		}
		whole = append(whole, f.Image)
		return nil
	}, func(p MotionProgress) {
		steps++
		if p.Step != steps || p.Steps != 8 || p.Frames != 4 {
			t.Errorf("progress %+v at step %d", p, steps)
		}
		last = p
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(whole) != 4 || last.Step != 8 || last.ETA != 0 {
		t.Fatalf("%d frames, last progress %+v", len(whole), last)
	}
	if bytes.Equal(whole[1].Pix, whole[2].Pix) {
		t.Error("two frames are the same")
	}
	z.Done, z.Last = 2, whole[1]
	var resumed []Frame
	err = n.Zoom(context.Background(), testImage(40, 30), req, z, func(f Frame) error {
		resumed = append(resumed, f)
		return nil
	}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(resumed) != 2 || resumed[0].Index != 2 {
		t.Fatalf("resumed frames: %d, the first %d", len(resumed), resumed[0].Index)
	}
	for i, f := range resumed {
		if !bytes.Equal(f.Image.Pix, whole[2+i].Pix) {
			t.Errorf("resumed frame %d differs from the uninterrupted zoom's", f.Index)
		}
	}
	stop := errors.New("stop")
	calls := 0
	err = n.Zoom(context.Background(), testImage(40, 30), req, ZoomOptions{Frames: 3, Camera: Camera{Zoom: 1}}, func(Frame) error { calls++; return stop }, nil)
	if !errors.Is(err, stop) || calls != 1 {
		t.Errorf("a callback's error: %v after %d calls", err, calls)
	}
	for _, bad := range []ZoomOptions{{Frames: 0, Camera: Camera{Zoom: 1}}, {Frames: 2, Camera: Camera{Zoom: 0}}, {Frames: 2, Camera: Camera{Zoom: 1}, Done: 1}} {
		if err := n.Zoom(context.Background(), testImage(40, 30), req, bad, func(Frame) error { return nil }, nil); err == nil {
			t.Errorf("%+v is not refused", bad)
		}
	}
}

func TestDreamSize(t *testing.T) {
	for _, c := range []struct{ w, h, max, ww, wh int }{
		{768, 576, 512, 512, 384}, {768, 576, 0, 768, 576}, {100, 50, 200, 100, 50}, {1000, 3, 16, 16, 1},
	} {
		if w, h := DreamSize(c.w, c.h, c.max); w != c.ww || h != c.wh {
			t.Errorf("DreamSize(%d, %d, %d) = %d, %d; want %d, %d", c.w, c.h, c.max, w, h, c.ww, c.wh)
		}
	}
}
