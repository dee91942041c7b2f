package graph

import (
	"fmt"

	"github.com/deepdream-go/deepdream/ops"
)

func init() {
	for _, op := range []ops.ReduceOp{ops.ReduceSum, ops.ReduceMean, ops.ReduceMax, ops.ReduceMin, ops.ReduceProd,
		ops.ReduceSumSquare, ops.ReduceL1, ops.ReduceL2, ops.ReduceLogSum, ops.ReduceLogSumExp} {
		Register(op.String(), func(n *Node, in []Input) (*Built, error) { return buildReduce(op, n, in) })
	}
	Register("ArgMax", func(n *Node, in []Input) (*Built, error) { return buildArg(true, n, in) })
	Register("ArgMin", func(n *Node, in []Input) (*Built, error) { return buildArg(false, n, in) })
}

// axesInputOpset is the opset from which a reduction takes its axes as
// input 1 instead of an attribute (and has noop_with_empty_axes).
func axesInputOpset(op ops.ReduceOp) int64 {
	if op == ops.ReduceSum {
		return 13
	}
	return 18
}

// Reduce*: the axes are an attribute, or input 1 from opset 13
// (ReduceSum) or 18 (the others); no axes means all of them, or none with
// noop_with_empty_axes. keepdims (default 1) keeps the reduced axes with
// size 1. Integer constants (shape arithmetic: the product of some
// dimensions) are reduced at plan time.
func buildReduce(op ops.ReduceOp, n *Node, in []Input) (*Built, error) {
	var axes []int
	given := false
	if n.Opset < axesInputOpset(op) {
		if err := wantInputs(in, 1, 1); err != nil {
			return nil, err
		}
		var err error
		if axes, err = n.Ints("axes", nil); err != nil {
			return nil, err
		}
		given = axes != nil
	} else {
		if err := wantInputs(in, 1, 2); err != nil {
			return nil, err
		}
		if len(in) > 1 && in[1].Present() {
			v, err := planTimeInts(in[1], "axes")
			if err != nil {
				return nil, err
			}
			for _, a := range v {
				axes = append(axes, int(max(min(a, 1<<30), -1<<30)))
			}
			given = len(axes) > 0
		}
		noop, err := n.Int("noop_with_empty_axes", 0)
		if err != nil {
			return nil, err
		}
		if noop != 0 && !given {
			return &Built{Out: []Shape{in[0].Shape}, Alias: true, NoGrad: []int{1}}, nil
		}
	}
	keep, err := n.Int("keepdims", 1)
	if err != nil {
		return nil, err
	}
	shape := in[0].Shape
	if !given {
		axes = make([]int, len(shape))
		for i := range axes {
			axes[i] = i
		}
	}
	p, out, err := reduceLayout(shape, axes, keep != 0)
	if err != nil {
		return nil, err
	}
	if c := in[0].Const; c != nil && c.Int {
		v := IntValue(out, make([]int64, out.Size()))
		ops.ReduceInts(op, v.I, c.I, p)
		return &Built{Out: []Shape{out}, Consts: []*Value{v}}, nil
	}
	reads := &Reads{}
	if x, y := op.BackwardReads(); x || y {
		if x {
			reads.In = []int{0}
		}
		if y {
			reads.Out = []int{0}
		}
	}
	return &Built{Out: []Shape{out}, Kernel: &reduceKernel{op: op, p: p}, NoGrad: []int{1}, BackwardReads: reads, CanSet: []int{0}}, nil
}

// reduceLayout resolves axes (negative counting from the end) against
// shape and returns the reduction's layout and output shape.
func reduceLayout(shape Shape, axes []int, keepDims bool) (*ops.ReduceParams, Shape, error) {
	reduced := make([]bool, len(shape))
	resolved := make([]int, len(axes))
	for i, a := range axes {
		r, err := axisIn(a, len(shape), "axis")
		if err != nil {
			return nil, nil, fmt.Errorf("axes %v: %w", axes, err)
		}
		if reduced[r] {
			return nil, nil, fmt.Errorf("axes %v name axis %d twice", axes, r)
		}
		reduced[r], resolved[i] = true, r
	}
	out := Shape{}
	for i, d := range shape {
		switch {
		case !reduced[i]:
			out = append(out, d)
		case keepDims:
			out = append(out, 1)
		}
	}
	p, err := ops.NewReduce(shape, resolved)
	return p, out, err
}

type reduceKernel struct {
	op ops.ReduceOp
	p  *ops.ReduceParams
}

func (k *reduceKernel) Forward(r *Run) { ops.Reduce(k.op, r.Out[0], r.In[0], k.p) }

func (k *reduceKernel) Backward(r *Run) {
	if r.DIn[0] != nil {
		ops.ReduceBackward(k.op, r.DIn[0], r.DOut[0], r.In[0], r.Out[0], k.p, r.Accumulate[0])
	}
}

// ArgMax, ArgMin: the index of the first (select_last_index, opset 12:
// the last) largest or smallest element along axis, as int64. On a
// constant they are computed at plan time, giving an integer constant
// (which Gather or Slice can use); on a runtime tensor the indices are
// float32 values, which have no gradient.
func buildArg(largest bool, n *Node, in []Input) (*Built, error) {
	if err := wantInputs(in, 1, 1); err != nil {
		return nil, err
	}
	axis, err := n.IntAttr("axis", 0)
	if err != nil {
		return nil, err
	}
	keep, err := n.Int("keepdims", 1)
	if err != nil {
		return nil, err
	}
	last, err := n.Int("select_last_index", 0)
	if err != nil {
		return nil, err
	}
	p, out, err := reduceLayout(in[0].Shape, []int{axis}, keep != 0)
	if err != nil {
		return nil, err
	}
	if c := in[0].Const; c != nil {
		v := IntValue(out, make([]int64, out.Size()))
		if c.Int {
			ops.ArgReduceInts(v.I, c.I, p, largest, last != 0)
		} else {
			f := make([]float32, out.Size())
			ops.ArgReduce(f, c.F, p, largest, last != 0)
			for i, x := range f {
				v.I[i] = int64(x)
			}
		}
		return &Built{Out: []Shape{out}, Consts: []*Value{v}}, nil
	}
	return &Built{Out: []Shape{out}, Kernel: &argKernel{p: p, largest: largest, last: last != 0}, NoGrad: []int{0}}, nil
}

type argKernel struct {
	p             *ops.ReduceParams
	largest, last bool
}

func (k *argKernel) Forward(r *Run) { ops.ArgReduce(r.Out[0], r.In[0], k.p, k.largest, k.last) }

func (k *argKernel) Backward(r *Run) {}
