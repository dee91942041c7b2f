package main

import (
	"fmt"
	"io"
	"time"

	"github.com/schollz/progressbar/v3"

	"github.com/deepdream-go/deepdream/dream"
)

// batchProgress shows a batch's progress on stderr, counting the steps of
// every photo to dream: a bar on a terminal, a line per octave and per
// photo otherwise. Its messages (a photo's error, a warning) go through
// printf, which keeps them off the bar.
type batchProgress struct {
	w       io.Writer
	quiet   bool
	bar     *progressbar.ProgressBar
	since   time.Time
	photos  int   // to dream
	steps   []int // each photo's, as planned until it starts
	photo   int   // the photo being dreamed
	name    string
	began   time.Time // of this photo
	done    int       // the steps of the photos before it
	doneDur time.Duration
}

func newBatchProgress(w io.Writer, quiet bool, photos, stepsPerPhoto int) *batchProgress {
	b := &batchProgress{w: w, quiet: quiet, since: time.Now(), photos: photos, photo: -1}
	for range photos {
		b.steps = append(b.steps, stepsPerPhoto)
	}
	return b
}

// start moves on to the next photo, rel.
func (b *batchProgress) start(rel string) {
	b.photo++
	b.name, b.began = rel, time.Now()
}

// next ends the photo started last: dreamed, or failed.
func (b *batchProgress) next(dreamed bool) {
	b.done += b.steps[b.photo]
	b.doneDur += time.Since(b.began)
	if !b.quiet && !writerIsTerminal(b.w) {
		how := "failed"
		if dreamed {
			how = "dreamed in " + time.Since(b.began).Round(100*time.Millisecond).String()
		}
		fmt.Fprintf(b.w, "photo %d/%d %s %s; batch elapsed %s\n", b.photo+1, b.photos, b.name, how,
			time.Since(b.since).Round(100*time.Millisecond))
	}
}

func (b *batchProgress) report(p dream.Progress) {
	if b.quiet {
		return
	}
	b.steps[b.photo] = p.Steps // less than planned when octaves too small for the network are left out
	total, later := 0, 0
	for i, n := range b.steps {
		total += n
		if i > b.photo {
			later += n
		}
	}
	// The photos to come are expected to take the time a step has taken
	// so far in the batch (this photo's until one is done).
	perStep := float64(p.Elapsed+p.ETA) / float64(p.Steps)
	if b.done > 0 {
		perStep = float64(b.doneDur) / float64(b.done)
	}
	eta := p.ETA + time.Duration(perStep*float64(later))
	desc := fmt.Sprintf("photo %d/%d %s octave %d/%d step %d/%d", b.photo+1, b.photos, b.name, p.Octave, p.Octaves, p.Iteration, p.Iterations)
	if writerIsTerminal(b.w) {
		if b.bar == nil {
			b.bar = progressbar.NewOptions(total,
				progressbar.OptionSetWriter(b.w),
				progressbar.OptionSetWidth(30),
				progressbar.OptionShowCount(),
				progressbar.OptionSetPredictTime(false),
				progressbar.OptionThrottle(50*time.Millisecond),
				progressbar.OptionOnCompletion(func() { fmt.Fprintln(b.w) }),
			)
		} else if b.bar.GetMax() != total {
			b.bar.ChangeMax(total)
		}
		b.bar.Describe(fmt.Sprintf("%s  eta %s", desc, eta.Round(time.Second)))
		_ = b.bar.Set(b.done + p.Step)
		return
	}
	if p.Iteration == p.Iterations { // an octave done
		fmt.Fprintf(b.w, "%s %dx%d objective %.4g; batch step %d/%d elapsed %s eta %s\n", desc, p.Width, p.Height, p.Objective,
			b.done+p.Step, total, time.Since(b.since).Round(100*time.Millisecond), eta.Round(100*time.Millisecond))
	}
}

// printf writes a message on its own line, clearing the bar first (it is
// drawn again at the next step).
func (b *batchProgress) printf(format string, args ...any) {
	if b.bar != nil {
		_ = b.bar.Clear()
	}
	fmt.Fprintf(b.w, format, args...)
}

func (b *batchProgress) close() {
	if b.bar != nil && !b.bar.IsFinished() {
		_ = b.bar.Exit()
	}
	b.bar = nil
}
