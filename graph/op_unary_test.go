package graph

import (
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/deepdream-go/deepdream/onnx"
	"github.com/deepdream-go/deepdream/ops"
)

// unaryCase is one test of a unary operator: its attributes, the inputs to
// test it on (away from kinks and outside its domain's edges), and f as
// ONNX defines it, in float64.
type unaryCase struct {
	op    string
	attrs []*onnx.Attribute
	x     func(rng *rand.Rand, n int) []float32
	f     func(x float64) float64
}

// Inputs drawn uniformly from [lo, hi], at least 0.05 from every kink (the
// gradient check's steps are 0.01).
func uniform(lo, hi float64, kinks ...float64) func(rng *rand.Rand, n int) []float32 {
	return func(rng *rand.Rand, n int) []float32 {
		out := make([]float32, n)
		for i := range out {
			for {
				v := lo + (hi-lo)*rng.Float64()
				if !slices.ContainsFunc(kinks, func(k float64) bool { return math.Abs(v-k) < 0.05 }) {
					out[i] = float32(v)
					break
				}
			}
		}
		return out
	}
}

var halves = []float64{-3.5, -2.5, -1.5, -0.5, 0.5, 1.5, 2.5, 3.5}

func logistic(x float64) float64 { return 1 / (1 + math.Exp(-x)) }

func softplus(x float64) float64 { return math.Log(1 + math.Exp(x)) }

func hardSigmoid(alpha, beta float64) func(float64) float64 {
	return func(x float64) float64 { return max(0, min(1, alpha*x+beta)) }
}

func elu(alpha float64) func(float64) float64 {
	return func(x float64) float64 {
		if x > 0 {
			return x
		}
		return alpha * (math.Exp(x) - 1)
	}
}

func celu(alpha float64) func(float64) float64 {
	return func(x float64) float64 { return max(0, x) + min(0, alpha*(math.Exp(x/alpha)-1)) }
}

func selu(alpha, gamma float64) func(float64) float64 {
	return func(x float64) float64 {
		if x > 0 {
			return gamma * x
		}
		return gamma * (alpha*math.Exp(x) - alpha)
	}
}

func thresholdedRelu(alpha float64) func(float64) float64 {
	return func(x float64) float64 {
		if x > alpha {
			return x
		}
		return 0
	}
}

// unaryCases holds at least one case per row of ops.UnaryOps, and one per
// attribute variant worth testing.
var unaryCases = []unaryCase{
	{"Abs", nil, uniform(-3, 3, 0), math.Abs},
	{"Ceil", nil, uniform(-3, 3, -3, -2, -1, 0, 1, 2, 3), math.Ceil},
	{"Celu", nil, uniform(-3, 3), celu(1)},
	{"Celu", []*onnx.Attribute{attrFloat("alpha", 2)}, uniform(-3, 3), celu(2)},
	{"Cos", nil, uniform(-4, 4), math.Cos},
	{"Elu", nil, uniform(-3, 3), elu(1)},
	{"Elu", []*onnx.Attribute{attrFloat("alpha", 0.5)}, uniform(-3, 3, 0), elu(0.5)},
	{"Erf", nil, uniform(-3, 3), math.Erf},
	{"Exp", nil, uniform(-3, 3), math.Exp},
	{"Floor", nil, uniform(-3, 3, -3, -2, -1, 0, 1, 2, 3), math.Floor},
	{"HardSigmoid", nil, uniform(-4, 4, -2.5, 2.5), hardSigmoid(0.2, 0.5)},
	{"HardSigmoid", []*onnx.Attribute{attrFloat("alpha", 1.0/6), attrFloat("beta", 0.5)}, uniform(-4, 4, -3, 3), hardSigmoid(1.0/6, 0.5)},
	{"HardSigmoid", []*onnx.Attribute{attrFloat("alpha", -0.5), attrFloat("beta", 0.25)}, uniform(-2, 2, -1.5, 0.5), hardSigmoid(-0.5, 0.25)},
	{"HardSwish", nil, uniform(-5, 5, -3, 3), func(x float64) float64 { return x * hardSigmoid(1.0/6, 0.5)(x) }},
	{"LeakyRelu", nil, uniform(-3, 3, 0), func(x float64) float64 { return leaky(x, float64(float32(0.01))) }},
	{"LeakyRelu", []*onnx.Attribute{attrFloat("alpha", -0.3)}, uniform(-3, 3, 0), func(x float64) float64 { return leaky(x, float64(float32(-0.3))) }},
	{"Log", nil, uniform(0.1, 5), math.Log},
	{"Mish", nil, uniform(-4, 4), func(x float64) float64 { return x * math.Tanh(softplus(x)) }},
	{"Neg", nil, uniform(-3, 3), func(x float64) float64 { return -x }},
	{"Not", nil, func(rng *rand.Rand, n int) []float32 {
		out := make([]float32, n)
		for i := range out {
			out[i] = float32(rng.IntN(2))
		}
		return out
	}, func(x float64) float64 {
		if x == 0 {
			return 1
		}
		return 0
	}},
	{"Reciprocal", nil, uniform(-3, 3, -0.3, -0.2, -0.1, 0, 0.1, 0.2, 0.3), func(x float64) float64 { return 1 / x }},
	{"Round", nil, uniform(-4, 4, halves...), math.RoundToEven},
	{"Selu", nil, uniform(-3, 3, 0), selu(1.67326319217681884765625, 1.05070102214813232421875)},
	{"Selu", []*onnx.Attribute{attrFloat("alpha", 2), attrFloat("gamma", 3)}, uniform(-3, 3, 0), selu(2, 3)},
	{"Sign", nil, uniform(-3, 3, 0), func(x float64) float64 { return math.Copysign(1, x) }},
	{"Sin", nil, uniform(-4, 4), math.Sin},
	{"Sigmoid", nil, uniform(-6, 6), func(x float64) float64 { return 1 / (1 + math.Exp(-x)) }},
	{"Softplus", nil, uniform(-5, 5), softplus},
	{"Softsign", nil, uniform(-3, 3), func(x float64) float64 { return x / (1 + math.Abs(x)) }},
	{"Sqrt", nil, uniform(0.1, 5), math.Sqrt},
	{"Tanh", nil, uniform(-3, 3), math.Tanh},
	{"ThresholdedRelu", nil, uniform(-3, 3, 1), thresholdedRelu(1)},
	{"ThresholdedRelu", []*onnx.Attribute{attrFloat("alpha", -0.5)}, uniform(-3, 3, -0.5), thresholdedRelu(-0.5)},
}

// Every row of the table: values against ONNX's definition, and gradients
// against finite differences, per attribute variant.
func TestUnaryOps(t *testing.T) {
	for _, op := range ops.UnaryOps() {
		if !slices.ContainsFunc(unaryCases, func(c unaryCase) bool { return c.op == op.Name }) {
			t.Errorf("%s: no case in unaryCases", op.Name)
		}
	}
	rng := rand.New(rand.NewPCG(1, 3))
	shape := Shape{2, 3, 4, 5}
	for _, c := range unaryCases {
		node := &onnx.Node{OpType: c.op, Inputs: []string{"x"}, Outputs: []string{"y"}, Attrs: c.attrs}
		x := c.x(rng, shape.Size())
		p := planNode(t, rng, 18, node, []TestInput{{Name: "x", Shape: shape, F: x}}, false)
		for i, got := range p.Data("y") {
			want := c.f(float64(x[i]))
			if math.Abs(float64(got)-want) > 1e-6+2e-6*math.Abs(want) {
				t.Errorf("%s(%g) = %g, want %g", describe(node), x[i], got, want)
				break
			}
		}
		CheckGradient(t, 18, node, []TestInput{{Name: "x", Shape: shape, F: x, Grad: true}})
	}
}

func TestUnaryIntegerConstants(t *testing.T) {
	rng := rand.New(rand.NewPCG(2, 3))
	x := []int64{-5, 0, 7, 1 << 40}
	for _, c := range []struct {
		op   string
		want []int64
	}{
		{"Neg", []int64{5, 0, -7, -1 << 40}},
		{"Abs", []int64{5, 0, 7, 1 << 40}},
		{"Sign", []int64{-1, 0, 1, 1}},
		{"Not", []int64{0, 1, 0, 0}},
	} {
		node := &onnx.Node{OpType: c.op, Inputs: []string{"x"}, Outputs: []string{"y"}}
		p := planNode(t, rng, 13, node, []TestInput{{Name: "x", Shape: Shape{4}, I: x}}, false)
		if v := p.tensors["y"].cnst; v == nil || !v.Int || !slices.Equal(v.I, c.want) {
			t.Errorf("%s on integer constants %v = %+v, want the constant %v", c.op, x, v, c.want)
		}
	}
}

func TestUnaryErrors(t *testing.T) {
	node := func(op string, attrs ...*onnx.Attribute) *onnx.Node {
		return &onnx.Node{OpType: op, Inputs: []string{"x"}, Outputs: []string{"y"}, Attrs: attrs}
	}
	for _, c := range []struct {
		node  *onnx.Node
		input TestInput
		want  string
	}{
		{node("Sqrt"), TestInput{Name: "x", Shape: Shape{2}, I: []int64{4, 9}}, `input 0 "x" is an integer tensor; Sqrt is defined on floating-point tensors only`},
		{node("Celu", attrFloat("alpha", 0)), TestInput{Name: "x", Shape: Shape{2}}, `attribute "alpha" = 0 is invalid`},
		{node("Elu", attrFloat("alpha", float32(math.Inf(1)))), TestInput{Name: "x", Shape: Shape{2}}, `attribute "alpha" = +Inf is invalid`},
		{node("HardSigmoid", attrInt("alpha", 1)), TestInput{Name: "x", Shape: Shape{2}}, `attribute "alpha": want a float`},
	} {
		err := planError(t, 13, c.node, []TestInput{c.input})
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %v, want one saying %q", describe(c.node), err, c.want)
		}
	}
}

// leaky is LeakyRelu with slope alpha below 0.
func leaky(x, alpha float64) float64 {
	if x < 0 {
		return alpha * x
	}
	return x
}
