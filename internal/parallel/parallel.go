// Package parallel runs loops across the machine's cores without allocating.
//
// Several loops may run at once (two dreams in two goroutines, or a loop
// inside a chunk of another), and the cores are shared between them. The
// caller of For always works on its own loop. The helper goroutines, one
// fewer than the cores (Workers), join running loops while fewer than
// Workers goroutines are doing loop work, callers and helpers counted, and
// leave a loop between chunks when more are: a lone loop gets every core,
// two concurrent loops on two cores get one each, and no more goroutines
// than cores run loops unless more callers than cores do. A caller waits
// only for the helpers that joined its loop, never for one busy elsewhere,
// so loops cannot deadlock, nested or not. (A For inside a chunk counts
// its goroutine a second time, so helpers join nested loops less, and may
// leave the outer one: a DeepDream step runs no nested loop in parallel.)
//
// A helper joins the loop with the fewest helpers. Starting, joining,
// leaving and ending a loop take a mutex, about half a microsecond per
// loop in all (BenchmarkForRoundTrip); the chunks themselves are handed
// out without it.
//
// Between loops the helper goroutines spin for a while (spinFor) before
// they block, and so does a caller waiting for its helpers: a DeepDream
// step runs about a hundred loops, some of tens of microseconds, and
// waking a blocked thread costs as much or more on a virtual machine. The
// spinning runs PAUSE, which leaves the core to an SMT sibling (the two
// vCPUs of a virtual machine may be one core's two threads): without it,
// spinning made steps slower there. A spinning goroutine yields to other
// goroutines every politeEvery (runtime.Gosched), so that it does not
// keep a core from a dream between two loops; and a helper does not spin
// at all while Workers goroutines are doing loop work.
//
// How a loop's indices are split into chunks depends on timing: a task's
// result must not depend on it (each index computed the same whichever
// chunk holds it), which is what makes results reproducible.
package parallel

import (
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// Task is a loop body: Run processes indices [lo, hi).
// A pointer to a struct is the usual implementation; storing it in an
// interface does not allocate.
type Task interface {
	Run(lo, hi int)
}

// A WorkerTask is a Task that For tells which seat runs each chunk:
// RunOn(seat, lo, hi) instead of Run(lo, hi), seat in [0, Seats()), so
// that a task can keep buffers per seat. No two chunks running at the
// same moment, of the same loop or of different loops, have the same
// seat. Each helper always runs on the same seat, and a caller takes the
// lowest free caller seat, 0 for the first: the buffers of a lone loop's
// seats stay in the caches of the cores that use them. A For that runs
// serially (one chunk, one core, or no caller seat free) calls Run.
type WorkerTask interface {
	Task
	RunOn(seat, lo, hi int)
}

var (
	startOnce sync.Once
	workers   int
	// seats are the seats of WorkerTask.RunOn: seats [1, workers) are
	// the helpers', one each; the others, 0 and [workers, 2*workers), are
	// taken by callers, and hold the loop of the caller that has one.
	seats   []seat
	helpers []helper

	// mu guards the loops' lists and flags marked "under mu", and every
	// change of active and of a loop's helpers.
	mu sync.Mutex
	// listed are the loops that helpers may join, oldest first.
	listed []*loop
	// blocked are the helpers waiting on their wake channel.
	blocked []*helper

	// active is the number of goroutines doing loop work: callers
	// between the start of their loop and For's return, and helpers in
	// a loop.
	active atomic.Int32
	// open is the number of listed loops whose indices are not all handed
	// out yet: the one that takes a loop's last chunk decrements it.
	open atomic.Int32
	// spinning is the number of helpers spinning for a loop to join.
	spinning atomic.Int32

	// hooks, if set, are called by For just after it lists its loop,
	// before it wakes helpers, and by a helper after its last chunk of a
	// loop, before it leaves it: tests delay them.
	launchedHook, helperDoneHook atomic.Pointer[func(l *loop)]
)

// A loop is one For's: the state its caller and helpers share.
type loop struct {
	task    Task
	wt      WorkerTask // task, if it is one
	n       int64
	grain   int64
	part    int64
	next    atomic.Int64 // the first index not handed out
	helpers atomic.Int32 // helpers working on it; changed under mu
	// callerWaits (under mu) is set while the caller, its chunks done,
	// blocks on wake for the last helper to leave, which then sends.
	callerWaits bool
	wake        chan struct{}
	// toWake are the blocked helpers the caller took from blocked to
	// wake once it has released mu.
	toWake []*helper
}

// seat is a caller seat's state: its loop, and whether a caller holds it
// (under mu).
type seat struct {
	loop  loop
	taken bool
	_     [64]byte // keep seats off each other's cache lines
}

// helper is one helper goroutine's.
type helper struct {
	seat int
	wake chan struct{} // a token when it is taken from blocked
	_    [64]byte
}

// spinFor is how long a helper looks for a loop to join, and a caller for
// its helpers' end, before blocking. A DeepDream step launches its loops
// microseconds apart, but the chunks of a loop can end over 100 us apart
// on a busy machine. With 100 us, a 1024x768 step blocked a helper 39-53
// times and its caller 17-22 times, a 224x224 step 12 and 5; with 1 ms, 3
// and 3 at 1024x768, none at 224x224, and steps ran 4% faster (pairwise
// 0.963 and 0.956, alternated in one process). 2 ms gained no more. A
// waiting thread spins for at most 1 ms after the last loop of a run.
const spinFor = time.Millisecond

// spinPause is how many PAUSE instructions a spinning loop runs between
// two looks.
const spinPause = 8

// politeEvery is how many looks a spinning goroutine takes between two
// calls of runtime.Gosched, which let any other goroutine waiting for a
// core run first: every 25-55 us (a look is 8 PAUSEs, 65-140 cycles each
// on Zen and Ice Lake).
const politeEvery = 128

// Workers is the number of cores For uses: runtime.GOMAXPROCS at the
// first call, and one goroutine per core, the caller included, for a
// loop running alone.
func Workers() int {
	startOnce.Do(start)
	return workers
}

// Seats is the number of seats a WorkerTask's chunks run on: 2*Workers().
func Seats() int {
	startOnce.Do(start)
	return len(seats)
}

func start() {
	workers = max(runtime.GOMAXPROCS(0), 1)
	seats = make([]seat, 2*workers)
	for i := range seats {
		seats[i].loop.wake = make(chan struct{}, 1)
		seats[i].loop.toWake = make([]*helper, 0, workers-1)
	}
	listed = make([]*loop, 0, len(seats))
	helpers = make([]helper, workers-1)
	blocked = make([]*helper, 0, len(helpers))
	for i := range helpers {
		h := &helpers[i]
		h.seat = i + 1
		h.wake = make(chan struct{}, 1)
		go h.run()
	}
}

// For runs t.Run over [0, n) in chunks of at least grain indices (but
// for the last), on its caller and on the helpers that join, and returns
// when all are done. grain < 1 means 1. Workers take chunks as they
// become free, each a share of what is left: the chunks shrink towards
// the loop's end.
func For(n, grain int, t Task) {
	if n <= 0 {
		return
	}
	p := Workers()
	grain = max(grain, 1)
	maxChunks := n / grain
	if p == 1 || maxChunks <= 1 {
		t.Run(0, n)
		return
	}
	mu.Lock()
	s := takeSeat()
	if s < 0 {
		mu.Unlock()
		active.Add(1)
		t.Run(0, n)
		active.Add(-1)
		return
	}
	l := &seats[s].loop
	l.task, l.n, l.grain, l.part = t, int64(n), int64(grain), int64(guidedPart*p)
	l.wt, _ = t.(WorkerTask)
	l.next.Store(0)
	listed = append(listed, l)
	open.Add(1)
	// Wake blocked helpers for the cores no goroutine does loop work on,
	// but for those that spinning helpers will take.
	a := int(active.Add(1))
	for want := min(p-a, maxChunks-1) - int(spinning.Load()); want > 0 && len(blocked) > 0; want-- {
		l.toWake = append(l.toWake, blocked[len(blocked)-1])
		blocked = blocked[:len(blocked)-1]
	}
	mu.Unlock()
	if f := launchedHook.Load(); f != nil {
		(*f)(l)
	}
	for i, h := range l.toWake {
		h.wake <- struct{}{}
		l.toWake[i] = nil
	}
	l.toWake = l.toWake[:0]
	work(l, s, false)
	end(l, s)
}

// takeSeat takes the lowest free caller seat, under mu, or returns -1.
func takeSeat() int {
	for s := 0; s < len(seats); s = max(s+1, workers) {
		if !seats[s].taken {
			seats[s].taken = true
			return s
		}
	}
	return -1
}

// end waits for the helpers of l, whose caller has run out of chunks and
// holds seat s, to leave it, spinning for up to spinFor and then
// blocking; then it frees the seat.
func end(l *loop, s int) {
	mu.Lock()
	if i := slices.Index(listed, l); i >= 0 {
		listed = slices.Delete(listed, i, i+1)
	}
	if l.helpers.Load() != 0 {
		mu.Unlock()
		if !spinUntil(func() bool { return l.helpers.Load() == 0 }) {
			mu.Lock()
			if l.helpers.Load() != 0 {
				l.callerWaits = true
				mu.Unlock()
				<-l.wake // the last helper to leave clears callerWaits and sends
			} else {
				mu.Unlock()
			}
		}
		mu.Lock()
	}
	l.task, l.wt = nil, nil
	seats[s].taken = false
	active.Add(-1)
	mu.Unlock()
}

// work runs chunks of l on seat s until none is left, or, for a helper,
// until more goroutines than cores are doing loop work. Each chunk is
// 1/part of the indices not yet handed out, and at least grain of them:
// large first, small last, so that workers (or cores slowed by other work)
// end the loop close together.
func work(l *loop, s int, helper bool) {
	n, grain, part := l.n, l.grain, l.part
	for {
		if helper && int(active.Load()) > workers {
			return
		}
		lo := l.next.Load()
		if lo >= n {
			return
		}
		hi := min(lo+max(grain, (n-lo+part-1)/part), n)
		if !l.next.CompareAndSwap(lo, hi) {
			continue // another worker took [lo, ...)
		}
		if hi == n {
			open.Add(-1)
		}
		if l.wt != nil {
			l.wt.RunOn(s, int(lo), int(hi))
		} else {
			l.task.Run(int(lo), int(hi))
		}
	}
}

// guidedPart sets the size of each chunk: 1/(guidedPart*p) of the indices
// not yet handed out, p being the number of workers. Against 8 equal
// chunks (4 per worker), whose last one left a core idle up to an eighth
// of the loop, steps alternated in one process ran at 0.977-0.979
// (1024x768, 30 rounds, twice) and 0.978-0.983 (224x224, 300 rounds); with
// 1/p or 1/(4p) of what was left, 1.009 and 0.987 at 1024x768, 0.977 and
// 0.982 at 224x224.
const guidedPart = 2

// run is a helper goroutine: it joins loops and works on them.
func (h *helper) run() {
	for {
		l := h.join()
		work(l, h.seat, true)
		if f := helperDoneHook.Load(); f != nil {
			(*f)(l)
		}
		mu.Lock()
		active.Add(-1)
		wake := l.helpers.Add(-1) == 0 && l.callerWaits
		if wake {
			l.callerWaits = false
		}
		mu.Unlock()
		if wake {
			l.wake <- struct{}{} // the caller, blocked until then, still holds l
		}
	}
}

// join returns the loop h has joined once there is one, spinning for up
// to spinFor while fewer than Workers goroutines do loop work, then
// blocking.
func (h *helper) join() *loop {
	for {
		spinning.Add(1)
		found := spinUntil(func() bool { return open.Load() > 0 || int(active.Load()) >= workers })
		spinning.Add(-1)
		mu.Lock()
		var best *loop
		if int(active.Load()) < workers {
			for _, l := range listed {
				if l.next.Load() < l.n && (best == nil || l.helpers.Load() < best.helpers.Load()) {
					best = l
				}
			}
		}
		if best != nil {
			best.helpers.Add(1)
			active.Add(1)
			mu.Unlock()
			return best
		}
		if found && int(active.Load()) < workers {
			mu.Unlock()
			continue // the loop it saw ran out of chunks: spin again
		}
		blocked = append(blocked, h)
		mu.Unlock()
		<-h.wake // a caller took h from blocked and sends a token
	}
}

// spinUntil calls done, with PAUSEs between calls, until it reports true
// (spinUntil then does) or spinFor has passed (false).
func spinUntil(done func() bool) bool {
	var start time.Time
	for spin := 1; ; spin++ {
		if done() {
			return true
		}
		pause(spinPause)
		if spin%politeEvery == 0 {
			runtime.Gosched()
		}
		if spin%16 != 0 {
			continue
		}
		if start.IsZero() {
			start = time.Now()
		} else if time.Since(start) > spinFor {
			return false
		}
	}
}

// FreeList recycles values of type T. Unlike a sync.Pool it keeps them
// across garbage collections, which a pool may empty at any time, so code
// that recycles through it stays allocation-free in the steady state. It
// holds as many values as were ever out at once.
type FreeList[T any] struct {
	mu   sync.Mutex
	free []*T
}

// Get returns a recycled value, or a new zero one.
func (l *FreeList[T]) Get() *T {
	l.mu.Lock()
	defer l.mu.Unlock()
	if k := len(l.free); k > 0 {
		v := l.free[k-1]
		l.free = l.free[:k-1]
		return v
	}
	return new(T)
}

// Put recycles v.
func (l *FreeList[T]) Put(v *T) {
	l.mu.Lock()
	l.free = append(l.free, v)
	l.mu.Unlock()
}

// Tasks launches loops whose state is a struct T (with Run on *T) without
// allocating: the state lives in recycled memory instead of escaping to the
// heap on every call. Declare one package-level Tasks per task type:
//
//	var reluTasks parallel.Tasks[reluTask, *reluTask]
//	reluTasks.For(len(dst), grain, reluTask{dst, x})
type Tasks[T any, P interface {
	*T
	Task
}] struct {
	states FreeList[T]
}

// For is the package-level For with state args.
func (ts *Tasks[T, P]) For(n, grain int, args T) {
	p := ts.states.Get()
	*p = args
	For(n, grain, P(p))
	var zero T
	*p = zero // drop references to the caller's buffers
	ts.states.Put(p)
}
