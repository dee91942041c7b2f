package ops

import (
	"fmt"
	"slices"

	"github.com/deepdream-go/deepdream/internal/parallel"
)

// BinaryOp is an elementwise arithmetic operator.
type BinaryOp uint8

// The elementwise operators; integer division truncates toward zero (C
// style), as ONNX specifies.
const (
	OpAdd BinaryOp = iota
	OpSub
	OpMul
	OpDiv
)

func (op BinaryOp) String() string {
	return [...]string{"Add", "Sub", "Mul", "Div"}[op]
}

// maxRank bounds the rank of a layout once size-1 and mergeable dimensions
// are folded away, so that kernels can keep coordinates in fixed arrays
// instead of allocating.
const maxRank = 8

// Broadcast is the layout of y = a op b, or of any element-wise operator
// on up to maxInputs tensors, under multidirectional (numpy)
// broadcasting. Output dimensions of size 1 are dropped and runs of
// dimensions along which every input is either contiguous or broadcast
// are merged: [N,C,H,W] + [C,1,1] becomes [N, C, H*W], rows of H*W values
// against one bias value each, and equal shapes become one flat run.
type Broadcast struct {
	Dims []int   // merged output dimensions, at least one
	Out  []int   // row-major strides of the output along Dims
	In   [][]int // strides of each input (a, b...) along Dims; 0 where broadcast
}

// maxInputs bounds the inputs of a Broadcast (Where has three).
const maxInputs = 3

// NewBroadcast returns the output shape of an element-wise operator on
// inputs of the given shapes (a op b: two) and its layout, or an error
// when the shapes cannot be broadcast together.
func NewBroadcast(shapes ...[]int) (out []int, p *Broadcast, err error) {
	if len(shapes) == 0 || len(shapes) > maxInputs {
		return nil, nil, fmt.Errorf("%d shapes to broadcast, want 1 to %d", len(shapes), maxInputs)
	}
	rank := 0
	for _, s := range shapes {
		rank = max(rank, len(s))
	}
	out = make([]int, rank)
	padded := make([][]int, len(shapes))
	for i, s := range shapes {
		padded[i] = onesPadded(s, rank)
	}
	for d := range rank {
		out[d] = 1
		for i, s := range padded {
			switch {
			case s[d] == out[d] || s[d] == 1:
			case out[d] == 1:
				out[d] = s[d]
			default:
				prev := slices.IndexFunc(padded[:i], func(s []int) bool { return s[d] != 1 })
				return nil, nil, fmt.Errorf("shapes %v and %v cannot be broadcast (dimension %d: %d vs %d)", shapes[prev], shapes[i], d, out[d], s[d])
			}
		}
	}
	p = &Broadcast{In: make([][]int, len(shapes))}
	strides := make([][]int, len(shapes))
	for i, s := range padded {
		strides[i] = make([]int, rank)
		step := 1
		for d := rank - 1; d >= 0; d-- {
			if s[d] != 1 {
				strides[i][d] = step
			}
			step *= s[d]
		}
	}
	// Walk from the innermost dimension outwards, extending the current
	// merged dimension while every input keeps its kind of stride.
	for d := rank - 1; d >= 0; d-- {
		if out[d] == 1 {
			continue
		}
		k := len(p.Dims) - 1
		merge := k >= 0
		for i := range strides {
			merge = merge && mergeable(strides[i][d], p.In[i][k], p.Dims[k])
		}
		if merge {
			p.Dims[k] *= out[d]
			continue
		}
		p.Dims = append(p.Dims, out[d])
		for i := range strides {
			p.In[i] = append(p.In[i], strides[i][d])
		}
	}
	if len(p.Dims) == 0 { // one element: every input is it
		p.Dims = []int{1}
		for i := range p.In {
			p.In[i] = []int{1}
		}
	}
	if len(p.Dims) > maxRank {
		return nil, nil, fmt.Errorf("broadcasting %v needs %d dimensions, at most %d are supported", shapes, len(p.Dims), maxRank)
	}
	slices.Reverse(p.Dims)
	for _, in := range p.In {
		slices.Reverse(in)
	}
	p.Out = contiguousStrides(p.Dims)
	return out, p, nil
}

// mergeable reports whether an outer dimension with stride outer can be
// folded into the inner merged dimension (stride inner, size n).
func mergeable(outer, inner, n int) bool {
	return (outer == 0 && inner == 0) || (outer != 0 && inner != 0 && outer == inner*n)
}

func onesPadded(s []int, rank int) []int {
	out := make([]int, rank)
	for i := range out {
		out[i] = 1
	}
	copy(out[rank-len(s):], s)
	return out
}

func contiguousStrides(dims []int) []int {
	s := make([]int, len(dims))
	step := 1
	for d := len(dims) - 1; d >= 0; d-- {
		s[d] = step
		step *= dims[d]
	}
	return s
}

// Binary: dst = a op b, broadcast by p. dst may alias a or b when that input
// has the output's shape.
func Binary(op BinaryOp, dst, a, b []float32, p *Broadcast) {
	binaryTasks.For(len(dst), elementwiseGrain, binaryTask{op, dst, a, b, p})
}

// BinaryInts is Binary on integers, for shape arithmetic at plan time. The
// caller rules out division by zero.
func BinaryInts(op BinaryOp, dst, a, b []int64, p *Broadcast) {
	binaryRange(op, dst, a, b, p, 0, len(dst))
}

type binaryTask struct {
	op        BinaryOp
	dst, a, b []float32
	p         *Broadcast
}

var binaryTasks parallel.Tasks[binaryTask, *binaryTask]

func (t *binaryTask) Run(lo, hi int) { binaryRange(t.op, t.dst, t.a, t.b, t.p, lo, hi) }

// element is what the data-movement and arithmetic kernels run on: float32
// at run time, int64 for shape arithmetic on constants at plan time.
type element interface{ float32 | int64 }

// binaryRange computes dst[lo:hi] one run of the innermost dimension at a
// time, where each input is either a contiguous row or a single value.
func binaryRange[T element](op BinaryOp, dst, a, b []T, p *Broadcast, lo, hi int) {
	k := len(p.Dims) - 1
	sa, sb := p.In[0][k], p.In[1][k]
	p.runs(lo, hi, func(pos, n int, off [maxInputs]int) {
		out := dst[pos : pos+n]
		switch {
		case sa == 0:
			binaryRowScalarA(op, out, a[off[0]], b[off[1]:off[1]+n])
		case sb == 0:
			binaryRowScalarB(op, out, a[off[0]:off[0]+n], b[off[1]])
		default:
			binaryRow(op, out, a[off[0]:off[0]+n], b[off[1]:off[1]+n])
		}
	})
}

// runs calls run for each run of the output elements [lo, hi) along the
// innermost dimension of p, out[pos:pos+n]. Their elements in input j are
// at off[j], off[j]+s, ... with s = p.In[j][len(p.Dims)-1], 1 for a
// contiguous row or 0 for a single value.
func (p *Broadcast) runs(lo, hi int, run func(pos, n int, off [maxInputs]int)) {
	if lo >= hi {
		return
	}
	k := len(p.Dims) - 1
	inner := p.Dims[k]
	var coord [maxRank]int
	var row [maxInputs]int // the offsets of the current row's first element
	rest := lo / inner
	for d := k - 1; d >= 0; d-- {
		coord[d] = rest % p.Dims[d]
		rest /= p.Dims[d]
		for j, s := range p.In {
			row[j] += coord[d] * s[d]
		}
	}
	for pos := lo; pos < hi; {
		i := pos % inner
		n := min(inner-i, hi-pos)
		off := row
		if i != 0 {
			for j, s := range p.In {
				off[j] += i * s[k]
			}
		}
		run(pos, n, off)
		pos += n
		for d := k - 1; d >= 0; d-- {
			coord[d]++
			for j, s := range p.In {
				row[j] += s[d]
			}
			if coord[d] < p.Dims[d] {
				break
			}
			for j, s := range p.In {
				row[j] -= coord[d] * s[d]
			}
			coord[d] = 0
		}
	}
}

func binaryRow[T element](op BinaryOp, dst, a, b []T) {
	a, b = a[:len(dst)], b[:len(dst)]
	switch op {
	case OpAdd:
		for i := range dst {
			dst[i] = a[i] + b[i]
		}
	case OpSub:
		for i := range dst {
			dst[i] = a[i] - b[i]
		}
	case OpMul:
		for i := range dst {
			dst[i] = a[i] * b[i]
		}
	case OpDiv:
		for i := range dst {
			dst[i] = a[i] / b[i]
		}
	}
}

func binaryRowScalarA[T element](op BinaryOp, dst []T, a T, b []T) {
	b = b[:len(dst)]
	switch op {
	case OpAdd:
		for i := range dst {
			dst[i] = a + b[i]
		}
	case OpSub:
		for i := range dst {
			dst[i] = a - b[i]
		}
	case OpMul:
		for i := range dst {
			dst[i] = a * b[i]
		}
	case OpDiv:
		for i := range dst {
			dst[i] = a / b[i]
		}
	}
}

func binaryRowScalarB[T element](op BinaryOp, dst, a []T, b T) {
	a = a[:len(dst)]
	switch op {
	case OpAdd:
		for i := range dst {
			dst[i] = a[i] + b
		}
	case OpSub:
		for i := range dst {
			dst[i] = a[i] - b
		}
	case OpMul:
		for i := range dst {
			dst[i] = a[i] * b
		}
	case OpDiv:
		for i := range dst {
			dst[i] = a[i] / b
		}
	}
}

// SumBroadcast: dx += scale * dy summed over the dimensions along which
// input (0 for a, 1 for b) of p was broadcast; dy has the output's shape.
// It is the backward of broadcasting: Add's gradients are
// SumBroadcast(da, dy, 1, p, 0) and SumBroadcast(db, dy, 1, p, 1).
func SumBroadcast(dx, dy []float32, scale float32, p *Broadcast, input int) {
	if len(dx) == len(dy) { // nothing broadcast: dx += scale * dy
		sumBroadcastTasks.For(len(dx), elementwiseGrain, sumBroadcastTask{dx, dy, scale, p, input})
		return
	}
	if len(dy) == 0 {
		return
	}
	perElement := len(dy) / len(dx)
	sumBroadcastTasks.For(len(dx), max(elementwiseGrain/perElement, 1), sumBroadcastTask{dx, dy, scale, p, input})
}

type sumBroadcastTask struct {
	dx, dy []float32
	scale  float32
	p      *Broadcast
	input  int
}

var sumBroadcastTasks parallel.Tasks[sumBroadcastTask, *sumBroadcastTask]

// Run sums, for each element j of x in [lo, hi), the elements of dy that
// j was broadcast to: the dimensions where x has stride 0, walked row by
// row when the innermost one is among them.
func (t *sumBroadcastTask) Run(lo, hi int) {
	dx, dy, p := t.dx, t.dy, t.p
	if len(dx) == len(dy) {
		dx, dy = dx[lo:hi], dy[lo:hi]
		for i := range dx {
			dx[i] += t.scale * dy[i]
		}
		return
	}
	xs := p.In[t.input]
	k := len(p.Dims) - 1
	inner := 1
	if xs[k] == 0 {
		inner = p.Dims[k]
	}
	var bdims, bstrides [maxRank]int // broadcast dimensions outside the inner row
	nb := 0
	for d := range p.Dims {
		if xs[d] == 0 && !(d == k && inner > 1) {
			bdims[nb], bstrides[nb] = p.Dims[d], p.Out[d]
			nb++
		}
	}
	for j := lo; j < hi; j++ {
		base := 0
		for d, s := range xs {
			if s != 0 {
				base += (j / s) % p.Dims[d] * p.Out[d]
			}
		}
		var coord [maxRank]int
		off := base
		sum := float32(0)
		for {
			for _, v := range dy[off : off+inner] {
				sum += v
			}
			d := nb - 1
			for ; d >= 0; d-- {
				coord[d]++
				off += bstrides[d]
				if coord[d] < bdims[d] {
					break
				}
				off -= coord[d] * bstrides[d]
				coord[d] = 0
			}
			if d < 0 {
				break
			}
		}
		dx[j] += t.scale * sum
	}
}
