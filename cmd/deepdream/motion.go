package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"image"
	"io"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/schollz/progressbar/v3"
	"github.com/spf13/pflag"

	"github.com/deepdream-go/deepdream/dream"
	"github.com/deepdream-go/deepdream/internal/atomicfile"
	"github.com/deepdream-go/deepdream/internal/recorded"
	"github.com/deepdream-go/deepdream/motion"
	"github.com/deepdream-go/deepdream/video"
)

// What zoom and video share: the output (a video, a GIF or a directory of
// frames), the work directory that keeps a job's finished frames so that
// the same command resumes it, the record, and the progress over the
// whole job.

type motionOptions struct {
	dreamOptions
	workDir string
	format  video.Format
	motion  motion.Options
	// flagErr is the first motion flag whose value could not be read:
	// refused with the other options' bounds (prepareMotion), the way
	// the dream request's are, naming the flag and its value.
	flagErr error
}

// registerMotion makes the flags zoom and video share, and one of every
// option of the kind's (motion.Fields).
func (o *motionOptions) registerMotion(f *pflag.FlagSet, kind string) {
	o.motion = motion.Defaults()
	for _, field := range motion.Fields() {
		if !field.For(kind) {
			continue
		}
		f.Var(&motionFlag{field: field, o: o}, field.Flag, field.Help)
		if field.Kind == "bool" {
			f.Lookup(field.Flag).NoOptDefVal = "true" // --no-flow alone
		}
	}
	f.StringVarP(&o.out, "output", "o", "", "the animation: `OUT`.mp4 or .webm (through ffmpeg), .gif, or a directory of PNG frames (no extension); required")
	f.StringVar(&o.workDir, "work-dir", "", "keep each finished frame in `DIR` (made if missing), with the job's record: the same command run again resumes where it stopped")
	o.mem.register(f)
	o.registerDream(f)
}

// motionFlag is an option of motion.Options as a pflag.Value.
type motionFlag struct {
	field motion.Field
	o     *motionOptions
}

func (v *motionFlag) String() string {
	if v.field.Negated {
		return "false"
	}
	return v.field.Get(&v.o.motion)
}

func (v *motionFlag) Set(s string) error {
	value := s
	if v.field.Negated { // --no-flow=true sets flow false
		b, err := strconv.ParseBool(s)
		if err != nil {
			return err
		}
		value = strconv.FormatBool(!b)
	}
	if err := v.field.Set(&v.o.motion, value); err != nil && v.o.flagErr == nil {
		var oe *dream.OptionError
		if errors.As(err, &oe) {
			oe.Value = s
		}
		v.o.flagErr = err
	}
	return nil
}

// Type names the flag's values in the help as pflag's own flags do.
func (v *motionFlag) Type() string {
	if t, ok := map[string]string{"float": "float64", "int": "int", "bool": "bool"}[v.field.Kind]; ok {
		return t
	}
	return "string" // a pan, a rate, a time
}

// prepareMotion checks what can be checked before the model is loaded or
// the input read: the request's bounds, the output, the work directory;
// and finds the model and images of --from's record.
func (o *motionOptions) prepareMotion(stderr io.Writer) error {
	if o.flagErr != nil {
		return o.optionUsage(o.flagErr)
	}
	if err := o.motion.Validate(o.command); err != nil {
		return o.optionUsage(err)
	}
	if err := o.req.Validate(); err != nil {
		return o.optionUsage(err)
	}
	if o.out == "" {
		return usagef("%s: -o OUT is required", o.command)
	}
	if err := checkMaxPixels(o.command, o.maxPixels); err != nil {
		return err
	}
	if err := o.mem.resolve(o.command); err != nil {
		return err
	}
	if _, err := video.FormatOf(o.out); err != nil {
		return usageError{err}
	}
	if atomicfile.SameFile(o.in, o.out) {
		return usagef("%s: the output %s is the input; refusing to write over it", o.command, o.out)
	}
	if o.workDir != "" {
		if st, err := os.Stat(o.workDir); err == nil && !st.IsDir() {
			return usagef("%s: --work-dir %s is not a directory", o.command, o.workDir)
		}
		for _, p := range []string{o.in, o.out} {
			if samePath(p, o.workDir) {
				return usagef("%s: --work-dir %s is the input or the output: give a directory of its own", o.command, o.workDir)
			}
		}
	}
	format, err := video.CheckOutput(o.out)
	if err != nil {
		return err
	}
	o.format = format
	if o.rec != nil {
		if err := o.recordModel(stderr); err != nil {
			return err
		}
	}
	return o.loadImages(stderr)
}

// frameTiling bounds the frames of a zoom or a video by --max-memory as
// dream bounds its photo: the budget is the bound less what the program
// holds now, and est, the estimate of the frames in it, says the tile
// (Tile 0) or refuses them. It returns req with the budget and, when the
// frames are tiled, the tile, which the record then keeps as a dream's
// does; so every frame is dreamed alike.
func (o *motionOptions) frameTiling(lm *loadedModel, req dream.Request, obj dream.Objective, est func(dream.Request) (dream.Estimate, error)) (dream.Request, error) {
	var err error
	if req.MaxMemory, err = o.mem.dreamBudget(lm, req, obj); err != nil {
		return req, err
	}
	e, err := est(req)
	if err != nil {
		return req, memoryHint(err)
	}
	if e.Tiled() {
		req.Tile = e.Tile
	}
	return req, nil
}

// fileSHA256 returns the sha256 of the file at path, or of a directory's
// frames (video.Frames): their names and contents, in order.
func fileSHA256(path string) (string, error) {
	st, err := os.Stat(path)
	if err != nil {
		return "", err
	}
	if !st.IsDir() {
		_, sum, err := recorded.HashFile(path)
		return sum, err
	}
	names, err := video.Frames(path)
	if err != nil {
		return "", err
	}
	h := sha256.New()
	for _, n := range names {
		fmt.Fprintf(h, "%s\x00", n)
		f, err := os.Open(filepath.Join(path, n))
		if err != nil {
			return "", err
		}
		_, err = io.Copy(h, f)
		f.Close()
		if err != nil {
			return "", fmt.Errorf("reading %s: %w", f.Name(), err)
		}
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// motionJob runs a zoom or a video (motion.Run) and says what it did:
// the progress, the frames resumed, and the measures of the frames.
type motionJob struct {
	o     *motionOptions
	show  *motionDisplay
	start time.Time
	// flicker sums the frames' Flicker and Followed, over measured
	// frames; strength their mean |dream - input| (a zoom's: every frame
	// but the first, its change from the last frame moved).
	flicker, followed, strength float64
	measured                    int
	// movingFlicker sums the frames' MovingFlicker and Moving, over the
	// frames where something moved.
	movingFlicker, moving float64
	movingFrames          int
}

// run runs j, then says what was done.
func (mj *motionJob) run(ctx context.Context, stderr io.Writer, j *motion.Job) error {
	mj.show = newMotionDisplay(stderr, mj.o.quiet, mj.o.command)
	mj.start = time.Now()
	j.Out, j.WorkDir = mj.o.out, mj.o.workDir
	done := 0
	j.Resumed = func(n int) {
		done = n
		if n > 0 && !mj.o.quiet {
			fmt.Fprintf(stderr, "deepdream: %s: %d frames done in %s: resuming at frame %d\n", mj.o.command, n, mj.o.workDir, n+1)
		}
	}
	j.Frame, j.Progress = mj.frame, mj.show.report
	frames, _, err := motion.Run(ctx, j)
	mj.show.close()
	if err != nil || mj.o.quiet {
		return err
	}
	dreamed := frames - done
	el := time.Since(mj.start)
	msg := fmt.Sprintf("deepdream: %s: %d frames into %s; %d dreamed in %s", mj.o.command, frames, mj.o.out, dreamed, el.Round(100*time.Millisecond))
	if dreamed > 0 {
		msg += fmt.Sprintf(", %.2f s a frame", el.Seconds()/float64(dreamed))
	}
	if done > 0 {
		msg += fmt.Sprintf(" (%d from %s)", done, mj.o.workDir)
	}
	fmt.Fprintln(stderr, msg)
	switch {
	case j.Kind == motion.Zoom && mj.measured > 0:
		fmt.Fprintf(stderr, "deepdream: zoom: the dream changes by %.3f levels of 255 a frame (mean |frame_k - frame_k-1 moved|, %d frames)\n",
			mj.strength/float64(mj.measured), mj.measured)
	case mj.measured > 0:
		fmt.Fprintf(stderr, "deepdream: %s: flicker %.3f levels of 255 (mean |out_t - warp(out_t-1)| over the %.1f%% of the pixels the flow follows, %d frames); dream strength %.2f (mean |out_t - in_t|)\n",
			mj.o.command, mj.flicker/float64(mj.measured), 100*mj.followed/float64(mj.measured), mj.measured, mj.strength/float64(mj.measured))
		if mj.movingFrames > 0 {
			fmt.Fprintf(stderr, "deepdream: %s: flicker where the picture moves: %.3f levels of 255 (over the %.1f%% of the pixels that move by a pixel or more, %d frames)\n",
				mj.o.command, mj.movingFlicker/float64(mj.movingFrames), 100*mj.moving/float64(mj.movingFrames), mj.movingFrames)
		}
	}
	return nil
}

// frame measures a finished frame and shows it.
func (mj *motionJob) frame(f dream.Frame) error {
	if !math.IsNaN(f.Flicker) {
		mj.flicker += f.Flicker
		mj.followed += f.Followed
		mj.strength += meanDiff(f.Image, f.Input)
		mj.measured++
	}
	if !math.IsNaN(f.MovingFlicker) {
		mj.movingFlicker += f.MovingFlicker
		mj.moving += f.Moving
		mj.movingFrames++
	}
	if mj.o.command == motion.Zoom && f.Index > 0 {
		mj.strength += meanDiff(f.Image, f.Input)
		mj.measured++
	}
	mj.show.frameDone(f)
	return nil
}

// meanDiff is the mean absolute difference of the RGB samples of two
// images of one size, in levels.
func meanDiff(a, b *image.NRGBA) float64 {
	var sum int64
	w, h := a.Rect.Dx(), a.Rect.Dy()
	for y := range h {
		ra, rb := a.Pix[y*a.Stride:], b.Pix[y*b.Stride:]
		for x := range 4 * w {
			if x%4 != 3 {
				d := int64(ra[x]) - int64(rb[x])
				sum += max(d, -d)
			}
		}
	}
	return float64(sum) / float64(3*w*h)
}

// motionDisplay shows a job's progress on stderr: a bar over the job's
// steps on a terminal, else a line per step and one per finished frame.
type motionDisplay struct {
	w       io.Writer
	quiet   bool
	command string
	bar     *progressbar.ProgressBar
	frames  int
	started time.Time // of the frame being dreamed
}

func newMotionDisplay(w io.Writer, quiet bool, command string) *motionDisplay {
	return &motionDisplay{w: w, quiet: quiet, command: command, started: time.Now()}
}

func (d *motionDisplay) report(p dream.MotionProgress) {
	if d.quiet {
		return
	}
	frames := "?"
	if p.Frames > 0 {
		frames = strconv.Itoa(p.Frames)
	}
	desc := fmt.Sprintf("frame %d/%s octave %d/%d step %d/%d", p.Frame, frames, p.Dream.Octave, p.Dream.Octaves, p.Dream.Iteration, p.Dream.Iterations)
	eta := "?"
	if p.Steps > 0 {
		eta = p.ETA.Round(time.Second).String()
	}
	if writerIsTerminal(d.w) {
		if p.Steps == 0 {
			fmt.Fprintf(d.w, "\r%s elapsed %s ", desc, p.Elapsed.Round(time.Second))
			return
		}
		d.bar = stepBar(d.bar, d.w, p.Steps)
		d.bar.Describe(fmt.Sprintf("%s  eta %s", desc, eta))
		_ = d.bar.Set(p.Step)
		return
	}
	steps := "?"
	if p.Steps > 0 {
		steps = strconv.Itoa(p.Steps)
	}
	fmt.Fprintf(d.w, "%s %dx%d objective %.4g; job step %d/%s elapsed %s eta %s\n", desc, p.Dream.Width, p.Dream.Height, p.Dream.Objective,
		p.Step, steps, p.Elapsed.Round(100*time.Millisecond), eta)
}

// frameDone says that a frame is finished (off a terminal: the bar shows
// it otherwise).
func (d *motionDisplay) frameDone(f dream.Frame) {
	if d.quiet || writerIsTerminal(d.w) {
		return
	}
	msg := fmt.Sprintf("frame %d done in %s", f.Index+1, time.Since(d.started).Round(100*time.Millisecond))
	if !math.IsNaN(f.Flicker) {
		msg += fmt.Sprintf(", flicker %.3f over %.1f%% of the pixels", f.Flicker, 100*f.Followed)
	}
	if !math.IsNaN(f.MovingFlicker) {
		msg += fmt.Sprintf(", %.3f over the %.1f%% that move", f.MovingFlicker, 100*f.Moving)
	}
	fmt.Fprintln(d.w, msg)
	d.started = time.Now()
}

func (d *motionDisplay) close() {
	if d.bar != nil && !d.bar.IsFinished() {
		_ = d.bar.Exit()
	}
}
