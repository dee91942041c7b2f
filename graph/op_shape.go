package graph

import (
	"fmt"
	"slices"

	"github.com/deepdream-go/deepdream/onnx"
)

// The operators that only change how a tensor is viewed (Reshape, Flatten,
// Squeeze, Unsqueeze) alias their input: no copy forward, the gradient
// buffer shared backward. On an integer constant the planner folds the
// alias into a new constant, which is what the shape arithmetic of PyTorch
// exports needs. Shape and Constant are constants themselves.
func init() {
	Register("Reshape", buildReshape)
	Register("Flatten", buildFlatten)
	Register("Squeeze", buildSqueeze)
	Register("Unsqueeze", buildUnsqueeze)
	Register("Shape", buildShape)
	Register("Constant", buildConstant)
}

// planTimeInts returns an integer input that must be known at plan time
// (a shape, axes, pads, indices).
func planTimeInts(in Input, what string) ([]int64, error) {
	if in.Const == nil {
		return nil, fmt.Errorf("%s input %q must be a constant known at plan time (an initializer, a Constant, or computed from shapes)", what, in.Name)
	}
	if len(in.Const.Shape) > 1 {
		return nil, fmt.Errorf("%s input %q has shape %v, want a 1-D tensor", what, in.Name, in.Const.Shape)
	}
	return in.Const.Ints(), nil
}

// axisIn resolves an axis attribute or input, negative counting from the
// end, against rank.
func axisIn(axis, rank int, what string) (int, error) {
	if axis < -rank || axis >= rank {
		return 0, fmt.Errorf("%s %d is out of range for rank %d", what, axis, rank)
	}
	if axis < 0 {
		axis += rank
	}
	return axis, nil
}

// axesOf reads the axes of Squeeze and Unsqueeze: an attribute before
// opset 13, the optional input 1 from then on. nil means absent.
func axesOf(n *Node, in []Input) ([]int, error) {
	if n.Opset < 13 {
		if err := wantInputs(in, 1, 1); err != nil {
			return nil, err
		}
		return n.Ints("axes", nil)
	}
	if err := wantInputs(in, 1, 2); err != nil {
		return nil, err
	}
	if len(in) < 2 || !in[1].Present() {
		return nil, nil
	}
	v, err := planTimeInts(in[1], "axes")
	if err != nil {
		return nil, err
	}
	axes := make([]int, len(v))
	for i, a := range v {
		axes[i] = int(a)
	}
	return axes, nil
}

// Reshape: the shape comes from input 1 (opset 5 on) or the shape
// attribute; 0 copies the input's dimension (unless allowzero), -1 is
// inferred.
func buildReshape(n *Node, in []Input) (*Built, error) {
	var target []int64
	if n.Opset < 5 {
		if err := wantInputs(in, 1, 1); err != nil {
			return nil, err
		}
		a := n.Attr("shape")
		if a == nil {
			return nil, fmt.Errorf("attribute \"shape\" is required")
		}
		target = a.Ints
	} else {
		if err := wantInputs(in, 2, 2); err != nil {
			return nil, err
		}
		var err error
		if target, err = planTimeInts(in[1], "shape"); err != nil {
			return nil, err
		}
	}
	allowZero, err := n.Int("allowzero", 0)
	if err != nil {
		return nil, err
	}
	out, err := reshaped(in[0].Shape, target, allowZero != 0)
	if err != nil {
		return nil, err
	}
	return &Built{Out: []Shape{out}, Alias: true, NoGrad: []int{1}}, nil
}

func reshaped(from Shape, target []int64, allowZero bool) (Shape, error) {
	out := make(Shape, len(target))
	infer := -1
	known := 1
	for i, d := range target {
		switch {
		case d == 0 && !allowZero:
			if i >= len(from) {
				return nil, fmt.Errorf("shape %v: 0 at index %d copies a dimension the %v input does not have", target, i, from)
			}
			out[i] = from[i]
		case d == -1:
			if infer >= 0 {
				return nil, fmt.Errorf("shape %v has more than one -1", target)
			}
			if allowZero && slices.Contains(target, 0) {
				return nil, fmt.Errorf("shape %v has both -1 and 0 with allowzero=1", target)
			}
			infer = i
			continue
		case d < 0 || d > 1<<31:
			return nil, fmt.Errorf("shape %v: dimension %d is invalid", target, d)
		default:
			out[i] = int(d)
		}
		known *= out[i]
	}
	if infer >= 0 {
		if known == 0 || from.Size()%known != 0 {
			return nil, fmt.Errorf("cannot reshape %v (%d elements) to %v: the -1 cannot be inferred", from, from.Size(), target)
		}
		out[infer] = from.Size() / known
	}
	if out.Size() != from.Size() {
		return nil, fmt.Errorf("cannot reshape %v (%d elements) to %v (%d elements)", from, from.Size(), out, out.Size())
	}
	return out, nil
}

// Flatten: [d0 .. d(axis-1)] and [d(axis) ..] become the two dimensions.
func buildFlatten(n *Node, in []Input) (*Built, error) {
	if err := wantInputs(in, 1, 1); err != nil {
		return nil, err
	}
	axis, err := n.IntAttr("axis", 1)
	if err != nil {
		return nil, err
	}
	rank := len(in[0].Shape)
	if axis != rank { // axis == rank is allowed: [size, 1]
		if axis, err = axisIn(axis, rank, "axis"); err != nil {
			return nil, err
		}
	}
	outer := in[0].Shape[:axis].Size()
	return &Built{Out: []Shape{{outer, in[0].Shape.Size() / max(outer, 1)}}, Alias: true}, nil
}

// Squeeze drops the listed axes of size 1, or every axis of size 1.
func buildSqueeze(n *Node, in []Input) (*Built, error) {
	axes, err := axesOf(n, in)
	if err != nil {
		return nil, err
	}
	shape := in[0].Shape
	drop := make([]bool, len(shape))
	for _, a := range axes {
		if a, err = axisIn(a, len(shape), "axis"); err != nil {
			return nil, err
		}
		if shape[a] != 1 {
			return nil, fmt.Errorf("cannot squeeze axis %d of %v: its size is not 1", a, shape)
		}
		drop[a] = true
	}
	out := Shape{}
	for i, d := range shape {
		if !drop[i] && (axes != nil || d != 1) {
			out = append(out, d)
		}
	}
	return &Built{Out: []Shape{out}, Alias: true, NoGrad: []int{1}}, nil
}

// Unsqueeze inserts axes of size 1 at the listed positions of the output.
func buildUnsqueeze(n *Node, in []Input) (*Built, error) {
	axes, err := axesOf(n, in)
	if err != nil {
		return nil, err
	}
	if axes == nil {
		return nil, fmt.Errorf("axes are required")
	}
	rank := len(in[0].Shape) + len(axes)
	insert := make([]bool, rank)
	for _, a := range axes {
		if a, err = axisIn(a, rank, "axis"); err != nil {
			return nil, err
		}
		if insert[a] {
			return nil, fmt.Errorf("axes %v name axis %d twice", axes, a)
		}
		insert[a] = true
	}
	out := make(Shape, rank)
	rest := in[0].Shape
	for i := range out {
		if insert[i] {
			out[i] = 1
		} else {
			out[i], rest = rest[0], rest[1:]
		}
	}
	return &Built{Out: []Shape{out}, Alias: true, NoGrad: []int{1}}, nil
}

// Shape is the input's dimensions [start:end] (opset 15), always a
// constant: shapes are fixed when the plan is made.
func buildShape(n *Node, in []Input) (*Built, error) {
	if err := wantInputs(in, 1, 1); err != nil {
		return nil, err
	}
	shape := in[0].Shape
	rank := len(shape)
	clamp := func(name string, def int) (int, error) {
		v, err := n.IntAttr(name, def)
		if v < 0 {
			v += rank
		}
		return min(max(v, 0), rank), err
	}
	start, err := clamp("start", 0)
	if err != nil {
		return nil, err
	}
	end, err := clamp("end", rank)
	if err != nil {
		return nil, err
	}
	dims := []int64{}
	for _, d := range shape[start:max(start, end)] {
		dims = append(dims, int64(d))
	}
	v := IntValue(Shape{len(dims)}, dims)
	return &Built{Out: []Shape{v.Shape}, Consts: []*Value{v}}, nil
}

// Constant: the value attribute, or (opset 12 on) one of value_float,
// value_floats, value_int, value_ints.
func buildConstant(n *Node, in []Input) (*Built, error) {
	if err := wantInputs(in, 0, 0); err != nil {
		return nil, err
	}
	if len(n.Attrs) != 1 {
		return nil, fmt.Errorf("want exactly one value attribute, have %d", len(n.Attrs))
	}
	var v *Value
	switch a := n.Attrs[0]; {
	case a.Name == "value" && a.Type == onnx.AttrTensor && a.T != nil:
		var err error
		if v, err = ValueOf(a.T); err != nil {
			return nil, fmt.Errorf("attribute \"value\": %w", err)
		}
	case a.Name == "value_float" && a.Type == onnx.AttrFloat:
		v = FloatValue(Shape{}, []float32{a.F})
	case a.Name == "value_floats" && a.Type == onnx.AttrFloats:
		v = FloatValue(Shape{len(a.Floats)}, a.Floats)
	case a.Name == "value_int" && a.Type == onnx.AttrInt:
		v = IntValue(Shape{}, []int64{a.I})
	case a.Name == "value_ints" && a.Type == onnx.AttrInts:
		v = IntValue(Shape{len(a.Ints)}, a.Ints)
	default:
		return nil, fmt.Errorf("attribute %q (type %d) is not a supported constant value (sparse and string constants are not)", a.Name, a.Type)
	}
	return &Built{Out: []Shape{v.Shape}, Consts: []*Value{v}}, nil
}
