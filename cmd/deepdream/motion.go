package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"image"
	"io"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/schollz/progressbar/v3"
	"github.com/spf13/pflag"

	"github.com/deepdream-go/deepdream/dream"
	"github.com/deepdream-go/deepdream/imageio"
	"github.com/deepdream-go/deepdream/internal/atomicfile"
	"github.com/deepdream-go/deepdream/internal/recorded"
	"github.com/deepdream-go/deepdream/video"
)

// What zoom and video share: the output (a video, a GIF or a directory of
// frames), the work directory that keeps a job's finished frames so that
// the same command resumes it, the record, and the progress over the
// whole job.

type motionOptions struct {
	dreamOptions
	workDir string
	fps     string
	format  video.Format
}

// registerMotion makes the flags zoom and video share.
func (o *motionOptions) registerMotion(f *pflag.FlagSet) {
	f.StringVarP(&o.out, "output", "o", "", "the animation: `OUT`.mp4 or .webm (through ffmpeg), .gif, or a directory of PNG frames (no extension); required")
	f.StringVar(&o.workDir, "work-dir", "", "keep each finished frame in `DIR` (made if missing), with the job's record: the same command run again resumes where it stopped")
	o.mem.register(f)
	o.registerDream(f)
}

// prepareMotion checks what can be checked before the model is loaded or
// the input read: the request's bounds, the output, the work directory;
// and finds the model and images of --from's record.
func (o *motionOptions) prepareMotion(stderr io.Writer) error {
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

// motionRecord returns the record of an animation: the dream record of
// its frames, and under key ("zoom", "video") how they move (a struct
// with a "frame" field that frameRecord sets).
func motionRecord(rec dream.Record, key string, motion any) string {
	b, err := json.Marshal(motion)
	if err != nil {
		panic(err) // numbers and strings
	}
	s := rec.String()
	return s[:len(s)-1] + `,"` + key + `":` + string(b) + "}"
}

// frameRecord returns the record of frame i (0-based) of the animation
// whose record is rec: its motion (the last key, as motionRecord writes
// it) with "frame": i+1, the number in the frame's file name.
func frameRecord(rec, key string, i int) string {
	var top map[string]json.RawMessage
	if json.Unmarshal([]byte(rec), &top) != nil || len(top[key]) < 2 {
		panic("frameRecord: not a motion record: " + rec)
	}
	return fmt.Sprintf(`%s,"frame":%d}}`, rec[:len(rec)-2], i+1)
}

// jobFile is the name of a work directory's record of its job.
const jobFile = "job.json"

// work is a work directory: the frames a job finished, and its record.
type work struct {
	dir string
}

// openWork makes or opens the work directory dir for the job of record
// rec (a motion record under key), and returns how many frames it holds
// finished: frames 0 to done-1, consecutive. A directory that holds
// another job's frames is refused, naming what differs; the keys of the
// motion in loose (the number of frames, say) may differ: the frames do
// not depend on them.
func openWork(dir, rec, key string, loose ...string) (*work, int, error) {
	if err := os.MkdirAll(dir, 0o777); err != nil {
		return nil, 0, err
	}
	w := &work{dir: dir}
	jobPath := filepath.Join(dir, jobFile)
	old, err := os.ReadFile(jobPath)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		if names, _ := video.Frames(dir); slices.ContainsFunc(names, func(n string) bool { return strings.HasPrefix(n, "frame-") }) {
			return nil, 0, fmt.Errorf("--work-dir %s holds frames but no %s: it is not the work directory of a job; give another", dir, jobFile)
		}
	case err != nil:
		return nil, 0, err
	default:
		if diff := recordDiff(string(old), rec, key, loose); len(diff) > 0 {
			return nil, 0, fmt.Errorf("--work-dir %s holds the frames of another job (its record differs in %s): give another directory, or empty it to start again",
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

// recordDiff returns the keys in which the records a and b differ,
// key.field for a field of the motion under key, except those in loose.
func recordDiff(a, b, key string, loose []string) []string {
	flat := func(s string) map[string]string {
		var top map[string]json.RawMessage
		out := map[string]string{}
		if json.Unmarshal([]byte(s), &top) != nil {
			return map[string]string{"(not a record)": s}
		}
		for k, v := range top {
			if k != key {
				out[k] = string(v)
				continue
			}
			var motion map[string]json.RawMessage
			json.Unmarshal(v, &motion)
			for mk, mv := range motion {
				if !slices.Contains(loose, mk) {
					out[key+"."+mk] = string(mv)
				}
			}
		}
		return out
	}
	fa, fb := flat(a), flat(b)
	var diff []string
	for k, v := range fa {
		if fb[k] != v {
			diff = append(diff, k)
		}
	}
	for k := range fb {
		if _, ok := fa[k]; !ok {
			diff = append(diff, k)
		}
	}
	slices.Sort(diff)
	return diff
}

func (w *work) path(i int) string { return filepath.Join(w.dir, video.FrameName(i)) }

// frame reads finished frame i.
func (w *work) frame(i int) (*image.NRGBA, error) {
	img, _, err := imageio.ReadFileInfo(w.path(i), 0)
	return img, err
}

// keep writes frame i, with its record.
func (w *work) keep(i int, img image.Image, rec string) error {
	return video.WritePNG(w.path(i), img, rec)
}

// motionJob runs what zoom and video do around the dreaming: the work
// directory's frames into the output first, then each frame dreamed into
// the work directory and the output, then the output put in place (or,
// on an error or an interrupt, nothing).
type motionJob struct {
	o      *motionOptions
	key    string // "zoom" or "video"
	rec    string
	work   *work
	out    video.Writer
	done   int // frames the work directory held
	show   *motionDisplay
	start  time.Time
	frames int // written to the output
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

// resume writes the frames the work directory holds into the output, and
// returns the last of them (nil when there is none).
func (j *motionJob) resume(stderr io.Writer) (*image.NRGBA, error) {
	var last *image.NRGBA
	for i := range j.done {
		img, err := j.work.frame(i)
		if err != nil {
			return nil, err
		}
		if err := j.out.Write(img); err != nil {
			return nil, err
		}
		j.frames++
		last = img
	}
	if j.done > 0 && !j.o.quiet {
		fmt.Fprintf(stderr, "deepdream: %s: %d frames done in %s: resuming at frame %d\n", j.o.command, j.done, j.work.dir, j.done+1)
	}
	return last, nil
}

// frame takes a finished frame: into the work directory, then the output.
func (j *motionJob) frame(f dream.Frame) error {
	if j.work != nil {
		if err := j.work.keep(f.Index, f.Image, frameRecord(j.rec, j.key, f.Index)); err != nil {
			return err
		}
	}
	if err := j.out.Write(f.Image); err != nil {
		return err
	}
	j.frames++
	if !math.IsNaN(f.Flicker) {
		j.flicker += f.Flicker
		j.followed += f.Followed
		j.strength += meanDiff(f.Image, f.Input)
		j.measured++
	}
	if !math.IsNaN(f.MovingFlicker) {
		j.movingFlicker += f.MovingFlicker
		j.moving += f.Moving
		j.movingFrames++
	}
	if j.key == "zoom" && f.Index > 0 {
		j.strength += meanDiff(f.Image, f.Input)
		j.measured++
	}
	j.show.frameDone(f)
	return nil
}

// finish puts the output in place after the dreaming ended with err, or
// removes it; then says what was done.
func (j *motionJob) finish(ctx context.Context, stderr io.Writer, err error) error {
	j.show.close()
	if err == nil {
		err = ctx.Err() // interrupted during the last step: nothing is written
	}
	if err != nil {
		j.out.Abort()
		return err
	}
	if err := j.out.Close(); err != nil {
		return err
	}
	if j.o.quiet {
		return nil
	}
	dreamed := j.frames - j.done
	el := time.Since(j.start)
	msg := fmt.Sprintf("deepdream: %s: %d frames into %s; %d dreamed in %s", j.o.command, j.frames, j.o.out, dreamed, el.Round(100*time.Millisecond))
	if dreamed > 0 {
		msg += fmt.Sprintf(", %.2f s a frame", el.Seconds()/float64(dreamed))
	}
	if j.done > 0 {
		msg += fmt.Sprintf(" (%d from %s)", j.done, j.work.dir)
	}
	fmt.Fprintln(stderr, msg)
	switch {
	case j.key == "zoom" && j.measured > 0:
		fmt.Fprintf(stderr, "deepdream: zoom: the dream changes by %.3f levels of 255 a frame (mean |frame_k - frame_k-1 moved|, %d frames)\n",
			j.strength/float64(j.measured), j.measured)
	case j.measured > 0:
		fmt.Fprintf(stderr, "deepdream: %s: flicker %.3f levels of 255 (mean |out_t - warp(out_t-1)| over the %.1f%% of the pixels the flow follows, %d frames); dream strength %.2f (mean |out_t - in_t|)\n",
			j.o.command, j.flicker/float64(j.measured), 100*j.followed/float64(j.measured), j.measured, j.strength/float64(j.measured))
		if j.movingFrames > 0 {
			fmt.Fprintf(stderr, "deepdream: %s: flicker where the picture moves: %.3f levels of 255 (over the %.1f%% of the pixels that move by a pixel or more, %d frames)\n",
				j.o.command, j.movingFlicker/float64(j.movingFrames), 100*j.moving/float64(j.movingFrames), j.movingFrames)
		}
	}
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

// parseTime reads a time in a video: seconds ("12.5"), [HH:]MM:SS[.frac]
// as ffmpeg writes it, or a Go duration ("1m30s").
func parseTime(flag, s string) (time.Duration, error) {
	bad := usagef("--%s %s: want seconds (12.5), [HH:]MM:SS[.frac] or a duration (1m30s), not negative", flag, s)
	if f, err := strconv.ParseFloat(s, 64); err == nil {
		if !(f >= 0 && f < 1e7) {
			return 0, bad
		}
		return time.Duration(f * float64(time.Second)), nil
	}
	if strings.Contains(s, ":") {
		parts := strings.Split(s, ":")
		if len(parts) > 3 {
			return 0, bad
		}
		var total float64
		for i, p := range parts {
			f, err := strconv.ParseFloat(p, 64)
			if err != nil || f < 0 || (i < len(parts)-1 && f != math.Trunc(f)) {
				return 0, bad
			}
			total = total*60 + f
		}
		if !(total < 1e7) {
			return 0, bad
		}
		return time.Duration(total * float64(time.Second)), nil
	}
	d, err := time.ParseDuration(s)
	if err != nil || d < 0 {
		return 0, bad
	}
	return d, nil
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
