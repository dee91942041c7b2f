package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/deepdream-go/deepdream/dream"
	"github.com/deepdream-go/deepdream/motion"
	"github.com/deepdream-go/deepdream/video"
)

// video: a video dreamed frame by frame, the dream carried along the
// optical flow so that it does not flicker.

type videoOptions struct {
	motionOptions
	flicker bool
}

func newVideoCmd() *cobra.Command {
	o := videoOptions{motionOptions: motionOptions{dreamOptions: dreamOptions{command: "video", req: dream.VideoDefaults()}}}
	cmd := &cobra.Command{
		Use:   "video IN -o OUT [--blend B] [--no-flow] [--start T] [--duration D] [--max-size N] [--work-dir DIR] [flags]",
		Short: "Dream a video, frame by frame, without flicker",
		Long: `video dreams each frame of the video IN (any file ffmpeg reads, or a directory
of numbered frames) and writes the dreamed video to OUT: an .mp4 or .webm with the
input's frame rate, frame count and audio (copied), a .gif, or a directory of PNG
frames, each with its record. It keeps the input's size, or --max-size's.

A frame is not dreamed from scratch: the dense optical flow from the last frame to
this one carries the last frame's dream detail (its dream less its frame) onto this
frame, weighted by --blend, before it is dreamed, so that the patterns move with the
picture instead of flickering. Where the flow cannot follow the picture (the flows
both ways disagree: something came into view or was uncovered) no detail is
carried. --no-flow carries the detail where it was, without the flow; --blend 0
dreams every frame on its own. --flicker measures, for every frame, the mean
difference between its dream and the last frame's dream moved along the flow.

Every dream flag applies to each frame, as in 'deepdream dream'; the defaults are
lighter than dream's, 3 octaves of 5 steps (see docs/motion.md). Video files need
ffmpeg and ffprobe (Debian's ffmpeg package); directories of frames do not.
--work-dir DIR keeps each finished frame: the same command run again resumes where
it stopped. Ctrl-C leaves no partial output.`,
		Example: `  deepdream video walk.mp4 -o dream.mp4 --max-size 512
  deepdream video walk.mp4 -o dream.mp4 --max-size 512 --blend 0.7 --layer inception_3b/output
  deepdream video long.mkv -o part.webm --start 1:30 --duration 10 --work-dir part.work
  deepdream video frames/ -o dreamed/ --fps 25
  deepdream video walk.mp4 -o alone.mp4 --max-size 512 --blend 0 --flicker   # each frame on its own, measured`,
		Args: exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			o.in = args[0]
			if err := applyFromAndPreset(cmd.Flags(), &o.dreamOptions); err != nil {
				return err
			}
			if cmd.Flags().Changed("fps") {
				if st, err := os.Stat(o.in); err == nil && !st.IsDir() {
					return usagef("video: --fps is the rate of a directory of frames; a video keeps its own")
				}
			} else {
				o.motion.FPS = video.Rate{} // the file's, or a directory's default
			}
			return runVideo(cmd.Context(), cmd.ErrOrStderr(), &o)
		},
	}
	f := cmd.Flags()
	f.BoolVar(&o.flicker, "flicker", false, "measure the flicker: the mean |dream - last dream moved along the flow| over the pixels the flow follows, each frame and over the video")
	o.registerMotion(f, motion.Video)
	return cmd
}

func runVideo(ctx context.Context, stderr io.Writer, o *videoOptions) error {
	if err := o.prepareMotion(stderr); err != nil {
		return err
	}
	sum, err := fileSHA256(o.in)
	if err != nil {
		return err
	}
	in, err := video.Open(ctx, o.in, video.ReadOptions{Start: o.motion.Start, Duration: o.motion.Duration, MaxPixels: o.maxPixels, Rate: o.motion.FPS})
	if err != nil {
		return pixelLimit(err)
	}
	defer in.Close()
	info := in.Info()
	lm, err := o.loadModel(ctx, stderr, len(o.req.Layers) == 0)
	if err != nil {
		return err
	}
	req := o.req
	obj, err := lm.resolve(&req)
	if err != nil {
		return err
	}
	v := dream.VideoOptions{Blend: o.motion.Blend, NoFlow: !o.motion.Flow, Measure: o.flicker, Frames: info.Frames}
	if req, err = o.frameTiling(lm, req, obj, func(r dream.Request) (dream.Estimate, error) {
		return lm.net.EstimateVideo(info.Width, info.Height, r, v)
	}); err != nil {
		return err
	}
	o.motion.FPS = info.Rate // the record's: the video's
	rec := motion.Record(lm.record(req).String(), motion.Video, motion.Input{Name: filepath.Base(o.in), SHA256: sum}, &o.motion)
	j := &motion.Job{Kind: motion.Video, Net: lm.net, Request: req, Options: o.motion, Record: rec, Frames: in, Measure: o.flicker}
	if info.Audio != "" {
		if o.format == video.MP4 || o.format == video.WebM {
			j.Write.Audio, j.Write.AudioStart, j.Write.AudioDuration = o.in, o.motion.Start, o.motion.Duration
		} else {
			fmt.Fprintf(stderr, "deepdream: warning: %s has a sound, which a %s cannot hold: it is left out\n", o.in, map[video.Format]string{video.GIF: "GIF", video.Dir: "directory of frames"}[o.format])
		}
	}
	return (&motionJob{o: &o.motionOptions}).run(ctx, stderr, j)
}
