package server

import (
	"context"
	"encoding/json"
	"fmt"
	"image"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/deepdream-go/deepdream/video"
)

// needFFmpeg skips a test of zoom or video jobs without ffmpeg, except
// in CI, whose scripts/setup.sh installs it.
func needFFmpeg(t *testing.T) {
	t.Helper()
	if err := video.Available(); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("CI installs ffmpeg with scripts/setup.sh: %v", err)
		}
		t.Skip(err)
	}
}

// probeResult fetches an animation's result and describes it.
func (s *studio) probeResult(t *testing.T, path string) video.Info {
	t.Helper()
	data, ctype := s.fetch(t, path)
	if ctype != "video/mp4" {
		t.Errorf("%s is %s, want video/mp4", path, ctype)
	}
	file := filepath.Join(t.TempDir(), "result.mp4")
	if err := os.WriteFile(file, data, 0o644); err != nil {
		t.Fatal(err)
	}
	info, err := video.Probe(context.Background(), file)
	if err != nil {
		t.Fatal(err)
	}
	return info
}

// emptyDir fails unless dir is empty or missing.
func emptyDir(t *testing.T, what, dir string) {
	t.Helper()
	if des, _ := os.ReadDir(dir); len(des) > 0 {
		var names []string
		for _, de := range des {
			names = append(names, de.Name())
		}
		t.Errorf("%s holds %v", what, names)
	}
}

// TestZoomJobGoesToTheGallery dreams a zoom of a tiny photo into the
// gallery: an MP4 of its frames, served as video/mp4, its options in
// the entry; the job's status counted its frames; no work is left.
func TestZoomJobGoesToTheGallery(t *testing.T) {
	needFFmpeg(t)
	s := newStudio(t, Config{})
	st := s.mustSubmit(t, pngPhoto(t, 24, 16), append(small, "kind=zoom", "frames=3", "zoom=1.1", "rotate=2", "fps=12")...)
	end := s.wait(t, st.ID)
	if end.State != stateDone || end.Frames != 3 || end.Frame != 3 || end.Result != "/api/gallery/"+st.ID+"/result.mp4" {
		t.Fatalf("final status %+v", end)
	}
	entries := s.entries(t)
	if len(entries) != 1 {
		t.Fatalf("gallery %+v, want the zoom", entries)
	}
	e := entries[0]
	if e.Kind != "zoom" || e.Frames != 3 || e.Motion["frames"] != 3.0 || e.Motion["rotate"] != 2.0 || e.Motion["fps"] != "12" || e.Width != 24 {
		t.Errorf("entry %+v", *e.Entry)
	}
	if info := s.probeResult(t, e.Result); info.Frames != 3 || info.Width != 24 || info.Rate != (video.Rate{Num: 12, Den: 1}) {
		t.Errorf("the zoom's MP4: %+v", info)
	}
	if _, ctype := s.fetch(t, e.Thumb); ctype != "image/jpeg" {
		t.Errorf("thumbnail: %s", ctype)
	}
	emptyDir(t, "the work directory", filepath.Join(s.data, "work"))
}

// TestZoomJobCancelled cancels a zoom in its second frame, then the
// next one of its group by the group: nothing of them is kept, no file
// is left behind.
func TestZoomJobCancelled(t *testing.T) {
	needFFmpeg(t)
	s := newStudio(t, Config{})
	long := []string{"kind=zoom", "frames=500", "octaves=1", "iterations=20", "group=zooms"}
	first := s.mustSubmit(t, pngPhoto(t, 32, 24), long...)
	second := s.mustSubmit(t, pngPhoto(t, 32, 24), long...)
	secondFrame := func(id string) {
		t.Helper()
		deadline := time.Now().Add(20 * time.Second)
		for cur := (Status{}); cur.Frame < 2; time.Sleep(5 * time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatalf("the zoom did not reach its second frame: %+v", cur)
			}
			s.get(t, "/api/jobs/"+id, &cur)
		}
		if _, err := os.Stat(filepath.Join(s.data, "work", id, "frames", video.FrameName(0))); err != nil {
			t.Errorf("the first frame is not in the job's work directory: %v", err)
		}
	}
	secondFrame(first.ID)
	if res := s.do(t, "DELETE", "/api/jobs/"+first.ID); res.StatusCode != http.StatusOK {
		t.Fatalf("cancel: %s", res.Status)
	}
	secondFrame(second.ID) // it starts once the first has gone
	var n map[string]int
	req, _ := http.NewRequest("DELETE", s.url+"/api/groups/zooms", nil)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	json.NewDecoder(res.Body).Decode(&n)
	res.Body.Close()
	if n["cancelled"] != 1 {
		t.Errorf("the group's cancel: %v, want the second zoom", n)
	}
	for _, id := range []string{first.ID, second.ID} {
		if end := s.wait(t, id); end.State != stateCancelled {
			t.Fatalf("ended %+v", end)
		}
	}
	if n := len(s.entries(t)); n != 0 {
		t.Errorf("%d gallery entries after cancelled zooms", n)
	}
	for _, d := range []string{"work", "tmp", "gallery"} {
		emptyDir(t, d, filepath.Join(s.data, d))
	}
}

// makeClip makes a clip of frames of w x h at 12 frames a second with
// ffmpeg, and returns its bytes.
func makeClip(t *testing.T, frames, w, h int) []byte {
	t.Helper()
	file := filepath.Join(t.TempDir(), "clip.mp4")
	out, err := exec.Command("ffmpeg", "-nostdin", "-v", "error", "-f", "lavfi", "-i", fmt.Sprintf("testsrc=size=%dx%d:rate=12", w, h),
		"-frames:v", fmt.Sprint(frames), "-c:v", "libx264", "-pix_fmt", "yuv420p", file).CombinedOutput()
	if err != nil {
		t.Fatalf("making a clip: %v: %s", err, out)
	}
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// TestVideoJobGoesToTheGallery dreams a tiny clip, made here with
// ffmpeg: an MP4 of as many frames at its rate, the clip kept as the
// original; a photo sent as a video job's, or a clip as a zoom's, is
// refused.
func TestVideoJobGoesToTheGallery(t *testing.T) {
	needFFmpeg(t)
	s := newStudio(t, Config{})
	clip := makeClip(t, 5, 32, 24)
	st := s.mustSubmitFiles(t, []part{{"clip", clip}}, append(small, "kind=video", "blend=0.5", "max_size=24")...)
	end := s.wait(t, st.ID)
	if end.State != stateDone || end.Frames != 5 {
		t.Fatalf("final status %+v", end)
	}
	e := s.entries(t)[0]
	if e.Kind != "video" || e.Format != "mp4" || e.Frames != 5 || e.Motion["blend"] != 0.5 || e.Motion["flow"] != true || e.Width != 24 || e.Height != 18 {
		t.Errorf("entry %+v", *e.Entry)
	}
	if info := s.probeResult(t, e.Result); info.Frames != 5 || info.Width != 24 || info.Rate != (video.Rate{Num: 12, Den: 1}) {
		t.Errorf("the video's MP4: %+v", info)
	}
	if orig, ctype := s.fetch(t, e.Original); len(orig) != len(clip) || ctype != "video/mp4" {
		t.Errorf("the original: %d bytes of %s, want the clip's %d of video/mp4", len(orig), ctype, len(clip))
	}
	for _, c := range []struct {
		files  []part
		fields []string
		code   int
		field  string
	}{
		{[]part{{"photo", pngPhoto(t, 16, 16)}}, []string{"kind=video"}, http.StatusBadRequest, ""},
		{[]part{{"clip", clip}}, []string{"kind=zoom", "frames=2"}, http.StatusBadRequest, ""},
		{[]part{{"clip", pngPhoto(t, 16, 16)}}, []string{"kind=video"}, http.StatusUnsupportedMediaType, ""},
		{[]part{{"photo", pngPhoto(t, 16, 16)}}, []string{"kind=zoom", "frames=0"}, http.StatusBadRequest, "frames"},
		{[]part{{"photo", pngPhoto(t, 16, 16)}}, []string{"kind=zoom", "frames=2", "pan=1"}, http.StatusBadRequest, "pan"},
		{[]part{{"clip", clip}}, []string{"kind=video", "blend=2"}, http.StatusBadRequest, "blend"},
	} {
		res, v := s.submitFiles(t, c.files, c.fields...)
		if res.StatusCode != c.code || v["error"] == nil || c.field != "" && v["field"] != c.field {
			t.Errorf("%v: %s %v, want %d naming %q", c.fields, res.Status, v, c.code, c.field)
		}
	}
}

// TestRemoteWorkerZooms sends a zoom to a worker of the queue: it lands
// in the gallery as an MP4, and nothing of it is left in the queue or in
// the worker's work directory.
func TestRemoteWorkerZooms(t *testing.T) {
	needFFmpeg(t)
	s, remote, workDir := remoteStudioWork(t)
	st := s.mustSubmit(t, pngPhoto(t, 24, 16), append(small, "kind=zoom", "frames=3")...)
	end := s.wait(t, st.ID)
	if end.State != stateDone || end.Worker != "w1" || end.Frames != 3 {
		t.Fatalf("final status %+v", end)
	}
	e := s.entries(t)[0]
	if e.Kind != "zoom" || e.Frames != 3 {
		t.Errorf("entry %+v", *e.Entry)
	}
	if info := s.probeResult(t, e.Result); info.Frames != 3 || info.Width != 24 {
		t.Errorf("the zoom's MP4: %+v", info)
	}
	var names []string
	var err error
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if names, err = remote.Files(context.Background()); err == nil && len(names) == 0 {
			break
		}
	}
	if err != nil || len(names) != 0 {
		t.Errorf("files left in the queue: %v %v", names, err)
	}
	emptyDir(t, "the worker's work directory", workDir)
}

// TestPlayBadge checks the play sign of an animation's thumbnail: white
// at the centre, darkened around it, the picture as it was elsewhere,
// and the frame it was drawn from untouched.
func TestPlayBadge(t *testing.T) {
	img := image.NewNRGBA(image.Rect(0, 0, 80, 60))
	for i := range img.Pix {
		img.Pix[i] = 200
	}
	out := playBadge(img)
	at := func(im *image.NRGBA, x, y int) uint8 { return im.Pix[im.PixOffset(x, y)] }
	if at(out, 41, 30) != 255 || at(out, 36, 30) != 80 || at(out, 5, 5) != 200 || at(img, 41, 30) != 200 {
		t.Errorf("centre %d, beside the triangle %d, corner %d, the frame's centre %d; want 255, 80, 200, 200",
			at(out, 41, 30), at(out, 36, 30), at(out, 5, 5), at(img, 41, 30))
	}
}
