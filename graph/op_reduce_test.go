package graph

import (
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/deepdream-go/deepdream/onnx"
)

func reduceNode(op string, inputs []string, attrs ...*onnx.Attribute) *onnx.Node {
	return &onnx.Node{OpType: op, Inputs: inputs, Outputs: []string{"y"}, Attrs: attrs}
}

func TestReduce(t *testing.T) {
	rng := rand.New(rand.NewPCG(20, 20))
	x := TestInput{Name: "x", Shape: Shape{2, 2, 3}, F: []float32{1, 2, 3, 4, 5, 6, -1, -2, -3, 7, 0, 2}}
	axes := func(v ...int64) TestInput { return TestInput{Name: "axes", Shape: Shape{len(v)}, I: v} }
	for _, c := range []struct {
		name   string
		opset  int64
		node   *onnx.Node
		inputs []TestInput
		shape  Shape
		want   []float32
	}{
		{"mean over the last axis", 13, reduceNode("ReduceMean", []string{"x"}, attrInts("axes", -1)), []TestInput{x}, Shape{2, 2, 1},
			[]float32{2, 5, -2, 3}},
		{"mean over 0 and 2, keepdims 0 (x.mean([0, 2]))", 13, reduceNode("ReduceMean", []string{"x"}, attrInts("axes", 0, 2), attrInt("keepdims", 0)), []TestInput{x}, Shape{2},
			[]float32{0, 4}},
		{"sum of everything (no axes)", 13, reduceNode("ReduceSum", []string{"x"}, attrInt("keepdims", 0)), []TestInput{x}, Shape{},
			[]float32{24}},
		{"sum, axes input (opset 13)", 13, reduceNode("ReduceSum", []string{"x", "axes"}), []TestInput{x, axes(1)}, Shape{2, 1, 3},
			[]float32{5, 7, 9, 6, -2, -1}},
		{"max, axes input (opset 18)", 18, reduceNode("ReduceMax", []string{"x", "axes"}), []TestInput{x, axes(0, 1)}, Shape{1, 1, 3},
			[]float32{7, 5, 6}},
		{"min", 13, reduceNode("ReduceMin", []string{"x"}, attrInts("axes", 2)), []TestInput{x}, Shape{2, 2, 1},
			[]float32{1, 4, -3, 0}},
		{"prod", 13, reduceNode("ReduceProd", []string{"x"}, attrInts("axes", 1), attrInt("keepdims", 0)), []TestInput{x}, Shape{2, 3},
			[]float32{4, 10, 18, -7, 0, -6}},
		{"L1", 13, reduceNode("ReduceL1", []string{"x"}, attrInts("axes", 2)), []TestInput{x}, Shape{2, 2, 1},
			[]float32{6, 15, 6, 9}},
		{"sum square", 13, reduceNode("ReduceSumSquare", []string{"x"}, attrInts("axes", 2)), []TestInput{x}, Shape{2, 2, 1},
			[]float32{14, 77, 14, 53}},
		{"log sum exp", 13, reduceNode("ReduceLogSumExp", []string{"x"}, attrInts("axes", 0, 1, 2), attrInt("keepdims", 0)), []TestInput{x}, Shape{},
			[]float32{float32(math.Log(math.Exp(1) + math.Exp(2) + math.Exp(3) + math.Exp(4) + math.Exp(5) + math.Exp(6) + math.Exp(-1) + math.Exp(-2) + math.Exp(-3) + math.Exp(7) + 1 + math.Exp(2)))}},
	} {
		var inputs []TestInput
		for _, in := range c.inputs {
			if in.Name != "" {
				inputs = append(inputs, in)
			}
		}
		p := planNode(t, rng, c.opset, c.node, inputs, false)
		got := p.Data("y")
		ok := p.Shape("y").Equal(c.shape) && len(got) == len(c.want)
		for i := range got {
			ok = ok && math.Abs(float64(got[i]-c.want[i])) <= 1e-5*(1+math.Abs(float64(c.want[i])))
		}
		if !ok {
			t.Errorf("%s: %v %v, want %v %v", c.name, p.Shape("y"), got, c.shape, c.want)
		}
	}

	// noop_with_empty_axes: no axes is the identity, a view of x.
	checkAlias(t, 18, reduceNode("ReduceMean", []string{"x"}, attrInt("noop_with_empty_axes", 1)), Shape{2, 3}, nil, Shape{2, 3})
	checkAlias(t, 13, reduceNode("ReduceSum", []string{"x", "axes"}, attrInt("noop_with_empty_axes", 1)), Shape{2, 3}, []TestInput{{Name: "axes", Shape: Shape{0}, I: []int64{}}}, Shape{2, 3})

	for _, c := range []struct {
		opset  int64
		node   *onnx.Node
		inputs []TestInput
		want   string
	}{
		{13, reduceNode("ReduceMean", []string{"x"}, attrInts("axes", 1, -2)), []TestInput{x}, "twice"},
		{13, reduceNode("ReduceMean", []string{"x"}, attrInts("axes", 3)), []TestInput{x}, "out of range"},
		{13, reduceNode("ReduceMean", []string{"x", "axes"}), []TestInput{x, axes(1)}, "want 1 inputs"},
		{13, reduceNode("ReduceSum", []string{"x", "axes"}), []TestInput{x, {Name: "axes", Shape: Shape{1}}}, "known at plan time"},
	} {
		if err := planError(t, c.opset, c.node, c.inputs); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s (opset %d): error %v, want %q", describe(c.node), c.opset, err, c.want)
		}
	}
}

// Every reduction's gradient, over one axis, two, all of them, with and
// without keepdims, with its axes as an attribute and as an input.
func TestReduceGradients(t *testing.T) {
	rng := rand.New(rand.NewPCG(21, 21))
	shape := Shape{2, 3, 4}
	for _, op := range []string{"ReduceSum", "ReduceMean", "ReduceMax", "ReduceMin", "ReduceProd",
		"ReduceSumSquare", "ReduceL1", "ReduceL2", "ReduceLogSum", "ReduceLogSumExp"} {
		var data []float32
		switch op {
		case "ReduceMax", "ReduceMin":
			data = distinct(rng, shape.Size()) // no near-ties
		case "ReduceL1", "ReduceProd":
			data = awayFromZero(rng, shape.Size())
		case "ReduceLogSum":
			data = make([]float32, shape.Size())
			for i := range data {
				data[i] = 0.5 + rng.Float32()
			}
		}
		for _, c := range []struct {
			axes []int64
			keep int64
		}{{[]int64{1}, 1}, {[]int64{0, 2}, 0}, {nil, 1}, {[]int64{-1}, 0}} {
			x := TestInput{Name: "x", Shape: shape, F: data, Grad: true}
			attrs := []*onnx.Attribute{attrInt("keepdims", c.keep)}
			if c.axes != nil {
				attrs = append(attrs, attrInts("axes", c.axes...))
			}
			CheckGradient(t, 13, reduceNode(op, []string{"x"}, attrs...), []TestInput{x})
			if c.axes != nil {
				axes := TestInput{Name: "axes", Shape: Shape{len(c.axes)}, I: c.axes}
				CheckGradient(t, 18, reduceNode(op, []string{"x", "axes"}, attrs[0]), []TestInput{x, axes})
			}
		}
	}
	// A product with a zero: only the zero moves it.
	x := TestInput{Name: "x", Shape: Shape{2, 3}, F: []float32{0.5, 0, 2, 1.5, -1, 0.7}, Grad: true}
	CheckGradient(t, 13, reduceNode("ReduceProd", []string{"x"}, attrInts("axes", 1)), []TestInput{x})
	// Over the channels of a large NCHW tensor (strided, parallel).
	CheckGradient(t, 13, reduceNode("ReduceMean", []string{"x"}, attrInts("axes", 1)), []TestInput{{Name: "x", Shape: Shape{1, 16, 40, 40}, Grad: true}})
}

// ReduceMax passes the gradient of tied maxima to the first of them.
func TestReduceMaxTieGradient(t *testing.T) {
	rng := rand.New(rand.NewPCG(22, 22))
	x := TestInput{Name: "x", Shape: Shape{2, 3}, F: []float32{1, 5, 5, 2, 2, -1}, Grad: true}
	p := planNode(t, rng, 13, reduceNode("ReduceMax", []string{"x"}, attrInts("axes", 1)), []TestInput{x}, true)
	copy(p.Grad("y"), []float32{10, 20})
	if err := p.Backward(t.Context()); err != nil {
		t.Fatal(err)
	}
	if got, want := p.Grad("x"), []float32{0, 10, 0, 20, 0, 0}; !slices.Equal(got, want) {
		t.Errorf("gradient %v, want %v", got, want)
	}
}

// Integer constants are reduced at plan time: the element count of some
// dimensions, as torch.flatten exports it.
func TestReduceIntegerConstants(t *testing.T) {
	rng := rand.New(rand.NewPCG(23, 23))
	dims := TestInput{Name: "x", Shape: Shape{3}, I: []int64{64, 7, 9}}
	for _, c := range []struct {
		node *onnx.Node
		want []int64
	}{
		{reduceNode("ReduceProd", []string{"x"}, attrInts("axes", 0)), []int64{64 * 7 * 9}},
		{reduceNode("ReduceSum", []string{"x"}, attrInt("keepdims", 0)), []int64{80}},
		{reduceNode("ReduceMax", []string{"x"}), []int64{64}},
		{reduceNode("ArgMin", []string{"x"}), []int64{1}},
		{reduceNode("ArgMax", []string{"x"}, attrInt("keepdims", 0)), []int64{0}},
	} {
		v := planNode(t, rng, 13, c.node, []TestInput{dims}, false).tensors["y"].cnst
		if v == nil || !v.Int || !slices.Equal(v.I, c.want) {
			t.Errorf("%s of the constant [64 7 9] = %+v, want the constant %v", describe(c.node), v, c.want)
		}
	}
}

func TestArgMax(t *testing.T) {
	rng := rand.New(rand.NewPCG(24, 24))
	x := TestInput{Name: "x", Shape: Shape{2, 3}, F: []float32{1, 5, 5, 2, 2, -1}}
	for _, c := range []struct {
		node  *onnx.Node
		shape Shape
		want  []float32
	}{
		{reduceNode("ArgMax", []string{"x"}, attrInt("axis", 1)), Shape{2, 1}, []float32{1, 0}},
		{reduceNode("ArgMax", []string{"x"}, attrInt("axis", 1), attrInt("select_last_index", 1), attrInt("keepdims", 0)), Shape{2}, []float32{2, 1}},
		{reduceNode("ArgMin", []string{"x"}, attrInt("axis", 0)), Shape{1, 3}, []float32{0, 1, 1}},
		{reduceNode("ArgMin", []string{"x"}, attrInt("axis", -1), attrInt("select_last_index", 1)), Shape{2, 1}, []float32{0, 2}},
	} {
		p := planNode(t, rng, 13, c.node, []TestInput{x}, false)
		if !p.Shape("y").Equal(c.shape) || !slices.Equal(p.Data("y"), c.want) {
			t.Errorf("%s: %v %v, want %v %v", describe(c.node), p.Shape("y"), p.Data("y"), c.shape, c.want)
		}
	}
	// Indices have no gradient.
	m, err := Load(nodeModel(13, reduceNode("ArgMax", []string{"x"}), []TestInput{x}))
	if err != nil {
		t.Fatal(err)
	}
	_, err = m.Plan(Spec{Inputs: []InputSpec{{Name: "x", Shape: x.Shape, Grad: true}}, Targets: []string{"y"}, Backward: true})
	if err == nil || !strings.Contains(err.Error(), "cannot differentiate") {
		t.Errorf("a backward pass through ArgMax: error %v", err)
	}
}

func TestReduceDoesNotAllocate(t *testing.T) {
	x := TestInput{Name: "x", Shape: Shape{1, 16, 20, 20}, Grad: true}
	for _, op := range []string{"ReduceMean", "ReduceMax", "ReduceProd"} {
		checkNoAllocs(t, 13, reduceNode(op, []string{"x"}, attrInts("axes", 1)), []TestInput{x})
		checkNoAllocs(t, 13, reduceNode(op, []string{"x"}, attrInts("axes", 2, 3)), []TestInput{x})
	}
}
