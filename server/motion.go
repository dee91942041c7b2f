package server

import (
	"context"
	"errors"
	"fmt"
	"image"
	"image/color"
	"io"
	"math"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/deepdream-go/deepdream/dream"
	"github.com/deepdream-go/deepdream/imageio"
	"github.com/deepdream-go/deepdream/internal/atomicfile"
	"github.com/deepdream-go/deepdream/motion"
	"github.com/deepdream-go/deepdream/video"
)

// The zoom and video jobs: a photo's infinite zoom, or a clip dreamed
// frame by frame (package motion), into an MP4 that the gallery keeps
// and the page plays. Their options are motion.Fields', read from the
// form under their keys; the clip is the form's "clip" file.

// pageFrames is the page's initial number of frames of a zoom (the
// command line has none: --frames is required): two seconds at 24
// frames a second.
const pageFrames = 48

// motionInfo is an option of the zoom and video jobs (motion.Fields) as
// GET /api/config lists it: the page's Motion section is made from
// these. Jobs are the kinds of job it applies to.
type motionInfo struct {
	Key     string   `json:"key"`
	Label   string   `json:"label"`
	Help    string   `json:"help"`
	Kind    string   `json:"kind"`
	Default string   `json:"default"`
	Min     float64  `json:"min"`
	Max     float64  `json:"max"`
	Jobs    []string `json:"jobs"`
}

func motionInfos() []motionInfo {
	var out []motionInfo
	for _, f := range motion.Fields() {
		mi := motionInfo{Key: f.Key, Label: f.Label, Help: f.Help, Kind: f.Kind, Default: f.Default, Min: f.Min, Max: f.Max, Jobs: f.Jobs}
		if f.Key == "frames" {
			mi.Default = fmt.Sprint(pageFrames)
		}
		if f.Negated { // the form sends the field, not the flag
			mi.Help = fmt.Sprintf("on: the detail follows the picture's motion (the optical flow); off (the command line's --%s): %s", f.Flag, f.Help)
		}
		out = append(out, mi)
	}
	return out
}

// motion reads the options of a zoom or a video job from the form, each
// under its key (an empty field keeps the default), and checks them.
func (f *form) motion(kind string) (motion.Options, error) {
	o := motion.Defaults()
	for _, field := range motion.Fields() {
		if !field.For(kind) {
			continue
		}
		if v := f.get(field.Key); v != "" {
			if err := field.Set(&o, v); err != nil {
				return o, requestError(err)
			}
		}
	}
	if err := o.Validate(kind); err != nil {
		return o, requestError(err)
	}
	return o, nil
}

// sniffedVideo maps the content types http.DetectContentType finds for
// videos to the formats the gallery records of a video job's clip.
var sniffedVideo = map[string]string{"video/mp4": "mp4", "video/webm": "webm", "video/avi": "avi"}

// sniffClip returns the format of a clip, or why it is none the studio
// reads.
func sniffClip(data []byte) (string, error) {
	if len(data) == 0 {
		return "", errorf(http.StatusBadRequest, "the clip is empty")
	}
	format, ok := sniffedVideo[http.DetectContentType(data)]
	if !ok {
		return "", errorf(http.StatusUnsupportedMediaType, "the clip is not a video the studio can read (it looks like %s); use MP4, WebM or AVI", http.DetectContentType(data))
	}
	return format, nil
}

// probeTime bounds ffprobe's look at a clip.
const probeTime = 20 * time.Second

// probeClip describes a video job's clip (ffprobe, on a copy in the
// data directory's tmp), as a photo's header describes a photo: the size
// of its frames, the frames of the part o chooses.
func (s *Server) probeClip(data []byte, o motion.Options) (dream.FileHeader, int, error) {
	if err := video.Available(); err != nil {
		s.logf("a video job refused: %v", err)
		return dream.FileHeader{}, 0, errorf(http.StatusNotImplemented, "this studio cannot dream videos: its machine lacks ffmpeg (Debian's ffmpeg package)")
	}
	tmp := filepath.Join(s.gallery.tmp, "clip-"+newID())
	if err := atomicfile.Write(tmp, func(w io.Writer) error { _, err := w.Write(data); return err }); err != nil {
		s.logf("probing a clip: %v", err)
		return dream.FileHeader{}, 0, errorf(http.StatusInternalServerError, "the clip cannot be stored to be read: %s", withoutPath(err))
	}
	defer os.Remove(tmp)
	ctx, cancel := context.WithTimeout(context.Background(), probeTime)
	defer cancel()
	info, err := video.Probe(ctx, tmp)
	if err != nil {
		return dream.FileHeader{}, 0, errorf(http.StatusUnsupportedMediaType, "the clip cannot be read as a video: %s", strings.TrimPrefix(withoutPath(errors.Unwrap(err)), "exit status 1: "))
	}
	if int64(info.Width)*int64(info.Height) > int64(s.cfg.MaxPixels) {
		return dream.FileHeader{}, 0, errorf(http.StatusRequestEntityTooLarge, "the clip's frames have too many pixels: %d×%d is %.1f megapixels, over the limit of %.1f",
			info.Width, info.Height, float64(info.Width)*float64(info.Height)/1e6, float64(s.cfg.MaxPixels)/1e6)
	}
	frames := info.Frames
	if frames > 0 {
		frames = max(0, frames-info.Rate.Frames(o.Start))
		if o.Duration > 0 {
			frames = min(frames, info.Rate.Frames(o.Duration))
		}
	}
	// A frame is decoded into ffmpeg's RGB and its NRGBA copy: as an
	// RGBA image's decoding counts.
	return dream.FileHeader{Format: "video", Width: info.Width, Height: info.Height, ColorModel: color.RGBAModel, Bytes: int64(len(data))}, frames, nil
}

// motionBytes is what a zoom's or a video's frames hold beside the dream
// of one of them, w x h at the dream's size: a zoom's last frame, the
// next one moved by the camera, the frame written (RGB) and its PNG in
// the work directory, 24 bytes a pixel; a video's also the frame read
// (RGB), the last frame's input and dream, their grey pyramids, the flow
// both ways (two float32 a pixel each) and the detail carried (three
// float32), 96 bytes a pixel. Counted from the buffers, not measured; the
// writer's and reader's pipes add 2 MB.
func motionBytes(kind string, w, h int) int64 {
	perPixel := int64(24)
	if kind == motion.Video {
		perPixel = 96
	}
	return perPixel*int64(w)*int64(h) + 2<<20
}

// admitMotion adds to the peak of a frame's dream (admit's) what a zoom
// or a video holds beside it, and refuses a job that then cannot fit in
// the budget.
func (s *Server) admitMotion(kind string, m dreamMemory, req dream.Request, peak int64) (int64, error) {
	w, h := dream.DreamSize(m.photo.Width, m.photo.Height, req.MaxSize)
	peak += motionBytes(kind, w, h)
	if budget := s.q.memoryBudget(); peak+m.fileBytes() > budget {
		return 0, errorf(http.StatusRequestEntityTooLarge, "this %s of %d×%d frames needs about %s of memory, more than the studio's budget of %s: try a smaller max size",
			kind, w, h, byteSize(peak+m.fileBytes()), byteSize(budget))
	}
	return peak, nil
}

// motionDir is the work directory of a zoom or video job dreamed here.
func (s *Server) motionDir(j *job) string { return filepath.Join(s.cfg.DataDir, "work", j.id) }

// dreamMotion runs a zoom or a video job here (motion.RunFile), in its
// work directory, removed at its end.
func (s *Server) dreamMotion(ctx context.Context, j *job, net *dream.Network, rec dream.Record) (motion.FileResult, error) {
	dir := s.motionDir(j)
	defer os.RemoveAll(dir)
	return motion.RunFile(ctx, motion.FileJob{
		Kind: j.kind, Net: net, Record: rec, Options: j.motion, Input: j.original, MaxPixels: s.cfg.MaxPixels,
		Dir: dir, Progress: j.motionProgress,
	})
}

// motionProgress is a zoom's or a video's progress callback.
func (j *job) motionProgress(p dream.MotionProgress) {
	j.progressOf(p.Dream, p.Frame, p.Frames, p.Step, p.Steps, p.Elapsed, p.ETA)
}

// playBadge returns img with a play sign in its middle (a white triangle
// on a dark disc, a quarter of its shorter side across): an animation's
// thumbnail, its last frame, says that the entry plays.
func playBadge(img image.Image) *image.NRGBA {
	src := imageio.NRGBA(img) // may be img itself: drawn on a copy
	out := &image.NRGBA{Pix: slices.Clone(src.Pix), Stride: src.Stride, Rect: src.Rect}
	b := out.Rect
	r := float64(min(b.Dx(), b.Dy())) / 8
	cx, cy := float64(b.Min.X+b.Dx()/2), float64(b.Min.Y+b.Dy()/2)
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			dx, dy := float64(x)+0.5-cx, float64(y)+0.5-cy
			if dx*dx+dy*dy > r*r {
				continue
			}
			i := out.PixOffset(x, y)
			px := out.Pix[i : i+4]
			// the triangle: its left side at -r/3, its tip at r/2
			if dx >= -r/3 && math.Abs(dy) <= (r/2-dx)*0.6 {
				px[0], px[1], px[2] = 255, 255, 255
				continue
			}
			for c := range 3 {
				px[c] = uint8(int(px[c]) * 2 / 5)
			}
			px[3] = 255
		}
	}
	return out
}
