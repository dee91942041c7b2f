package server

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/deepdream-go/deepdream/dream"
	"github.com/deepdream-go/deepdream/imageio"
)

// Job states.
const (
	stateQueued    = "queued"
	stateRunning   = "running"
	stateDone      = "done"
	stateFailed    = "failed"
	stateCancelled = "cancelled"
)

// previewSize bounds the longer side of live previews: they are for
// watching, the result is what is kept.
const previewSize = 512

// keptFinished is how many finished jobs stay in memory for their status
// and, for explorer tiles, their result.
const keptFinished = 64

// Status is a job as the page sees it.
type Status struct {
	ID         string   `json:"id"`
	State      string   `json:"state"`
	Position   int      `json:"position,omitempty"` // in the queue, 1 = next
	Model      string   `json:"model"`
	Layers     []string `json:"layers"`
	Gallery    bool     `json:"gallery"` // saved to the gallery when done
	Octave     int      `json:"octave"`
	Octaves    int      `json:"octaves"`
	Iteration  int      `json:"iteration"`
	Iterations int      `json:"iterations"`
	Step       int      `json:"step"`
	Steps      int      `json:"steps"`
	Width      int      `json:"width"`
	Height     int      `json:"height"`
	ElapsedMS  int64    `json:"elapsed_ms"`
	ETAMS      int64    `json:"eta_ms"`
	Error      string   `json:"error,omitempty"`
	Entry      string   `json:"entry,omitempty"`  // gallery ID, once saved
	Result     string   `json:"result,omitempty"` // URL of the result PNG
	// Preview is a JPEG data URL of the dream so far; only in events.
	Preview string `json:"preview,omitempty"`
}

func (s *Status) finished() bool {
	return s.State == stateDone || s.State == stateFailed || s.State == stateCancelled
}

// job is one dream request, from its submission to a little after its end.
type job struct {
	id       string
	model    *Model
	record   dream.Record // the request, and what the result will embed
	original []byte       // the upload, decoded again when the job starts
	format   string
	keep     bool // save to the gallery (explorer tiles are not saved)

	ctx    context.Context
	cancel context.CancelFunc
	// watchers counts the event streams open on the job: previews are
	// encoded only when someone looks.
	watchers atomic.Int32

	mu      sync.Mutex
	status  Status
	preview []byte // latest JPEG preview
	pseq    int    // counts previews, so a stream sends each once
	result  []byte // the result PNG of a job not kept in the gallery
	changed chan struct{}
}

// update changes the status under the lock and wakes the event streams.
func (j *job) update(f func(*Status)) {
	j.mu.Lock()
	f(&j.status)
	close(j.changed)
	j.changed = make(chan struct{})
	j.mu.Unlock()
}

// snapshot returns the status, the latest preview and its number, and a
// channel closed at the next change.
func (j *job) snapshot() (Status, []byte, int, <-chan struct{}) {
	j.mu.Lock()
	defer j.mu.Unlock()
	return j.status, j.preview, j.pseq, j.changed
}

// progress is the dream's progress callback.
func (j *job) progress(p dream.Progress) {
	var jpg []byte
	if j.watchers.Load() > 0 {
		var buf bytes.Buffer
		if err := imageio.Encode(&buf, fit(p.Preview(), previewSize), "jpeg", imageio.EncodeOptions{Quality: 75}); err == nil {
			jpg = buf.Bytes()
		}
	}
	j.mu.Lock()
	if jpg != nil {
		j.preview, j.pseq = jpg, j.pseq+1
	}
	j.mu.Unlock()
	j.update(func(s *Status) {
		s.Octave, s.Octaves, s.Iteration, s.Iterations = p.Octave, p.Octaves, p.Iteration, p.Iterations
		s.Step, s.Steps, s.Width, s.Height = p.Step, p.Steps, p.Width, p.Height
		s.ElapsedMS, s.ETAMS = p.Elapsed.Milliseconds(), p.ETA.Milliseconds()
	})
}

// previewURL encodes a JPEG as a data URL.
func previewURL(jpg []byte) string {
	return "data:image/jpeg;base64," + base64.StdEncoding.EncodeToString(jpg)
}

// errBusy is the answer beyond the queue's bound, errClosed the answer
// during shutdown.
var (
	errBusy   = errors.New("the studio is busy: the queue is full, try again in a minute")
	errClosed = errors.New("the studio is shutting down and takes no new dreams")
)

// queue holds the jobs: those waiting (FIFO), running, and recently
// finished.
type queue struct {
	limit int

	mu       sync.Mutex
	cond     *sync.Cond
	waiting  []*job
	jobs     map[string]*job
	finished []string // IDs of finished jobs still in jobs, oldest first
	closed   bool
}

func newQueue(limit int) *queue {
	q := &queue{limit: limit, jobs: map[string]*job{}}
	q.cond = sync.NewCond(&q.mu)
	return q
}

// push appends j, or says why not.
func (q *queue) push(j *job) error {
	q.mu.Lock()
	defer q.mu.Unlock()
	if err := q.refusal(); err != nil {
		return err
	}
	q.waiting = append(q.waiting, j)
	q.jobs[j.id] = j
	q.renumber()
	q.cond.Signal()
	return nil
}

// full reports whether a push would fail now (checked before reading an
// upload; push decides).
func (q *queue) full() error {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.refusal()
}

// refusal says why a job cannot be queued now, or nil; q.mu is held.
func (q *queue) refusal() error {
	switch {
	case q.closed:
		return errClosed
	case len(q.waiting) >= q.limit:
		return errBusy
	}
	return nil
}

// renumber tells the waiting jobs their positions; q.mu is held.
func (q *queue) renumber() {
	for i, j := range q.waiting {
		j.update(func(s *Status) { s.Position = i + 1 })
	}
}

// next blocks until a job waits and takes it, or returns nil once the
// queue is closed.
func (q *queue) next() *job {
	q.mu.Lock()
	defer q.mu.Unlock()
	for len(q.waiting) == 0 && !q.closed {
		q.cond.Wait()
	}
	if q.closed {
		return nil
	}
	j := q.waiting[0]
	q.waiting = q.waiting[1:]
	j.update(func(s *Status) { s.State, s.Position = stateRunning, 0 })
	q.renumber()
	return j
}

func (q *queue) get(id string) *job {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.jobs[id]
}

// cancel cancels a job: a waiting one leaves the queue at once, a running
// one stops within a step. It reports whether the job was still going.
func (q *queue) cancel(j *job) bool {
	q.mu.Lock()
	for i, w := range q.waiting {
		if w == j {
			q.waiting = append(q.waiting[:i], q.waiting[i+1:]...)
			q.renumber()
			q.mu.Unlock()
			j.cancel()
			q.finish(j, func(s *Status) { s.State, s.Position = stateCancelled, 0 })
			return true
		}
	}
	q.mu.Unlock()
	st, _, _, _ := j.snapshot()
	j.cancel()
	return !st.finished()
}

// finish records a job's end and forgets the oldest finished jobs beyond
// keptFinished.
func (q *queue) finish(j *job, f func(*Status)) {
	j.update(f)
	j.original = nil
	q.mu.Lock()
	defer q.mu.Unlock()
	q.finished = append(q.finished, j.id)
	for len(q.finished) > keptFinished {
		delete(q.jobs, q.finished[0])
		q.finished = q.finished[1:]
	}
}

// close stops the queue: workers return, and the waiting jobs are
// cancelled (none has started, so nothing of theirs is lost but the wait).
func (q *queue) close() {
	q.mu.Lock()
	waiting := q.waiting
	q.waiting = nil
	q.closed = true
	q.cond.Broadcast()
	q.mu.Unlock()
	for _, j := range waiting {
		j.cancel()
		q.finish(j, func(s *Status) {
			s.State, s.Position, s.Error = stateCancelled, 0, "the studio shut down before this dream started"
		})
	}
}

// runningJobs lists the jobs being dreamed.
func (q *queue) runningJobs() []*job {
	q.mu.Lock()
	defer q.mu.Unlock()
	var out []*job
	for _, j := range q.jobs {
		if st, _, _, _ := j.snapshot(); st.State == stateRunning {
			out = append(out, j)
		}
	}
	return out
}

// run dreams one job and saves its result.
func (s *Server) run(j *job) {
	if s.started != nil {
		s.started(j)
	}
	start := time.Now()
	st, err := s.dream(j)
	if err != nil {
		s.q.finish(j, func(x *Status) {
			x.State, x.Error = stateFailed, err.Error()
			if j.ctx.Err() != nil {
				x.State, x.Error = stateCancelled, ""
			}
		})
		if j.ctx.Err() == nil {
			s.logf("job %s failed: %v", j.id, err)
		}
		return
	}
	s.logf("job %s done in %s", j.id, time.Since(start).Round(time.Millisecond))
	s.q.finish(j, func(x *Status) { x.State, x.Entry, x.Result = stateDone, st.Entry, st.Result })
}

// dream runs the dream of j under its time limit and keeps the result: in
// the gallery, or in memory for a job not kept.
func (s *Server) dream(j *job) (Status, error) {
	ctx, cancel := context.WithTimeout(j.ctx, s.cfg.JobTimeout)
	defer cancel()
	start := time.Now()
	net, _, err := s.loadModel(j.model)
	if err != nil {
		return Status{}, err
	}
	file, out, err := net.DreamPhoto(ctx, bytes.NewReader(j.original), dream.Photo{MaxPixels: s.cfg.MaxPixels, Format: "png"}, j.record, j.progress)
	if err != nil {
		if errors.Is(err, context.DeadlineExceeded) && j.ctx.Err() == nil {
			return Status{}, fmt.Errorf("the dream took longer than the limit of %s per dream; try a smaller max size or fewer iterations", s.cfg.JobTimeout)
		}
		return Status{}, err
	}
	if !j.keep {
		j.mu.Lock()
		j.result = file
		j.mu.Unlock()
		return Status{Result: "/api/jobs/" + j.id + "/result"}, nil
	}
	b := out.Bounds()
	e := &Entry{
		ID: j.id, Created: time.Now().UTC(), Params: j.record, Format: j.format,
		Width: b.Dx(), Height: b.Dy(), Seconds: time.Since(start).Seconds(),
	}
	if err := s.gallery.add(e, j.original, file, out); err != nil {
		s.logf("job %s: %v", j.id, err)
		return Status{}, fmt.Errorf("the dream could not be saved in the gallery: %s", withoutPath(err))
	}
	return Status{Entry: e.ID, Result: "/api/gallery/" + e.ID + "/result.png"}, nil
}
