package server

import (
	"cmp"
	"errors"
	"slices"
	"sync"
)

// keptFinished is how many finished jobs stay in memory for their status
// and, for explorer tiles, their result (within the queue's results
// budget).
const keptFinished = 64

// errBusy is the answer beyond the queue's bound, errMemoryBusy the answer
// when the memory budget is taken, errClosed the answer during shutdown.
var (
	errBusy       = errors.New("the studio is busy: the queue is full, try again in a minute")
	errMemoryBusy = errors.New("the studio is busy: the dreams running and waiting take its memory budget, try again when they are done")
	errClosed     = errors.New("the studio is shutting down and takes no new dreams")
	// errGroupCancelled refuses a job of a group cancelled already: a
	// page's explorer may still be sending its tiles when it is cancelled
	// (or reloaded), and a tile sent then would run alone.
	errGroupCancelled = errors.New("the job's group was cancelled")
)

// keptCancelledGroups is how many cancelled groups the queue remembers.
const keptCancelledGroups = 256

// queue holds the jobs: those waiting (FIFO), running, and recently
// finished, and accounts their memory against a budget.
//
// The budget counts the photos held with the request's images (from the
// start of their upload, reserved at the upload limit a file, to the end
// of their job) and the peak of every running dream beyond its files
// (job.peak, estimated before it was queued). Two rules keep memory within the budget without ever stalling
// the queue:
//
//   - a job starts only when its peak fits beside the photos held and the
//     peaks of the dreams running (so a big dream waits for the running
//     ones to end rather than run beside them);
//   - a photo is taken in only while the photos held, plus the largest
//     peak running or waiting or the sum of those running, fit: then the
//     first waiting job can always start once the running ones have ended.
//
// The results of jobs kept out of the gallery have their own budget:
// beyond it the oldest are dropped.
type queue struct {
	limit         int   // jobs that may wait
	budget        int64 // bytes of photos and running dreams
	resultsBudget int64 // bytes of results kept in memory

	mu          sync.Mutex
	cond        *sync.Cond
	waiting     []*job
	running     []*job
	jobs        map[string]*job
	finished    []string // IDs of finished jobs still in jobs, oldest first
	held        int64    // bytes of photos being received, waiting and running
	resultBytes int64    // bytes of the results of finished jobs
	closed      bool
	// cancelledGroups are the groups cancelled (cancelGroup), the latest
	// keptCancelledGroups, oldest first: push refuses their jobs.
	cancelledGroups []string
	seq             uint64 // jobs pushed so far

	watchMu  sync.Mutex // not q.mu: jobs change under it
	watchers map[*jobsWatcher]bool
}

func newQueue(limit int, budget, resultsBudget int64) *queue {
	q := &queue{limit: limit, budget: budget, resultsBudget: resultsBudget, jobs: map[string]*job{}, watchers: map[*jobsWatcher]bool{}}
	q.cond = sync.NewCond(&q.mu)
	return q
}

// memoryBudget is the budget of photos and running dreams.
func (q *queue) memoryBudget() int64 {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.budget
}

// reservation is memory reserved for the files of an upload being
// received (the photo, the request's images); push turns it into the
// job's files, release gives back what push did not take.
type reservation struct{ bytes int64 }

// reserve reserves n bytes for an upload about to be received, or says why
// the studio takes none now.
func (q *queue) reserve(n int64) (*reservation, error) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if err := q.refusal(); err != nil {
		return nil, err
	}
	if !q.fits(n, 0) {
		return nil, errMemoryBusy
	}
	q.held += n
	return &reservation{bytes: n}, nil
}

// grow reserves n more bytes for another file of the upload r is reserved
// for, or says why the studio has no room for it now.
func (q *queue) grow(r *reservation, n int64) error {
	q.mu.Lock()
	defer q.mu.Unlock()
	if !q.fits(n, 0) {
		return errMemoryBusy
	}
	q.held += n
	r.bytes += n
	return nil
}

// release gives back what is left of r.
func (q *queue) release(r *reservation) {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.held -= r.bytes
	r.bytes = 0
	q.cond.Broadcast() // the first waiting job may fit now
}

// fits reports whether photo more bytes of files and a job of this peak
// may be taken in: see queue; q.mu is held.
func (q *queue) fits(photo, peak int64) bool {
	running := int64(0)
	for _, j := range q.running {
		running += j.peak
		peak = max(peak, j.peak)
	}
	for _, j := range q.waiting {
		peak = max(peak, j.peak)
	}
	return q.held+photo+max(peak, running) <= q.budget
}

// push appends j, its files taking the place of the reservation r, or
// says why not.
func (q *queue) push(j *job, r *reservation) error {
	q.mu.Lock()
	defer q.mu.Unlock()
	if err := q.refusal(); err != nil {
		return err
	}
	if g := j.group(); g != "" && slices.Contains(q.cancelledGroups, g) {
		return errGroupCancelled
	}
	q.held -= r.bytes
	if !q.fits(j.fileBytes, j.peak) {
		q.held += r.bytes
		return errMemoryBusy
	}
	r.bytes = 0
	q.held += j.fileBytes
	q.enter(j)
	q.waiting = append(q.waiting, j)
	q.renumber()
	q.cond.Broadcast()
	return nil
}

// adopt takes in a job sent to the queue's workers before a restart
// (Server.takeBack): it is running at once, beyond the queue's bound (it
// is queued elsewhere), and its files are not held here.
func (q *queue) adopt(j *job) {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.enter(j)
	q.running = append(q.running, j)
}

// watchOther lists another client's job on the studio's queue (others.go):
// it is not the studio's to run, and takes none of its memory. It
// reports false once the queue is closed.
func (q *queue) watchOther(j *job) bool {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.closed {
		return false
	}
	q.enter(j)
	q.changed(j.id)
	return true
}

// enter lists j among the jobs, after those before it; q.mu is held.
func (q *queue) enter(j *job) {
	q.seq++
	j.seq, j.onChange = q.seq, q.changed
	q.jobs[j.id] = j
}

// refusal says why no job can be queued now, or nil; q.mu is held.
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

// startable reports whether the first waiting job may start: its peak
// fits beside the photos held and the dreams running; q.mu is held.
func (q *queue) startable() bool {
	if len(q.waiting) == 0 {
		return false
	}
	need := q.held + q.waiting[0].peak
	for _, j := range q.running {
		need += j.peak
	}
	return need <= q.budget
}

// next blocks until the first waiting job may start and gives it to
// worker ("": to the queue of remote workers), or returns nil once the
// queue is closed.
func (q *queue) next(worker string) *job {
	q.mu.Lock()
	defer q.mu.Unlock()
	for !q.startable() && !q.closed {
		q.cond.Wait()
	}
	if q.closed {
		return nil
	}
	j := q.waiting[0]
	q.waiting = q.waiting[1:]
	q.running = append(q.running, j)
	j.update(func(s *Status) {
		s.Position = 0
		if worker != "" { // else sent to a queue's workers: running once one takes it
			s.State, s.Worker = stateRunning, worker
		}
	})
	q.renumber()
	return j
}

// list is the status of every job kept (waiting, running and recently
// finished), without previews, oldest first.
func (q *queue) list() []Status {
	q.mu.Lock()
	jobs := make([]*job, 0, len(q.jobs))
	for _, j := range q.jobs {
		jobs = append(jobs, j)
	}
	q.mu.Unlock()
	slices.SortFunc(jobs, func(a, b *job) int { return cmp.Compare(a.seq, b.seq) })
	out := make([]Status, len(jobs))
	for i, j := range jobs {
		out[i], _, _, _ = j.snapshot()
	}
	return out
}

// cancelGroup cancels every waiting or running job of a group and
// returns how many it cancelled.
func (q *queue) cancelGroup(group string) int {
	q.mu.Lock()
	if !slices.Contains(q.cancelledGroups, group) {
		if len(q.cancelledGroups) == keptCancelledGroups {
			q.cancelledGroups = slices.Delete(q.cancelledGroups, 0, 1)
		}
		q.cancelledGroups = append(q.cancelledGroups, group)
	}
	var jobs []*job
	for _, j := range q.jobs {
		if st, _, _, _ := j.snapshot(); st.Group == group && !st.finished() {
			jobs = append(jobs, j)
		}
	}
	q.mu.Unlock()
	n := 0
	for _, j := range jobs {
		if q.cancel(j) {
			n++
		}
	}
	return n
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
	if i := slices.Index(q.waiting, j); i >= 0 {
		q.waiting = slices.Delete(q.waiting, i, i+1)
		q.renumber()
		q.mu.Unlock()
		j.cancel()
		q.finish(j, func(s *Status) { s.State, s.Position = stateCancelled, 0 })
		return true
	}
	q.mu.Unlock()
	st, _, _, _ := j.snapshot()
	j.cancel()
	return !st.finished()
}

// finish records the end of a job that has left the waiting list: its
// memory is freed, its result (if any) kept within the results budget,
// and the oldest finished jobs beyond keptFinished forgotten.
func (q *queue) finish(j *job, f func(*Status)) {
	j.update(f)
	j.original, j.images = nil, nil
	j.mu.Lock()
	result := int64(len(j.result))
	j.mu.Unlock()
	q.mu.Lock()
	defer q.mu.Unlock()
	if i := slices.Index(q.running, j); i >= 0 {
		q.running = slices.Delete(q.running, i, i+1)
	}
	q.held -= j.fileBytes
	q.resultBytes += result
	q.finished = append(q.finished, j.id)
	for _, id := range q.finished { // oldest first
		if q.resultBytes <= q.resultsBudget {
			break
		}
		q.resultBytes -= q.jobs[id].dropResult()
	}
	for len(q.finished) > keptFinished {
		q.resultBytes -= q.jobs[q.finished[0]].dropResult()
		delete(q.jobs, q.finished[0])
		q.finished = q.finished[1:]
	}
	q.cond.Broadcast()
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

// runningCount is how many jobs are being dreamed.
func (q *queue) runningCount() int {
	q.mu.Lock()
	defer q.mu.Unlock()
	return len(q.running)
}
