package server

import (
	"errors"
	"sync"
)

// keptFinished is how many finished jobs stay in memory for their status
// and, for explorer tiles, their result.
const keptFinished = 64

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
