package graph

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/deepdream-go/deepdream/onnx"
)

// TestInput is one input of a single-node test model.
type TestInput struct {
	Name  string
	Shape Shape
	F     []float32 // float data (nil: random normal values)
	I     []int64   // integer data: the input is a plan-time constant
	Const bool      // a float input fixed at plan time (weights)
	Grad  bool      // check the gradient with respect to this input
}

// nodeModel wraps one node in a model whose graph inputs are the test inputs.
func nodeModel(opset int64, node *onnx.Node, inputs []TestInput) *onnx.Model {
	g := &onnx.Graph{Nodes: []*onnx.Node{node}}
	for _, in := range inputs {
		dims := make([]onnx.Dim, len(in.Shape))
		for i, d := range in.Shape {
			dims[i] = onnx.Dim{Value: int64(d)}
		}
		et := onnx.Float
		if in.I != nil {
			et = onnx.Int64
		}
		g.Inputs = append(g.Inputs, &onnx.ValueInfo{Name: in.Name, ElemType: et, Dims: dims})
	}
	for _, out := range node.Outputs {
		g.Outputs = append(g.Outputs, &onnx.ValueInfo{Name: out, ElemType: onnx.Float})
	}
	return &onnx.Model{IRVersion: 8, Opsets: map[string]int64{"": opset}, Graph: g}
}

// planNode plans node on inputs (random data filled in where F is nil),
// with node.Outputs[0] as the target, and runs Forward.
func planNode(t testing.TB, rng *rand.Rand, opset int64, node *onnx.Node, inputs []TestInput, backward bool) *Plan {
	t.Helper()
	m, err := Load(nodeModel(opset, node, inputs))
	if err != nil {
		t.Fatal(err)
	}
	spec := Spec{Consts: map[string]*Value{}, Targets: []string{node.Outputs[0]}, Backward: backward}
	for i := range inputs {
		in := &inputs[i]
		switch {
		case in.I != nil:
			spec.Consts[in.Name] = IntValue(in.Shape, in.I)
			continue
		case in.F == nil:
			in.F = make([]float32, in.Shape.Size())
			for j := range in.F {
				in.F[j] = float32(rng.NormFloat64())
			}
		}
		if in.Const {
			spec.Consts[in.Name] = FloatValue(in.Shape, in.F)
		} else {
			spec.Inputs = append(spec.Inputs, InputSpec{Name: in.Name, Shape: in.Shape, Grad: in.Grad})
		}
	}
	p, err := m.Plan(spec)
	if err != nil {
		t.Fatal(err)
	}
	for _, in := range inputs {
		if in.I == nil && !in.Const {
			copy(p.Data(in.Name), in.F)
		}
	}
	if err := p.Forward(context.Background()); err != nil {
		t.Fatal(err)
	}
	return p
}

// CheckGradient compares the plan's input gradients for one node with
// central finite differences of L = sum(r * y), r random, on every element
// of each input marked Grad (up to 64 sampled elements for larger inputs).
// Inputs must keep away from kinks (ReLU at 0, max-pool ties) by more than
// eps; the tolerance covers float32 rounding for tensors of up to a few
// thousand elements.
func CheckGradient(t *testing.T, opset int64, node *onnx.Node, inputs []TestInput) {
	t.Helper()
	rng := rand.New(rand.NewPCG(1, 2))
	p := planNode(t, rng, opset, node, inputs, true)
	ctx := context.Background()
	target := node.Outputs[0]
	r := make([]float32, len(p.Data(target)))
	for i := range r {
		r[i] = float32(rng.NormFloat64())
	}
	copy(p.Grad(target), r)
	if err := p.Backward(ctx); err != nil {
		t.Fatal(err)
	}
	loss := func() float64 {
		if err := p.Forward(ctx); err != nil {
			t.Fatal(err)
		}
		s := 0.0
		for i, y := range p.Data(target) {
			s += float64(r[i]) * float64(y)
		}
		return s
	}
	const eps = 1e-2
	for _, in := range inputs {
		if !in.Grad {
			continue
		}
		grad := append([]float32(nil), p.Grad(in.Name)...)
		x := p.Data(in.Name)
		idx := rng.Perm(len(x))[:min(len(x), 64)]
		for _, i := range idx {
			orig := x[i]
			x[i] = orig + eps
			up := loss()
			x[i] = orig - eps
			down := loss()
			x[i] = orig
			fd := (up - down) / (2 * eps)
			if diff := math.Abs(fd - float64(grad[i])); diff > 2e-3+1e-2*math.Abs(fd) {
				t.Errorf("%s: d/d%s[%d] = %.6g, finite difference %.6g", describe(node), in.Name, i, grad[i], fd)
			}
		}
	}
}

func describe(n *onnx.Node) string {
	s := n.OpType
	for _, a := range n.Attrs {
		s += fmt.Sprintf(" %s=%v", a.Name, attrValue(a))
	}
	return s
}

func attrValue(a *onnx.Attribute) any {
	switch a.Type {
	case onnx.AttrFloat:
		return a.F
	case onnx.AttrInt:
		return a.I
	case onnx.AttrString:
		return a.S
	case onnx.AttrInts:
		return a.Ints
	case onnx.AttrFloats:
		return a.Floats
	}
	return a.Type
}

// Attribute constructors for test nodes.
func attrInt(name string, v int64) *onnx.Attribute {
	return &onnx.Attribute{Name: name, Type: onnx.AttrInt, I: v}
}
func attrInts(name string, v ...int64) *onnx.Attribute {
	return &onnx.Attribute{Name: name, Type: onnx.AttrInts, Ints: v}
}
func attrFloat(name string, v float32) *onnx.Attribute {
	return &onnx.Attribute{Name: name, Type: onnx.AttrFloat, F: v}
}
func attrString(name, v string) *onnx.Attribute {
	return &onnx.Attribute{Name: name, Type: onnx.AttrString, S: v}
}

// awayFromZero returns n random values with |v| >= 0.1, for kinked ops.
func awayFromZero(rng *rand.Rand, n int) []float32 {
	out := make([]float32, n)
	for i := range out {
		v := rng.Float32()*2 + 0.1
		if rng.IntN(2) == 0 {
			v = -v
		}
		out[i] = v
	}
	return out
}

// distinct returns a random permutation of n values spaced 0.05 apart, so
// that max-pool windows have no near-ties.
func distinct(rng *rand.Rand, n int) []float32 {
	out := make([]float32, n)
	for i, j := range rng.Perm(n) {
		out[i] = float32(j)*0.05 - float32(n)*0.025
	}
	return out
}

func TestReluGradient(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	node := &onnx.Node{OpType: "Relu", Inputs: []string{"x"}, Outputs: []string{"y"}}
	CheckGradient(t, 13, node, []TestInput{{Name: "x", Shape: Shape{1, 3, 4, 5}, F: awayFromZero(rng, 60), Grad: true}})
}
