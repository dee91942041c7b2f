package ops

import "github.com/deepdream-go/deepdream/internal/parallel"

// elementwiseGrain is the number of elements below which splitting an
// elementwise loop across cores costs more than it saves.
const elementwiseGrain = 1 << 14

// Relu: y = max(x, 0). dst may alias x.
func Relu(dst, x []float32) {
	reluTasks.For(len(dst), elementwiseGrain, reluTask{dst, x})
}

type reluTask struct{ dst, x []float32 }

var reluTasks parallel.Tasks[reluTask, *reluTask]

func (t *reluTask) Run(lo, hi int) {
	dst, x := t.dst[lo:hi], t.x[lo:hi]
	for i, v := range x {
		dst[i] = max(v, 0)
	}
}

// ReluBackward: dx += dy where y > 0. The mask comes from the output y, so
// the forward input need not be kept.
func ReluBackward(dx, dy, y []float32) {
	reluBackTasks.For(len(dx), elementwiseGrain, reluBackTask{dx, dy, y})
}

type reluBackTask struct{ dx, dy, y []float32 }

var reluBackTasks parallel.Tasks[reluBackTask, *reluBackTask]

func (t *reluBackTask) Run(lo, hi int) {
	dx, dy, y := t.dx[lo:hi], t.dy[lo:hi], t.y[lo:hi]
	for i := range dx {
		if y[i] > 0 {
			dx[i] += dy[i]
		}
	}
}

// ReluMask: dy = 0 where y <= 0, in place: the backward pass of a Relu
// fused into the operator that produced y (see ConvParams.Relu), done on
// the gradient before that operator's own backward pass reads it.
func ReluMask(dy, y []float32) {
	reluMaskTasks.For(len(dy), elementwiseGrain, reluMaskTask{dy, y})
}

type reluMaskTask struct{ dy, y []float32 }

var reluMaskTasks parallel.Tasks[reluMaskTask, *reluMaskTask]

func (t *reluMaskTask) Run(lo, hi int) {
	dy, y := t.dy[lo:hi], t.y[lo:hi]
	for i := range dy {
		if !(y[i] > 0) {
			dy[i] = 0
		}
	}
}

// reluRows is Relu in place on rows of n elements, stride apart: a tile of
// an operator's output, while it is still in cache.
func reluRows(y []float32, rows, n, stride int) {
	reluRowTasks.For(rows, max(1, elementwiseGrain/max(n, 1)), reluRowTask{y, n, stride})
}

type reluRowTask struct {
	y         []float32
	n, stride int
}

var reluRowTasks parallel.Tasks[reluRowTask, *reluRowTask]

func (t *reluRowTask) Run(lo, hi int) {
	for r := lo; r < hi; r++ {
		row := t.y[r*t.stride:][:t.n]
		for i, v := range row {
			row[i] = max(v, 0)
		}
	}
}
