package ops

import (
	"github.com/deepdream-go/deepdream/internal/parallel"
)

// Clear sets dst to zero, on all cores when it is long enough to gain
// from them (gradient buffers cleared at the start of their life).
func Clear(dst []float32) {
	clearTasks.For(len(dst), 4*elementwiseGrain, clearTask{dst})
}

type clearTask struct{ dst []float32 }

var clearTasks parallel.Tasks[clearTask, *clearTask]

func (t *clearTask) Run(lo, hi int) { clear(t.dst[lo:hi]) }

// Clip: y = min(max(x, lo), hi) (hi wins when lo > hi). dst may alias x.
func Clip(dst, x []float32, lo, hi float32) {
	pointwise(clip, dst, x, nil, lo, hi)
}

// ClipBackward: dx += dy where lo < x < hi, the only places the output
// moves with x.
func ClipBackward(dx, dy, x []float32, lo, hi float32) {
	pointwise(clipBackward, dx, dy, x, lo, hi)
}

// Accumulate: dx += dy.
func Accumulate(dx, dy []float32) {
	pointwise(accumulate, dx, dy, nil, 0, 0)
}

type pointwiseOp uint8

const (
	clip pointwiseOp = iota
	clipBackward
	accumulate
)

// pointwiseTask is one task type for the element-wise work above (the
// functions of one tensor are rows of unaryOps instead):
// dst is the output (or dx), a the input (or dy), b the saved forward
// tensor of a backward pass, c0 and c1 the operator's constants.
type pointwiseTask struct {
	op        pointwiseOp
	dst, a, b []float32
	c0, c1    float32
}

var pointwiseTasks parallel.Tasks[pointwiseTask, *pointwiseTask]

func pointwise(op pointwiseOp, dst, a, b []float32, c0, c1 float32) {
	pointwiseTasks.For(len(dst), elementwiseGrain, pointwiseTask{op, dst, a, b, c0, c1})
}

func (t *pointwiseTask) Run(lo, hi int) {
	dst, a := t.dst[lo:hi], t.a[lo:hi]
	var b []float32
	if t.b != nil {
		b = t.b[lo:hi]
	}
	c0, c1 := t.c0, t.c1
	switch t.op {
	case clip:
		for i, v := range a {
			dst[i] = min(max(v, c0), c1)
		}
	case clipBackward:
		for i, g := range a {
			if c0 < b[i] && b[i] < c1 {
				dst[i] += g
			}
		}
	case accumulate:
		axpy(dst, a, 1) // 1*g is g: dst += g, 8 at a time
	}
}
