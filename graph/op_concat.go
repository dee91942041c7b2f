package graph

import (
	"fmt"

	"github.com/deepdream-go/deepdream/ops"
)

func init() {
	Register("Concat", buildConcat)
}

// Concat joins its inputs along axis (negative from opset 11). Integer
// constants (shape arithmetic) are joined at plan time.
func buildConcat(n *Node, in []Input) (*Built, error) {
	if err := wantInputs(in, 1, -1); err != nil {
		return nil, err
	}
	def := 1 // opset 1's default; from opset 4 on axis is required
	if n.Opset >= 4 {
		if n.Attr("axis") == nil {
			return nil, fmt.Errorf("attribute \"axis\" is required")
		}
		def = 0
	}
	axis, err := n.IntAttr("axis", def)
	if err != nil {
		return nil, err
	}
	first := in[0].Shape
	if axis, err = axisIn(axis, len(first), "axis"); err != nil {
		return nil, err
	}
	out := first.Clone()
	out[axis] = 0
	shapes := make([][]int, len(in))
	ints := 0
	for i, x := range in {
		if !x.Present() {
			return nil, fmt.Errorf("input %d is empty", i)
		}
		if len(x.Shape) != len(first) {
			return nil, fmt.Errorf("input %d %q has shape %v, input 0 %v: ranks differ", i, x.Name, x.Shape, first)
		}
		for d := range first {
			if d != axis && x.Shape[d] != first[d] {
				return nil, fmt.Errorf("input %d %q has shape %v, input 0 %v: they differ on axis %d, not the concatenation axis %d", i, x.Name, x.Shape, first, d, axis)
			}
		}
		out[axis] += x.Shape[axis]
		shapes[i] = x.Shape
		if x.Const != nil && x.Const.Int {
			ints++
		}
	}
	p := ops.NewConcat(shapes, axis)
	switch ints {
	case 0:
		canSet := make([]int, len(in))
		for i := range canSet {
			canSet[i] = i
		}
		return &Built{Out: []Shape{out}, Kernel: &concatKernel{p: p}, BackwardReads: &Reads{}, CanSet: canSet}, nil
	case len(in):
		srcs := make([][]int64, len(in))
		for i, x := range in {
			srcs[i] = x.Const.I
		}
		v := IntValue(out, make([]int64, out.Size()))
		ops.ConcatInts(v.I, srcs, p)
		return &Built{Out: []Shape{out}, Consts: []*Value{v}}, nil
	}
	return nil, fmt.Errorf("%d of %d inputs are integer constants: integer and float tensors cannot be joined", ints, len(in))
}

type concatKernel struct{ p *ops.ConcatParams }

// Forward copies the inputs into the output; an input the plan put there
// in place (see Plan.concatsInPlace) comes as nil and is skipped, as its
// gradient, nil in DIn, is in Backward.
func (k *concatKernel) Forward(r *Run) { ops.Concat(r.Out[0], r.In, k.p) }

func (k *concatKernel) Backward(r *Run) {
	if r.DOut[0] == nil {
		clearSet(r)
		return
	}
	ops.ConcatBackward(r.DIn, r.Accumulate, r.DOut[0], k.p)
}
