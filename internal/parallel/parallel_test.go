package parallel

import (
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
