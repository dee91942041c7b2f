package graph

import (
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/deepdream-go/deepdream/onnx"
)

func ints(name string, v ...int64) TestInput {
	return TestInput{Name: name, Shape: Shape{len(v)}, I: v}
}

func sliceNode(inputs ...string) *onnx.Node {
	return &onnx.Node{OpType: "Slice", Inputs: append([]string{"x"}, inputs...), Outputs: []string{"y"}}
}

func TestSlice(t *testing.T) {
	rng := rand.New(rand.NewPCG(30, 30))
	x := TestInput{Name: "x", Shape: Shape{3, 4}, F: []float32{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11}}
	for _, c := range []struct {
		name   string
		opset  int64
		node   *onnx.Node
		inputs []TestInput
		shape  Shape
		want   []float32
	}{
		{"attributes (opset 1)", 1, &onnx.Node{OpType: "Slice", Inputs: []string{"x"}, Outputs: []string{"y"}, Attrs: []*onnx.Attribute{attrInts("starts", 1, 0), attrInts("ends", 3, 2)}},
			[]TestInput{x}, Shape{2, 2}, []float32{4, 5, 8, 9}},
		{"attribute axes, negative end (opset 1)", 1, &onnx.Node{OpType: "Slice", Inputs: []string{"x"}, Outputs: []string{"y"}, Attrs: []*onnx.Attribute{attrInts("starts", 1), attrInts("ends", -1), attrInts("axes", 1)}},
			[]TestInput{x}, Shape{3, 2}, []float32{1, 2, 5, 6, 9, 10}},
		{"one axis, step 1: a contiguous block", 13, sliceNode("starts", "ends", "axes"),
			[]TestInput{x, ints("starts", 1), ints("ends", 2), ints("axes", 0)}, Shape{1, 4}, []float32{4, 5, 6, 7}},
		{"one inner axis, step 1", 13, sliceNode("starts", "ends", "axes"),
			[]TestInput{x, ints("starts", 2), ints("ends", 100), ints("axes", -1)}, Shape{3, 2}, []float32{2, 3, 6, 7, 10, 11}},
		{"steps", 13, sliceNode("starts", "ends", "axes", "steps"),
			[]TestInput{x, ints("starts", 0, 3), ints("ends", 3, 0), ints("axes", 0, 1), ints("steps", 2, -2)}, Shape{2, 2}, []float32{3, 1, 11, 9}},
		{"reversed, clamped from both ends", 13, sliceNode("starts", "ends", "axes", "steps"),
			[]TestInput{x, ints("starts", 100), ints("ends", -100), ints("axes", 1), ints("steps", -1)}, Shape{3, 4}, []float32{3, 2, 1, 0, 7, 6, 5, 4, 11, 10, 9, 8}},
		{"int64 extremes, as exporters write them", 13, sliceNode("starts", "ends", "axes", "steps"),
			[]TestInput{x, ints("starts", -1), ints("ends", -1<<63), ints("axes", 0), ints("steps", -1<<63)}, Shape{1, 4}, []float32{8, 9, 10, 11}},
		{"empty", 13, sliceNode("starts", "ends", "axes"),
			[]TestInput{x, ints("starts", 3), ints("ends", 1), ints("axes", 1)}, Shape{3, 0}, []float32{}},
	} {
		p := planNode(t, rng, c.opset, c.node, c.inputs, false)
		if got := p.Data("y"); !slices.Equal(got, c.want) || !p.Shape("y").Equal(c.shape) {
			t.Errorf("slice %s: %v %v, want %v %v", c.name, p.Shape("y"), got, c.shape, c.want)
		}
	}

	// A block of channels is a contiguous copy, not a remap.
	p := planNode(t, rng, 13, sliceNode("starts", "ends", "axes"), []TestInput{{Name: "x", Shape: Shape{1, 8, 3, 3}}, ints("starts", 4), ints("ends", 8), ints("axes", 1)}, false)
	if _, ok := p.steps[0].kernel.(*splitKernel); !ok {
		t.Errorf("a slice of channels runs as %T, want a *splitKernel", p.steps[0].kernel)
	}

	// Taking everything is a view.
	checkAlias(t, 13, sliceNode("starts", "ends"), Shape{3, 4}, []TestInput{ints("starts", 0, -9), ints("ends", 1<<62, 4)}, Shape{3, 4})

	// Gradients: a block of channels (the contiguous copy), steps,
	// reversal, several axes (remaps).
	x4 := TestInput{Name: "x", Shape: Shape{1, 6, 5, 4}, Grad: true}
	for _, c := range [][]TestInput{
		{x4, ints("starts", 3), ints("ends", 6), ints("axes", 1)},
		{x4, ints("starts", 1), ints("ends", -1), ints("axes", 2)},
		{x4, ints("starts", 0, 4), ints("ends", 6, 0), ints("axes", 1, 3), ints("steps", 2, -3)},
		{x4, ints("starts", -1), ints("ends", -1<<63), ints("axes", 2), ints("steps", -1)},
		{x4, ints("starts", 1, 1, 1), ints("ends", 5, 4, 3), ints("axes", 1, 2, 3)},
	} {
		var names []string
		for _, in := range c[1:] {
			names = append(names, in.Name)
		}
		CheckGradient(t, 13, sliceNode(names...), c)
	}
	CheckGradient(t, 1, &onnx.Node{OpType: "Slice", Inputs: []string{"x"}, Outputs: []string{"y"}, Attrs: []*onnx.Attribute{attrInts("starts", 2), attrInts("ends", 4), attrInts("axes", 1)}}, []TestInput{x4})

	for _, c := range []struct {
		inputs []TestInput
		want   string
	}{
		{[]TestInput{x, ints("starts", 0), ints("ends", 1), ints("axes", 0), ints("steps", 0)}, "step 0 is 0"},
		{[]TestInput{x, ints("starts", 0, 0), ints("ends", 1), ints("axes", 0), ints("steps", 1)}, "differ in length"},
		{[]TestInput{x, ints("starts", 0, 0), ints("ends", 1, 1), ints("axes", 1, -1), ints("steps", 1, 1)}, "twice"},
		{[]TestInput{x, ints("starts", 0), ints("ends", 1), ints("axes", 2), ints("steps", 1)}, "out of range"},
		{[]TestInput{x, {Name: "starts", Shape: Shape{1}}, ints("ends", 1), ints("axes", 0), ints("steps", 1)}, "known at plan time"},
	} {
		node := sliceNode("starts", "ends", "axes", "steps")
		if err := planError(t, 13, node, c.inputs); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("slice %v: error %v, want %q", c.inputs[1:], err, c.want)
		}
	}
}

// ShuffleNetV2's x.chunk(2, dim=1) slices the channels with starts and
// ends computed from the shape; on integer constants Slice and Split fold.
func TestSliceAndSplitIntegerConstants(t *testing.T) {
	rng := rand.New(rand.NewPCG(31, 31))
	shape := ints("x", 1, 116, 28, 28)
	p := planNode(t, rng, 13, sliceNode("starts", "ends", "axes"), []TestInput{shape, ints("starts", 1), ints("ends", 2), ints("axes", 0)}, false)
	if v := p.tensors["y"].cnst; v == nil || !v.Int || !slices.Equal(v.I, []int64{116}) {
		t.Errorf("slice [1:2] of the shape constant = %+v, want the constant [116]", v)
	}
	p = planNode(t, rng, 13, sliceNode("starts", "ends", "axes", "steps"), []TestInput{shape, ints("starts", -1), ints("ends", -5), ints("axes", 0), ints("steps", -2)}, false)
	if v := p.tensors["y"].cnst; v == nil || !v.Int || !slices.Equal(v.I, []int64{28, 116}) {
		t.Errorf("slice [-1:-5:-2] of the shape constant = %+v, want the constant [28 116]", v)
	}
	split := &onnx.Node{OpType: "Split", Inputs: []string{"x", "split"}, Outputs: []string{"y", "z"}}
	p = planNode(t, rng, 13, split, []TestInput{shape, ints("split", 3, 1)}, false)
	if y, z := p.tensors["y"].cnst, p.tensors["z"].cnst; y == nil || z == nil || !slices.Equal(y.I, []int64{1, 116, 28}) || !slices.Equal(z.I, []int64{28}) {
		t.Errorf("split [3 1] of the shape constant = %+v, %+v", y, z)
	}
}

func splitNode(outputs int, inputs []string, attrs ...*onnx.Attribute) *onnx.Node {
	n := &onnx.Node{OpType: "Split", Inputs: inputs, Attrs: attrs}
	for k := range outputs {
		n.Outputs = append(n.Outputs, string(rune('a'+k)))
	}
	return n
}

func TestSplit(t *testing.T) {
	rng := rand.New(rand.NewPCG(32, 32))
	x := TestInput{Name: "x", Shape: Shape{2, 5}, F: []float32{0, 1, 2, 3, 4, 5, 6, 7, 8, 9}}
	for _, c := range []struct {
		name   string
		opset  int64
		node   *onnx.Node
		inputs []TestInput
		want   [][]float32
	}{
		{"sizes input (opset 13)", 13, splitNode(2, []string{"x", "split"}, attrInt("axis", 1)), []TestInput{x, ints("split", 2, 3)},
			[][]float32{{0, 1, 5, 6}, {2, 3, 4, 7, 8, 9}}},
		{"sizes attribute (opset 11), negative axis", 11, splitNode(3, []string{"x"}, attrInt("axis", -1), attrInts("split", 1, 3, 1)), []TestInput{x},
			[][]float32{{0, 5}, {1, 2, 3, 6, 7, 8}, {4, 9}}},
		{"equal parts, axis 0", 13, splitNode(2, []string{"x"}), []TestInput{x},
			[][]float32{{0, 1, 2, 3, 4}, {5, 6, 7, 8, 9}}},
		{"num_outputs (opset 18): the last part smaller", 18, splitNode(3, []string{"x"}, attrInt("axis", 1), attrInt("num_outputs", 3)), []TestInput{x},
			[][]float32{{0, 1, 5, 6}, {2, 3, 7, 8}, {4, 9}}},
	} {
		p := planNode(t, rng, c.opset, c.node, c.inputs, false)
		for k, out := range c.node.Outputs {
			if got := p.Data(out); !slices.Equal(got, c.want[k]) {
				t.Errorf("split %s: output %d = %v, want %v", c.name, k, got, c.want[k])
			}
		}
	}

	// The gradient of each output in turn; the others' are zero.
	x4 := TestInput{Name: "x", Shape: Shape{1, 6, 3, 4}, Grad: true}
	for _, c := range []struct {
		node   *onnx.Node
		inputs []TestInput
	}{
		{splitNode(3, []string{"x", "split"}, attrInt("axis", 1)), []TestInput{x4, ints("split", 1, 3, 2)}},
		{splitNode(2, []string{"x"}, attrInt("axis", 3)), []TestInput{x4}},
	} {
		for _, target := range c.node.Outputs {
			checkGradientOf(t, 13, c.node, c.inputs, target)
		}
	}

	for _, c := range []struct {
		opset  int64
		node   *onnx.Node
		inputs []TestInput
		want   string
	}{
		{13, splitNode(2, []string{"x"}, attrInt("axis", 1)), []TestInput{x}, "equal parts"},
		{13, splitNode(2, []string{"x", "split"}, attrInt("axis", 1)), []TestInput{x, ints("split", 2, 2)}, "add up to 4"},
		{13, splitNode(2, []string{"x", "split"}, attrInt("axis", 1)), []TestInput{x, ints("split", 5)}, "for 2 outputs"},
		{13, splitNode(2, []string{"x", "split"}, attrInt("axis", 1)), []TestInput{x, ints("split", 7, -2)}, "out of range"},
		{11, splitNode(2, []string{"x", "split"}, attrInt("axis", 1)), []TestInput{x, ints("split", 2, 3)}, "as an attribute"},
		{18, splitNode(2, []string{"x"}, attrInt("axis", 1), attrInt("num_outputs", 3)), []TestInput{x}, "num_outputs 3"},
	} {
		if err := planError(t, c.opset, c.node, c.inputs); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s (opset %d): error %v, want %q", describe(c.node), c.opset, err, c.want)
		}
	}
}

// checkGradientOf is CheckGradient for another output than the node's
// first, with the inputs all fed at run time but integer ones.
func checkGradientOf(t *testing.T, opset int64, node *onnx.Node, inputs []TestInput, target string) {
	t.Helper()
	rng := rand.New(rand.NewPCG(1, 2))
	m, err := Load(nodeModel(opset, node, inputs))
	if err != nil {
		t.Fatal(err)
	}
	spec := Spec{Consts: map[string]*Value{}, Targets: []string{target}, Backward: true}
	var wrt []string
	for _, in := range inputs {
		if in.I != nil {
			spec.Consts[in.Name] = IntValue(in.Shape, in.I)
			continue
		}
		spec.Inputs = append(spec.Inputs, InputSpec{Name: in.Name, Shape: in.Shape, Grad: in.Grad})
		if in.Grad {
			wrt = append(wrt, in.Name)
		}
	}
	p, err := m.Plan(spec)
	if err != nil {
		t.Fatal(err)
	}
	for _, in := range inputs {
		if in.I == nil {
			x := p.Data(in.Name)
			for i := range x {
				x[i] = float32(rng.NormFloat64())
			}
		}
	}
	checkPlanGradient(t, rng, p, target, wrt, describe(node)+" -> "+target)
}

// checkNoAllocs plans node with a backward pass and checks that Forward
// and Backward allocate nothing.
func checkNoAllocs(t *testing.T, opset int64, node *onnx.Node, inputs []TestInput) {
	t.Helper()
	p := planNode(t, rand.New(rand.NewPCG(1, 1)), opset, node, inputs, true)
	ctx := t.Context()
	if a := testing.AllocsPerRun(5, func() {
		_ = p.Forward(ctx)
		_ = p.Backward(ctx)
	}); a != 0 {
		t.Errorf("%s allocates %v times per run", describe(node), a)
	}
}

func TestSliceAndSplitDoNotAllocate(t *testing.T) {
	x := TestInput{Name: "x", Shape: Shape{1, 16, 20, 20}, Grad: true}
	checkNoAllocs(t, 13, sliceNode("starts", "ends", "axes"), []TestInput{x, ints("starts", 8), ints("ends", 16), ints("axes", 1)})
	checkNoAllocs(t, 13, sliceNode("starts", "ends", "axes", "steps"), []TestInput{x, ints("starts", -1), ints("ends", 0), ints("axes", 3), ints("steps", -2)})
	checkNoAllocs(t, 13, splitNode(2, []string{"x"}, attrInt("axis", 1)), []TestInput{x})
}
