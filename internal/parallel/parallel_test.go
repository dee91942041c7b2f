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
	hits  []atomic.Int32
	seats []atomic.Int32 // indices run on each seat
	// busy marks the seats running a chunk of any workerTask: no two
	// chunks may run on one seat at once.
	busy   []atomic.Bool
	clash  atomic.Int32 // chunks that found their seat busy
	serial atomic.Int32 // indices run through Run
}

func newWorkerTask(n int, busy []atomic.Bool) *workerTask {
	return &workerTask{hits: make([]atomic.Int32, n), seats: make([]atomic.Int32, Seats()), busy: busy}
}

func (t *workerTask) Run(lo, hi int) {
	t.serial.Add(int32(hi - lo))
	for i := lo; i < hi; i++ {
		t.hits[i].Add(1)
	}
}

func (t *workerTask) RunOn(s, lo, hi int) {
	t.seats[s].Add(int32(hi - lo)) // panics if s is out of range
	if !t.busy[s].CompareAndSwap(false, true) {
		t.clash.Add(1)
	}
	for i := lo; i < hi; i++ {
		t.hits[i].Add(1)
	}
	t.busy[s].Store(false)
}

// check fails tb (from any goroutine) unless every index ran once and no
// two chunks shared a seat.
func (t *workerTask) check(tb testing.TB, what string) {
	tb.Helper()
	for i := range t.hits {
		if got := t.hits[i].Load(); got != 1 {
			tb.Errorf("%s: index %d run %d times", what, i, got)
			break
		}
	}
	if c := t.clash.Load(); c != 0 {
		tb.Errorf("%s: %d chunks ran on a seat another chunk was running on", what, c)
	}
}

// TestForWorkerTask checks that For hands a WorkerTask's chunks to RunOn
// with a seat, and runs a serial loop through Run.
func TestForWorkerTask(t *testing.T) {
	for _, n := range []int{1, 2, 5, 64, 1000} {
		task := newWorkerTask(n, make([]atomic.Bool, Seats()))
		For(n, 1, task)
		task.check(t, "")
		onSeats := 0
		for s := range task.seats {
			onSeats += int(task.seats[s].Load())
		}
		serial := n == 1 || Workers() == 1
		if serial && onSeats != 0 || !serial && int(task.serial.Load()) != 0 {
			t.Fatalf("n=%d, %d workers: %d indices through RunOn, %d through Run", n, Workers(), onSeats, task.serial.Load())
		}
	}
}

// nestedWorkerTask runs a loop of inner per index, on whatever seat.
type nestedWorkerTask struct {
	inner []*workerTask
	*workerTask
}

func (t *nestedWorkerTask) Run(lo, hi int) {
	t.workerTask.Run(lo, hi)
	t.runInner(lo, hi)
}

func (t *nestedWorkerTask) RunOn(s, lo, hi int) {
	t.workerTask.RunOn(s, lo, hi)
	t.runInner(lo, hi)
}

func (t *nestedWorkerTask) runInner(lo, hi int) {
	for i := lo; i < hi; i++ {
		For(len(t.inner[i].hits), 1, t.inner[i])
	}
}

// TestForConcurrent runs loops from more goroutines than there are
// caller seats, nested loops among them: every index runs once, no two
// chunks share a seat, and the pool is idle afterwards.
func TestForConcurrent(t *testing.T) {
	busy := make([]atomic.Bool, Seats())
	callers := Seats() + 1
	var wg sync.WaitGroup
	for c := range callers {
		wg.Go(func() {
			for round := range 50 {
				n := 1 + (c*37+round*11)%300
				if c%3 == 0 {
					outer := &nestedWorkerTask{workerTask: newWorkerTask(4, busy)}
					for range 4 {
						outer.inner = append(outer.inner, newWorkerTask(n, busy))
					}
					For(4, 1, outer)
					outer.check(t, "outer loop")
					for _, in := range outer.inner {
						in.check(t, "nested loop")
					}
					continue
				}
				task := newWorkerTask(n, busy)
				For(n, 1+round%3, task)
				task.check(t, "loop")
			}
		})
	}
	wg.Wait()
	checkIdle(t)
}

// checkIdle waits for the helpers to block, then checks that no loop,
// seat, worker count or wake-up token is left over from the loops before.
func checkIdle(t *testing.T) {
	t.Helper()
	if !waitUntil(10*time.Second, func() bool {
		mu.Lock()
		defer mu.Unlock()
		return len(blocked) == len(helpers)
	}) {
		t.Fatalf("%d helpers of %d blocked 10 s after the last loop", len(blocked), len(helpers))
	}
	mu.Lock()
	defer mu.Unlock()
	if a, o := active.Load(), open.Load(); a != 0 || o != 0 || len(listed) != 0 {
		t.Errorf("after the loops: %d active, %d open, %d listed, want none", a, o, len(listed))
	}
	for s := range seats {
		l := &seats[s].loop
		if seats[s].taken || l.helpers.Load() != 0 || l.callerWaits || len(l.wake) != 0 || l.task != nil {
			t.Errorf("seat %d: taken %v, %d helpers, caller waits %v, %d wake tokens, task %v", s, seats[s].taken, l.helpers.Load(), l.callerWaits, len(l.wake), l.task)
		}
	}
	for i := range helpers {
		if n := len(helpers[i].wake); n != 0 {
			t.Errorf("helper %d blocked with %d wake tokens", i, n)
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

// helperSeat reports whether seat s is a helper's.
func helperSeat(s int) bool { return s >= 1 && s < Workers() }

// pairTask is a loop of two chunks whose caller's chunk ends only after a
// helper's has.
type pairTask struct{ helped atomic.Bool }

func (t *pairTask) Run(lo, hi int) {}

func (t *pairTask) RunOn(s, lo, hi int) {
	if helperSeat(s) {
		t.helped.Store(true)
		return
	}
	waitUntil(time.Second, t.helped.Load)
}

// TestForHelpsALoneLoop checks that a helper joins a loop running alone.
func TestForHelpsALoneLoop(t *testing.T) {
	if Workers() < 2 {
		t.Skip("one worker: For runs loops without helpers")
	}
	for _, pause := range []time.Duration{0, 3 * spinFor} {
		time.Sleep(pause) // the second time, the helpers have blocked
		task := &pairTask{}
		For(2, 1, task)
		if !task.helped.Load() {
			t.Fatalf("after a pause of %v, no helper joined a loop running alone in 1 s", pause)
		}
	}
}

// TestForWaitsForALateHelper stops the helper that ends a loop, after its
// last chunk and before it leaves the loop, until the caller has stopped
// spinning and blocked: For must not return before the helper leaves, and
// must leave no wake-up token behind, which would let a later loop's caller
// return before its helpers are done.
func TestForWaitsForALateHelper(t *testing.T) {
	if Workers() < 2 {
		t.Skip("one worker: For runs loops without helpers")
	}
	defer helperDoneHook.Store(nil)
	for try := 1; ; try++ {
		task := &pairTask{}
		var returned, staged, early, judged atomic.Bool
		hook := func(l *loop) {
			if l.task != Task(task) || judged.Load() {
				return
			}
			staged.Store(waitUntil(time.Second, func() bool {
				mu.Lock()
				defer mu.Unlock()
				return l.callerWaits
			}))
			early.Store(returned.Load())
			judged.Store(true)
		}
		helperDoneHook.Store(&hook)
		For(2, 1, task)
		returned.Store(true)
		if task.helped.Load() && !waitUntil(5*time.Second, judged.Load) {
			t.Fatal("the helper that ran a chunk did not end")
		}
		helperDoneHook.Store(nil)
		if early.Load() {
			t.Fatal("For returned before the helper that ended its loop left it")
		}
		if n := len(seats[0].loop.wake); n != 0 {
			t.Fatalf("the caller's seat holds %d wake tokens after For returned", n)
		}
		second := newWorkerTask(1000, make([]atomic.Bool, Seats()))
		For(1000, 1, second)
		second.check(t, "the next loop")
		if staged.Load() {
			return
		}
		// The helper did not join, or the caller never blocked (a loaded
		// machine): try again.
		if try == 5 {
			t.Fatal("in 5 tries, the caller never blocked waiting for the helper")
		}
	}
}

// TestForLateCallerWakeUp stops a caller between listing its loop and
// waking the blocked helpers it took, while other goroutines run loops:
// they must not wait for those helpers, and once woken the helpers join
// whatever loop is left, once.
func TestForLateCallerWakeUp(t *testing.T) {
	if Workers() < 2 {
		t.Skip("one worker: For runs loops without helpers")
	}
	defer launchedHook.Store(nil)
	var calls atomic.Int32
	var took atomic.Int32
	busy := make([]atomic.Bool, Seats())
	hook := func(l *loop) {
		if calls.Add(1) != 1 {
			return
		}
		took.Store(int32(len(l.toWake)))
		// Other loops run to the end meanwhile.
		var wg sync.WaitGroup
		for range 3 {
			wg.Go(func() {
				other := newWorkerTask(500, busy)
				For(500, 1, other)
				other.check(t, "a loop run while a caller was late to wake its helpers")
			})
		}
		wg.Wait()
	}
	time.Sleep(3 * spinFor) // let the helpers block
	launchedHook.Store(&hook)
	task := newWorkerTask(1000, busy)
	done := make(chan struct{})
	go func() {
		For(1000, 1, task)
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("For did not return")
	}
	launchedHook.Store(nil)
	task.check(t, "the late caller's loop")
	if took.Load() == 0 {
		t.Log("the caller took no blocked helper to wake (a loaded machine): the late wake-up was not staged")
	}
	checkIdle(t)
}

// stuckTask is a loop whose chunks on helper seats wait for release.
type stuckTask struct {
	in      atomic.Int32 // helpers waiting in a chunk
	release chan struct{}
}

func (t *stuckTask) Run(lo, hi int) {}

func (t *stuckTask) RunOn(s, lo, hi int) {
	if helperSeat(s) {
		t.in.Add(1)
		<-t.release
		return
	}
	// The caller's chunks wait for every helper to be stuck.
	waitUntil(time.Second, func() bool { return int(t.in.Load()) == Workers()-1 })
}

// TestForDoesNotWaitForBusyHelpers keeps every helper in a chunk of one
// goroutine's loop: another goroutine's loop must then run on its caller
// alone, and return.
func TestForDoesNotWaitForBusyHelpers(t *testing.T) {
	if Workers() < 2 {
		t.Skip("one worker: For runs loops without helpers")
	}
	stuck := &stuckTask{release: make(chan struct{})}
	first := make(chan struct{})
	go func() {
		For(4*Workers(), 1, stuck)
		close(first)
	}()
	defer func() {
		close(stuck.release)
		<-first
		checkIdle(t)
	}()
	if !waitUntil(5*time.Second, func() bool { return int(stuck.in.Load()) == Workers()-1 }) {
		t.Skipf("%d of %d helpers joined the first loop in 5 s (a loaded machine)", stuck.in.Load(), Workers()-1)
	}
	task := newWorkerTask(1000, make([]atomic.Bool, Seats()))
	done := make(chan struct{})
	go func() {
		For(1000, 1, task)
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("For waited for helpers busy in another loop")
	}
	task.check(t, "the second loop")
}

// TestForHelpersYieldToCallers pretends that other goroutines do loop
// work (active): helpers must not join a loop while Workers goroutines,
// its caller included, do loop work, and must leave one between chunks
// when more do.
func TestForHelpersYieldToCallers(t *testing.T) {
	if Workers() < 2 {
		t.Skip("one worker: For runs loops without helpers")
	}
	p := int32(Workers())
	busy := make([]atomic.Bool, Seats())
	for _, helpers := range []string{"blocked", "spinning"} {
		if helpers == "blocked" {
			time.Sleep(3 * spinFor)
		} else {
			For(2, 1, &pairTask{}) // a helper ran a chunk and spins
		}
		active.Add(p - 1)
		task := newWorkerTask(2000, busy)
		For(2000, 1, task)
		active.Add(1 - p)
		task.check(t, "")
		for s := range task.seats {
			if helperSeat(s) && task.seats[s].Load() != 0 {
				t.Errorf("helpers %s: helper seat %d ran %d indices of a loop started while %d other goroutines did loop work", helpers, s, task.seats[s].Load(), p-1)
			}
		}
	}

	// The first helper chunk pretends that p more goroutines started
	// loops: every helper may then start one more chunk at most (it may
	// have looked before), and then leave.
	leave := &yieldTask{workerTask: newWorkerTask(20000, busy), p: p}
	For(20000, 1, leave)
	if leave.added.Load() {
		active.Add(-p)
	}
	leave.check(t, "")
	if leave.added.Load() && int(leave.after.Load()) > Workers()-1 {
		t.Errorf("helpers started %d chunks after more goroutines than cores did loop work, want at most %d", leave.after.Load(), Workers()-1)
	}
	checkIdle(t)
}

// yieldTask is TestForHelpersYieldToCallers' second loop.
type yieldTask struct {
	*workerTask
	p     int32
	added atomic.Bool
	after atomic.Int32 // helper chunks started after added
}

func (t *yieldTask) RunOn(s, lo, hi int) {
	if helperSeat(s) {
		if t.added.Load() {
			t.after.Add(1)
		} else if t.added.CompareAndSwap(false, true) {
			active.Add(t.p)
		}
	}
	t.workerTask.RunOn(s, lo, hi)
}
