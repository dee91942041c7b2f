package graph

import (
	"context"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/deepdream-go/deepdream/onnx"
)

func convNode(attrs ...*onnx.Attribute) *onnx.Node {
	return &onnx.Node{OpType: "Conv", Inputs: []string{"x", "w", "b"}, Outputs: []string{"y"}, Attrs: attrs}
}

func testRamp(n int) []float32 {
	x := make([]float32, n)
	for i := range x {
		x[i] = float32(i)
	}
	return x
}

func testFill(n int, v float32) []float32 {
	x := make([]float32, n)
	for i := range x {
		x[i] = v
	}
	return x
}

// checkNodeOutput plans node, runs it and compares output y with want.
func checkNodeOutput(t *testing.T, opset int64, node *onnx.Node, inputs []TestInput, shape Shape, want []float32) {
	t.Helper()
	p := planNode(t, rand.New(rand.NewPCG(1, 1)), opset, node, inputs, false)
	y := node.Outputs[0]
	if !p.Shape(y).Equal(shape) {
		t.Fatalf("%s: output shape %v, want %v", describe(node), p.Shape(y), shape)
	}
	for i, v := range p.Data(y) {
		if d := v - want[i]; d > 1e-4 || d < -1e-4 {
			t.Fatalf("%s: y[%d] = %v, want %v", describe(node), i, v, want[i])
		}
	}
}

// The example of the ONNX operator documentation: a 5x5 ramp under a 3x3
// box filter, with and without padding, and the bias added.
func TestConvForward(t *testing.T) {
	inputs := func() []TestInput {
		return []TestInput{
			{Name: "x", Shape: Shape{1, 1, 5, 5}, F: testRamp(25)},
			{Name: "w", Shape: Shape{1, 1, 3, 3}, F: testFill(9, 1), Const: true},
			{Name: "b", Shape: Shape{1}, F: []float32{0.5}, Const: true},
		}
	}
	padded := []float32{
		12, 21, 27, 33, 24,
		33, 54, 63, 72, 51,
		63, 99, 108, 117, 81,
		93, 144, 153, 162, 111,
		72, 111, 117, 123, 84,
	}
	for i := range padded {
		padded[i] += 0.5
	}
	checkNodeOutput(t, 11, convNode(attrInts("kernel_shape", 3, 3), attrInts("pads", 1, 1, 1, 1)), inputs(), Shape{1, 1, 5, 5}, padded)
	checkNodeOutput(t, 11, convNode(attrInts("pads", 1, 1, 1, 1)), inputs(), Shape{1, 1, 5, 5}, padded)
	checkNodeOutput(t, 1, convNode(), inputs(), Shape{1, 1, 3, 3}, []float32{54.5, 63.5, 72.5, 99.5, 108.5, 117.5, 144.5, 153.5, 162.5})
	// Stride 2, asymmetric pads (1 on top and bottom, none left and right).
	checkNodeOutput(t, 11, convNode(attrInts("strides", 2, 2), attrInts("pads", 1, 0, 1, 0)), inputs(), Shape{1, 1, 3, 2},
		[]float32{21.5, 33.5, 99.5, 117.5, 111.5, 123.5})
}

// auto_pad on a 1-D convolution with kernel [1, 1]: SAME pads one element,
// after the input for SAME_UPPER and before it for SAME_LOWER.
func TestConvAutoPad1D(t *testing.T) {
	for _, c := range []struct {
		autoPad string
		want    []float32
	}{
		{"SAME_UPPER", []float32{3, 5, 7, 4}},
		{"SAME_LOWER", []float32{1, 3, 5, 7}},
		{"VALID", []float32{3, 5, 7}},
		{"NOTSET", []float32{3, 5, 7}},
	} {
		node := &onnx.Node{OpType: "Conv", Inputs: []string{"x", "w"}, Outputs: []string{"y"}, Attrs: []*onnx.Attribute{attrString("auto_pad", c.autoPad)}}
		checkNodeOutput(t, 11, node, []TestInput{
			{Name: "x", Shape: Shape{1, 1, 4}, F: []float32{1, 2, 3, 4}},
			{Name: "w", Shape: Shape{1, 1, 2}, F: []float32{1, 1}, Const: true},
		}, Shape{1, 1, len(c.want)}, c.want)
	}
	// SAME with stride 2 keeps ceil(5/2) = 3 outputs, padding 2 in total.
	node := &onnx.Node{OpType: "Conv", Inputs: []string{"x", "w"}, Outputs: []string{"y"},
		Attrs: []*onnx.Attribute{attrString("auto_pad", "SAME_UPPER"), attrInts("strides", 2)}}
	checkNodeOutput(t, 11, node, []TestInput{
		{Name: "x", Shape: Shape{1, 1, 5}, F: []float32{1, 2, 3, 4, 5}},
		{Name: "w", Shape: Shape{1, 1, 3}, F: []float32{1, 10, 100}, Const: true},
	}, Shape{1, 1, 3}, []float32{210, 432, 54})
}

func TestConvGradient(t *testing.T) {
	cases := []struct {
		x, w  Shape
		attrs []*onnx.Attribute
	}{
		{Shape{1, 3, 6, 7}, Shape{4, 3, 3, 3}, []*onnx.Attribute{attrInts("pads", 1, 1, 1, 1)}},
		{Shape{2, 2, 5, 5}, Shape{3, 2, 3, 3}, nil},
		{Shape{1, 2, 9, 8}, Shape{3, 2, 3, 2}, []*onnx.Attribute{attrInts("strides", 2, 3), attrInts("dilations", 2, 1), attrInts("pads", 0, 1, 2, 0)}},
		{Shape{1, 4, 6, 6}, Shape{6, 2, 3, 3}, []*onnx.Attribute{attrInt("group", 2), attrInts("pads", 1, 1, 1, 1)}},
		{Shape{1, 4, 7, 6}, Shape{4, 1, 3, 3}, []*onnx.Attribute{attrInt("group", 4), attrInts("strides", 2, 2), attrInts("pads", 1, 1, 1, 1)}},
		{Shape{2, 5, 4, 6}, Shape{3, 5, 1, 1}, nil},
		{Shape{1, 3, 7, 7}, Shape{2, 3, 3, 3}, []*onnx.Attribute{attrString("auto_pad", "SAME_LOWER"), attrInts("strides", 2, 2)}},
		{Shape{1, 2, 9}, Shape{3, 2, 3}, []*onnx.Attribute{attrInts("pads", 2, 1), attrInts("strides", 2)}},
	}
	rng := rand.New(rand.NewPCG(5, 6))
	for _, c := range cases {
		CheckGradient(t, 11, convNode(c.attrs...), []TestInput{
			{Name: "x", Shape: c.x, Grad: true},
			{Name: "w", Shape: c.w, F: awayFromZero(rng, c.w.Size()), Const: true},
			{Name: "b", Shape: Shape{c.w[0]}, Const: true},
		})
	}
}

func TestConvErrors(t *testing.T) {
	cases := []struct {
		x, w  Shape
		attrs []*onnx.Attribute
		want  string
	}{
		{Shape{1, 3, 5, 5}, Shape{2, 4, 3, 3}, nil, "Conv: input has 3 channels, weights expect 4 (group 1)"},
		{Shape{1, 4, 5, 5}, Shape{3, 2, 3, 3}, []*onnx.Attribute{attrInt("group", 2)}, "3 output channels, not a multiple of group 2"},
		{Shape{1, 3, 5, 5}, Shape{2, 3, 3, 3}, []*onnx.Attribute{attrInts("pads", 1, 1, 1)}, "Conv: pads has 3 values, want 4"},
		{Shape{1, 3, 5, 5}, Shape{2, 3, 3, 3}, []*onnx.Attribute{attrInts("strides", 1, 0)}, "Conv: strides[1] is 0, want >= 1"},
		{Shape{1, 3, 5, 5}, Shape{2, 3, 3, 3}, []*onnx.Attribute{attrInts("kernel_shape", 5, 5)}, "kernel_shape is [5 5], the weights are 2x3x3x3"},
		{Shape{1, 3, 5, 5}, Shape{2, 3, 3, 3}, []*onnx.Attribute{attrString("auto_pad", "SAME")}, `auto_pad is "SAME"`},
		{Shape{1, 3, 2, 5}, Shape{2, 3, 3, 3}, nil, "leaves no output"},
		{Shape{1, 3, 5, 5, 5}, Shape{2, 3, 3, 3, 3}, nil, "only 1-D and 2-D convolutions"},
		{Shape{1, 3, 5, 5}, Shape{2, 3, 3}, nil, "weights are 2x3x3, want rank 4"},
	}
	for _, c := range cases {
		node := convNode(c.attrs...)
		node.Inputs = node.Inputs[:2]
		m, err := Load(nodeModel(11, node, []TestInput{{Name: "x", Shape: c.x}, {Name: "w", Shape: c.w}}))
		if err != nil {
			t.Fatal(err)
		}
		_, err = m.Plan(Spec{Inputs: []InputSpec{{Name: "x", Shape: c.x}, {Name: "w", Shape: c.w}}, Targets: []string{"y"}})
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("x %v, w %v, %s: error %v, want it to contain %q", c.x, c.w, describe(node), err, c.want)
		}
	}
	// The bias names its shape.
	m, err := Load(nodeModel(11, convNode(), []TestInput{{Name: "x", Shape: Shape{1, 3, 5, 5}}, {Name: "w", Shape: Shape{2, 3, 3, 3}}, {Name: "b", Shape: Shape{3}}}))
	if err != nil {
		t.Fatal(err)
	}
	in := []InputSpec{{Name: "x", Shape: Shape{1, 3, 5, 5}}, {Name: "w", Shape: Shape{2, 3, 3, 3}}, {Name: "b", Shape: Shape{3}}}
	if _, err := m.Plan(Spec{Inputs: in, Targets: []string{"y"}}); err == nil || !strings.Contains(err.Error(), "bias is 3, want 2 values") {
		t.Errorf("bias error %v", err)
	}
	if !slices.Contains(SupportedOps(), "Conv") {
		t.Error("Conv is not registered")
	}
}

// Forward and Backward of Conv (im2col, depthwise and pointwise), Gemm,
// MatMul and BatchNormalization must not allocate.
func TestConvGemmBatchNormNoAllocs(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 1))
	ctx := context.Background()
	x := TestInput{Name: "x", Shape: Shape{2, 8, 20, 20}, Grad: true}
	for _, c := range []struct {
		node *onnx.Node
		in   []TestInput
	}{
		{convNode(attrInts("pads", 1, 1, 1, 1)), []TestInput{x, {Name: "w", Shape: Shape{4, 8, 3, 3}, Const: true}, {Name: "b", Shape: Shape{4}, Const: true}}},
		{convNode(attrInt("group", 8)), []TestInput{x, {Name: "w", Shape: Shape{8, 1, 3, 3}, Const: true}, {Name: "b", Shape: Shape{8}, Const: true}}},
		{convNode(), []TestInput{x, {Name: "w", Shape: Shape{4, 8, 1, 1}, Const: true}, {Name: "b", Shape: Shape{4}, Const: true}}},
		{gemmNode(true, attrInt("transB", 1)), []TestInput{{Name: "a", Shape: Shape{3, 5}, Grad: true}, {Name: "b", Shape: Shape{4, 5}, Grad: true}, {Name: "c", Shape: Shape{4}, Grad: true}}},
		{&onnx.Node{OpType: "MatMul", Inputs: []string{"a", "b"}, Outputs: []string{"y"}}, []TestInput{{Name: "a", Shape: Shape{2, 3, 5}, Grad: true}, {Name: "b", Shape: Shape{5, 4}, Grad: true}}},
		{batchNormNode(), batchNormInputs(rng, Shape{2, 8, 20, 20}, true)},
	} {
		p := planNode(t, rng, 13, c.node, c.in, true)
		if a := testing.AllocsPerRun(5, func() {
			_ = p.Forward(ctx)
			_ = p.Backward(ctx)
		}); a != 0 {
			t.Errorf("%s allocates %v times per run", describe(c.node), a)
		}
	}
}
