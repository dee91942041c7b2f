package graph

import (
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/deepdream-go/deepdream/onnx"
)

func TestActivationsForward(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 1))
	x := []float32{-2, -0.5, 0, 0.5, 3}
	for _, c := range []struct {
		opset  int64
		node   *onnx.Node
		inputs []TestInput
		want   []float32
	}{
		{6, poolNode("Clip", attrFloat("min", -1), attrFloat("max", 1)), nil, []float32{-1, -0.5, 0, 0.5, 1}},
		{6, poolNode("Clip", attrFloat("max", 0.2)), nil, []float32{-2, -0.5, 0, 0.2, 0.2}},
		{13, clipNode("lo", "hi"), bounds(-1, 1), []float32{-1, -0.5, 0, 0.5, 1}},
		{13, clipNode("", "hi"), bounds(0, 0.2)[1:], []float32{-2, -0.5, 0, 0.2, 0.2}},
		{13, clipNode("lo"), bounds(-0.6, 0)[:1], []float32{-0.6, -0.5, 0, 0.5, 3}},
		{13, clipNode(), nil, x},
	} {
		in := append([]TestInput{{Name: "x", Shape: Shape{5}, F: x}}, c.inputs...)
		p := planNode(t, rng, c.opset, c.node, in, false)
		for i, v := range p.Data("y") {
			if math.Abs(float64(v-c.want[i])) > 1e-6 {
				t.Errorf("opset %d %s: y = %v, want %v", c.opset, describe(c.node), p.Data("y"), c.want)
				break
			}
		}
	}
}

// clipNode is an opset 11+ Clip with the given bound inputs ("" omits one).
func clipNode(bounds ...string) *onnx.Node {
	return &onnx.Node{OpType: "Clip", Inputs: append([]string{"x"}, bounds...), Outputs: []string{"y"}}
}

// bounds are the constant scalar inputs lo and hi of clipNode("lo", "hi").
func bounds(lo, hi float32) []TestInput {
	return []TestInput{
		{Name: "lo", Shape: Shape{}, F: []float32{lo}, Const: true},
		{Name: "hi", Shape: Shape{}, F: []float32{hi}, Const: true},
	}
}

func TestActivationGradients(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	shape := Shape{1, 3, 4, 5}
	// distinct values lie on a 0.05 grid; bounds between grid points keep
	// Clip's kinks away from the finite differences.
	x := func() []float32 { return distinct(rng, shape.Size()) }
	CheckGradient(t, 6, poolNode("Clip", attrFloat("min", -0.475), attrFloat("max", 0.525)), []TestInput{{Name: "x", Shape: shape, F: x(), Grad: true}})
	CheckGradient(t, 13, clipNode("lo", "hi"), append([]TestInput{{Name: "x", Shape: shape, F: x(), Grad: true}}, bounds(-0.775, 0.225)...))
	CheckGradient(t, 13, clipNode("", "hi"), append([]TestInput{{Name: "x", Shape: shape, F: x(), Grad: true}}, bounds(0, 0.125)[1:]...))
	for _, node := range []*onnx.Node{poolNode("Identity"), poolNode("Dropout"), {OpType: "Dropout", Inputs: []string{"x"}, Outputs: []string{"y", "mask"}}} {
		CheckGradient(t, 13, node, []TestInput{{Name: "x", Shape: shape, Grad: true}})
	}
}

func TestDropoutIsIdentity(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 1))
	shape := Shape{1, 2, 3, 3}
	for _, c := range []struct {
		opset int64
		node  *onnx.Node
		extra []TestInput
	}{
		{7, &onnx.Node{OpType: "Dropout", Inputs: []string{"x"}, Outputs: []string{"y"}, Attrs: []*onnx.Attribute{attrFloat("ratio", 0.5)}}, nil},
		{13, &onnx.Node{OpType: "Dropout", Inputs: []string{"x", "r", "train"}, Outputs: []string{"y", "mask"}},
			[]TestInput{{Name: "r", Shape: Shape{}, F: []float32{0.3}, Const: true}, {Name: "train", Shape: Shape{}, I: []int64{0}}}},
		{13, poolNode("Identity"), nil},
	} {
		p := planNode(t, rng, c.opset, c.node, append([]TestInput{{Name: "x", Shape: shape}}, c.extra...), false)
		x, y := p.Data("x"), p.Data("y")
		for i := range x {
			if x[i] != y[i] {
				t.Fatalf("%s: y differs from x at %d", describe(c.node), i)
			}
		}
		if len(c.node.Outputs) > 1 {
			for _, m := range p.Data("mask") {
				if m != 1 {
					t.Fatalf("%s: mask %v, want all true (1)", describe(c.node), p.Data("mask"))
				}
			}
		} else if &x[0] != &y[0] {
			t.Errorf("%s: y does not share x's storage", describe(c.node))
		}
	}
}

func TestActivationErrors(t *testing.T) {
	train := &onnx.Node{OpType: "Dropout", Inputs: []string{"x", "", "train"}, Outputs: []string{"y"}}
	m, err := Load(nodeModel(13, train, []TestInput{{Name: "x", Shape: Shape{4}}, {Name: "train", Shape: Shape{}, I: []int64{1}}}))
	if err != nil {
		t.Fatal(err)
	}
	_, err = m.Plan(Spec{Inputs: []InputSpec{{Name: "x", Shape: Shape{4}}}, Consts: map[string]*Value{"train": IntValue(Shape{}, []int64{1})}, Targets: []string{"y"}})
	if err == nil || !strings.Contains(err.Error(), "training_mode is true") {
		t.Errorf("training-mode Dropout: error %v", err)
	}
	clip := clipNode("lo")
	m, err = Load(nodeModel(13, clip, []TestInput{{Name: "x", Shape: Shape{4}}, {Name: "lo", Shape: Shape{2}}}))
	if err != nil {
		t.Fatal(err)
	}
	_, err = m.Plan(Spec{Inputs: []InputSpec{{Name: "x", Shape: Shape{4}}, {Name: "lo", Shape: Shape{2}}}, Targets: []string{"y"}})
	if err == nil || !strings.Contains(err.Error(), "want a scalar") {
		t.Errorf("Clip with a vector bound: error %v", err)
	}
}
