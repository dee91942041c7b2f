package graph

import (
	"context"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/deepdream-go/deepdream/onnx"
)

// checkAlias plans node on a runtime float input x (plus constant inputs)
// and checks the output's shape and that it shares x's buffer.
func checkAlias(t *testing.T, opset int64, node *onnx.Node, x Shape, consts []TestInput, want Shape) {
	t.Helper()
	rng := rand.New(rand.NewPCG(4, 4))
	p := planNode(t, rng, opset, node, append([]TestInput{{Name: node.Inputs[0], Shape: x}}, consts...), false)
	y := node.Outputs[0]
	if !p.Shape(y).Equal(want) {
		t.Errorf("%s (opset %d) of %v: shape %v, want %v", describe(node), opset, x, p.Shape(y), want)
	}
	if p.Steps() != 0 || &p.Data(y)[0] != &p.Data(node.Inputs[0])[0] {
		t.Errorf("%s (opset %d): %d steps, the output must alias the input", describe(node), opset, p.Steps())
	}
}

func shapeNode(op string, inputs []string, attrs ...*onnx.Attribute) *onnx.Node {
	return &onnx.Node{OpType: op, Inputs: inputs, Outputs: []string{"y"}, Attrs: attrs}
}

func TestReshape(t *testing.T) {
	x := Shape{2, 3, 4}
	for _, c := range []struct {
		shape []int64
		want  Shape
	}{
		{[]int64{4, 2, 3}, Shape{4, 2, 3}},
		{[]int64{2, -1, 2}, Shape{2, 6, 2}},
		{[]int64{2, 0, 1, -1}, Shape{2, 3, 1, 4}},
		{[]int64{-1}, Shape{24}},
		{[]int64{0, 0, 4, 1}, Shape{2, 3, 4, 1}},
	} {
		shape := TestInput{Name: "shape", Shape: Shape{len(c.shape)}, I: c.shape}
		checkAlias(t, 14, shapeNode("Reshape", []string{"x", "shape"}), x, []TestInput{shape}, c.want)
	}
	checkAlias(t, 1, shapeNode("Reshape", []string{"x"}, attrInts("shape", 6, -1)), x, nil, Shape{6, 4})

	// allowzero=1: a 0 is a zero dimension, not a copy. The planner does
	// not take empty inputs, so the builder is called directly.
	n := &Node{Node: shapeNode("Reshape", []string{"x", "shape"}, attrInt("allowzero", 1)), Opset: 14}
	in := []Input{{Name: "x", Shape: Shape{0, 3, 4}}, {Name: "shape", Shape: Shape{3}, Const: IntValue(Shape{3}, []int64{3, 4, 0})}}
	if b, err := buildReshape(n, in); err != nil || !b.Out[0].Equal(Shape{3, 4, 0}) || !b.Alias {
		t.Errorf("allowzero reshape of 0x3x4 to [3 4 0]: %+v, %v", b, err)
	}
	n.Attrs = nil
	if _, err := buildReshape(n, in); err == nil {
		t.Error("reshape of 0x3x4 to [3 4 0] without allowzero (0 copies 4): no error")
	}

	for _, c := range []struct {
		shape []int64
		want  string
	}{
		{[]int64{-1, -1}, "more than one -1"},
		{[]int64{5, -1}, "cannot be inferred"},
		{[]int64{2, 3}, "cannot reshape"},
	} {
		err := planError(t, 14, shapeNode("Reshape", []string{"x", "shape"}), []TestInput{{Name: "x", Shape: x}, {Name: "shape", Shape: Shape{len(c.shape)}, I: c.shape}})
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("reshape %v to %v: error %v, want %q", x, c.shape, err, c.want)
		}
	}
	err := planError(t, 14, shapeNode("Reshape", []string{"x", "shape"}), []TestInput{{Name: "x", Shape: x}, {Name: "shape", Shape: Shape{3}}})
	if err == nil || !strings.Contains(err.Error(), "known at plan time") {
		t.Errorf("reshape to a runtime shape: error %v", err)
	}
	CheckGradient(t, 14, shapeNode("Reshape", []string{"x", "shape"}), []TestInput{{Name: "x", Shape: x, Grad: true}, {Name: "shape", Shape: Shape{2}, I: []int64{4, 6}}})
}

func TestFlatten(t *testing.T) {
	x := Shape{2, 3, 4, 5}
	for axis, want := range map[int64]Shape{0: {1, 120}, 1: {2, 60}, 3: {24, 5}, 4: {120, 1}, -1: {24, 5}, -4: {1, 120}} {
		checkAlias(t, 13, shapeNode("Flatten", []string{"x"}, attrInt("axis", axis)), x, nil, want)
	}
	checkAlias(t, 13, shapeNode("Flatten", []string{"x"}), x, nil, Shape{2, 60})
	if err := planError(t, 13, shapeNode("Flatten", []string{"x"}, attrInt("axis", 5)), []TestInput{{Name: "x", Shape: x}}); err == nil {
		t.Error("Flatten axis 5 of a rank-4 input: no error")
	}
}

func TestSqueezeUnsqueeze(t *testing.T) {
	x := Shape{1, 3, 1, 5}
	axes := func(v ...int64) []TestInput { return []TestInput{{Name: "axes", Shape: Shape{len(v)}, I: v}} }
	checkAlias(t, 11, shapeNode("Squeeze", []string{"x"}, attrInts("axes", 0, -2)), x, nil, Shape{3, 5})
	checkAlias(t, 11, shapeNode("Squeeze", []string{"x"}), x, nil, Shape{3, 5})
	checkAlias(t, 13, shapeNode("Squeeze", []string{"x", "axes"}), x, axes(-2), Shape{1, 3, 5})
	checkAlias(t, 13, shapeNode("Squeeze", []string{"x"}), x, nil, Shape{3, 5})
	if err := planError(t, 13, shapeNode("Squeeze", []string{"x", "axes"}), []TestInput{{Name: "x", Shape: x}, axes(1)[0]}); err == nil || !strings.Contains(err.Error(), "size is not 1") {
		t.Errorf("squeezing an axis of size 3: error %v", err)
	}

	x = Shape{3, 4}
	checkAlias(t, 11, shapeNode("Unsqueeze", []string{"x"}, attrInts("axes", 0, 3)), x, nil, Shape{1, 3, 4, 1})
	checkAlias(t, 13, shapeNode("Unsqueeze", []string{"x", "axes"}), x, axes(4, -5, 2), Shape{1, 3, 1, 4, 1})
	checkAlias(t, 13, shapeNode("Unsqueeze", []string{"x", "axes"}), x, axes(-1), Shape{3, 4, 1})
	if err := planError(t, 13, shapeNode("Unsqueeze", []string{"x", "axes"}), []TestInput{{Name: "x", Shape: x}, axes(1, -3)[0]}); err == nil || !strings.Contains(err.Error(), "twice") {
		t.Errorf("unsqueezing axis 1 twice: error %v", err)
	}
}

func TestShapeAndConstant(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 5))
	constOf := func(opset int64, node *onnx.Node, inputs []TestInput) *Value {
		t.Helper()
		return planNode(t, rng, opset, node, inputs, false).tensors["y"].cnst
	}
	x := []TestInput{{Name: "x", Shape: Shape{3, 4, 5}}}
	for _, c := range []struct {
		attrs []*onnx.Attribute
		want  []int64
	}{
		{nil, []int64{3, 4, 5}},
		{[]*onnx.Attribute{attrInt("start", 1)}, []int64{4, 5}},
		{[]*onnx.Attribute{attrInt("end", -1)}, []int64{3, 4}},
		{[]*onnx.Attribute{attrInt("start", -10), attrInt("end", 10)}, []int64{3, 4, 5}},
		{[]*onnx.Attribute{attrInt("start", 2), attrInt("end", 1)}, []int64{}},
	} {
		node := shapeNode("Shape", []string{"x"}, c.attrs...)
		if v := constOf(15, node, x); v == nil || !v.Int || !slices.Equal(v.I, c.want) {
			t.Errorf("%s of 3x4x5 = %+v, want the constant %v", describe(node), v, c.want)
		}
	}

	tensor := &onnx.Attribute{Name: "value", Type: onnx.AttrTensor, T: onnx.NewInt64Tensor("", []int64{2}, []int64{7, -1})}
	for _, c := range []struct {
		attr *onnx.Attribute
		want *Value
	}{
		{tensor, IntValue(Shape{2}, []int64{7, -1})},
		{&onnx.Attribute{Name: "value", Type: onnx.AttrTensor, T: onnx.NewFloatTensor("", []int64{1, 2}, []float32{0.5, 2})}, FloatValue(Shape{1, 2}, []float32{0.5, 2})},
		{attrFloat("value_float", 1.5), FloatValue(Shape{}, []float32{1.5})},
		{&onnx.Attribute{Name: "value_floats", Type: onnx.AttrFloats, Floats: []float32{1, 2, 3}}, FloatValue(Shape{3}, []float32{1, 2, 3})},
		{attrInt("value_int", -3), IntValue(Shape{}, []int64{-3})},
		{attrInts("value_ints", 4, 5), IntValue(Shape{2}, []int64{4, 5})},
	} {
		node := shapeNode("Constant", nil, c.attr)
		v := constOf(13, node, nil)
		if v == nil || v.Int != c.want.Int || !v.Shape.Equal(c.want.Shape) || !slices.Equal(v.I, c.want.I) || !slices.Equal(v.F, c.want.F) {
			t.Errorf("%s = %+v, want %+v", describe(node), v, c.want)
		}
	}
	if err := planError(t, 13, shapeNode("Constant", nil, attrString("value_string", "a")), nil); err == nil {
		t.Error("a string Constant: no error")
	}
}

// pytorchFlatten is what torch.onnx exports for x.view(x.size(0), -1):
// Shape -> Gather -> Unsqueeze -> Concat -> Reshape, the target shape
// computed from the input's shape inside the graph.
func pytorchFlatten(opset int64) *onnx.Model {
	unsqueeze := &onnx.Node{OpType: "Unsqueeze", Inputs: []string{"n"}, Outputs: []string{"n1"}, Attrs: []*onnx.Attribute{attrInts("axes", 0)}}
	if opset >= 13 {
		unsqueeze.Attrs = nil
		unsqueeze.Inputs = append(unsqueeze.Inputs, "zero1")
	}
	return &onnx.Model{
		IRVersion: 8,
		Opsets:    map[string]int64{"": opset},
		Graph: &onnx.Graph{
			Inputs:       []*onnx.ValueInfo{{Name: "x", ElemType: onnx.Float}},
			Initializers: []*onnx.Tensor{onnx.NewInt64Tensor("zero1", []int64{1}, []int64{0})},
			Nodes: []*onnx.Node{
				{OpType: "Shape", Inputs: []string{"x"}, Outputs: []string{"s"}},
				{OpType: "Constant", Outputs: []string{"i0"}, Attrs: []*onnx.Attribute{{Name: "value", Type: onnx.AttrTensor, T: onnx.NewInt64Tensor("", nil, []int64{0})}}},
				{OpType: "Gather", Inputs: []string{"s", "i0"}, Outputs: []string{"n"}, Attrs: []*onnx.Attribute{attrInt("axis", 0)}},
				unsqueeze,
				{OpType: "Constant", Outputs: []string{"minus1"}, Attrs: []*onnx.Attribute{attrInts("value_ints", -1)}},
				{OpType: "Concat", Inputs: []string{"n1", "minus1"}, Outputs: []string{"shape"}, Attrs: []*onnx.Attribute{attrInt("axis", 0)}},
				{OpType: "Reshape", Inputs: []string{"x", "shape"}, Outputs: []string{"y"}},
			},
			Outputs: []*onnx.ValueInfo{{Name: "y", ElemType: onnx.Float}},
		},
	}
}

func TestPyTorchShapeArithmeticFolds(t *testing.T) {
	for _, opset := range []int64{11, 13} {
		m, err := Load(pytorchFlatten(opset))
		if err != nil {
			t.Fatal(err)
		}
		p, err := m.Plan(Spec{
			Inputs:   []InputSpec{{Name: "x", Shape: Shape{2, 3, 4, 5}, Grad: true}},
			Targets:  []string{"y"},
			Backward: true,
		})
		if err != nil {
			t.Fatalf("opset %d: %v", opset, err)
		}
		if v := p.tensors["shape"].cnst; v == nil || !v.Int || !slices.Equal(v.I, []int64{2, -1}) {
			t.Errorf("opset %d: the shape arithmetic gives %+v, want the constant [2 -1]", opset, v)
		}
		if p.Steps() != 0 || !p.Shape("y").Equal(Shape{2, 60}) {
			t.Errorf("opset %d: %d steps and shape %v, want 0 steps (everything folded, Reshape aliased) and 2x60", opset, p.Steps(), p.Shape("y"))
		}
		if &p.Data("y")[0] != &p.Data("x")[0] || &p.Grad("y")[0] != &p.Grad("x")[0] {
			t.Errorf("opset %d: y does not share x's value and gradient buffers", opset)
		}
		ctx := context.Background()
		if err := p.Forward(ctx); err != nil {
			t.Fatal(err)
		}
		if err := p.Backward(ctx); err != nil {
			t.Fatal(err)
		}
	}
}

// The alias operators fold integer constants into new constants.
func TestShapeOpsOnIntegerConstants(t *testing.T) {
	rng := rand.New(rand.NewPCG(6, 6))
	data := TestInput{Name: "x", Shape: Shape{2, 3}, I: []int64{1, 2, 3, 4, 5, 6}}
	for _, c := range []struct {
		node   *onnx.Node
		inputs []TestInput
		want   Shape
	}{
		{shapeNode("Reshape", []string{"x", "s"}), []TestInput{data, {Name: "s", Shape: Shape{2}, I: []int64{3, -1}}}, Shape{3, 2}},
		{shapeNode("Flatten", []string{"x"}, attrInt("axis", 0)), []TestInput{data}, Shape{1, 6}},
		{shapeNode("Unsqueeze", []string{"x", "s"}), []TestInput{data, {Name: "s", Shape: Shape{1}, I: []int64{0}}}, Shape{1, 2, 3}},
		{shapeNode("Squeeze", []string{"x"}), []TestInput{{Name: "x", Shape: Shape{1, 6}, I: data.I}}, Shape{6}},
	} {
		v := planNode(t, rng, 14, c.node, c.inputs, false).tensors["y"].cnst
		if v == nil || !v.Int || !v.Shape.Equal(c.want) || !slices.Equal(v.I, data.I) {
			t.Errorf("%s of an integer constant = %+v, want the constant %v shaped %v", describe(c.node), v, data.I, c.want)
		}
	}
}
