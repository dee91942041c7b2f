package main

import (
	"bytes"
	"context"
	"encoding/json"
	"image"
	"image/color"
	"os"
	"os/exec"
	"path/filepath"
	"runtime/debug"
	"strconv"
	"strings"
	"testing"

	"github.com/spf13/cobra"

	"github.com/deepdream-go/deepdream/dream"
	"github.com/deepdream-go/deepdream/imageio"
	"github.com/deepdream-go/deepdream/internal/race"
	"github.com/deepdream-go/deepdream/internal/tinynet"
	"github.com/deepdream-go/deepdream/video"
)

// needFFmpeg skips the test without ffmpeg, except in CI, where
// scripts/setup.sh installs it.
func needFFmpeg(t *testing.T) {
	t.Helper()
	if err := video.Available(); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("CI installs ffmpeg with scripts/setup.sh: %v", err)
		}
		t.Skip(err)
	}
}

// writeFrames writes n frames of a picture panning right by 2 pixels a
// frame into a new directory, and returns it.
func writeFrames(t *testing.T, n, w, h int) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "frames")
	if err := os.Mkdir(dir, 0o777); err != nil {
		t.Fatal(err)
	}
	for i := range n {
		img := image.NewNRGBA(image.Rect(0, 0, w, h))
		for y := range h {
			for x := range w {
				u := x + 2*(n-i)
				img.Set(x, y, color.NRGBA{uint8(u * 7), uint8(y * 5), uint8((u * y) % 251), 255})
			}
		}
		if err := video.WritePNG(filepath.Join(dir, "in-"+string(rune('a'+i/26))+string(rune('a'+i%26))+".png"), img, ""); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// readFrames decodes the frames of a directory an animation was written
// to, and the record of each.
func readFrames(t *testing.T, dir string) ([]*image.NRGBA, []map[string]any) {
	t.Helper()
	names, err := video.Frames(dir)
	if err != nil {
		t.Fatal(err)
	}
	var frames []*image.NRGBA
	var records []map[string]any
	for _, n := range names {
		img, err := imageio.ReadFile(filepath.Join(dir, n), 0)
		if err != nil {
			t.Fatal(err)
		}
		frames = append(frames, imageio.NRGBA(img))
		text, err := imageio.ReadMetadataFile(filepath.Join(dir, n))
		if err != nil {
			t.Fatal(err)
		}
		var rec map[string]any
		if err := json.Unmarshal([]byte(text), &rec); err != nil {
			t.Fatalf("%s: %v: %q", n, err, text)
		}
		records = append(records, rec)
	}
	return frames, records
}

// TestZoomOutputs makes a zoom with tinynet into a directory of frames,
// a GIF and (with ffmpeg) an MP4: the frames, their size and rate, the
// records.
func TestZoomOutputs(t *testing.T) {
	model := writeONNX(t)
	dir := t.TempDir()
	photo := writePNG(t, dir, 80, 60)
	args := []string{"--frames", "5", "--zoom", "1.1", "--rotate", "3", "--pan", "1,-1", "--max-size", "48", "--model", model, "--octaves", "1", "--iterations", "2", "-q"}
	frames := filepath.Join(dir, "frames")
	if code, _, errOut := cli(t, context.Background(), append([]string{"zoom", photo, "-o", frames}, args...)...); code != 0 {
		t.Fatalf("zoom into a directory: exit %d: %s", code, errOut)
	}
	imgs, recs := readFrames(t, frames)
	if len(imgs) != 5 || imgs[0].Rect.Dx() != 48 || imgs[0].Rect.Dy() != 36 {
		t.Fatalf("%d frames of %v", len(imgs), imgs[0].Rect)
	}
	zoom := recs[2]["zoom"].(map[string]any)
	if zoom["frame"] != 3.0 || zoom["zoom"] != 1.1 || zoom["frames"] != 5.0 || zoom["input"] != "in.png" || recs[2]["iterations"] != 2.0 {
		t.Errorf("the third frame's record: %v", recs[2])
	}
	gifPath := filepath.Join(dir, "z.gif")
	if code, _, errOut := cli(t, context.Background(), append([]string{"zoom", photo, "-o", gifPath, "--fps", "10"}, args...)...); code != 0 {
		t.Fatalf("zoom into a GIF: exit %d: %s", code, errOut)
	}
	data, err := os.ReadFile(gifPath)
	if err != nil {
		t.Fatal(err)
	}
	var rec map[string]any
	if err := json.Unmarshal([]byte(video.GIFComment(data)), &rec); err != nil || rec["zoom"].(map[string]any)["fps"] != "10" {
		t.Errorf("the GIF's record: %v (%v)", rec, err)
	}
	needFFmpeg(t)
	mp4 := filepath.Join(dir, "z.mp4")
	if code, _, errOut := cli(t, context.Background(), append([]string{"zoom", photo, "-o", mp4, "--fps", "30000/1001"}, args...)...); code != 0 {
		t.Fatalf("zoom into an MP4: exit %d: %s", code, errOut)
	}
	info, err := video.Probe(context.Background(), mp4)
	if err != nil || info.Frames != 5 || info.Rate != (video.Rate{Num: 30000, Den: 1001}) || info.Width != 48 {
		t.Errorf("the MP4: %+v, %v", info, err)
	}
}

// TestMotionRefusals checks what is refused before any work.
func TestMotionRefusals(t *testing.T) {
	model := writeONNX(t)
	dir := t.TempDir()
	photo := writePNG(t, dir, 40, 30)
	notDir := filepath.Join(dir, "file")
	os.WriteFile(notDir, nil, 0o666)
	for _, c := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"zoom", photo, "-o", filepath.Join(dir, "a.gif")}, 2, "--frames"},
		{[]string{"zoom", photo, "-o", filepath.Join(dir, "a.gif"), "--frames", "3", "--zoom", "3"}, 2, "--zoom 3"},
		{[]string{"zoom", photo, "-o", filepath.Join(dir, "a.gif"), "--frames", "3", "--pan", "1"}, 2, "--pan 1"},
		{[]string{"zoom", photo, "-o", filepath.Join(dir, "a.avi"), "--frames", "3"}, 2, ".avi is not a supported output"},
		{[]string{"zoom", photo, "-o", filepath.Join(dir, "a.gif"), "--frames", "3", "--fps", "0"}, 2, "--fps 0"},
		{[]string{"zoom", photo, "-o", filepath.Join(dir, "a.gif"), "--frames", "3", "--work-dir", notDir}, 2, "is not a directory"},
		{[]string{"zoom", photo, "-o", filepath.Join(dir, "a.gif"), "--frames", "3", "--octaves", "0"}, 2, "--octaves 0"},
		{[]string{"video", photo, "-o", filepath.Join(dir, "a.gif"), "--blend", "2"}, 2, "--blend 2"},
		{[]string{"video", photo, "-o", filepath.Join(dir, "a.gif"), "--start", "-1"}, 2, "--start -1"},
		{[]string{"video", photo, "-o", filepath.Join(dir, "a.gif"), "--fps", "25"}, 2, "--fps is the rate of a directory"},
		{[]string{"video", dir, "-o", dir}, 2, "is the input"},
	} {
		code, _, errOut := cli(t, context.Background(), append(c.args, "--model", model)...)
		if code != c.code || !strings.Contains(errOut, c.want) {
			t.Errorf("%v: exit %d, %q; want exit %d saying %q", c.args, code, errOut, c.code, c.want)
		}
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 2 {
		t.Errorf("the refusals left %v", entries)
	}
}

// TestVideoOfFrames dreams a directory of frames into a directory of
// frames with tinynet: one dreamed frame per frame, at --max-size, their
// records saying how; --start and --duration choose a part.
func TestVideoOfFrames(t *testing.T) {
	model := writeONNX(t)
	in := writeFrames(t, 8, 64, 48)
	out := filepath.Join(t.TempDir(), "out")
	code, _, errOut := cli(t, context.Background(), "video", in, "-o", out, "--fps", "4", "--start", "0.5", "--duration", "1",
		"--max-size", "32", "--model", model, "--octaves", "1", "--iterations", "2", "--blend", "0.7", "--flicker")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	imgs, recs := readFrames(t, out)
	if len(imgs) != 4 || imgs[0].Rect.Dx() != 32 || imgs[0].Rect.Dy() != 24 {
		t.Fatalf("%d frames of %v, want 4 of 32x24", len(imgs), imgs[0].Rect)
	}
	v := recs[1]["video"].(map[string]any)
	if v["frame"] != 2.0 || v["blend"] != 0.7 || v["flow"] != true || v["start"] != 0.5 || v["fps"] != "4" {
		t.Errorf("the second frame's record: %v", v)
	}
	if !strings.Contains(errOut, "flicker") || !strings.Contains(errOut, "4 frames into") {
		t.Errorf("no summary with the flicker: %s", errOut)
	}
}

// TestVideoKeepsRateCountAndSound dreams a video with a sound through
// ffmpeg: the output has the input's rate, frame count and sound, and
// the record in its comment.
func TestVideoKeepsRateCountAndSound(t *testing.T) {
	needFFmpeg(t)
	model := writeONNX(t)
	dir := t.TempDir()
	in := filepath.Join(dir, "in.mp4")
	out, err := exec.Command("ffmpeg", "-nostdin", "-v", "error", "-f", "lavfi", "-i", "testsrc=size=80x60:rate=30000/1001", "-f", "lavfi", "-i", "sine=frequency=440",
		"-t", "0.5", "-c:v", "libx264", "-pix_fmt", "yuv420p", "-c:a", "aac", in).CombinedOutput()
	if err != nil {
		t.Fatalf("making the input: %v: %s", err, out)
	}
	dreamed := filepath.Join(dir, "out.mp4")
	code, _, errOut := cli(t, context.Background(), "video", in, "-o", dreamed, "--model", model, "--octaves", "1", "--iterations", "1", "-q")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	got, err := video.Probe(context.Background(), dreamed)
	if err != nil {
		t.Fatal(err)
	}
	want, _ := video.Probe(context.Background(), in)
	if got.Frames != want.Frames || got.Rate != want.Rate || got.Width != 80 || got.Audio != "aac" {
		t.Errorf("the dreamed video: %+v; the input: %+v", got, want)
	}
	comment, err := video.Comment(context.Background(), dreamed)
	var rec map[string]any
	if err != nil || json.Unmarshal([]byte(comment), &rec) != nil || rec["video"].(map[string]any)["input"] != "in.mp4" {
		t.Errorf("the record: %q, %v", comment, err)
	}
}

// TestMotionInterruptedLeavesNothing interrupts a zoom into a GIF during
// its second frame, as Ctrl-C would: no output, no temporary file; the
// work directory keeps the finished frame.
func TestMotionInterruptedLeavesNothing(t *testing.T) {
	model := writeONNX(t)
	dir := t.TempDir()
	photo := writePNG(t, dir, 40, 30)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	w := &cancelOnWrite{cancel: cancel, at: "frame 2/"}
	code := run(ctx, []string{"zoom", photo, "-o", filepath.Join(dir, "z.gif"), "--frames", "4", "--work-dir", filepath.Join(dir, "work"),
		"--model", model, "--octaves", "1", "--iterations", "2"}, &bytes.Buffer{}, w)
	if code != exitInterrupted {
		t.Fatalf("exit %d, want %d; stderr %s", code, exitInterrupted, w.buf.String())
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 2 { // in.png, work
		t.Errorf("the directory holds %v after an interrupted zoom", entries)
	}
	if names, _ := video.Frames(filepath.Join(dir, "work")); len(names) != 1 {
		t.Errorf("the work directory holds %v, want the first frame", names)
	}
}

// TestWorkDirOfAnotherJob refuses to resume from frames another job
// made, naming what differs; more frames continue a finished zoom.
func TestWorkDirOfAnotherJob(t *testing.T) {
	model := writeONNX(t)
	dir := t.TempDir()
	photo := writePNG(t, dir, 40, 30)
	work := filepath.Join(dir, "work")
	zoom := func(extra ...string) (int, string) {
		args := append([]string{"zoom", photo, "-o", filepath.Join(dir, "z.gif"), "--work-dir", work, "--model", model, "--octaves", "1", "--iterations", "1"}, extra...)
		code, _, errOut := cli(t, context.Background(), args...)
		return code, errOut
	}
	if code, errOut := zoom("--frames", "2"); code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	if code, errOut := zoom("--frames", "3", "--zoom", "1.2", "--iterations", "2"); code != 1 || !strings.Contains(errOut, "differs in iterations, zoom.zoom") {
		t.Errorf("another job's work directory: exit %d, %s", code, errOut)
	}
	code, errOut := zoom("--frames", "3")
	if code != 0 || !strings.Contains(errOut, "2 frames done") || !strings.Contains(errOut, "resuming at frame 3") || strings.Contains(errOut, "frame 1/3") {
		t.Errorf("more frames: exit %d, %s", code, errOut)
	}
}

// TestMotionTakesEveryDreamFlag checks that zoom and video have a flag
// for every field of the dream request, made from the one table
// (dream.Fields) as dream's are, and dream's other shared flags.
func TestMotionTakesEveryDreamFlag(t *testing.T) {
	dreamCmd := newDreamCmd()
	for _, cmd := range []*cobra.Command{newZoomCmd(), newVideoCmd()} {
		for _, f := range dream.Fields() {
			got, want := cmd.Flags().Lookup(f.Flag), dreamCmd.Flags().Lookup(f.Flag)
			if got == nil || want == nil || got.Usage != want.Usage || got.Value.Type() != want.Value.Type() {
				t.Errorf("%s: --%s is not dream's", cmd.Name(), f.Flag)
			}
		}
		for _, name := range []string{"model", "max-pixels", "max-memory", "preset", "from", "quiet", "output", "work-dir"} {
			if cmd.Flags().Lookup(name) == nil {
				t.Errorf("%s has no --%s", cmd.Name(), name)
			}
		}
	}
}

// TestMotionMaxMemory checks that zoom and video bound their frames by
// --max-memory as dream bounds its photo: refused before any frame, with
// dream's hint, when a frame cannot fit; tiled, the record holding the
// tile, when only a tiled frame fits. The bound is the process's: the
// test takes the test process's resident memory into it, with a margin
// of half the difference between the untiled and the most tiled frame.
func TestMotionMaxMemory(t *testing.T) {
	model := writeONNX(t)
	dir := t.TempDir()
	frames := writeFrames(t, 2, 40, 30)
	for _, args := range [][]string{
		{"zoom", writePNG(t, dir, 40, 30), "--frames", "2"},
		{"video", frames},
	} {
		out := filepath.Join(dir, args[0]+".gif")
		code, _, errOut := cli(t, context.Background(), append(args, "-o", out, "--model", model, "--layer", "r", "--max-memory", "1K")...)
		if code == 0 || !strings.Contains(errOut, "more than the") || !strings.Contains(errOut, "raise --max-memory") {
			t.Errorf("%s in 1K: exit %d: %s; want a refusal naming the estimate, the budget and what to change", args[0], code, errOut)
		}
		if _, err := os.Stat(out); err == nil {
			t.Errorf("a refused %s wrote its output", args[0])
		}
	}

	if race.Enabled {
		t.Skip("the tiled zoom: the race detector's shadow memory is in the process's resident memory, which the bound is set from")
	}
	const w, h = 2000, 1500
	photo := writePNG(t, t.TempDir(), w, h)
	n, err := dream.NewNetwork(tinynet.Model(), dream.Profile{Preprocess: dream.Caffe})
	if err != nil {
		t.Fatal(err)
	}
	req := dream.ZoomDefaults()
	req.Layers, req.Octaves, req.Iterations = []string{"r"}, 1, 1
	estimate := func(tile int) int64 {
		r := req
		r.Tile = tile
		e, err := n.Estimate(w, h, r)
		if err != nil {
			t.Fatal(err)
		}
		return e.Bytes
	}
	untiled, tiled := estimate(-1), estimate(128) // 128: the least tile
	debug.FreeOSMemory()
	bound := residentBytes() + (untiled+tiled)/2
	framesDir := filepath.Join(t.TempDir(), "zoom")
	code, _, errOut := cli(t, context.Background(), "zoom", photo, "-o", framesDir, "--frames", "1", "--model", model, "--layer", "r",
		"--octaves", "1", "--iterations", "1", "-q", "--max-memory", strconv.FormatInt(bound, 10))
	if code != 0 {
		t.Fatalf("a zoom in %d bytes (%d untiled, %d in the least tiles, beside the program's): exit %d: %s", bound, untiled, tiled, code, errOut)
	}
	_, recs := readFrames(t, framesDir)
	if tile, _ := recs[0]["tile"].(float64); !(tile >= 128 && tile < w) {
		t.Errorf("a zoom whose untiled frames do not fit its --max-memory recorded tile %v, want the tile it chose", recs[0]["tile"])
	}
}
