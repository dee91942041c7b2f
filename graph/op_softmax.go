package graph

import (
	"fmt"

	"github.com/deepdream-go/deepdream/ops"
)

func init() {
	Register("Softmax", buildSoftmax)
}

// Softmax: before opset 13 the input is seen as 2-D,
// [prod(dims[:axis]), prod(dims[axis:])], axis 1 by default; from 13 it runs
// along the one axis (default -1).
func buildSoftmax(n *Node, in []Input) (*Built, error) {
	if err := wantInputs(in, 1, 1); err != nil {
		return nil, err
	}
	if err := wantFloat(in, 0); err != nil {
		return nil, err
	}
	x := in[0].Shape
	def := -1
	if n.Opset < 13 {
		def = 1
	}
	axis, err := n.IntAttr("axis", def)
	if err != nil {
		return nil, err
	}
	r := len(x)
	if axis < -r || axis >= r {
		return nil, fmt.Errorf("attribute axis = %d is out of range for input shape %v", axis, x)
	}
	if axis < 0 {
		axis += r
	}
	p := ops.SoftmaxParams{Outer: x[:axis].Size(), N: x[axis:].Size(), Inner: 1}
	if n.Opset >= 13 {
		p.N, p.Inner = x[axis], x[axis+1:].Size()
	}
	return &Built{Out: []Shape{x}, Kernel: &softmaxKernel{p}, BackwardReads: &Reads{Out: []int{0}}}, nil
}

type softmaxKernel struct{ p ops.SoftmaxParams }

func (k *softmaxKernel) Forward(r *Run) { ops.Softmax(r.Out[0], r.In[0], &k.p) }

func (k *softmaxKernel) Backward(r *Run) {
	if r.DIn[0] != nil && r.DOut[0] != nil {
		ops.SoftmaxBackward(r.DIn[0], r.DOut[0], r.Out[0], &k.p)
	}
}
