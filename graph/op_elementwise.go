package graph

import (
	"fmt"
	"slices"

	"github.com/deepdream-go/deepdream/ops"
)

// The element-wise operators of several tensors broadcast together (Pow,
// Max, Equal...) are rows of ops' table: adding one is a row there
// (ops/elementwise.go) and a row of elementwiseCases
// (graph/op_elementwise_test.go), plus an entry in conformanceSkips
// (graph/conformance_test.go) if it cannot pass one of its ONNX node
// tests. The builder here registers every row.
func init() {
	for _, op := range ops.ElementwiseOps() {
		Register(op.Name, func(n *Node, in []Input) (*Built, error) { return buildElementwise(op, n, in) })
	}
	Register("Where", buildWhere)
}

// noLegacyBroadcast refuses the broadcast attribute of opsets before 7
// (b broadcast from an axis): multidirectional broadcasting replaced it.
func noLegacyBroadcast(n *Node) error {
	if bcast, err := n.Int("broadcast", 0); err != nil {
		return err
	} else if bcast != 0 {
		return fmt.Errorf("the legacy broadcast=1 attribute (opset < 7, broadcasting b from axis) is not supported; re-export the model with opset 7 or later")
	}
	return nil
}

func isInt(in Input) bool { return in.Const != nil && in.Const.Int }

// buildElementwise builds y = op(x0, x1...) with multidirectional (numpy)
// broadcasting. Integer constants (shape arithmetic) are computed at plan
// time. Comparisons and logic on float tensors give 0s and 1s and pass a
// zero gradient (their outputs are piecewise constant): a backward pass
// runs through them.
func buildElementwise(op *ops.ElementwiseOp, n *Node, in []Input) (*Built, error) {
	lo, hi := 2, 2
	if op.Variadic {
		lo, hi = 1, -1
	}
	if err := wantInputs(in, lo, hi); err != nil {
		return nil, err
	}
	if err := noLegacyBroadcast(n); err != nil {
		return nil, err
	}
	shapes := make([][]int, len(in))
	ints := 0
	for i, x := range in {
		if !x.Present() {
			return nil, fmt.Errorf("input %d is required", i)
		}
		shapes[i] = x.Shape
		if isInt(x) {
			ints++
		}
	}
	l, err := ops.NewElementwise(shapes...)
	if err != nil {
		return nil, err
	}
	out := Shape(l.Out)
	if op.ToA && !out.Equal(in[0].Shape) {
		return nil, fmt.Errorf("input 1 %q, shape %v, does not broadcast to the shape %v of input 0 %q", in[1].Name, in[1].Shape, in[0].Shape, in[0].Name)
	}
	intB := op.IntB && isInt(in[1]) && !isInt(in[0])
	switch {
	case ints == len(in):
		if op.Int == nil {
			return nil, fmt.Errorf("input 0 %q is an integer tensor; %s is defined on floating-point tensors only", in[0].Name, op.Name)
		}
		xs := make([][]int64, len(in))
		for i, x := range in {
			xs[i] = x.Const.I
		}
		v := IntValue(out, make([]int64, out.Size()))
		ops.ElementwiseInts(op, v.I, xs, l)
		return &Built{Out: []Shape{out}, Consts: []*Value{v}}, nil
	case ints > 0 && !intB:
		for i, x := range in {
			if !isInt(x) {
				j := slices.IndexFunc(in, isInt)
				return nil, fmt.Errorf("input %d %q is an integer constant and input %d %q is not: integer arithmetic runs only on plan-time constants", j, in[j].Name, i, x.Name)
			}
		}
	}
	if len(in) == 1 {
		return &Built{Out: []Shape{out}, Alias: true}, nil // Sum, Max... of one tensor
	}
	k := &elementwiseKernel{op: op, l: l}
	if intB && !n.shapesOnly {
		// Pow's integer exponent, as floats: the Run has no data for it.
		k.in = make([][]float32, 2)
		k.exponent = in[1].Const.Floats()
	}
	canSet := make([]int, len(in))
	for i := range canSet {
		canSet[i] = i
	}
	b := &Built{Out: []Shape{out}, Kernel: k, CanSet: canSet, Scratch: l.ScratchSize(op)}
	if !op.Grad.Reads() {
		b.BackwardReads = &Reads{}
	}
	return b, nil
}

type elementwiseKernel struct {
	op *ops.ElementwiseOp
	l  *ops.ElementwiseLayout
	// exponent is an integer constant exponent as floats; in is then the
	// Run's inputs with it in place of the integers (slice headers only).
	exponent []float32
	in       [][]float32
}

func (k *elementwiseKernel) inputs(r *Run) [][]float32 {
	if k.exponent == nil {
		return r.In
	}
	k.in[0], k.in[1] = r.In[0], k.exponent
	return k.in
}

func (k *elementwiseKernel) Forward(r *Run) { ops.Elementwise(k.op, r.Out[0], k.inputs(r), k.l) }

func (k *elementwiseKernel) Backward(r *Run) {
	if r.DOut[0] == nil {
		clearSet(r)
		return
	}
	ops.ElementwiseBackward(k.op, r.DIn, r.DOut[0], r.Out[0], k.inputs(r), k.l, r.Accumulate, r.Scratch)
}

// Where (opset 9 on): y = x where the condition (input 0) is true, else
// the third input, all three broadcast together. The gradient goes to x
// where the condition holds and to the third input elsewhere; none to the
// condition. A condition known at plan time (a boolean constant) is kept
// as floats; at run time it is a comparison's 0s and 1s. On integer
// constants Where is computed at plan time.
func buildWhere(n *Node, in []Input) (*Built, error) {
	if err := wantInputs(in, 3, 3); err != nil {
		return nil, err
	}
	c, x, z := in[0], in[1], in[2]
	outShape, p, err := ops.NewBroadcast(c.Shape, x.Shape, z.Shape)
	if err != nil {
		return nil, err
	}
	out := Shape(outShape)
	switch {
	case isInt(x) && isInt(z):
		if c.Const == nil {
			return nil, fmt.Errorf("inputs 1 %q and 2 %q are integer constants and the condition %q is not: integer tensors exist only as plan-time constants", x.Name, z.Name, c.Name)
		}
		v := IntValue(out, make([]int64, out.Size()))
		ops.WhereInts(v.I, c.Const.Ints(), x.Const.I, z.Const.I, p)
		return &Built{Out: []Shape{out}, Consts: []*Value{v}}, nil
	case isInt(x) || isInt(z):
		return nil, fmt.Errorf("inputs 1 %q and 2 %q must both be integer constants or both be float tensors", x.Name, z.Name)
	}
	k := &whereKernel{p: p}
	if isInt(c) && !n.shapesOnly {
		k.cond = c.Const.Floats()
	}
	b := &Built{Out: []Shape{out}, Kernel: k, BackwardReads: &Reads{In: []int{0}}, CanSet: []int{0, 1, 2}}
	if x.Shape.Size() != out.Size() || z.Shape.Size() != out.Size() {
		b.Scratch = out.Size()
	}
	return b, nil
}

type whereKernel struct {
	p    *ops.Broadcast // condition, x, the third input
	cond []float32      // a constant boolean condition, as floats
}

func (k *whereKernel) condition(r *Run) []float32 {
	if k.cond != nil {
		return k.cond
	}
	return r.In[0]
}

func (k *whereKernel) Forward(r *Run) { ops.Where(r.Out[0], k.condition(r), r.In[1], r.In[2], k.p) }

func (k *whereKernel) Backward(r *Run) {
	dy := r.DOut[0]
	for i, dx := range r.DIn {
		switch {
		case dx == nil:
		case i == 0 || dy == nil: // the condition's gradient is zero
			if !r.Accumulate[i] {
				ops.Clear(dx)
			}
		default:
			ops.WhereBackward(dx, dy, k.condition(r), k.p, i, r.Accumulate[i], r.Scratch)
		}
	}
}
