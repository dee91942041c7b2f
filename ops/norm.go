package ops

import (
	"math"

	"github.com/deepdream-go/deepdream/internal/parallel"
)

// NormParams describes layer and instance normalization: x and y are
// [Rows x Size], and each row is normalized by its own statistics,
//
//	y[r][i] = (x[r][i] - mean[r]) * invStd[r] * scale + bias
//	mean[r] = sum_i x[r][i] / Size
//	invStd[r] = 1 / sqrt(sum_i (x[r][i] - mean[r])^2 / Size + Epsilon)
//
// The affine scale and bias are per element of a row (LayerNormalization
// over the last axes: scale, bias [Size]), or, when Channels > 0, per row,
// row r taking channel r % Channels (InstanceNormalization: x [N x C x
// spatial] is N*C rows of the spatial size; scale, bias [C]).
type NormParams struct {
	Rows, Size int
	Channels   int
	Epsilon    float32
}

func (p *NormParams) rowGrain() int { return max(1, elementwiseGrain/max(1, p.Size)) }

// scaleOf returns row r's scale: the whole slice per element (g unused),
// or its channel's single value g (row nil).
func (p *NormParams) scaleOf(scale []float32, r int) (row []float32, g float32) {
	if p.Channels > 0 {
		return nil, scale[r%p.Channels]
	}
	return scale[:p.Size], 0
}

// Normalize computes y [Rows x Size] from x, and each row's mean and
// invStd [Rows] (which NormalizeBackwardInput takes back). bias may be nil
// (zero). y may alias x.
func Normalize(y, mean, invStd, x, scale, bias []float32, p *NormParams) {
	normTasks.For(p.Rows, p.rowGrain(), normTask{y: y, mean: mean, invStd: invStd, x: x, scale: scale, bias: bias, p: p})
}

// NormalizeBackwardInput: dx = dx + dL/dx if accumulate, else dx = dL/dx,
// the whole derivative of y = Normalize(x) (through the mean and the
// variance), from dy [Rows x Size] and, when not nil, the gradients dmean
// and dinvStd [Rows] of the statistics themselves (LayerNormalization's
// optional outputs). With g = dy * scale, xhat = (x - mean) * invStd and
// averages over the row,
//
//	dx = invStd * (g - avg(g) - xhat * avg(g * xhat))
//	   + dmean / Size - dinvStd * invStd^2 * xhat / Size
//
// x, scale, mean and invStd are Normalize's. dy may be nil (zero).
func NormalizeBackwardInput(dx, dy, dmean, dinvStd, x, scale, mean, invStd []float32, p *NormParams, accumulate bool) {
	normTasks.For(p.Rows, p.rowGrain(), normTask{
		backward: true, accumulate: accumulate,
		dx: dx, dy: dy, dmean: dmean, dinvStd: dinvStd,
		x: x, scale: scale, mean: mean, invStd: invStd, p: p,
	})
}

type normTask struct {
	backward, accumulate bool
	y, x, scale, bias    []float32
	mean, invStd         []float32
	dx, dy               []float32
	dmean, dinvStd       []float32
	p                    *NormParams
}

var normTasks parallel.Tasks[normTask, *normTask]

func (t *normTask) Run(lo, hi int) {
	n := t.p.Size
	for r := lo; r < hi; r++ {
		x := t.x[r*n:][:n]
		if t.backward {
			t.backwardRow(r, x)
		} else {
			t.forwardRow(r, x)
		}
	}
}

func (t *normTask) forwardRow(r int, x []float32) {
	p := t.p
	// Two passes: the variance as the mean square of x - mean does not
	// cancel catastrophically when the mean is large.
	mu := sumSquares(x, 0, false) / float64(len(x))
	inv := 1 / math.Sqrt(sumSquares(x, mu, true)/float64(len(x))+float64(p.Epsilon))
	m, s := float32(mu), float32(inv)
	t.mean[r], t.invStd[r] = m, s
	y := t.y[r*len(x):][:len(x)]
	gamma, g := p.scaleOf(t.scale, r)
	switch {
	case gamma == nil: // one scale and bias per row: y = a*x + b
		a := s * g
		b := t.bias[r%p.Channels] - m*a
		for i, v := range x {
			y[i] = a*v + b
		}
	case t.bias == nil:
		for i, v := range x {
			y[i] = (v - m) * s * gamma[i]
		}
	default:
		beta := t.bias[:len(x)]
		for i, v := range x {
			y[i] = (v-m)*s*gamma[i] + beta[i]
		}
	}
}

// sumSquares returns the sum of (x - mu)^2 if squares, else of x, in
// float64, as four running sums so that the additions overlap instead of
// waiting for each other (ConvNeXt's rows are 24 to 768 long).
func sumSquares(x []float32, mu float64, squares bool) float64 {
	var s [4]float64
	i := 0
	for ; i+4 <= len(x); i += 4 {
		v := x[i : i+4 : i+4]
		d0, d1, d2, d3 := float64(v[0])-mu, float64(v[1])-mu, float64(v[2])-mu, float64(v[3])-mu
		if squares {
			d0, d1, d2, d3 = d0*d0, d1*d1, d2*d2, d3*d3
		}
		s[0], s[1], s[2], s[3] = s[0]+d0, s[1]+d1, s[2]+d2, s[3]+d3
	}
	for ; i < len(x); i++ {
		d := float64(x[i]) - mu
		if squares {
			d *= d
		}
		s[0] += d
	}
	return (s[0] + s[1]) + (s[2] + s[3])
}

func (t *normTask) backwardRow(r int, x []float32) {
	p := t.p
	n := len(x)
	m, s := t.mean[r], t.invStd[r]
	gamma, g := p.scaleOf(t.scale, r)
	var dy []float32
	if t.dy != nil {
		dy = t.dy[r*n:][:n]
	}
	// sumG = sum(g), sumGD = sum(g * (x - mean)), g = dy * scale.
	var sumG, sumGD float64
	switch {
	case dy == nil:
	case gamma == nil:
		for i, v := range x {
			d := float64(dy[i])
			sumG += d
			sumGD += d * float64(v-m)
		}
		sumG *= float64(g)
		sumGD *= float64(g)
	default:
		for i, v := range x {
			gi := float64(dy[i] * gamma[i])
			sumG += gi
			sumGD += gi * float64(v-m)
		}
	}
	// dx = s*g + k1*(x - mean) + k0: the terms of the doc comment with
	// xhat = s*(x - mean) and avg(g*xhat) = s*sumGD/n.
	s64, n64 := float64(s), float64(n)
	k0 := -s64 * sumG / n64
	k1 := -s64 * s64 * s64 * sumGD / n64
	if t.dmean != nil {
		k0 += float64(t.dmean[r]) / n64
	}
	if t.dinvStd != nil {
		k1 -= float64(t.dinvStd[r]) * s64 * s64 * s64 / n64
	}
	c0, c1 := float32(k0), float32(k1)
	dx := t.dx[r*n:][:n]
	switch {
	case dy == nil && t.accumulate:
		for i, v := range x {
			dx[i] += c1*(v-m) + c0
		}
	case dy == nil:
		for i, v := range x {
			dx[i] = c1*(v-m) + c0
		}
	case gamma == nil && t.accumulate:
		a := s * g
		for i, v := range x {
			dx[i] += a*dy[i] + c1*(v-m) + c0
		}
	case gamma == nil:
		a := s * g
		for i, v := range x {
			dx[i] = a*dy[i] + c1*(v-m) + c0
		}
	case t.accumulate:
		for i, v := range x {
			dx[i] += s*gamma[i]*dy[i] + c1*(v-m) + c0
		}
	default:
		for i, v := range x {
			dx[i] = s*gamma[i]*dy[i] + c1*(v-m) + c0
		}
	}
}
