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
	return planNodeWith(t, rng, opset, node, inputs, backward, Options{})
}

// planNodeWith is planNode with engine options.
func planNodeWith(t testing.TB, rng *rand.Rand, opset int64, node *onnx.Node, inputs []TestInput, backward bool, opts Options) *Plan {
	t.Helper()
	m, err := Load(nodeModel(opset, node, inputs))
	if err != nil {
		t.Fatal(err)
	}
	spec := Spec{Consts: map[string]*Value{}, Targets: []string{node.Outputs[0]}, Backward: backward, Options: opts}
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
// Inputs should keep away from kinks (ReLU at 0, max-pool ties) by more than
// eps; a sample that straddles one anyway is skipped (see checkPlanGradient).
// The tolerance covers float32 rounding for tensors of up to a few thousand
// elements.
func CheckGradient(t *testing.T, opset int64, node *onnx.Node, inputs []TestInput) {
	t.Helper()
	rng := rand.New(rand.NewPCG(1, 2))
	p := planNode(t, rng, opset, node, inputs, true)
	var wrt []string
	for _, in := range inputs {
		if in.Grad {
			wrt = append(wrt, in.Name)
		}
	}
	checkPlanGradient(t, rng, p, node.Outputs[0], wrt, describe(node))
}

// checkPlanGradient compares p's gradients of L = sum(r * target), r random,
// with respect to the inputs wrt (whose buffers hold the point to check at)
// with central finite differences, on up to 64 sampled elements per input.
// what names the model in error messages.
//
// At a kink (ReLU or LeakyRelu at 0, a max-pool tie, a Clip bound) the
// function has no derivative and the kernel's choice of branch is as good as
// either. A sample is skipped, not failed, when perturbing by ±eps visibly
// changes branch: the one-sided differences disagree and the computed
// gradient matches one of them. A smooth function that is merely curved
// has its computed gradient between the two, so a wrong gradient is not
// excused that way. It returns the number of samples skipped so.
func checkPlanGradient(t *testing.T, rng *rand.Rand, p *Plan, target string, wrt []string, what string) (kinks int) {
	t.Helper()
	ctx := context.Background()
	if err := p.Forward(ctx); err != nil {
		t.Fatal(err)
	}
	// The values at the point, which Backward does not keep.
	base := append([]float32(nil), p.Data(target)...)
	r := make([]float32, len(base))
	for i := range r {
		r[i] = float32(rng.NormFloat64())
	}
	for _, t := range p.targets { // L is of target alone
		clear(p.Grad(t.name))
	}
	copy(p.Grad(target), r)
	if err := p.Backward(ctx); err != nil {
		t.Fatal(err)
	}
	grads := map[string][]float32{} // the next Forward takes their memory
	for _, name := range wrt {
		grads[name] = append([]float32(nil), p.Grad(name)...)
	}
	// loss returns L = sum(r * y) and a bound on its float32 rounding
	// error: a few ulps of each output that differs from the unperturbed
	// run (the others cancel exactly in a difference). Large outputs (a
	// convolution of 0..34) make that noise, divided by eps, significant.
	loss := func() (l, noise float64) {
		if err := p.Forward(ctx); err != nil {
			t.Fatal(err)
		}
		for i, y := range p.Data(target) {
			ry := float64(r[i]) * float64(y)
			l += ry
			if y != base[i] {
				noise += math.Abs(ry)
			}
		}
		return l, noise * 0x1p-22
	}
	tol := func(v float64) float64 { return 2e-3 + 1e-2*math.Abs(v) }
	const eps = 1e-2
	mid, _ := loss()
	for _, name := range wrt {
		grad := grads[name]
		x := p.Data(name)
		idx := rng.Perm(len(x))[:min(len(x), 64)]
		for _, i := range idx {
			orig := x[i]
			// The steps actually taken: x ± eps rounds to float32, which
			// matters for large x (softmax of 10000).
			x[i] = orig + eps
			hUp := float64(x[i]) - float64(orig)
			up, noiseUp := loss()
			x[i] = orig - eps
			hDown := float64(orig) - float64(x[i])
			down, noiseDown := loss()
			x[i] = orig
			g := float64(grad[i])
			fd := (up - down) / (hUp + hDown)
			if i == 83 && what == "stacked sibling convolutions" {
				t.Logf("DBG g %v up %v down %v mid %v r0 %v", g, up, down, mid, r[0])
			}
			if math.Abs(fd-g) <= tol(fd)+(noiseUp+noiseDown)/(hUp+hDown) {
				continue
			}
			// mid's rounding on the changed outputs is about that of its
			// neighbour, hence the factor 2.
			right, left := (up-mid)/hUp, (mid-down)/hDown
			tolRight, tolLeft := tol(right)+2*noiseUp/hUp, tol(left)+2*noiseDown/hDown
			if math.Abs(right-left) > tolRight+tolLeft && (math.Abs(g-right) <= tolRight || math.Abs(g-left) <= tolLeft) {
				kinks++
				continue
			}
			t.Errorf("%s: d/d%s[%d] = %.6g, finite difference %.6g (one-sided %.6g, %.6g)", what, name, i, g, fd, left, right)
		}
	}
	return kinks
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

// At or within eps of ReLU's kink the finite difference is meaningless;
// checkPlanGradient must skip those samples rather than fail them.
func TestCheckGradientSkipsKinks(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	node := &onnx.Node{OpType: "Relu", Inputs: []string{"x"}, Outputs: []string{"y"}}
	x := []float32{0, 0.005, -0.005, 0, 0.002, -0.009, 1, -1}
	p := planNode(t, rng, 13, node, []TestInput{{Name: "x", Shape: Shape{8}, F: x, Grad: true}}, true)
	if kinks := checkPlanGradient(t, rng, p, "y", []string{"x"}, "Relu at its kink"); kinks < 4 {
		t.Errorf("%d samples recognised as straddling the kink, want at least 4 of the 6", kinks)
	}
}
