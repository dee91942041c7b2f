package graph

import (
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/deepdream-go/deepdream/onnx"
)

func transposeNode(perm ...int64) *onnx.Node {
	n := &onnx.Node{OpType: "Transpose", Inputs: []string{"x"}, Outputs: []string{"y"}}
	if perm != nil {
		n.Attrs = []*onnx.Attribute{attrInts("perm", perm...)}
	}
	return n
}

func TestTranspose(t *testing.T) {
	rng := rand.New(rand.NewPCG(8, 8))
	x := TestInput{Name: "x", Shape: Shape{2, 3}, F: []float32{1, 2, 3, 4, 5, 6}}
	p := planNode(t, rng, 13, transposeNode(), []TestInput{x}, false)
	if got, want := p.Data("y"), []float32{1, 4, 2, 5, 3, 6}; !slices.Equal(got, want) || !p.Shape("y").Equal(Shape{3, 2}) {
		t.Errorf("default transpose of 2x3: %v %v, want 3x2 %v", p.Shape("y"), got, want)
	}
	x3 := TestInput{Name: "x", Shape: Shape{2, 2, 2}, F: []float32{0, 1, 2, 3, 4, 5, 6, 7}}
	p = planNode(t, rng, 13, transposeNode(1, 2, 0), []TestInput{x3}, false)
	if got, want := p.Data("y"), []float32{0, 4, 1, 5, 2, 6, 3, 7}; !slices.Equal(got, want) {
		t.Errorf("transpose 2x2x2 by [1 2 0]: %v, want %v", got, want)
	}

	for _, perm := range [][]int64{nil, {0, 2, 3, 1}, {0, 3, 1, 2}, {1, 0, 2, 3}} {
		CheckGradient(t, 13, transposeNode(perm...), []TestInput{{Name: "x", Shape: Shape{2, 3, 4, 5}, Grad: true}})
	}

	p = planNode(t, rng, 13, transposeNode(), []TestInput{{Name: "x", Shape: Shape{2, 2}, I: []int64{1, 2, 3, 4}}}, false)
	if v := p.tensors["y"].cnst; v == nil || !v.Int || !slices.Equal(v.I, []int64{1, 3, 2, 4}) {
		t.Errorf("transpose of an integer constant = %+v", v)
	}
	if err := planError(t, 13, transposeNode(0, 0), []TestInput{{Name: "x", Shape: Shape{2, 2}}}); err == nil {
		t.Error("perm [0 0]: no error")
	}
}

func gatherNode(axis int64) *onnx.Node {
	return &onnx.Node{OpType: "Gather", Inputs: []string{"x", "i"}, Outputs: []string{"y"}, Attrs: []*onnx.Attribute{attrInt("axis", axis)}}
}

func TestGather(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 9))
	x := TestInput{Name: "x", Shape: Shape{3, 2}, F: []float32{1, 2, 3, 4, 5, 6}}
	for _, c := range []struct {
		axis    int64
		indices TestInput
		shape   Shape
		want    []float32
	}{
		{0, TestInput{Name: "i", Shape: Shape{2}, I: []int64{2, -3}}, Shape{2, 2}, []float32{5, 6, 1, 2}},
		{1, TestInput{Name: "i", Shape: Shape{}, I: []int64{1}}, Shape{3}, []float32{2, 4, 6}},
		{-1, TestInput{Name: "i", Shape: Shape{2, 2}, I: []int64{1, 0, 0, 0}}, Shape{3, 2, 2}, []float32{2, 1, 1, 1, 4, 3, 3, 3, 6, 5, 5, 5}},
	} {
		p := planNode(t, rng, 13, gatherNode(c.axis), []TestInput{x, c.indices}, false)
		if got := p.Data("y"); !slices.Equal(got, c.want) || !p.Shape("y").Equal(c.shape) {
			t.Errorf("gather axis %d of %v: %v %v, want %v %v", c.axis, c.indices.I, p.Shape("y"), got, c.shape, c.want)
		}
	}

	// Repeated indices: their gradients add up in the element they read.
	CheckGradient(t, 13, gatherNode(1), []TestInput{{Name: "x", Shape: Shape{2, 4, 3}, Grad: true}, {Name: "i", Shape: Shape{2, 2}, I: []int64{3, 0, -1, 3}}})
	CheckGradient(t, 13, gatherNode(0), []TestInput{{Name: "x", Shape: Shape{5, 3}, Grad: true}, {Name: "i", Shape: Shape{3}, I: []int64{4, 1, 0}}})

	// PyTorch's x.size(0): Gather of a scalar index from a Shape constant.
	p := planNode(t, rng, 13, gatherNode(0), []TestInput{{Name: "x", Shape: Shape{4}, I: []int64{1, 3, 224, 224}}, {Name: "i", Shape: Shape{}, I: []int64{-1}}}, false)
	if v := p.tensors["y"].cnst; v == nil || !v.Int || !v.Shape.Equal(Shape{}) || !slices.Equal(v.I, []int64{224}) {
		t.Errorf("gather from an integer constant = %+v, want the scalar 224", v)
	}

	err := planError(t, 13, gatherNode(0), []TestInput{x, {Name: "i", Shape: Shape{1}, I: []int64{3}}})
	if err == nil || !strings.Contains(err.Error(), "out of range") {
		t.Errorf("index 3 of 3 rows: error %v", err)
	}
}

// padNode is Pad of opset 11 on: pads (and the constant value) are inputs.
func padNode(mode string, inputs ...string) *onnx.Node {
	return &onnx.Node{OpType: "Pad", Inputs: append([]string{"x"}, inputs...), Outputs: []string{"y"}, Attrs: []*onnx.Attribute{attrString("mode", mode)}}
}

func TestPad(t *testing.T) {
	rng := rand.New(rand.NewPCG(10, 10))
	x := TestInput{Name: "x", Shape: Shape{2, 3}, F: []float32{1, 2, 3, 4, 5, 6}}
	pads := func(v ...int64) TestInput { return TestInput{Name: "pads", Shape: Shape{len(v)}, I: v} }
	value := TestInput{Name: "value", Shape: Shape{}, F: []float32{-1}, Const: true}
	for _, c := range []struct {
		name   string
		opset  int64
		node   *onnx.Node
		inputs []TestInput
		shape  Shape
		want   []float32
	}{
		{"constant", 13, padNode("constant", "pads", "value"), []TestInput{x, pads(0, 1, 1, 0), value}, Shape{3, 4},
			[]float32{-1, 1, 2, 3, -1, 4, 5, 6, -1, -1, -1, -1}},
		{"constant value fed at run time", 13, padNode("constant", "pads", "value"), []TestInput{x, pads(0, 1, 1, 0), {Name: "value", Shape: Shape{}, F: []float32{-1}}}, Shape{3, 4},
			[]float32{-1, 1, 2, 3, -1, 4, 5, 6, -1, -1, -1, -1}},
		{"constant, default 0", 13, padNode("constant", "pads"), []TestInput{x, pads(0, 0, 0, 1)}, Shape{2, 4},
			[]float32{1, 2, 3, 0, 4, 5, 6, 0}},
		{"edge", 13, padNode("edge", "pads"), []TestInput{x, pads(1, 2, 0, 0)}, Shape{3, 5},
			[]float32{1, 1, 1, 2, 3, 1, 1, 1, 2, 3, 4, 4, 4, 5, 6}},
		{"reflect", 13, padNode("reflect", "pads"), []TestInput{x, pads(0, 2, 0, 1)}, Shape{2, 6},
			[]float32{3, 2, 1, 2, 3, 2, 6, 5, 4, 5, 6, 5}},
		{"crop", 13, padNode("constant", "pads"), []TestInput{x, pads(-1, 1, 0, -1)}, Shape{1, 3},
			[]float32{0, 4, 5}},
		{"axes (opset 18)", 18, padNode("constant", "pads", "", "axes"), []TestInput{x, pads(1, 1), {Name: "axes", Shape: Shape{1}, I: []int64{-1}}}, Shape{2, 5},
			[]float32{0, 1, 2, 3, 0, 0, 4, 5, 6, 0}},
		{"attributes (opset 2)", 2, &onnx.Node{OpType: "Pad", Inputs: []string{"x"}, Outputs: []string{"y"}, Attrs: []*onnx.Attribute{attrInts("pads", 1, 0, 0, 0), attrFloat("value", 9)}}, []TestInput{x}, Shape{3, 3},
			[]float32{9, 9, 9, 1, 2, 3, 4, 5, 6}},
	} {
		var inputs []TestInput // an empty name is an omitted input, not a graph input
		for _, in := range c.inputs {
			if in.Name != "" {
				inputs = append(inputs, in)
			}
		}
		p := planNode(t, rng, c.opset, c.node, inputs, false)
		if got := p.Data("y"); !slices.Equal(got, c.want) || !p.Shape("y").Equal(c.shape) {
			t.Errorf("pad %s: %v %v, want %v %v", c.name, p.Shape("y"), got, c.shape, c.want)
		}
	}

	// Gradients in every mode, with wide reflect pads and a crop.
	for _, mode := range []string{"constant", "edge", "reflect"} {
		CheckGradient(t, 13, padNode(mode, "pads"), []TestInput{{Name: "x", Shape: Shape{1, 2, 3, 4}, Grad: true}, pads(0, 0, 2, 3, 0, 0, 3, -1)})
	}

	// Integer data (a constant) is padded at plan time.
	p := planNode(t, rng, 13, padNode("edge", "pads"), []TestInput{{Name: "x", Shape: Shape{2}, I: []int64{4, 7}}, pads(1, 2)}, false)
	if v := p.tensors["y"].cnst; v == nil || !v.Int || !slices.Equal(v.I, []int64{4, 4, 7, 7, 7}) {
		t.Errorf("edge pad of an integer constant = %+v", v)
	}

	for _, c := range []struct {
		node   *onnx.Node
		inputs []TestInput
		want   string
	}{
		{padNode("wrap", "pads"), []TestInput{x, pads(0, 1, 0, 1)}, `mode "wrap"`},
		{padNode("constant", "pads"), []TestInput{x, pads(0, 1)}, "2 pads"},
		{padNode("constant", "pads"), []TestInput{x, pads(0, -4, 0, 0)}, "crop more"},
		{padNode("constant", "pads"), []TestInput{x, {Name: "pads", Shape: Shape{4}, F: []float32{0, 0, 0, 0}}}, "known at plan time"},
	} {
		if err := planError(t, 13, c.node, c.inputs); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %v, want %q", describe(c.node), err, c.want)
		}
	}
}
