package ops

import (
	"math"

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

// LeakyRelu: y = x for x >= 0, alpha*x below. dst may alias x.
func LeakyRelu(dst, x []float32, alpha float32) {
	pointwise(leakyRelu, dst, x, nil, alpha, 0)
}

// LeakyReluBackward: dx += dy where x >= 0, alpha*dy below.
func LeakyReluBackward(dx, dy, x []float32, alpha float32) {
	pointwise(leakyReluBackward, dx, dy, x, alpha, 0)
}

// Clip: y = min(max(x, lo), hi) (hi wins when lo > hi). dst may alias x.
func Clip(dst, x []float32, lo, hi float32) {
	pointwise(clip, dst, x, nil, lo, hi)
}

// ClipBackward: dx += dy where lo < x < hi, the only places the output
// moves with x.
func ClipBackward(dx, dy, x []float32, lo, hi float32) {
	pointwise(clipBackward, dx, dy, x, lo, hi)
}

// Sigmoid: y = 1 / (1 + exp(-x)). dst may alias x.
func Sigmoid(dst, x []float32) {
	pointwise(sigmoid, dst, x, nil, 0, 0)
}

// SigmoidBackward: dx += dy * y * (1 - y), from the forward output y.
func SigmoidBackward(dx, dy, y []float32) {
	pointwise(sigmoidBackward, dx, dy, y, 0, 0)
}

// Accumulate: dx += dy.
func Accumulate(dx, dy []float32) {
	pointwise(accumulate, dx, dy, nil, 0, 0)
}

type pointwiseOp uint8

const (
	leakyRelu pointwiseOp = iota
	leakyReluBackward
	clip
	clipBackward
	sigmoid
	sigmoidBackward
	accumulate
)

// pointwiseTask is one task type for all the elementwise operators above:
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
	case leakyRelu:
		for i, v := range a {
			if v < 0 {
				v *= c0
			}
			dst[i] = v
		}
	case leakyReluBackward:
		for i, g := range a {
			if b[i] < 0 {
				g *= c0
			}
			dst[i] += g
		}
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
	case sigmoid:
		for i, v := range a {
			dst[i] = float32(1 / (1 + math.Exp(-float64(v))))
		}
	case sigmoidBackward:
		for i, g := range a {
			dst[i] += g * b[i] * (1 - b[i])
		}
	case accumulate:
		axpy(dst, a, 1) // 1*g is g: dst += g, 8 at a time
	}
}
