package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/deepdream-go/deepdream/dream"
	"github.com/deepdream-go/deepdream/video"
)

// video: a video dreamed frame by frame, the dream carried along the
// optical flow so that it does not flicker.

type videoOptions struct {
	motionOptions
	blend           float64
	noFlow          bool
	flicker         bool
	start, duration string
}

// videoRecord is how a video was dreamed, as its record keeps it.
type videoRecord struct {
	Input       string  `json:"input"`
	InputSHA256 string  `json:"input_sha256"`
	Start       float64 `json:"start"`    // seconds
	Duration    float64 `json:"duration"` // seconds, 0: to the end
	FPS         string  `json:"fps"`
	Blend       float64 `json:"blend"`
	Flow        bool    `json:"flow"`
	Frame       int     `json:"frame,omitempty"`
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
				o.fps = ""
			}
			return runVideo(cmd.Context(), cmd.ErrOrStderr(), &o)
		},
	}
	f := cmd.Flags()
	f.Float64Var(&o.blend, "blend", dream.DefaultBlend, "weight of the last frame's dream detail carried into a frame, 0 to 1 (0: every frame dreamed on its own)")
	f.BoolVar(&o.noFlow, "no-flow", false, "carry the detail where it was, without following the motion (the first DeepDream videos' way)")
	f.BoolVar(&o.flicker, "flicker", false, "measure the flicker: the mean |dream - last dream moved along the flow| over the pixels the flow follows, each frame and over the video")
	f.StringVar(&o.start, "start", "0", "dream from this time of the video: seconds (12.5), [HH:]MM:SS[.frac], or a duration (1m30s)")
	f.StringVar(&o.duration, "duration", "0", "dream this long a part of the video, as --start (0: to the end)")
	f.StringVar(&o.fps, "fps", "24", "frames a second of a directory of frames (a video file keeps its own)")
	o.registerMotion(f)
	return cmd
}

func runVideo(ctx context.Context, stderr io.Writer, o *videoOptions) error {
	if !(o.blend >= 0 && o.blend <= 1) {
		return usagef("video: --blend %v: want a number from 0 to 1", o.blend)
	}
	start, err := parseTime("start", o.start)
	if err != nil {
		return err
	}
	duration, err := parseTime("duration", o.duration)
	if err != nil {
		return err
	}
	var dirRate video.Rate
	if o.fps != "" {
		if dirRate, err = video.ParseRate(o.fps); err != nil {
			return usagef("video: --fps %s: %v", o.fps, strings.TrimPrefix(err.Error(), "video: "))
		}
	}
	if err := o.prepareMotion(stderr); err != nil {
		return err
	}
	sum, err := fileSHA256(o.in)
	if err != nil {
		return err
	}
	in, err := video.Open(ctx, o.in, video.ReadOptions{Start: start, Duration: duration, MaxPixels: o.maxPixels, Rate: dirRate})
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
	v := dream.VideoOptions{Blend: o.blend, NoFlow: o.noFlow, Measure: o.flicker, Frames: info.Frames}
	if req, err = o.frameTiling(lm, req, obj, func(r dream.Request) (dream.Estimate, error) {
		return lm.net.EstimateVideo(info.Width, info.Height, r, v)
	}); err != nil {
		return err
	}
	w, h := dream.DreamSize(info.Width, info.Height, req.MaxSize)
	rec := motionRecord(lm.record(req), "video", videoRecord{
		Input: filepath.Base(o.in), InputSHA256: sum, Start: start.Seconds(), Duration: duration.Seconds(),
		FPS: info.Rate.String(), Blend: o.blend, Flow: !o.noFlow,
	})
	j := &motionJob{o: &o.motionOptions, key: "video", rec: rec, show: newMotionDisplay(stderr, o.quiet, "video"), start: time.Now()}
	if o.workDir != "" {
		if j.work, j.done, err = openWork(o.workDir, rec, "video", "duration"); err != nil {
			return err
		}
	}
	wo := video.WriteOptions{Width: w, Height: h, Rate: info.Rate, Comment: rec,
		FrameComment: func(i int) string { return frameRecord(rec, "video", i) }}
	if info.Audio != "" {
		if o.format == video.MP4 || o.format == video.WebM {
			wo.Audio, wo.AudioStart, wo.AudioDuration = o.in, start, duration
		} else {
			fmt.Fprintf(stderr, "deepdream: warning: %s has a sound, which a %s cannot hold: it is left out\n", o.in, map[video.Format]string{video.GIF: "GIF", video.Dir: "directory of frames"}[o.format])
		}
	}
	if j.out, err = video.Create(ctx, o.out, wo); err != nil {
		return err
	}
	last, err := j.resume(stderr)
	if err == nil {
		v.Done = j.done
		if last != nil {
			v.Last = last
		}
		err = lm.net.Video(ctx, in, req, v, j.frame, j.show.report)
	}
	return j.finish(ctx, stderr, memoryHint(err))
}
