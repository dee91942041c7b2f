package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/deepdream-go/deepdream/dream"
	"github.com/deepdream-go/deepdream/imageio"
	"github.com/deepdream-go/deepdream/motion"
)

// zoom: an infinite zoom into a photo's dream.

func newZoomCmd() *cobra.Command {
	o := motionOptions{dreamOptions: dreamOptions{command: "zoom", req: dream.ZoomDefaults()}}
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
	o.registerMotion(cmd.Flags(), motion.Zoom)
	return cmd
}

func runZoom(ctx context.Context, stderr io.Writer, o *motionOptions) error {
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
	rec := motion.Record(lm.record(req).String(), motion.Zoom, motion.Input{Name: filepath.Base(o.in), SHA256: hex.EncodeToString(sum[:])}, &o.motion)
	j := &motion.Job{Kind: motion.Zoom, Net: lm.net, Request: req, Options: o.motion, Record: rec, Photo: photo}
	return (&motionJob{o: o}).run(ctx, stderr, j)
}
