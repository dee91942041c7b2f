package parallel

import (
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

type countTask struct {
	hits []atomic.Int32
}

func (t *countTask) Run(lo, hi int) {
	for i := lo; i < hi; i++ {
		t.hits[i].Add(1)
	}
}

func TestForCoversEveryIndexOnce(t *testing.T) {
	for _, n := range []int{0, 1, 2, 3, 7, 64, 1000, 4097} {
		for _, grain := range []int{0, 1, 5, 1000} {
			task := &countTask{hits: make([]atomic.Int32, n)}
			For(n, grain, task)
			for i := range task.hits {
				if got := task.hits[i].Load(); got != 1 {
					t.Fatalf("n=%d grain=%d: index %d run %d times", n, grain, i, got)
				}
			}
		}
	}
}

type chunkTask struct {
	mu     sync.Mutex
	chunks [][2]int
}

func (t *chunkTask) Run(lo, hi int) {
	t.mu.Lock()
	t.chunks = append(t.chunks, [2]int{lo, hi})
	t.mu.Unlock()
}

// TestForChunks checks that For's chunks tile [0, n), each of at least
// grain indices but for the last, and that they shrink towards the end.
func TestForChunks(t *testing.T) {
	for _, n := range []int{2, 9, 100, 1000, 100000} {
		for _, grain := range []int{1, 3, 64} {
			task := &chunkTask{}
			For(n, grain, task)
			slices.SortFunc(task.chunks, func(a, b [2]int) int { return a[0] - b[0] })
			end := 0
			for i, c := range task.chunks {
				if c[0] != end || c[1] <= c[0] {
					t.Fatalf("n=%d grain=%d: chunks %v do not tile [0, n)", n, grain, task.chunks)
				}
				if c[1]-c[0] < grain && c[1] != n {
					t.Fatalf("n=%d grain=%d: chunk %v is shorter than grain", n, grain, c)
				}
				if i > 0 && c[1]-c[0] > task.chunks[i-1][1]-task.chunks[i-1][0] {
					t.Fatalf("n=%d grain=%d: chunk %v is longer than the one before it", n, grain, c)
				}
				end = c[1]
			}
			if end != n {
				t.Fatalf("n=%d grain=%d: chunks end at %d", n, grain, end)
			}
			if Workers() > 1 && n/grain >= 8*Workers() && task.chunks[len(task.chunks)-1][1]-task.chunks[len(task.chunks)-1][0] > max(grain, n/16) {
				t.Errorf("n=%d grain=%d: the last chunk %v is not small", n, grain, task.chunks[len(task.chunks)-1])
			}
		}
	}
}

type nestedTask struct {
	inner *countTask
	width int
}

func (t *nestedTask) Run(lo, hi int) {
	for i := lo; i < hi; i++ {
		For(t.width, 1, &rowTask{t.inner, i * t.width})
	}
}

type rowTask struct {
	c   *countTask
	off int
}

func (r *rowTask) Run(lo, hi int) { r.c.Run(r.off+lo, r.off+hi) }

func TestForNested(t *testing.T) {
	const rows, width = 37, 53
	task := &nestedTask{inner: &countTask{hits: make([]atomic.Int32, rows*width)}, width: width}
	For(rows, 1, task)
	for i := range task.inner.hits {
		if got := task.inner.hits[i].Load(); got != 1 {
			t.Fatalf("index %d run %d times", i, got)
		}
	}
}

func TestForDoesNotAllocate(t *testing.T) {
	task := &countTask{hits: make([]atomic.Int32, 1000)}
	For(1000, 1, task)
	if a := testing.AllocsPerRun(100, func() { For(1000, 1, task) }); a != 0 {
		t.Errorf("For allocates %v times per call, want 0", a)
	}
}

type sumTask struct {
	x   []float64
	out []float64
}

func (t *sumTask) Run(lo, hi int) {
	for i := lo; i < hi; i++ {
		t.out[i] = 2 * t.x[i]
	}
}

var sumTasks Tasks[sumTask, *sumTask]

func TestTasksDoesNotAllocate(t *testing.T) {
	x := make([]float64, 5000)
	out := make([]float64, 5000)
	for i := range x {
		x[i] = float64(i)
	}
	sumTasks.For(len(x), 16, sumTask{x, out})
	for i := range out {
		if out[i] != 2*x[i] {
			t.Fatalf("out[%d] = %v", i, out[i])
		}
	}
	if a := testing.AllocsPerRun(100, func() { sumTasks.For(len(x), 16, sumTask{x, out}) }); a != 0 {
		t.Errorf("Tasks.For allocates %v times per call, want 0", a)
	}
}

type spinTask struct{ sink [2]float64 }

func (t *spinTask) Run(lo, hi int) {
	for i := lo; i < hi; i++ {
		x := 1.0
		for range 2000 { // about 2 µs of work per index
			x = x*1.0000001 + 1e-9
		}
		t.sink[i%2] += x
	}
}

// BenchmarkForRoundTrip measures a parallel loop of 2 short chunks (about
// 2 µs each): mostly the cost of handing a chunk to a spinning helper and
// waiting for it, which a DeepDream step pays some 700 times (about 5 µs
// here; 10 µs when helpers blocked at once).
func BenchmarkForRoundTrip(b *testing.B) {
	var t spinTask
	for b.Loop() {
		For(2, 1, &t)
	}
}

type sleepTask struct {
	hits []atomic.Int32
	slow int // index whose chunk sleeps
}

func (t *sleepTask) Run(lo, hi int) {
	for i := lo; i < hi; i++ {
		if i == t.slow {
			time.Sleep(5 * spinFor)
		}
		t.hits[i].Add(1)
	}
}

// TestForAfterBlocking runs loops after the helpers have stopped spinning
// and blocked, and loops whose caller stops spinning on a slow helper and
// blocks: every index still runs once and every call returns.
func TestForAfterBlocking(t *testing.T) {
	for round := range 20 {
		n := 2 + round%7
		task := &sleepTask{hits: make([]atomic.Int32, n), slow: -1}
		if round%2 == 1 {
			task.slow = round % n // the caller or a helper sleeps in its chunk
		}
		For(n, 1, task)
		for i := range task.hits {
			if got := task.hits[i].Load(); got != 1 {
				t.Fatalf("round %d: index %d run %d times", round, i, got)
			}
		}
		if round%3 == 0 {
			time.Sleep(3 * spinFor) // let the helpers block
		}
	}
}

type workerTask struct {
	hits    []atomic.Int32
	workers []atomic.Int32 // indices run by each worker
	serial  atomic.Int32   // indices run through Run
}

func (t *workerTask) Run(lo, hi int) {
	t.serial.Add(int32(hi - lo))
	for i := lo; i < hi; i++ {
		t.hits[i].Add(1)
	}
}

func (t *workerTask) RunOn(w, lo, hi int) {
	t.workers[w].Add(int32(hi - lo)) // panics if w is out of range
	for i := lo; i < hi; i++ {
		t.hits[i].Add(1)
	}
}

// TestForWorkerTask checks that For hands a WorkerTask's chunks to RunOn
// with the index of a worker, and runs a serial loop through Run.
func TestForWorkerTask(t *testing.T) {
	for _, n := range []int{1, 2, 5, 64, 1000} {
		task := &workerTask{hits: make([]atomic.Int32, n), workers: make([]atomic.Int32, Workers())}
		For(n, 1, task)
		for i := range task.hits {
			if got := task.hits[i].Load(); got != 1 {
				t.Fatalf("n=%d: index %d run %d times", n, i, got)
			}
		}
		onWorkers := 0
		for w := range task.workers {
			onWorkers += int(task.workers[w].Load())
		}
		serial := n == 1 || Workers() == 1
		if serial && onWorkers != 0 || !serial && int(task.serial.Load()) != 0 {
			t.Fatalf("n=%d, %d workers: %d indices through RunOn, %d through Run", n, Workers(), onWorkers, task.serial.Load())
		}
	}
}

// waitUntil polls cond for up to d and reports whether it held.
func waitUntil(d time.Duration, cond func() bool) bool {
	for end := time.Now().Add(d); ; time.Sleep(10 * time.Microsecond) {
		if cond() {
			return true
		}
		if time.Now().After(end) {
			return false
		}
	}
}

// pairTask is a loop of two chunks whose caller's chunk ends only after a
// helper's has: its caller then sees the loop end while it spins.
type pairTask struct{ helped atomic.Bool }

func (t *pairTask) Run(lo, hi int) {}

func (t *pairTask) RunOn(w, lo, hi int) {
	if w != 0 {
		t.helped.Store(true)
		return
	}
	waitUntil(time.Second, t.helped.Load)
}

// TestForLateHelperWakeUp stops the helper that ends a loop before it
// wakes the loop's caller until the caller, which saw the loop end by
// spinning, has launched the next loop, done its chunks and blocked: the
// late helper must not wake it, since no helper has joined that loop.
func TestForLateHelperWakeUp(t *testing.T) {
	if Workers() < 2 {
		t.Skip("one worker: For runs loops without helpers")
	}
	defer lastHelperDoneHook.Store(nil)
	for try := 1; ; try++ {
		var calls atomic.Int32
		var staged, returned, early, judged atomic.Bool
		hook := func(l uint64) {
			switch calls.Add(1) {
			case 1: // the first loop: wait for its caller to block in the next
				waitUntil(time.Second, func() bool { return callerWaits.Load() != 0 })
				staged.Store(callerWaits.Load() != l) // else it blocked in this one
			case 2: // the second loop: has its For returned before it ended?
				early.Store(waitUntil(50*time.Millisecond, returned.Load))
				judged.Store(true)
			}
		}
		lastHelperDoneHook.Store(&hook)
		For(2, 1, &pairTask{})
		second := &countTask{hits: make([]atomic.Int32, 2)}
		For(2, 1, second)
		returned.Store(true)
		if !waitUntil(5*time.Second, judged.Load) {
			t.Fatal("no helper ended the second loop")
		}
		lastHelperDoneHook.Store(nil)
		if early.Load() {
			t.Fatal("a helper late to wake the caller of a loop woke the caller of the next, which returned before its helper joined it")
		}
		for i := range second.hits {
			if got := second.hits[i].Load(); got != 1 {
				t.Fatalf("index %d run %d times", i, got)
			}
		}
		if staged.Load() {
			return
		}
		// The helper stopped for over spinFor between its chunk and the
		// loop's end (a loaded machine): the first caller blocked.
		if try == 5 {
			t.Fatal("in 5 tries, the first loop's caller never saw it end by spinning")
		}
	}
}

// TestForLateCallerWakeUp stops a caller between launching a loop and
// waking its helpers until its helper has done the whole loop and
// blocked: the late caller must not wake that helper, which would join
// the loop again and leave pending at -1 (For would then return early or
// never).
func TestForLateCallerWakeUp(t *testing.T) {
	if Workers() < 2 {
		t.Skip("one worker: For runs loops without helpers")
	}
	var calls atomic.Int32
	var staged atomic.Bool
	hook := func(l uint64) {
		if calls.Add(1) != 1 {
			return
		}
		// Wake helper 0 as For does if it blocked before it saw l, and
		// wait for it to do l and block again.
		h := &helpers[0]
		if w := h.waits.Load(); w != 0 && w-1 != l && h.waits.CompareAndSwap(w, 0) {
			h.wake <- struct{}{}
		}
		staged.Store(waitUntil(time.Second, func() bool { return h.waits.Load() == l+1 }))
	}
	launchedHook.Store(&hook)
	defer launchedHook.Store(nil)
	task := &countTask{hits: make([]atomic.Int32, 2)}
	done := make(chan struct{})
	go func() {
		For(2, 1, task)
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatalf("For did not return; pending %d", pending.Load())
	}
	if !staged.Load() {
		t.Fatal("the helper did not do the loop and block while its caller waited")
	}
	// A helper woken by mistake joins the loop again after For saw it
	// end, and blocks again: wait for that before reading pending.
	waitUntil(time.Second, func() bool { return helpers[0].waits.Load() != 0 })
	if p := pending.Load(); p != 0 {
		t.Fatalf("the helper joined a loop twice: pending %d after it", p)
	}
	for i := range task.hits {
		if got := task.hits[i].Load(); got != 1 {
			t.Fatalf("index %d run %d times", i, got)
		}
	}
}
