package ops

import (
	"math"

	"github.com/deepdream-go/deepdream/internal/parallel"
)

// SoftmaxParams describes a tensor viewed as (Outer, N, Inner): softmax runs
// along the middle axis, over N elements Inner apart, for each of the
// Outer*Inner rows.
type SoftmaxParams struct{ Outer, N, Inner int }

// Softmax: dst = exp(x - max) / sum(exp(x - max)) along each row. dst may
// alias x.
func Softmax(dst, x []float32, p *SoftmaxParams) {
	softmaxTasks.For(p.Outer*p.Inner, p.rowGrain(), softmaxTask{y: dst, x: x, p: p})
}

// SoftmaxBackward: dx += y * (dy - sum(dy * y)) along each row, from the
// forward output y.
func SoftmaxBackward(dx, dy, y []float32, p *SoftmaxParams) {
	softmaxTasks.For(p.Outer*p.Inner, p.rowGrain(), softmaxTask{backward: true, dx: dx, dy: dy, y: y, p: p})
}

func (p *SoftmaxParams) rowGrain() int { return max(1, elementwiseGrain/max(1, p.N)) }

type softmaxTask struct {
	backward     bool
	y, x, dx, dy []float32
	p            *SoftmaxParams
}

var softmaxTasks parallel.Tasks[softmaxTask, *softmaxTask]

func (t *softmaxTask) Run(lo, hi int) {
	n, inner := t.p.N, t.p.Inner
	for r := lo; r < hi; r++ {
		first := r/inner*n*inner + r%inner
		end := first + (n-1)*inner + 1
		if t.backward {
			softmaxBackwardRow(t.dx[first:end], t.dy[first:end], t.y[first:end], inner)
		} else {
			softmaxRow(t.y[first:end], t.x[first:end], inner)
		}
	}
}

// softmaxRow works on the elements 0, stride, 2*stride... of y and x.
func softmaxRow(y, x []float32, stride int) {
	m := float32(math.Inf(-1))
	for i := 0; i < len(x); i += stride {
		m = max(m, x[i])
	}
	sum := 0.0
	for i := 0; i < len(x); i += stride {
		e := math.Exp(float64(x[i] - m))
		y[i] = float32(e)
		sum += e
	}
	inv := float32(1 / sum)
	for i := 0; i < len(y); i += stride {
		y[i] *= inv
	}
}

func softmaxBackwardRow(dx, dy, y []float32, stride int) {
	dot := 0.0
	for i := 0; i < len(y); i += stride {
		dot += float64(dy[i]) * float64(y[i])
	}
	for i := 0; i < len(y); i += stride {
		dx[i] += y[i] * float32(float64(dy[i])-dot)
	}
}
