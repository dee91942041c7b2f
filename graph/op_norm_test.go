package graph

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/deepdream-go/deepdream/onnx"
)

func layerNormNode(outputs []string, attrs ...*onnx.Attribute) *onnx.Node {
	return &onnx.Node{OpType: "LayerNormalization", Inputs: []string{"x", "scale", "b"}, Outputs: outputs, Attrs: attrs}
}

func TestLayerNormGradient(t *testing.T) {
	for _, c := range []struct {
		x       Shape
		axis    int64
		noBias  bool
		runtime bool // scale and B fed at run time, not constants
	}{
		{Shape{1, 3, 4, 8}, -1, false, false}, // ConvNeXt's: NHWC, axis -1
		{Shape{2, 3, 4, 5}, 1, false, true},
		{Shape{2, 3, 4, 5}, 0, true, false},
		{Shape{3, 5}, -2, false, true},
		{Shape{7}, 0, true, true},
	} {
		node := layerNormNode([]string{"y"}, attrInt("axis", c.axis), attrFloat("epsilon", 1e-3))
		axis := int(c.axis)
		if axis < 0 {
			axis += len(c.x)
		}
		in := []TestInput{
			{Name: "x", Shape: c.x, Grad: true},
			{Name: "scale", Shape: c.x[axis:], Const: !c.runtime},
			{Name: "b", Shape: c.x[axis:], Const: !c.runtime},
		}
		if c.noBias {
			node.Inputs, in = node.Inputs[:2], in[:2]
		}
		CheckGradient(t, 17, node, in)
	}
}

// The gradients through the statistics outputs, each a target on its own.
func TestLayerNormStatisticsGradient(t *testing.T) {
	node := layerNormNode([]string{"y", "mean", "invstd"}, attrInt("axis", 1))
	in := []TestInput{
		{Name: "x", Shape: Shape{2, 3, 4}, Grad: true},
		{Name: "scale", Shape: Shape{3, 4}, Const: true},
		{Name: "b", Shape: Shape{3, 4}, Const: true},
	}
	for _, target := range node.Outputs[1:] {
		rng := rand.New(rand.NewPCG(5, 6))
		// planNode targets the node's first output: plan it by hand.
		m, err := Load(nodeModel(17, node, in))
		if err != nil {
			t.Fatal(err)
		}
		spec := Spec{Consts: map[string]*Value{}, Targets: []string{target}, Backward: true,
			Inputs: []InputSpec{{Name: "x", Shape: in[0].Shape, Grad: true}}}
		for _, c := range in[1:] {
			spec.Consts[c.Name] = FloatValue(c.Shape, randomFloats(rng, c.Shape.Size()))
		}
		p, err := m.Plan(spec)
		if err != nil {
			t.Fatal(err)
		}
		copy(p.Data("x"), randomFloats(rng, in[0].Shape.Size()))
		if !p.Shape(target).Equal(Shape{2, 1, 1}) {
			t.Errorf("%s has shape %v, want 2x1x1", target, p.Shape(target))
		}
		checkPlanGradient(t, rng, p, target, []string{"x"}, "LayerNormalization "+target)
	}
}

func randomFloats(rng *rand.Rand, n int) []float32 {
	out := make([]float32, n)
	for i := range out {
		out[i] = float32(rng.NormFloat64())
	}
	return out
}

// The statistics outputs hold each row's mean and 1/sqrt(var + epsilon).
func TestLayerNormStatistics(t *testing.T) {
	x := []float32{1, 2, 3, 4, -1, 0, 0, 1}
	node := layerNormNode([]string{"y", "mean", "invstd"}, attrFloat("epsilon", 0))
	in := []TestInput{
		{Name: "x", Shape: Shape{2, 4}, F: x},
		{Name: "scale", Shape: Shape{4}, F: []float32{1, 1, 1, 1}, Const: true},
		{Name: "b", Shape: Shape{4}, F: []float32{0, 0, 0, 0}, Const: true},
	}
	p := planNode(t, rand.New(rand.NewPCG(1, 1)), 17, node, in, false)
	for name, want := range map[string][]float32{
		"mean":   {2.5, 0},
		"invstd": {float32(1 / math.Sqrt(1.25)), float32(1 / math.Sqrt(0.5))},
		"y":      {-1.5 / 1.118034, -0.5 / 1.118034, 0.5 / 1.118034, 1.5 / 1.118034, -1.4142135, 0, 0, 1.4142135},
	} {
		got := p.Data(name)
		if got == nil {
			t.Fatalf("%s is not readable", name)
		}
		for i := range want {
			if math.Abs(float64(got[i]-want[i])) > 1e-5 {
				t.Errorf("%s = %v, want %v", name, got, want)
				break
			}
		}
	}
}

func TestLayerNormErrors(t *testing.T) {
	in := []TestInput{
		{Name: "x", Shape: Shape{2, 3, 4}},
		{Name: "scale", Shape: Shape{4}},
		{Name: "b", Shape: Shape{4}},
	}
	checkPlanError(t, 17, layerNormNode([]string{"y"}, attrInt("axis", 3)), in, "LayerNormalization: axis 3 is out of range for rank 3")
	checkPlanError(t, 17, layerNormNode([]string{"y"}, attrInt("axis", 1)), in, "LayerNormalization: Scale is 4, want the normalized shape 3x4 (input 2x3x4 from axis 1)")
	checkPlanError(t, 17, layerNormNode([]string{"y"}, attrInt("stash_type", 11)), in, "LayerNormalization: stash_type = 11 is not supported")
	checkPlanError(t, 13, layerNormNode([]string{"y"}), in, "LayerNormalization: the operator exists from opset 17, the model imports opset 13")
}

func instanceNormNode(attrs ...*onnx.Attribute) *onnx.Node {
	return &onnx.Node{OpType: "InstanceNormalization", Inputs: []string{"x", "scale", "b"}, Outputs: []string{"y"}, Attrs: attrs}
}

func TestInstanceNormGradient(t *testing.T) {
	for _, x := range []Shape{{1, 3, 4, 5}, {2, 2, 7}, {2, 3, 1, 2}} {
		for _, runtime := range []bool{false, true} {
			in := []TestInput{
				{Name: "x", Shape: x, Grad: true},
				{Name: "scale", Shape: Shape{x[1]}, Const: !runtime},
				{Name: "b", Shape: Shape{x[1]}, Const: !runtime},
			}
			CheckGradient(t, 6, instanceNormNode(attrFloat("epsilon", 1e-2)), in)
		}
	}
}

func TestInstanceNormErrors(t *testing.T) {
	in := []TestInput{
		{Name: "x", Shape: Shape{1, 3, 4, 4}},
		{Name: "scale", Shape: Shape{3}},
		{Name: "b", Shape: Shape{4}},
	}
	checkPlanError(t, 6, instanceNormNode(), in, "InstanceNormalization: B is 4, want 3 values (one per channel of input 1x3x4x4)")
	in[2].Shape = Shape{3}
	checkPlanError(t, 6, instanceNormNode(attrFloat("epsilon", -1)), in, "InstanceNormalization: epsilon = -1, want >= 0")
	checkPlanError(t, 6, instanceNormNode(), []TestInput{{Name: "x", Shape: Shape{3, 4}}, in[1], in[2]}, "InstanceNormalization: input is 3x4, want rank >= 3")
}
