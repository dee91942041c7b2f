package motion

import (
	"context"
	"errors"
	"fmt"
	"image"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/deepdream-go/deepdream/dream"
	"github.com/deepdream-go/deepdream/imageio"
	"github.com/deepdream-go/deepdream/internal/atomicfile"
	"github.com/deepdream-go/deepdream/video"
)

// jobFile is the name of a work directory's record of its job.
const jobFile = "job.json"

// work is a work directory: the frames a job finished, and its record.
type work struct {
	dir string
}

// openWork makes or opens the work directory dir for the job of record
// rec (a Record under kind), and returns how many frames it holds
// finished: frames 0 to done-1, consecutive. A directory that holds
// another job's frames is refused, naming what differs; the keys of the
// motion in loose (a zoom's frames, a video's duration) may differ: the
// frames do not depend on them.
func openWork(dir, rec, kind string, loose ...string) (*work, int, error) {
	if err := os.MkdirAll(dir, 0o777); err != nil {
		return nil, 0, err
	}
	w := &work{dir: dir}
	jobPath := filepath.Join(dir, jobFile)
	old, err := os.ReadFile(jobPath)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		if names, _ := video.Frames(dir); slices.ContainsFunc(names, func(n string) bool { return strings.HasPrefix(n, "frame-") }) {
			return nil, 0, fmt.Errorf("the work directory %s holds frames but no %s: it is not the work directory of a job; give another", dir, jobFile)
		}
	case err != nil:
		return nil, 0, err
	default:
		if diff := recordDiff(string(old), rec, kind, loose); len(diff) > 0 {
			return nil, 0, fmt.Errorf("the work directory %s holds the frames of another job (its record differs in %s): give another directory, or empty it to start again",
				dir, strings.Join(diff, ", "))
		}
	}
	if string(old) != rec {
		if err := atomicfile.Write(jobPath, func(f io.Writer) error { _, err := io.WriteString(f, rec); return err }); err != nil {
			return nil, 0, err
		}
	}
	done := 0
	for ; ; done++ {
		if st, err := os.Stat(w.path(done)); err != nil || !st.Mode().IsRegular() {
			break
		}
	}
	return w, done, nil
}

func (w *work) path(i int) string { return filepath.Join(w.dir, video.FrameName(i)) }

// frame reads finished frame i.
func (w *work) frame(i int) (*image.NRGBA, error) {
	img, _, err := imageio.ReadFileInfo(w.path(i), 0)
	return img, err
}

// Job is a zoom or a video to dream into a file: what `deepdream zoom`
// and `deepdream video` run, the studio's zoom and video jobs too, in
// the studio or on a worker.
type Job struct {
	Kind    string // Zoom or Video
	Net     *dream.Network
	Request dream.Request // resolved (dream.Network.Resolve)
	Options Options
	// Record is the animation's record (Record), written into the output
	// and each frame.
	Record string
	// Photo is a zoom's photo; Frames a video's frames, open (their rate
	// and size are the output's).
	Photo  image.Image
	Frames video.Reader
	// Out is the output's path: an .mp4 or .webm, a .gif, a directory of
	// frames (video.Create). Nothing is there until Run succeeds.
	Out string
	// Write says what the output holds beyond the frames and the record
	// (a video's sound); Run sets its size, rate and comments.
	Write video.WriteOptions
	// WorkDir, if not "", keeps each finished frame with the job's record:
	// a Job run again with it resumes where it stopped.
	WorkDir string
	// Measure measures a video's flicker (dream.VideoOptions.Measure).
	Measure bool
	// Resumed, if not nil, is told how many frames the work directory
	// held, before the dreaming starts; Frame of each frame dreamed, once
	// it is kept (its error stops the job); Progress of each step.
	Resumed  func(done int)
	Frame    func(dream.Frame) error
	Progress func(dream.MotionProgress)
}

// Size is the size of the frames of j's output: the photo's or the
// video's at the request's max size.
func (j *Job) Size() (int, int) {
	var b image.Rectangle
	if j.Kind == Zoom {
		b = j.Photo.Bounds()
	} else {
		info := j.Frames.Info()
		b = image.Rect(0, 0, info.Width, info.Height)
	}
	return dream.DreamSize(b.Dx(), b.Dy(), j.Request.MaxSize)
}

// Run dreams j: the frames its work directory holds into the output
// first, then each frame dreamed, into the work directory and the
// output; then the output is put in place. On an error or a cancel,
// nothing is at j.Out (the work directory keeps the finished frames).
// It returns how many frames the output holds, and the last of them.
func Run(ctx context.Context, j *Job) (int, *image.NRGBA, error) {
	if err := j.Options.Validate(j.Kind); err != nil {
		return 0, nil, err
	}
	var w *work
	done := 0
	if j.WorkDir != "" {
		var err error
		loose := map[string]string{Zoom: "frames", Video: "duration"}[j.Kind]
		if w, done, err = openWork(j.WorkDir, j.Record, j.Kind, loose); err != nil {
			return 0, nil, err
		}
		if j.Kind == Zoom {
			done = min(done, j.Options.Frames)
		}
	}
	if j.Kind == Video && j.Frames == nil || j.Kind == Zoom && j.Photo == nil {
		return 0, nil, fmt.Errorf("motion: a %s job without its input", j.Kind)
	}
	wo := j.Write
	wo.Width, wo.Height = j.Size()
	wo.Rate = j.Options.FPS
	if j.Kind == Video {
		wo.Rate = j.Frames.Info().Rate
	}
	wo.Comment = j.Record
	wo.FrameComment = func(i int) string { return FrameRecord(j.Record, j.Kind, i) }
	out, err := video.Create(ctx, j.Out, wo)
	if err != nil {
		return 0, nil, err
	}
	frames := 0
	var last *image.NRGBA
	for i := range done {
		if last, err = w.frame(i); err == nil {
			err = out.Write(last)
		}
		if err != nil {
			out.Abort()
			return 0, nil, err
		}
		frames++
	}
	if j.Resumed != nil {
		j.Resumed(done)
	}
	keep := func(f dream.Frame) error {
		if w != nil {
			if err := video.WritePNG(w.path(f.Index), f.Image, FrameRecord(j.Record, j.Kind, f.Index)); err != nil {
				return err
			}
		}
		if err := out.Write(f.Image); err != nil {
			return err
		}
		frames, last = frames+1, f.Image
		if j.Frame != nil {
			return j.Frame(f)
		}
		return nil
	}
	if j.Kind == Zoom {
		z := dream.ZoomOptions{Frames: j.Options.Frames, Camera: j.Options.Camera(), Done: done}
		if last != nil {
			z.Last = last
		}
		err = j.Net.Zoom(ctx, j.Photo, j.Request, z, keep, j.Progress)
	} else {
		v := dream.VideoOptions{Blend: j.Options.Blend, NoFlow: !j.Options.Flow, Measure: j.Measure, Frames: j.Frames.Info().Frames, Done: done}
		if last != nil {
			v.Last = last
		}
		err = j.Net.Video(ctx, j.Frames, j.Request, v, keep, j.Progress)
	}
	if err == nil {
		err = ctx.Err() // cancelled during the last step: nothing is written
	}
	if err != nil {
		out.Abort()
		return 0, nil, err
	}
	if err := out.Close(); err != nil {
		return 0, nil, err
	}
	return frames, last, nil
}
