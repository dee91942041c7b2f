package main

import (
	"fmt"
	"io"
	"strings"
	"sync"
	"time"

	"github.com/schollz/progressbar/v3"

	"github.com/deepdream-go/deepdream/dream"
)

// batchProgress shows a batch's progress on stderr, counting the steps of
// every photo to dream, some of which may be dreamed at once (by the
// workers of a queue): a bar on a terminal, a line per octave and per
// photo otherwise. Its messages (a photo's error, a warning) go through
// printf, which keeps them off the bar. Its methods may be called from
// several goroutines.
type batchProgress struct {
	w     io.Writer
	quiet bool
	names []string // the photos', by their paths under IN_DIR

	mu       sync.Mutex
	bar      *progressbar.ProgressBar
	since    time.Time
	steps    []int // each photo's, as planned until it starts
	at       []int // each photo's steps done
	dreaming []int // the photos started, not ended, in order
	ended    int
}

func newBatchProgress(w io.Writer, quiet bool, names []string, stepsPerPhoto int) *batchProgress {
	b := &batchProgress{w: w, quiet: quiet, names: names, since: time.Now(), steps: make([]int, len(names)), at: make([]int, len(names))}
	for i := range b.steps {
		b.steps[i] = stepsPerPhoto
	}
	return b
}

// start says that the i-th photo is being dreamed.
func (b *batchProgress) start(i int) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.dreaming = append(b.dreaming, i)
}

// end says that the i-th photo, dreamed for took, is dreamed or failed.
func (b *batchProgress) end(i int, took time.Duration, dreamed bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.at[i] = b.steps[i]
	for k, j := range b.dreaming {
		if j == i {
			b.dreaming = append(b.dreaming[:k], b.dreaming[k+1:]...)
			break
		}
	}
	b.ended++
	if b.quiet || writerIsTerminal(b.w) {
		return
	}
	how := "failed"
	if dreamed {
		how = "dreamed in " + took.Round(100*time.Millisecond).String()
	}
	fmt.Fprintf(b.w, "photo %d/%d %s %s; %d/%d photos ended, elapsed %s\n", i+1, len(b.names), b.names[i], how,
		b.ended, len(b.names), time.Since(b.since).Round(100*time.Millisecond))
}

// reporter returns the progress callback of the i-th photo's dream.
func (b *batchProgress) reporter(i int) func(dream.Progress) {
	return func(p dream.Progress) {
		b.mu.Lock()
		defer b.mu.Unlock()
		b.report(i, p)
	}
}

func (b *batchProgress) report(i int, p dream.Progress) {
	if b.quiet {
		return
	}
	b.steps[i] = p.Steps // less than planned when octaves too small for the network are left out
	b.at[i] = p.Step
	total, done := 0, 0
	for k, n := range b.steps {
		total += n
		done += b.at[k]
	}
	// The steps left are expected to take the time the batch has taken
	// a step so far; until a photo has ended, the time this dream
	// expects of its steps.
	perStep := float64(p.Elapsed+p.ETA) / float64(max(p.Steps, 1)) / float64(max(len(b.dreaming), 1))
	if b.ended > 0 && done > 0 {
		perStep = float64(time.Since(b.since)) / float64(done)
	}
	eta := time.Duration(perStep * float64(total-done))
	desc := fmt.Sprintf("photo %d/%d %s octave %d/%d step %d/%d", i+1, len(b.names), b.names[i], p.Octave, p.Octaves, p.Iteration, p.Iterations)
	if len(b.dreaming) > 1 {
		var others []string
		for _, j := range b.dreaming {
			others = append(others, b.names[j])
		}
		desc = fmt.Sprintf("%d/%d photos ended, dreaming %s", b.ended, len(b.names), strings.Join(others, " "))
	}
	if writerIsTerminal(b.w) {
		b.bar = stepBar(b.bar, b.w, total)
		b.bar.Describe(fmt.Sprintf("%s  eta %s", desc, eta.Round(time.Second)))
		_ = b.bar.Set(done)
		return
	}
	if p.Iteration == p.Iterations { // an octave done
		fmt.Fprintf(b.w, "photo %d/%d %s octave %d/%d %dx%d objective %.4g; batch step %d/%d elapsed %s eta %s\n",
			i+1, len(b.names), b.names[i], p.Octave, p.Octaves, p.Width, p.Height, p.Objective,
			done, total, time.Since(b.since).Round(100*time.Millisecond), eta.Round(100*time.Millisecond))
	}
}

// printf writes a message on its own line, clearing the bar first (it is
// drawn again at the next step).
func (b *batchProgress) printf(format string, args ...any) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.bar != nil {
		_ = b.bar.Clear()
	}
	fmt.Fprintf(b.w, format, args...)
}

func (b *batchProgress) close() {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.bar != nil && !b.bar.IsFinished() {
		_ = b.bar.Exit()
	}
	b.bar = nil
}
