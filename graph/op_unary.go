package graph

import (
	"fmt"
	"math"

	"github.com/deepdream-go/deepdream/ops"
)

// Element-wise operators are tables, so that adding one touches at most
// three files: a function of one tensor (Exp, HardSwish) is a row of
// ops.unaryOps (ops/unary.go) and a row of unaryCases
// (graph/op_unary_test.go), plus an entry in conformanceSkips
// (graph/conformance_test.go) if it cannot pass one of its ONNX node tests.
// The builder here registers every row; the test runs every row's forward
// and gradient checks, and fails for a row without a case.
func init() {
	for _, op := range ops.UnaryOps() {
		Register(op.Name, func(n *Node, in []Input) (*Built, error) { return buildUnary(op, n, in) })
	}
}

// buildUnary builds y = op(x) with op's attributes read from n. On an
// integer constant (shape arithmetic) the ops defined on integers (Neg,
// Abs, Sign, Not) are computed at plan time.
func buildUnary(op *ops.UnaryOp, n *Node, in []Input) (*Built, error) {
	if err := wantInputs(in, 1, 1); err != nil {
		return nil, err
	}
	var c ops.Coef
	for i, a := range op.Attrs {
		v, err := n.Float(a.Name, a.Default)
		if err != nil {
			return nil, err
		}
		if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) || (a.NonZero && v == 0) {
			return nil, fmt.Errorf("attribute %q = %v is invalid", a.Name, v)
		}
		c[i] = v
	}
	x := in[0]
	if x.Const != nil && x.Const.Int {
		if op.Int == nil {
			return nil, fmt.Errorf("input 0 %q is an integer tensor; %s is defined on floating-point tensors only", x.Name, op.Name)
		}
		y := make([]int64, len(x.Const.I))
		for i, v := range x.Const.I {
			y[i] = op.Int(v)
		}
		return &Built{Out: []Shape{x.Shape}, Consts: []*Value{IntValue(x.Shape, y)}}, nil
	}
	reads := &Reads{}
	switch op.Deriv.From {
	case ops.X:
		reads.In = []int{0}
	case ops.Y:
		reads.Out = []int{0}
	}
	return &Built{Out: []Shape{x.Shape}, Kernel: &unaryKernel{op, c}, BackwardReads: reads, CanSet: []int{0}}, nil
}

type unaryKernel struct {
	op *ops.UnaryOp
	c  ops.Coef
}

func (k *unaryKernel) Forward(r *Run) { ops.Unary(k.op, r.Out[0], r.In[0], k.c) }

func (k *unaryKernel) Backward(r *Run) {
	dx, dy := r.DIn[0], r.DOut[0]
	switch {
	case dx == nil:
		return
	case dy == nil:
		clearSet(r)
		return
	}
	var v []float32
	switch k.op.Deriv.From {
	case ops.X:
		v = r.In[0]
	case ops.Y:
		v = r.Out[0]
	}
	ops.UnaryBackward(k.op, dx, dy, v, k.c, r.Accumulate[0])
}
