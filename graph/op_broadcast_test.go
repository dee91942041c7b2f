package graph

import (
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/deepdream-go/deepdream/onnx"
)

func binaryNode(op string) *onnx.Node {
	return &onnx.Node{OpType: op, Inputs: []string{"a", "b"}, Outputs: []string{"y"}}
}

func TestBinaryForward(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 1))
	a := []float32{1, 2, 3, 4, 5, 6} // 2x3
	for _, c := range []struct {
		op     string
		bShape Shape
		b      []float32
		want   []float32
	}{
		{"Add", Shape{2, 3}, []float32{10, 20, 30, 40, 50, 60}, []float32{11, 22, 33, 44, 55, 66}},
		{"Sub", Shape{3}, []float32{1, 2, 3}, []float32{0, 0, 0, 3, 3, 3}},
		{"Mul", Shape{2, 1}, []float32{2, -1}, []float32{2, 4, 6, -4, -5, -6}},
		{"Div", Shape{}, []float32{2}, []float32{0.5, 1, 1.5, 2, 2.5, 3}},
		{"Div", Shape{1, 1}, []float32{4}, []float32{0.25, 0.5, 0.75, 1, 1.25, 1.5}},
	} {
		p := planNode(t, rng, 14, binaryNode(c.op), []TestInput{
			{Name: "a", Shape: Shape{2, 3}, F: a},
			{Name: "b", Shape: c.bShape, F: c.b, Const: true},
		}, false)
		if got := p.Data("y"); !slices.Equal(got, c.want) || !p.Shape("y").Equal(Shape{2, 3}) {
			t.Errorf("%s 2x3 with %v: %v %v, want %v", c.op, c.bShape, p.Shape("y"), got, c.want)
		}
	}
	// Both sides broadcast: [3,1] - [1,2] is 3x2.
	p := planNode(t, rng, 14, binaryNode("Sub"), []TestInput{
		{Name: "a", Shape: Shape{3, 1}, F: []float32{1, 2, 3}},
		{Name: "b", Shape: Shape{1, 2}, F: []float32{10, 20}},
	}, false)
	if got, want := p.Data("y"), []float32{-9, -19, -8, -18, -7, -17}; !slices.Equal(got, want) || !p.Shape("y").Equal(Shape{3, 2}) {
		t.Errorf("[3,1] - [1,2] = %v %v, want 3x2 %v", p.Shape("y"), got, want)
	}
}

func TestBinaryGradient(t *testing.T) {
	rng := rand.New(rand.NewPCG(2, 2))
	shapes := []struct{ a, b Shape }{
		{Shape{2, 3, 4}, Shape{2, 3, 4}},    // same shape
		{Shape{1, 3, 4, 5}, Shape{3, 1, 1}}, // per-channel
		{Shape{3, 1, 5}, Shape{4, 1}},       // both sides broadcast
		{Shape{}, Shape{2, 3}},              // scalar on the left
		{Shape{2, 3}, Shape{1}},             // scalar on the right
	}
	for _, op := range []string{"Add", "Sub", "Mul", "Div"} {
		for _, s := range shapes {
			b := awayFromZero(rng, s.b.Size()) // Div: stay clear of b = 0
			CheckGradient(t, 14, binaryNode(op), []TestInput{
				{Name: "a", Shape: s.a, Grad: true},
				{Name: "b", Shape: s.b, F: b, Grad: true},
			})
		}
	}
	// Only one side wants a gradient, the other is a weight.
	CheckGradient(t, 14, binaryNode("Div"), []TestInput{
		{Name: "a", Shape: Shape{1, 3, 2, 2}, Grad: true},
		{Name: "b", Shape: Shape{3, 1, 1}, F: []float32{0.5, 2, -1}, Const: true},
	})
}

// Integer constants are shape arithmetic: computed at plan time, with
// integer division truncating toward zero.
func TestBinaryIntegerConstants(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 3))
	for _, c := range []struct {
		op   string
		want []int64
	}{
		{"Add", []int64{-5, 9, -9, 5}},
		{"Sub", []int64{-9, 5, -5, 9}},
		{"Mul", []int64{-14, 14, 14, -14}},
		{"Div", []int64{-3, 3, 3, -3}},
	} {
		p := planNode(t, rng, 14, binaryNode(c.op), []TestInput{
			{Name: "a", Shape: Shape{4}, I: []int64{-7, 7, -7, 7}},
			{Name: "b", Shape: Shape{4}, I: []int64{2, 2, -2, -2}},
		}, false)
		v := p.tensors["y"].cnst
		if v == nil || !v.Int || !slices.Equal(v.I, c.want) {
			t.Errorf("%s on integer constants = %+v, want the constant %v", c.op, v, c.want)
		}
	}
	p := planNode(t, rng, 14, binaryNode("Mul"), []TestInput{
		{Name: "a", Shape: Shape{2}, I: []int64{3, 4}},
		{Name: "b", Shape: Shape{}, I: []int64{-1}},
	}, false)
	if v := p.tensors["y"].cnst; v == nil || !slices.Equal(v.I, []int64{-3, -4}) || !v.Shape.Equal(Shape{2}) {
		t.Errorf("[3 4] * scalar -1 = %+v", v)
	}
}

func TestBinaryErrors(t *testing.T) {
	for _, c := range []struct {
		opset  int64
		node   *onnx.Node
		inputs []TestInput
		want   string
	}{
		{14, binaryNode("Add"), []TestInput{{Name: "a", Shape: Shape{2, 3}}, {Name: "b", Shape: Shape{4, 3}}}, "cannot be broadcast"},
		{14, binaryNode("Div"), []TestInput{{Name: "a", Shape: Shape{2}, I: []int64{1, 2}}, {Name: "b", Shape: Shape{2}, I: []int64{1, 0}}}, "division by zero"},
		{14, binaryNode("Mul"), []TestInput{{Name: "a", Shape: Shape{2}}, {Name: "b", Shape: Shape{2}, I: []int64{1, 0}}}, `"b" is an integer constant`},
		{6, &onnx.Node{OpType: "Add", Inputs: []string{"a", "b"}, Outputs: []string{"y"}, Attrs: []*onnx.Attribute{attrInt("broadcast", 1), attrInt("axis", 1)}},
			[]TestInput{{Name: "a", Shape: Shape{2, 3}}, {Name: "b", Shape: Shape{3}}}, "legacy broadcast"},
	} {
		err := planError(t, c.opset, c.node, c.inputs)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %v, want one saying %q", describe(c.node), err, c.want)
		}
	}
}

// planError plans a single-node model with the output as target and
// returns the planning error.
func planError(t *testing.T, opset int64, node *onnx.Node, inputs []TestInput) error {
	t.Helper()
	m, err := Load(nodeModel(opset, node, inputs))
	if err != nil {
		t.Fatal(err)
	}
	spec := Spec{Consts: map[string]*Value{}, Targets: []string{node.Outputs[0]}}
	for _, in := range inputs {
		if in.I != nil {
			spec.Consts[in.Name] = IntValue(in.Shape, in.I)
		} else {
			spec.Inputs = append(spec.Inputs, InputSpec{Name: in.Name, Shape: in.Shape})
		}
	}
	_, err = m.Plan(spec)
	return err
}
