package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/deepdream-go/deepdream/dream"
	"github.com/deepdream-go/deepdream/imageio"
	"github.com/deepdream-go/deepdream/video"
)

// zoom: an infinite zoom into a photo's dream.

type zoomOptions struct {
	motionOptions
	frames int
	zoom   float64
	rotate float64
	pan    string
}

// zoomRecord is how a zoom moves, as its record keeps it.
type zoomRecord struct {
	Input       string     `json:"input"`
	InputSHA256 string     `json:"input_sha256"`
	Frames      int        `json:"frames"`
	Zoom        float64    `json:"zoom"`
	Rotate      float64    `json:"rotate"`
	Pan         [2]float64 `json:"pan"`
	FPS         string     `json:"fps"`
	Frame       int        `json:"frame,omitempty"`
}

func newZoomCmd() *cobra.Command {
	o := zoomOptions{motionOptions: motionOptions{dreamOptions: dreamOptions{command: "zoom", req: dream.ZoomDefaults()}}}
	cmd := &cobra.Command{
		Use:   "zoom IN -o OUT --frames N [--zoom 1.05] [--rotate DEG] [--pan X,Y] [--fps 24] [--work-dir DIR] [flags]",
		Short: "Dream an infinite zoom into a photo",
		Long: `zoom dreams the photo IN, then moves the camera (--zoom, --rotate, --pan, about
the centre of the picture), dreams the result again, and so on for --frames
frames: an endless fall into the dream. OUT is an .mp4 or .webm video (through
ffmpeg: Debian's ffmpeg package), a .gif, or a directory of PNG frames
(frame-00001.png, ...), each with its record.

Every dream flag applies to each frame, as in 'deepdream dream'; a frame starts
from the last one's dream, so the defaults are lighter than dream's: 2 octaves of
5 steps (see docs/motion.md). --work-dir DIR keeps each finished frame: the same
command run again resumes where it stopped (more --frames continue a finished
zoom). Ctrl-C leaves no partial output.`,
		Example: `  deepdream zoom photo.jpg -o zoom.mp4 --frames 240 --max-size 512
  deepdream zoom photo.jpg -o spin.gif --frames 60 --zoom 1.03 --rotate 1 --max-size 320
  deepdream zoom photo.jpg -o frames/ --frames 600 --pan 2,0 --work-dir zoom.work --layer inception_3b/output
  deepdream zoom photo.jpg -o zoom.webm --frames 240 --preset dog-slug --fps 30`,
		Args: exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			o.in = args[0]
			if err := applyFromAndPreset(cmd.Flags(), &o.dreamOptions); err != nil {
				return err
			}
			return runZoom(cmd.Context(), cmd.ErrOrStderr(), &o)
		},
	}
	f := cmd.Flags()
	f.IntVar(&o.frames, "frames", 0, "frames of the animation, the photo's dream first (1 to 100000); required")
	f.Float64Var(&o.zoom, "zoom", 1.05, "scale a frame: above 1 zooms in, below 1 out (0.5 to 2)")
	f.Float64Var(&o.rotate, "rotate", 0, "degrees a frame the picture turns, counterclockwise (-180 to 180)")
	f.StringVar(&o.pan, "pan", "0,0", "pixels a frame the view moves, `X,Y`: right and down (each -1000 to 1000)")
	f.StringVar(&o.fps, "fps", "24", "frames a second of the animation (24, 29.97, 30000/1001)")
	o.registerMotion(f)
	return cmd
}

// camera reads the camera's flags.
func (o *zoomOptions) camera() (dream.Camera, error) {
	c := dream.Camera{Zoom: o.zoom, Rotate: o.rotate}
	switch {
	case o.frames < 1 || o.frames > 100000:
		return c, usagef("zoom: --frames %d: want a whole number from 1 to 100000 (--frames is required)", o.frames)
	case !(o.zoom >= 0.5 && o.zoom <= 2):
		return c, usagef("zoom: --zoom %v: want a number from 0.5 to 2", o.zoom)
	case !(o.rotate >= -180 && o.rotate <= 180):
		return c, usagef("zoom: --rotate %v: want a number from -180 to 180", o.rotate)
	}
	x, y, ok := strings.Cut(o.pan, ",")
	px, err1 := strconv.ParseFloat(strings.TrimSpace(x), 64)
	py, err2 := strconv.ParseFloat(strings.TrimSpace(y), 64)
	if !ok || err1 != nil || err2 != nil || !(math.Abs(px) <= 1000) || !(math.Abs(py) <= 1000) {
		return c, usagef("zoom: --pan %s: want X,Y, two numbers from -1000 to 1000 (pixels a frame, right and down)", o.pan)
	}
	c.PanX, c.PanY = px, py
	return c, nil
}

func runZoom(ctx context.Context, stderr io.Writer, o *zoomOptions) error {
	camera, err := o.camera()
	if err != nil {
		return err
	}
	rate, err := video.ParseRate(o.fps)
	if err != nil {
		return usagef("zoom: --fps %s: %v", o.fps, strings.TrimPrefix(err.Error(), "video: "))
	}
	if err := o.prepareMotion(stderr); err != nil {
		return err
	}
	data, err := os.ReadFile(o.in)
	if err != nil {
		return err
	}
	photo, info, err := imageio.DecodeInfo(bytes.NewReader(data), o.maxPixels)
	if err != nil {
		return pixelLimit(fmt.Errorf("%s: %w", o.in, err))
	}
	for _, note := range info.Notes {
		fmt.Fprintf(stderr, "deepdream: warning: %s: %s\n", o.in, note)
	}
	sum := sha256.Sum256(data)
	lm, err := o.loadModel(ctx, stderr, len(o.req.Layers) == 0)
	if err != nil {
		return err
	}
	req := o.req
	obj, err := lm.resolve(&req)
	if err != nil {
		return err
	}
	b := photo.Bounds()
	if req, err = o.frameTiling(lm, req, obj, func(r dream.Request) (dream.Estimate, error) { return lm.net.Estimate(b.Dx(), b.Dy(), r) }); err != nil {
		return err
	}
	w, h := dream.DreamSize(b.Dx(), b.Dy(), req.MaxSize)
	rec := motionRecord(lm.record(req), "zoom", zoomRecord{
		Input: filepath.Base(o.in), InputSHA256: hex.EncodeToString(sum[:]), Frames: o.frames,
		Zoom: camera.Zoom, Rotate: camera.Rotate, Pan: [2]float64{camera.PanX, camera.PanY}, FPS: rate.String(),
	})
	j := &motionJob{o: &o.motionOptions, key: "zoom", rec: rec, show: newMotionDisplay(stderr, o.quiet, "zoom"), start: time.Now()}
	if o.workDir != "" {
		if j.work, j.done, err = openWork(o.workDir, rec, "zoom", "frames"); err != nil {
			return err
		}
		j.done = min(j.done, o.frames)
	}
	j.out, err = video.Create(ctx, o.out, video.WriteOptions{Width: w, Height: h, Rate: rate, Comment: rec,
		FrameComment: func(i int) string { return frameRecord(rec, "zoom", i) }})
	if err != nil {
		return err
	}
	last, err := j.resume(stderr)
	if err == nil {
		z := dream.ZoomOptions{Frames: o.frames, Camera: camera, Done: j.done}
		if last != nil {
			z.Last = last
		}
		err = lm.net.Zoom(ctx, photo, req, z, j.frame, j.show.report)
	}
	return j.finish(ctx, stderr, memoryHint(err))
}
