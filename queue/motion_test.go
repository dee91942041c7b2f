package queue

import (
	"bytes"
	"context"
	"image/jpeg"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/deepdream-go/deepdream/motion"
	"github.com/deepdream-go/deepdream/video"
)

// TestZoomResumesOnItsWorker stops a worker in the middle of a zoom (as
// SIGTERM does): the job goes back to the queue, and the worker started
// again on the same work directory resumes it from its finished frames
// instead of dreaming them again; the MP4 holds every frame, the
// thumbnail is the last, and the work directory goes once the job is
// done.
func TestZoomResumesOnItsWorker(t *testing.T) {
	if err := video.Available(); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("CI installs ffmpeg with scripts/setup.sh: %v", err)
		}
		t.Skip(err)
	}
	e, err := Embed(EmbedOptions{Dir: t.TempDir(), Listen: "127.0.0.1:0"})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	ctx := context.Background()
	c, err := NewClient(ctx, connect(t, e.URL), Config{AckWait: 2 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	o := motion.Defaults()
	o.Frames = 6
	tk := task("zoom1", 6)
	tk.Kind, tk.Motion = motion.Zoom, &o
	var restarted atomic.Bool
	var mu sync.Mutex
	var before, after []int // the frames reported dreamed, before the restart and after
	ended := make(chan State, 4)
	watch := func(ev Event) {
		switch {
		case ev.Progress != nil && ev.Progress.Frame > 0:
			mu.Lock()
			if restarted.Load() {
				after = append(after, ev.Progress.Frame)
			} else {
				before = append(before, ev.Progress.Frame)
			}
			mu.Unlock()
		case ev.State != nil && ev.State.Final():
			ended <- *ev.State
		}
	}
	if err := c.Submit(ctx, tk, map[string][]byte{"photo": photo(t, 32, 24)}, watch); err != nil {
		t.Fatal(err)
	}
	work := t.TempDir()
	frames := filepath.Join(work, tk.ID, "frames")
	start := func(name string) (stop func()) {
		wctx, cancel := context.WithCancel(ctx)
		w := &Worker{Name: name, Budget: 1 << 30, Network: tinyModel, Logf: t.Logf, WorkDir: work}
		var wg sync.WaitGroup
		nc := connect(t, e.URL)
		wg.Go(func() { w.Run(wctx, nc) })
		return func() { cancel(); wg.Wait() }
	}
	stop := start("w1")
	for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(5 * time.Millisecond) {
		if names, _ := video.Frames(frames); len(names) >= 3 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the zoom did not finish 3 frames")
		}
	}
	stop()
	restarted.Store(true)
	kept, _ := video.Frames(frames)
	stop = start("w1")
	defer stop()
	var end State
	select {
	case end = <-ended:
	case <-time.After(30 * time.Second):
		t.Fatal("the zoom did not end")
	}
	mu.Lock()
	defer mu.Unlock()
	if end.State != Done || end.Frames != 6 || end.Thumb == "" || end.Attempt != 2 {
		t.Fatalf("ended %+v, want done at attempt 2 with 6 frames and a thumbnail", end)
	}
	if len(after) == 0 || slices.Min(after) <= len(kept) {
		t.Errorf("after the restart the worker dreamed frames %v; the work directory held %d finished (before: %v)", after, len(kept), before)
	}
	mp4, err := c.Result(ctx, tk.ID, end)
	if err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(t.TempDir(), "zoom.mp4")
	os.WriteFile(file, mp4, 0o644)
	if info, err := video.Probe(ctx, file); err != nil || info.Frames != 6 || info.Width != 32 {
		t.Errorf("the zoom's MP4: %+v, %v", info, err)
	}
	thumb, err := c.Thumb(ctx, tk.ID, end)
	if err != nil {
		t.Fatal(err)
	}
	if img, err := jpeg.Decode(bytes.NewReader(thumb)); err != nil || img.Bounds().Dx() != 32 {
		t.Errorf("the thumbnail: %v", err)
	}
	if _, err := os.Stat(filepath.Join(work, tk.ID)); !os.IsNotExist(err) {
		t.Errorf("the job's work directory is left: %v", err)
	}
	if err := c.Forget(ctx, tk.ID); err != nil {
		t.Error(err)
	}
}
