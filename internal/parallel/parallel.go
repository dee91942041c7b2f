// Package parallel runs loops across the machine's cores without allocating.
//
// One loop runs in parallel at a time: a For called while another is running
// (a kernel called from inside a parallel loop, or a second dream in another
// goroutine) runs serially in its caller, because the cores are busy anyway.
// That rule keeps the pool free of deadlocks and of per-call allocations.
//
// Between loops the helper goroutines spin for a while (spinFor) before
// they block, and so does a caller waiting for its helpers: a DeepDream
// step runs about a hundred loops, some of tens of microseconds, and
// waking a blocked thread costs as much or more on a virtual machine. The
// spinning runs PAUSE, which leaves the core to an SMT sibling (the two
// vCPUs of a virtual machine may be one core's two threads): without it,
// spinning made steps slower there.
package parallel

import (
	"runtime"
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

var (
	startOnce sync.Once
	workers   int
	helpers   []helperState
	busy      atomic.Bool

	// launch is the number of loops launched so far, times 256, plus
	// the number of helpers the newest one uses (fewer than 256): a word
	// that names the loop, and grows with each.
	launch atomic.Uint64
	// pending counts the helpers still working on the running loop.
	pending atomic.Int32
	// callerWaits is the launch word of the loop whose caller stopped
	// spinning on pending and waits on callerWake instead, or 0.
	callerWaits atomic.Uint64
	callerWake  = make(chan struct{}, 1)

	// hooks, if set, are called by For just after it launches a loop,
	// before it wakes helpers, and by the helper that ends a loop before
	// it wakes the caller, with the loop's launch word: tests delay the
	// wake-ups with them.
	launchedHook, lastHelperDoneHook atomic.Pointer[func(l uint64)]

	// The running loop; written only by the goroutine holding busy,
	// before it publishes launch.
	cur struct {
		task           Task
		n, grain, part int
		next           atomic.Int64 // the first index not handed out
	}
)

// helperState is one helper goroutine's: waits is 1 + the launch word it
// last saw while it blocks on wake instead of spinning on launch for a
// newer one, else 0.
//
// Each side of a wake-up names the loop, so that one late to take the
// other's flag cannot wake it for another loop: a caller that stopped
// (preempted, say) between launching a loop and waking its helpers must
// not wake a helper that has since done that loop and blocked, or the
// helper would join it twice and leave pending at -1; and a helper that
// stopped between ending a loop and waking its caller must not wake the
// caller blocked in the next one, whose helpers have not joined it yet.
type helperState struct {
	waits atomic.Uint64
	wake  chan struct{}
	_     [48]byte // keep helpers off each other's cache lines
}

// spinFor is how long a helper looks for the next loop, and a caller for
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

// Workers is the number of goroutines For uses, the caller included.
func Workers() int {
	startOnce.Do(start)
	return workers
}

func start() {
	workers = max(runtime.GOMAXPROCS(0), 1)
	helpers = make([]helperState, workers-1)
	for i := range helpers {
		helpers[i].wake = make(chan struct{}, 1)
		go helper(i, launch.Load())
	}
}

func helper(i int, seen uint64) {
	h := &helpers[i]
	for {
		l := waitLaunch(h, seen)
		seen = l
		if i < int(l%256) {
			work(i + 1)
			if pending.Add(-1) == 0 {
				if f := lastHelperDoneHook.Load(); f != nil {
					(*f)(l)
				}
				if callerWaits.CompareAndSwap(l, 0) {
					callerWake <- struct{}{}
				}
			}
		}
	}
}

// waitLaunch returns the launch word once it differs from seen, spinning
// for up to spinFor and then blocking.
func waitLaunch(h *helperState, seen uint64) uint64 {
	if spinUntil(func() bool { return launch.Load() != seen }) {
		return launch.Load()
	}
	h.waits.Store(seen + 1)
	if l := launch.Load(); l != seen {
		if !h.waits.CompareAndSwap(seen+1, 0) {
			<-h.wake // a caller took the flag and sends a token
		}
		return l
	}
	<-h.wake
	return launch.Load()
}

// spinUntil calls done, with PAUSEs between calls, until it reports true
// (spinUntil then does) or spinFor has passed (false).
func spinUntil(done func() bool) bool {
	var start time.Time
	for spin := 0; ; spin++ {
		if done() {
			return true
		}
		pause(spinPause)
		if spin%16 != 15 {
			continue
		}
		if start.IsZero() {
			start = time.Now()
		} else if time.Since(start) > spinFor {
			return false
		}
	}
}

// work runs chunks of the running loop until none is left. Each chunk is
// 1/part of the indices not yet handed out, and at least grain of them:
// large first, small last, so that workers (or cores slowed by other work)
// end the loop close together.
func work(worker int) {
	wt, _ := cur.task.(WorkerTask)
	n, grain, part := int64(cur.n), int64(cur.grain), int64(cur.part)
	for {
		lo := cur.next.Load()
		if lo >= n {
			return
		}
		hi := min(lo+max(grain, (n-lo+part-1)/part), n)
		if !cur.next.CompareAndSwap(lo, hi) {
			continue // another worker took [lo, ...)
		}
		if wt != nil {
			wt.RunOn(worker, int(lo), int(hi))
		} else {
			cur.task.Run(int(lo), int(hi))
		}
	}
}

// A WorkerTask is a Task that For tells which worker runs each chunk:
// RunOn(w, lo, hi) instead of Run(lo, hi), w in [0, Workers()), the
// caller being 0, so that a task can keep per-worker buffers in the cache
// of the core that uses them. A For that runs serially (one chunk, one
// core, or inside another loop) calls Run.
type WorkerTask interface {
	Task
	RunOn(worker, lo, hi int)
}

// guidedPart sets the size of each chunk: 1/(guidedPart*p) of the indices
// not yet handed out, p being the number of workers. Against 8 equal
// chunks (4 per worker), whose last one left a core idle up to an eighth
// of the loop, steps alternated in one process ran at 0.977-0.979
// (1024x768, 30 rounds, twice) and 0.978-0.983 (224x224, 300 rounds); with
// 1/p or 1/(4p) of what was left, 1.009 and 0.987 at 1024x768, 0.977 and
// 0.982 at 224x224.
const guidedPart = 2

// For runs t.Run over [0, n) in chunks of at least grain indices (but
// for the last), using up to Workers goroutines, and returns when all are
// done. grain < 1 means 1. Workers take chunks as they become free, each
// a share of what is left: the chunks shrink towards the loop's end.
func For(n, grain int, t Task) {
	if n <= 0 {
		return
	}
	p := Workers()
	grain = max(grain, 1)
	maxChunks := n / grain
	if p == 1 || maxChunks <= 1 || !busy.CompareAndSwap(false, true) {
		t.Run(0, n)
		return
	}
	cur.task, cur.n, cur.grain, cur.part = t, n, grain, guidedPart*p
	cur.next.Store(0)
	h := min(p-1, maxChunks-1, 255)
	pending.Store(int32(h))
	l := (launch.Load()/256+1)*256 + uint64(h)
	launch.Store(l)
	if f := launchedHook.Load(); f != nil {
		(*f)(l)
	}
	for i := range h {
		// Wake helper i if it blocked before it saw this loop.
		if w := helpers[i].waits.Load(); w != 0 && w-1 != l && helpers[i].waits.CompareAndSwap(w, 0) {
			helpers[i].wake <- struct{}{}
		}
	}
	work(0)
	waitHelpers(l)
	cur.task = nil
	busy.Store(false)
}

// waitHelpers returns when pending is zero for the loop l, spinning for up
// to spinFor and then blocking.
func waitHelpers(l uint64) {
	if spinUntil(func() bool { return pending.Load() == 0 }) {
		return
	}
	callerWaits.Store(l)
	if pending.Load() == 0 && callerWaits.CompareAndSwap(l, 0) {
		return
	}
	<-callerWake // the helper that ended l took the word and sends a token
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
