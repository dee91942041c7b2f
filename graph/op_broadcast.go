package graph

import (
	"fmt"

	"github.com/deepdream-go/deepdream/ops"
)

func init() {
	for _, op := range []ops.BinaryOp{ops.OpAdd, ops.OpSub, ops.OpMul, ops.OpDiv} {
		Register(op.String(), func(n *Node, in []Input) (*Built, error) { return buildBinary(op, n, in) })
	}
}

// Add, Sub, Mul, Div with multidirectional (numpy) broadcasting, opset 7 on.
// Two integer constants (shape arithmetic) are computed at plan time.
func buildBinary(op ops.BinaryOp, n *Node, in []Input) (*Built, error) {
	if err := wantInputs(in, 2, 2); err != nil {
		return nil, err
	}
	if err := noLegacyBroadcast(n); err != nil {
		return nil, err
	}
	outShape, layout, err := ops.NewBroadcast(in[0].Shape, in[1].Shape)
	if err != nil {
		return nil, err
	}
	out := Shape(outShape)
	a, b := in[0].Const, in[1].Const
	aInt, bInt := a != nil && a.Int, b != nil && b.Int
	switch {
	case aInt && bInt:
		if op == ops.OpDiv {
			for i, v := range b.I {
				if v == 0 {
					return nil, fmt.Errorf("integer division by zero (input 1 %q, element %d)", in[1].Name, i)
				}
			}
		}
		v := IntValue(out, make([]int64, out.Size()))
		ops.BinaryInts(op, v.I, a.I, b.I, layout)
		return &Built{Out: []Shape{out}, Consts: []*Value{v}}, nil
	case aInt || bInt:
		ints, floats := in[0], in[1]
		if bInt {
			ints, floats = in[1], in[0]
		}
		return nil, fmt.Errorf("input %q is an integer constant and %q is not: integer arithmetic runs only on plan-time constants", ints.Name, floats.Name)
	}
	k := &binaryKernel{op: op, fwd: layout}
	built := &Built{Out: []Shape{out}, Kernel: k}
	if op == ops.OpMul || op == ops.OpDiv {
		// Their gradients multiply dy by the other input (or divide it by
		// b) before summing over broadcast axes; scratch holds that product.
		if _, k.dyByA, err = ops.NewBroadcast(out, in[0].Shape); err != nil {
			return nil, err
		}
		if _, k.dyByB, err = ops.NewBroadcast(out, in[1].Shape); err != nil {
			return nil, err
		}
		_, k.same, _ = ops.NewBroadcast(out, out)
		built.Scratch = out.Size()
	}
	if op == ops.OpAdd || op == ops.OpSub {
		built.BackwardReads = &Reads{} // their gradients do not depend on the values
	}
	return built, nil
}

type binaryKernel struct {
	op  ops.BinaryOp
	fwd *ops.Broadcast // y = a op b
	// Layouts of dy (shaped like y) against a, b and y, for Mul and Div.
	dyByA, dyByB, same *ops.Broadcast
}

func (k *binaryKernel) Forward(r *Run) { ops.Binary(k.op, r.Out[0], r.In[0], r.In[1], k.fwd) }

// Backward: for y = a op b, with sums over the axes each input was
// broadcast along,
//
//	Add: da = dy,   db = dy
//	Sub: da = dy,   db = -dy
//	Mul: da = dy*b, db = dy*a
//	Div: da = dy/b, db = -dy*a/b^2 = -(dy*y)/b
//
// Mul and Div form their products in the plan's scratch.
func (k *binaryKernel) Backward(r *Run) {
	dy := r.DOut[0]
	if dy == nil {
		return
	}
	da, db := r.DIn[0], r.DIn[1]
	a, b, scratch := r.In[0], r.In[1], r.Scratch
	switch k.op {
	case ops.OpAdd, ops.OpSub:
		if da != nil {
			ops.SumBroadcast(da, dy, 1, k.fwd, 0)
		}
		if db != nil {
			sign := float32(1)
			if k.op == ops.OpSub {
				sign = -1
			}
			ops.SumBroadcast(db, dy, sign, k.fwd, 1)
		}
	case ops.OpMul:
		if da != nil {
			ops.Binary(ops.OpMul, scratch, dy, b, k.dyByB)
			ops.SumBroadcast(da, scratch, 1, k.fwd, 0)
		}
		if db != nil {
			ops.Binary(ops.OpMul, scratch, dy, a, k.dyByA)
			ops.SumBroadcast(db, scratch, 1, k.fwd, 1)
		}
	case ops.OpDiv:
		if da != nil {
			ops.Binary(ops.OpDiv, scratch, dy, b, k.dyByB)
			ops.SumBroadcast(da, scratch, 1, k.fwd, 0)
		}
		if db != nil {
			ops.Binary(ops.OpMul, scratch, dy, r.Out[0], k.same)
			ops.Binary(ops.OpDiv, scratch, scratch, b, k.dyByB)
			ops.SumBroadcast(db, scratch, -1, k.fwd, 1)
		}
	}
}
