package graph

import (
	"fmt"
	"math"

	"github.com/deepdream-go/deepdream/onnx"
)

// The operators that make a tensor from shapes and scalars alone. Their
// inputs are constants in the networks DeepDream runs (shape arithmetic),
// so their outputs are computed when the plan is made.
func init() {
	Register("ConstantOfShape", buildConstantOfShape)
	Register("Range", buildRange)
	Register("Size", buildSize)
}

// maxMadeElements bounds the tensors these operators make at plan time,
// so that a corrupt shape cannot exhaust memory.
const maxMadeElements = 1 << 28

// ConstantOfShape: a tensor of the constant shape input, every element
// the one-element value attribute (default: float 0).
func buildConstantOfShape(n *Node, in []Input) (*Built, error) {
	if err := wantInputs(in, 1, 1); err != nil {
		return nil, err
	}
	dims, err := planTimeInts(in[0], "shape")
	if err != nil {
		return nil, err
	}
	shape := make(Shape, len(dims))
	size := int64(1)
	for i, d := range dims {
		if d < 0 {
			return nil, fmt.Errorf("shape %v: dimension %d is negative", dims, d)
		}
		if size *= d; size > maxMadeElements {
			return nil, fmt.Errorf("shape %v has more than %d elements", dims, maxMadeElements)
		}
		shape[i] = int(d)
	}
	fill := FloatValue(Shape{1}, []float32{0})
	if a := n.Attr("value"); a != nil {
		if a.Type != onnx.AttrTensor || a.T == nil {
			return nil, fmt.Errorf("attribute \"value\" is not a tensor")
		}
		if fill, err = ValueOf(a.T); err != nil {
			return nil, fmt.Errorf("attribute \"value\": %w", err)
		}
		if fill.Shape.Size() != 1 {
			return nil, fmt.Errorf("attribute \"value\" has shape %v, want one element", fill.Shape)
		}
	}
	v := &Value{Shape: shape, Int: fill.Int}
	if fill.Int {
		v.I = make([]int64, size)
		for i := range v.I {
			v.I[i] = fill.I[0]
		}
	} else {
		v.F = make([]float32, size)
		for i := range v.F {
			v.F[i] = fill.F[0]
		}
	}
	return &Built{Out: []Shape{shape}, Consts: []*Value{v}}, nil
}

// Range: start, start+delta, ... up to limit (excluded), from three
// constant scalars, integer or float. Its length depends on their values,
// so they must be known when the plan is made.
func buildRange(n *Node, in []Input) (*Built, error) {
	if err := wantInputs(in, 3, 3); err != nil {
		return nil, err
	}
	var scalars [3]*Value
	for i, name := range []string{"start", "limit", "delta"} {
		c := in[i].Const
		if c == nil {
			return nil, fmt.Errorf("%s input %q must be a constant known at plan time: the output's length depends on it", name, in[i].Name)
		}
		if c.Shape.Size() != 1 {
			return nil, fmt.Errorf("%s input %q has shape %v, want a scalar", name, in[i].Name, c.Shape)
		}
		if c.Int != in[0].Const.Int {
			return nil, fmt.Errorf("%s input %q and start input %q differ in type", name, in[i].Name, in[0].Name)
		}
		scalars[i] = c
	}
	if scalars[0].Int {
		start, limit, delta := scalars[0].I[0], scalars[1].I[0], scalars[2].I[0]
		if delta == 0 {
			return nil, fmt.Errorf("delta is 0")
		}
		// Estimated in float64 first: limit - start may overflow int64.
		if math.Ceil((float64(limit)-float64(start))/float64(delta)) > maxMadeElements {
			return nil, fmt.Errorf("range(%d, %d, %d) has more than %d elements", start, limit, delta, maxMadeElements)
		}
		count := int64(0)
		if (delta > 0 && limit > start) || (delta < 0 && limit < start) {
			count = (limit - start + delta - sign(delta)) / delta
		}
		if count > maxMadeElements {
			return nil, fmt.Errorf("range(%d, %d, %d) has more than %d elements", start, limit, delta, maxMadeElements)
		}
		v := IntValue(Shape{int(count)}, make([]int64, count))
		for i := range v.I {
			v.I[i] = start + int64(i)*delta
		}
		return &Built{Out: []Shape{v.Shape}, Consts: []*Value{v}}, nil
	}
	start, limit, delta := float64(scalars[0].F[0]), float64(scalars[1].F[0]), float64(scalars[2].F[0])
	count := math.Ceil((limit - start) / delta)
	if delta == 0 || math.IsNaN(count) {
		return nil, fmt.Errorf("range(%v, %v, %v) is not defined", start, limit, delta)
	}
	count = max(count, 0)
	if count > maxMadeElements {
		return nil, fmt.Errorf("range(%v, %v, %v) has more than %d elements", start, limit, delta, maxMadeElements)
	}
	v := FloatValue(Shape{int(count)}, make([]float32, int(count)))
	for i := range v.F {
		v.F[i] = float32(start + float64(i)*delta)
	}
	return &Built{Out: []Shape{v.Shape}, Consts: []*Value{v}}, nil
}

// Size: the number of elements of the input, an int64 scalar.
func buildSize(n *Node, in []Input) (*Built, error) {
	if err := wantInputs(in, 1, 1); err != nil {
		return nil, err
	}
	v := IntValue(Shape{}, []int64{int64(in[0].Shape.Size())})
	return &Built{Out: []Shape{v.Shape}, Consts: []*Value{v}}, nil
}
