// Package parallel runs loops across the machine's cores without allocating.
//
// One loop runs in parallel at a time: a For called while another is running
// (a kernel called from inside a parallel loop, or a second dream in another
// goroutine) runs serially in its caller, because the cores are busy anyway.
// That rule keeps the pool free of deadlocks and of per-call allocations.
package parallel

import (
	"runtime"
	"sync"
	"sync/atomic"
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
	wake      chan struct{}
	busy      atomic.Bool

	// The running loop; written only by the goroutine holding busy,
	// before it wakes the helpers.
	cur struct {
		task         Task
		n, size      int
		chunks, next atomic.Int64
		done         sync.WaitGroup
	}
)

// Workers is the number of goroutines For uses, the caller included.
func Workers() int {
	startOnce.Do(start)
	return workers
}

func start() {
	workers = max(runtime.GOMAXPROCS(0), 1)
	wake = make(chan struct{}, workers)
	for range workers - 1 {
		go helper()
	}
}

func helper() {
	for range wake {
		work()
		cur.done.Done()
	}
}

func work() {
	for {
		i := cur.next.Add(1) - 1
		if i >= cur.chunks.Load() {
			return
		}
		lo := int(i) * cur.size
		cur.task.Run(lo, min(lo+cur.size, cur.n))
	}
}

// For runs t.Run over [0, n) in chunks of at least grain indices, using up to
// Workers goroutines, and returns when all are done. grain < 1 means 1.
func For(n, grain int, t Task) {
	if n <= 0 {
		return
	}
	p := Workers()
	grain = max(grain, 1)
	// A few chunks per worker balance uneven chunk costs.
	chunks := min(max(n/grain, 1), 4*p)
	if p == 1 || chunks == 1 || !busy.CompareAndSwap(false, true) {
		t.Run(0, n)
		return
	}
	size := (n + chunks - 1) / chunks
	cur.task, cur.n, cur.size = t, n, size
	cur.chunks.Store(int64((n + size - 1) / size))
	cur.next.Store(0)
	h := min(p-1, int(cur.chunks.Load())-1)
	cur.done.Add(h)
	for range h {
		wake <- struct{}{}
	}
	work()
	cur.done.Wait()
	cur.task = nil
	busy.Store(false)
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
