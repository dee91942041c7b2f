package graph

import (
	"context"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/deepdream-go/deepdream/onnx"
	"github.com/deepdream-go/deepdream/ops"
)

// elementwiseCase is one test of a broadcasting operator: its input
// shapes, how to draw each input, and f as ONNX defines it, in float64.
// The gradients are checked on the same draws, except for ops with ties
// or jumps (Max, comparisons, logic), whose draws are then moved apart
// by more than the gradient check's steps.
type elementwiseCase struct {
	op     string
	shapes []Shape
	x      func(rng *rand.Rand, input, n int) []float32
	f      func(v []float64) float64
	ties   bool
}

// halfGrid draws from a grid of 0.5 in [-1.5, 2]: equal values, ties.
func halfGrid(rng *rand.Rand, _, n int) []float32 {
	out := make([]float32, n)
	for i := range out {
		out[i] = float32(rng.IntN(8)-3) * 0.5
	}
	return out
}

// positiveBase draws Pow's base from [0.2, 3] and its exponent from
// [-2, 2].
func positiveBase(rng *rand.Rand, input, n int) []float32 {
	if input == 0 {
		return uniform(0.2, 3)(rng, n)
	}
	return uniform(-2, 2)(rng, n)
}

func normal(rng *rand.Rand, _, n int) []float32 {
	out := make([]float32, n)
	for i := range out {
		out[i] = float32(rng.NormFloat64())
	}
	return out
}

func b2f(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

func sum(v []float64) float64 {
	s := 0.0
	for _, x := range v {
		s += x
	}
	return s
}

var (
	twoShapes   = []Shape{{2, 3, 4}, {3, 1}}
	threeShapes = []Shape{{3, 1, 1}, {1, 4, 1}, {1, 1, 5}}
)

// elementwiseCases holds at least one case per row of ops.ElementwiseOps.
var elementwiseCases = []elementwiseCase{
	{"And", twoShapes, halfGrid, func(v []float64) float64 { return b2f(v[0] != 0 && v[1] != 0) }, true},
	{"Equal", twoShapes, halfGrid, func(v []float64) float64 { return b2f(v[0] == v[1]) }, true},
	{"Greater", twoShapes, halfGrid, func(v []float64) float64 { return b2f(v[0] > v[1]) }, true},
	{"GreaterOrEqual", twoShapes, halfGrid, func(v []float64) float64 { return b2f(v[0] >= v[1]) }, true},
	{"Less", twoShapes, halfGrid, func(v []float64) float64 { return b2f(v[0] < v[1]) }, true},
	{"LessOrEqual", twoShapes, halfGrid, func(v []float64) float64 { return b2f(v[0] <= v[1]) }, true},
	{"Max", twoShapes, halfGrid, slices.Max[[]float64], true},
	{"Max", threeShapes, halfGrid, slices.Max[[]float64], true},
	{"Max", []Shape{{2, 3}}, halfGrid, slices.Max[[]float64], true},
	{"Mean", threeShapes, normal, func(v []float64) float64 { return sum(v) / float64(len(v)) }, false},
	{"Mean", []Shape{{4}, {4}}, normal, func(v []float64) float64 { return sum(v) / 2 }, false},
	{"Min", twoShapes, halfGrid, slices.Min[[]float64], true},
	{"Min", threeShapes, halfGrid, slices.Min[[]float64], true},
	{"Or", twoShapes, halfGrid, func(v []float64) float64 { return b2f(v[0] != 0 || v[1] != 0) }, true},
	{"PRelu", []Shape{{2, 3, 4}, {3, 1}}, halfGrid, func(v []float64) float64 { return max(v[0], 0) + min(v[0], 0)*v[1] }, true},
	{"Pow", []Shape{{2, 3, 4}, {4}}, positiveBase, func(v []float64) float64 { return math.Pow(v[0], v[1]) }, false},
	{"Pow", []Shape{{2, 3}, {2, 3}}, positiveBase, func(v []float64) float64 { return math.Pow(v[0], v[1]) }, false},
	{"Sum", threeShapes, normal, sum, false},
	{"Sum", []Shape{{1, 3, 2, 2}, {3, 1, 1}}, normal, sum, false},
	{"Sum", []Shape{{5}}, normal, sum, false},
	{"Xor", twoShapes, halfGrid, func(v []float64) float64 { return b2f((v[0] != 0) != (v[1] != 0)) }, true},
}

// broadcastIndex is the element of an input of shape in that output
// element i of shape out reads.
func broadcastIndex(i int, out, in Shape) int {
	idx, stride := 0, 1
	for d := 1; d <= len(in); d++ {
		o := out[len(out)-d]
		c := i % o
		i /= o
		if in[len(in)-d] != 1 {
			idx += c * stride
		}
		stride *= in[len(in)-d]
	}
	return idx
}

func elementwiseNode(op string, n int) *onnx.Node {
	node := &onnx.Node{OpType: op, Outputs: []string{"y"}}
	for i := range n {
		node.Inputs = append(node.Inputs, string(rune('a'+i)))
	}
	return node
}

// Every row of the table: values against ONNX's definition on broadcast
// inputs, and gradients against finite differences.
func TestElementwiseOps(t *testing.T) {
	for _, op := range ops.ElementwiseOps() {
		if !slices.ContainsFunc(elementwiseCases, func(c elementwiseCase) bool { return c.op == op.Name }) {
			t.Errorf("%s: no case in elementwiseCases", op.Name)
		}
	}
	rng := rand.New(rand.NewPCG(4, 5))
	for _, c := range elementwiseCases {
		node := elementwiseNode(c.op, len(c.shapes))
		inputs := make([]TestInput, len(c.shapes))
		for k, s := range c.shapes {
			inputs[k] = TestInput{Name: node.Inputs[k], Shape: s, F: c.x(rng, k, s.Size())}
		}
		p := planNode(t, rng, 18, node, inputs, false)
		out := p.Shape("y")
		v := make([]float64, len(inputs))
		for i, got := range p.Data("y") {
			for k, in := range inputs {
				v[k] = float64(in.F[broadcastIndex(i, out, in.Shape)])
			}
			if want := c.f(v); math.Abs(float64(got)-want) > 1e-6+2e-6*math.Abs(want) {
				t.Errorf("%s%v: y[%d] = %g, want %g (inputs %v)", c.op, c.shapes, i, got, want, v)
				break
			}
		}
		for k := range inputs {
			if c.ties {
				// The grid shifted by 0.1 + 0.125k: no zeros, and no
				// values within 0.125 of another input's.
				for i := range inputs[k].F {
					inputs[k].F[i] += 0.1 + 0.125*float32(k)
				}
			}
			inputs[k].Grad = true
		}
		CheckGradient(t, 18, node, inputs)
	}
}

// LayerNorm's Pow(x - mean, 2), with a scalar float constant, and Pow
// with an integer exponent, which ONNX allows since opset 12: bases of
// either sign.
func TestPowConstantExponent(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	shape := Shape{2, 3, 4}
	for _, exp := range []TestInput{
		{Name: "b", Shape: Shape{}, F: []float32{2}, Const: true},
		{Name: "b", Shape: Shape{1}, I: []int64{3}},
	} {
		x := normal(rng, 0, shape.Size())
		inputs := []TestInput{{Name: "a", Shape: shape, F: x, Grad: true}, exp}
		p := planNode(t, rng, 13, elementwiseNode("Pow", 2), inputs, false)
		var e float64
		if exp.I != nil {
			e = float64(exp.I[0])
		} else {
			e = float64(exp.F[0])
		}
		for i, got := range p.Data("y") {
			if want := math.Pow(float64(x[i]), e); math.Abs(float64(got)-want) > 1e-6*(1+math.Abs(want)) {
				t.Errorf("Pow(%g, %v) = %g, want %g", x[i], e, got, want)
				break
			}
		}
		CheckGradient(t, 13, elementwiseNode("Pow", 2), inputs)
	}
}

func TestWhereForwardAndGradient(t *testing.T) {
	rng := rand.New(rand.NewPCG(6, 7))
	for _, c := range []struct {
		cond    TestInput
		x, z    Shape
		wantOut Shape
	}{
		// A boolean constant (an attention or padding mask).
		{TestInput{Name: "c", Shape: Shape{3, 1}, I: []int64{1, 0, 1}}, Shape{1, 4}, Shape{3, 4}, Shape{3, 4}},
		// A runtime condition: a comparison's 0s and 1s.
		{TestInput{Name: "c", Shape: Shape{2, 3, 4}, F: halfGrid(rng, 0, 24)}, Shape{2, 3, 4}, Shape{}, Shape{2, 3, 4}},
		{TestInput{Name: "c", Shape: Shape{4}, F: []float32{0, 1, 1, 0}, Const: true}, Shape{2, 1}, Shape{2, 4}, Shape{2, 4}},
	} {
		inputs := []TestInput{c.cond, {Name: "x", Shape: c.x, Grad: true}, {Name: "z", Shape: c.z, Grad: true}}
		node := &onnx.Node{OpType: "Where", Inputs: []string{"c", "x", "z"}, Outputs: []string{"y"}}
		p := planNode(t, rng, 16, node, inputs, false)
		if !p.Shape("y").Equal(c.wantOut) {
			t.Errorf("Where of %v, %v, %v: shape %v, want %v", c.cond.Shape, c.x, c.z, p.Shape("y"), c.wantOut)
			continue
		}
		cond := c.cond.F
		if cond == nil {
			cond = (&Value{Int: true, I: c.cond.I}).Floats()
		}
		for i, got := range p.Data("y") {
			want := inputs[2].F[broadcastIndex(i, c.wantOut, c.z)]
			if cond[broadcastIndex(i, c.wantOut, c.cond.Shape)] != 0 {
				want = inputs[1].F[broadcastIndex(i, c.wantOut, c.x)]
			}
			if got != want {
				t.Errorf("Where of %v, %v, %v: y[%d] = %v, want %v", c.cond.Shape, c.x, c.z, i, got, want)
				break
			}
		}
		CheckGradient(t, 16, node, inputs)
	}
}

// A comparison's output passes no gradient, yet a backward pass can run
// through the graph it is part of: y = Where(x > 0, x, 0.1*x) is a leaky
// ReLU, whose gradient reaches x through both branches.
func TestComparisonInBackwardPass(t *testing.T) {
	g := &onnx.Graph{
		Inputs:  []*onnx.ValueInfo{{Name: "x", ElemType: onnx.Float}},
		Outputs: []*onnx.ValueInfo{{Name: "y", ElemType: onnx.Float}},
		Initializers: []*onnx.Tensor{
			onnx.NewFloatTensor("zero", nil, []float32{0}),
			onnx.NewFloatTensor("slope", nil, []float32{0.1}),
		},
		Nodes: []*onnx.Node{
			{OpType: "Greater", Inputs: []string{"x", "zero"}, Outputs: []string{"positive"}},
			{OpType: "Mul", Inputs: []string{"x", "slope"}, Outputs: []string{"scaled"}},
			{OpType: "Where", Inputs: []string{"positive", "x", "scaled"}, Outputs: []string{"y"}},
		},
	}
	m, err := Load(&onnx.Model{IRVersion: 8, Opsets: map[string]int64{"": 16}, Graph: g})
	if err != nil {
		t.Fatal(err)
	}
	p, err := m.Plan(Spec{Inputs: []InputSpec{{Name: "x", Shape: Shape{2, 30}, Grad: true}}, Targets: []string{"y"}, Backward: true})
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(7, 8))
	copy(p.Data("x"), awayFromZero(rng, 60))
	if err := p.Forward(context.Background()); err != nil {
		t.Fatal(err)
	}
	for i, v := range p.Data("x") {
		want := v
		if v <= 0 {
			want = 0.1 * v
		}
		if math.Abs(float64(p.Data("y")[i]-want)) > 1e-7 {
			t.Fatalf("y[%d] = %v, want %v", i, p.Data("y")[i], want)
		}
	}
	checkPlanGradient(t, rng, p, "y", []string{"x"}, "Where(x > 0, x, 0.1x)")
}

// Integer constants (shape arithmetic) are computed at plan time.
func TestElementwiseIntegerConstants(t *testing.T) {
	rng := rand.New(rand.NewPCG(8, 9))
	for _, c := range []struct {
		node   *onnx.Node
		inputs []TestInput
		want   []int64
	}{
		{elementwiseNode("Equal", 2), []TestInput{{Name: "a", Shape: Shape{2, 2}, I: []int64{1, 2, 3, 4}}, {Name: "b", Shape: Shape{2}, I: []int64{1, 4}}}, []int64{1, 0, 0, 1}},
		{elementwiseNode("Max", 3), []TestInput{{Name: "a", Shape: Shape{3}, I: []int64{1, 5, -2}}, {Name: "b", Shape: Shape{}, I: []int64{0}}, {Name: "c", Shape: Shape{3}, I: []int64{2, 2, -7}}}, []int64{2, 5, 0}},
		{elementwiseNode("Min", 2), []TestInput{{Name: "a", Shape: Shape{3}, I: []int64{1, 5, -2}}, {Name: "b", Shape: Shape{1}, I: []int64{2}}}, []int64{1, 2, -2}},
		{elementwiseNode("Less", 2), []TestInput{{Name: "a", Shape: Shape{3}, I: []int64{1, 5, -2}}, {Name: "b", Shape: Shape{1}, I: []int64{2}}}, []int64{1, 0, 1}},
		{elementwiseNode("Pow", 2), []TestInput{{Name: "a", Shape: Shape{3}, I: []int64{2, -3, 5}}, {Name: "b", Shape: Shape{}, I: []int64{3}}}, []int64{8, -27, 125}},
		{&onnx.Node{OpType: "Where", Inputs: []string{"c", "x", "z"}, Outputs: []string{"y"}},
			[]TestInput{{Name: "c", Shape: Shape{3}, I: []int64{1, 0, 1}}, {Name: "x", Shape: Shape{3}, I: []int64{1, 2, 3}}, {Name: "z", Shape: Shape{}, I: []int64{-1}}}, []int64{1, -1, 3}},
	} {
		p := planNode(t, rng, 13, c.node, c.inputs, false)
		if v := p.tensors["y"].cnst; v == nil || !v.Int || !slices.Equal(v.I, c.want) {
			t.Errorf("%s on integer constants = %+v, want the constant %v", c.node.OpType, v, c.want)
		}
	}
}

func TestElementwiseErrors(t *testing.T) {
	where := &onnx.Node{OpType: "Where", Inputs: []string{"c", "x", "z"}, Outputs: []string{"y"}}
	for _, c := range []struct {
		opset  int64
		node   *onnx.Node
		inputs []TestInput
		want   string
	}{
		{13, elementwiseNode("Max", 3), []TestInput{{Name: "a", Shape: Shape{2, 3}}, {Name: "b", Shape: Shape{3}}, {Name: "c", Shape: Shape{4, 1, 2}}}, "cannot be broadcast"},
		{13, elementwiseNode("Sum", 0), nil, "want at least 1 inputs, have 0"},
		{13, &onnx.Node{OpType: "Max", Inputs: []string{"a", "", "c"}, Outputs: []string{"y"}}, []TestInput{{Name: "a", Shape: Shape{2}}, {Name: "c", Shape: Shape{2}}}, "input 1 is required"},
		{13, elementwiseNode("Pow", 3), []TestInput{{Name: "a", Shape: Shape{2}}, {Name: "b", Shape: Shape{2}}, {Name: "c", Shape: Shape{2}}}, "want 2 inputs, have 3"},
		{13, elementwiseNode("Mean", 2), []TestInput{{Name: "a", Shape: Shape{2}, I: []int64{1, 2}}, {Name: "b", Shape: Shape{2}, I: []int64{1, 0}}}, `input 0 "a" is an integer tensor; Mean is defined on floating-point tensors only`},
		{13, elementwiseNode("Greater", 2), []TestInput{{Name: "a", Shape: Shape{2}}, {Name: "b", Shape: Shape{2}, I: []int64{1, 0}}}, `input 1 "b" is an integer constant and input 0 "a" is not`},
		{13, elementwiseNode("Pow", 2), []TestInput{{Name: "a", Shape: Shape{2}, I: []int64{1, 0}}, {Name: "b", Shape: Shape{2}}}, `input 0 "a" is an integer constant and input 1 "b" is not`},
		{6, &onnx.Node{OpType: "Pow", Inputs: []string{"a", "b"}, Outputs: []string{"y"}, Attrs: []*onnx.Attribute{attrInt("broadcast", 1)}},
			[]TestInput{{Name: "a", Shape: Shape{2, 3}}, {Name: "b", Shape: Shape{3}}}, "legacy broadcast"},
		{13, elementwiseNode("PRelu", 2), []TestInput{{Name: "a", Shape: Shape{3, 1}}, {Name: "b", Shape: Shape{1, 4}}}, `input 1 "b", shape 1x4, does not broadcast to the shape 3x1 of input 0 "a"`},
		{16, where, []TestInput{{Name: "c", Shape: Shape{2}}, {Name: "x", Shape: Shape{2}, I: []int64{1, 2}}, {Name: "z", Shape: Shape{2}, I: []int64{3, 4}}}, `the condition "c" is not: integer tensors exist only as plan-time constants`},
		{16, where, []TestInput{{Name: "c", Shape: Shape{2}, I: []int64{1, 0}}, {Name: "x", Shape: Shape{2}, I: []int64{1, 2}}, {Name: "z", Shape: Shape{2}}}, "must both be integer constants or both be float tensors"},
		{16, where, []TestInput{{Name: "c", Shape: Shape{3}}, {Name: "x", Shape: Shape{2, 1}}, {Name: "z", Shape: Shape{4, 1}}}, "cannot be broadcast"},
	} {
		err := planError(t, c.opset, c.node, c.inputs)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %v, want one saying %q", describe(c.node), err, c.want)
		}
	}
}

// A dream step allocates nothing: neither do these kernels, on tensors
// large enough to be split across cores.
func TestElementwiseKernelsNoAllocs(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 9))
	ctx := context.Background()
	big := Shape{1, 8, 96, 96}
	for _, c := range []struct {
		node   *onnx.Node
		inputs []TestInput
	}{
		{&onnx.Node{OpType: "HardSwish", Inputs: []string{"x"}, Outputs: []string{"y"}}, []TestInput{{Name: "x", Shape: big, Grad: true}}},
		{&onnx.Node{OpType: "Erf", Inputs: []string{"x"}, Outputs: []string{"y"}}, []TestInput{{Name: "x", Shape: big, Grad: true}}},
		{elementwiseNode("Pow", 2), []TestInput{{Name: "a", Shape: big, Grad: true}, {Name: "b", Shape: Shape{}, I: []int64{2}}}},
		{elementwiseNode("Max", 3), []TestInput{{Name: "a", Shape: big, Grad: true}, {Name: "b", Shape: Shape{8, 1, 1}, Grad: true}, {Name: "c", Shape: Shape{96}, Grad: true}}},
		{elementwiseNode("Greater", 2), []TestInput{{Name: "a", Shape: big, Grad: true}, {Name: "b", Shape: Shape{8, 1, 1}, Grad: true}}},
		{&onnx.Node{OpType: "Where", Inputs: []string{"c", "x", "z"}, Outputs: []string{"y"}},
			[]TestInput{{Name: "c", Shape: Shape{96, 96}}, {Name: "x", Shape: big, Grad: true}, {Name: "z", Shape: Shape{8, 1, 1}, Grad: true}}},
	} {
		p := planNode(t, rng, 18, c.node, c.inputs, true)
		if a := testing.AllocsPerRun(3, func() {
			_ = p.Forward(ctx)
			_ = p.Backward(ctx)
		}); a != 0 {
			t.Errorf("%s allocates %v times per run", c.node.OpType, a)
		}
	}
}
