package ops

import (
	"math"

	"github.com/deepdream-go/deepdream/internal/parallel"
)

// BatchNormParams gives the layout of x and y: [N x C x Inner], Inner being
// the product of the dimensions after the channel axis (1 for [N x C]).
type BatchNormParams struct {
	N, C, Inner int
}

// BatchNormFold turns inference-mode batch normalization
// y = gamma*(x-mean)/sqrt(variance+eps) + beta into y = scale*x + shift,
// per channel.
func BatchNormFold(scale, shift, gamma, beta, mean, variance []float32, eps float32) {
	for c := range scale {
		s := gamma[c] / float32(math.Sqrt(float64(variance[c])+float64(eps)))
		scale[c] = s
		shift[c] = beta[c] - mean[c]*s
	}
}

// BatchNorm: y = scale[c]*x + shift[c] over channel c (the folded form of
// inference-mode batch normalization). y may alias x.
func BatchNorm(y, x, scale, shift []float32, p *BatchNormParams) {
	batchNormTasks.For(p.N*p.C, max(elementwiseGrain/max(p.Inner, 1), 1), batchNormTask{y, x, scale, shift, p})
}

type batchNormTask struct {
	y, x, scale, shift []float32
	p                  *BatchNormParams
}

var batchNormTasks parallel.Tasks[batchNormTask, *batchNormTask]

func (t *batchNormTask) Run(lo, hi int) {
	in := t.p.Inner
	for plane := lo; plane < hi; plane++ {
		c := plane % t.p.C
		s, b := t.scale[c], t.shift[c]
		y, x := t.y[plane*in:][:in], t.x[plane*in:][:in]
		for i, v := range x {
			y[i] = s*v + b
		}
	}
}

// BatchNormBackward: dx += scale[c]*dy over channel c.
func BatchNormBackward(dx, dy, scale []float32, p *BatchNormParams) {
	batchNormBackTasks.For(p.N*p.C, max(elementwiseGrain/max(p.Inner, 1), 1), batchNormBackTask{dx, dy, scale, p})
}

type batchNormBackTask struct {
	dx, dy, scale []float32
	p             *BatchNormParams
}

var batchNormBackTasks parallel.Tasks[batchNormBackTask, *batchNormBackTask]

func (t *batchNormBackTask) Run(lo, hi int) {
	in := t.p.Inner
	for plane := lo; plane < hi; plane++ {
		s := t.scale[plane%t.p.C]
		dx, dy := t.dx[plane*in:][:in], t.dy[plane*in:][:in]
		for i, v := range dy {
			dx[i] += s * v
		}
	}
}
