package ops

import (
	"math"

	"github.com/deepdream-go/deepdream/internal/parallel"
)

// The element-wise functions of one tensor, y = f(x), are rows of one
// table, unaryOps: a name, the float attributes, f, its derivative, and f
// on integers where ONNX defines it there. Unary and UnaryBackward run any
// row; package graph registers every row as an ONNX operator.

// Coef holds a UnaryOp's float attributes, in the order of its Attrs
// (HardSigmoid: alpha, beta).
type Coef [2]float32

// Attr is a float attribute of a UnaryOp and its ONNX default.
type Attr struct {
	Name    string
	Default float32
	NonZero bool // f divides by it (Celu's alpha)
}

// UnaryOp is one element-wise function y = f(x) and its derivative.
type UnaryOp struct {
	Name  string // the ONNX operator type
	Attrs []Attr // at most len(Coef)
	// F sets y = f(x), element by element; y may alias x.
	F func(y, x []float32, c Coef)
	// Deriv is f'. Its zero value means f' = 0 wherever f has a
	// derivative (Floor, Sign: step functions).
	Deriv Derivative
	// Int is f on an integer, for integer constants (shape arithmetic),
	// folded at plan time; nil where ONNX defines f on floats only.
	Int func(int64) int64
}

// Derivative computes the gradient of a UnaryOp from x or from y = f(x),
// whichever is cheaper or lets the other be freed (Exp, Tanh: from y).
type Derivative struct {
	From Operand
	// D sets dx = dy * f'(x), or adds that to dx when accumulate is set;
	// v is x or y as From says (nil for None).
	D func(dx, dy, v []float32, c Coef, accumulate bool)
}

// Operand names what a Derivative reads besides dy.
type Operand uint8

const (
	None Operand = iota // f' is constant (Neg)
	X                   // the forward input
	Y                   // the forward output
)

// UnaryOps lists the table's rows, sorted by name.
func UnaryOps() []*UnaryOp {
	out := make([]*UnaryOp, len(unaryOps))
	for i := range unaryOps {
		out[i] = &unaryOps[i]
	}
	return out
}

// At a kink (Abs at 0, HardSigmoid's corners) a derivative takes the
// value PyTorch gives it; where f has none (Sqrt, Log at 0) it is infinite.
var unaryOps = []UnaryOp{
	{Name: "Abs", F: each(math.Abs), Int: func(v int64) int64 { return max(v, -v) },
		Deriv: fromX(func(x float64, _ Coef) float64 { return sign(x) })},
	{Name: "Ceil", F: each(math.Ceil)},
	// Celu: max(0, x) + min(0, alpha*(exp(x/alpha) - 1)).
	{Name: "Celu", Attrs: []Attr{{Name: "alpha", Default: 1, NonZero: true}},
		F: eachC(func(x float64, c Coef) float64 {
			if x > 0 {
				return x
			}
			a := float64(c[0])
			return a * math.Expm1(x/a)
		}),
		Deriv: fromX(func(x float64, c Coef) float64 {
			if x > 0 {
				return 1
			}
			return math.Exp(x / float64(c[0]))
		})},
	{Name: "Cos", F: each(math.Cos),
		Deriv: fromX(func(x float64, _ Coef) float64 { return -math.Sin(x) })},
	// Elu: x for x > 0, alpha*(exp(x) - 1) below.
	{Name: "Elu", Attrs: []Attr{{Name: "alpha", Default: 1}},
		F: eachC(func(x float64, c Coef) float64 {
			if x > 0 {
				return x
			}
			return float64(c[0]) * math.Expm1(x)
		}),
		Deriv: fromX(func(x float64, c Coef) float64 {
			if x > 0 {
				return 1
			}
			return float64(c[0]) * math.Exp(x)
		})},
	// Erf: GELU's, in every ConvNeXt block, so in float32 (erf32).
	{Name: "Erf",
		F: func(y, x []float32, _ Coef) {
			y = y[:len(x)]
			for i, v := range x {
				y[i] = erf32(v)
			}
		},
		Deriv: fromX(func(x float64, _ Coef) float64 { return 2 / math.SqrtPi * math.Exp(-x*x) })},
	{Name: "Exp", F: each(math.Exp),
		Deriv: fromY(func(y float64, _ Coef) float64 { return y })},
	{Name: "Floor", F: each(math.Floor)},
	// HardSigmoid: max(0, min(1, alpha*x + beta)), in float32 as ONNX's
	// reference computes it. MobileNetV3 runs it on every block: a plain
	// loop, like HardSwish.
	{Name: "HardSigmoid", Attrs: []Attr{{Name: "alpha", Default: 0.2}, {Name: "beta", Default: 0.5}},
		F: func(y, x []float32, c Coef) {
			y = y[:len(x)]
			for i, v := range x {
				y[i] = min(max(c[0]*v+c[1], 0), 1)
			}
		},
		Deriv: Derivative{From: Y, D: func(dx, dy, y []float32, c Coef, accumulate bool) {
			dy, y = dy[:len(dx)], y[:len(dx)]
			for i := range dx {
				var g float32
				if 0 < y[i] && y[i] < 1 {
					g = c[0] * dy[i]
				}
				if accumulate {
					g += dx[i]
				}
				dx[i] = g
			}
		}}},
	// HardSwish: x * HardSigmoid(x) with alpha 1/6 and beta 1/2.
	{Name: "HardSwish",
		F: func(y, x []float32, _ Coef) {
			y = y[:len(x)]
			for i, v := range x {
				y[i] = v * min(max(v*(1.0/6)+0.5, 0), 1)
			}
		},
		Deriv: Derivative{From: X, D: func(dx, dy, x []float32, _ Coef, accumulate bool) {
			dy, x = dy[:len(dx)], x[:len(dx)]
			for i := range dx {
				v := x[i]
				g := dy[i]
				switch {
				case v < -3:
					g = 0
				case v <= 3:
					g *= v*(1.0/3) + 0.5
				}
				if accumulate {
					g += dx[i]
				}
				dx[i] = g
			}
		}}},
	// LeakyRelu: x for x >= 0, alpha*x below, in float32.
	{Name: "LeakyRelu", Attrs: []Attr{{Name: "alpha", Default: 0.01}},
		F: func(y, x []float32, c Coef) {
			y = y[:len(x)]
			for i, v := range x {
				if v < 0 {
					v *= c[0]
				}
				y[i] = v
			}
		},
		Deriv: fromX(func(x float64, c Coef) float64 {
			if x < 0 {
				return float64(c[0])
			}
			return 1
		})},
	{Name: "Log", F: each(math.Log),
		Deriv: fromX(func(x float64, _ Coef) float64 { return 1 / x })},
	// Mish (opset 18): x * tanh(softplus(x)).
	{Name: "Mish",
		F: each(func(x float64) float64 { return x * math.Tanh(softplus(x)) }),
		Deriv: fromX(func(x float64, _ Coef) float64 {
			t := math.Tanh(softplus(x))
			return t + x*(1-t*t)*logistic(x)
		})},
	{Name: "Neg", F: each(func(x float64) float64 { return -x }), Int: func(v int64) int64 { return -v },
		Deriv: Derivative{From: None, D: func(dx, dy, _ []float32, _ Coef, accumulate bool) {
			axpby(dx, dy, -1, accumulate)
		}}},
	// Not is logical negation; on a runtime tensor (a comparison's output)
	// booleans are 0 and 1.
	{Name: "Not", F: each(func(x float64) float64 { return b2f(x == 0) }),
		Int: func(v int64) int64 { return int64(b2f(v == 0)) }},
	{Name: "Reciprocal", F: each(func(x float64) float64 { return 1 / x }),
		Deriv: fromY(func(y float64, _ Coef) float64 { return -y * y })},
	// Round rounds half to even, as ONNX specifies.
	{Name: "Round", F: each(math.RoundToEven)},
	// Selu: gamma*x for x > 0, gamma*alpha*(exp(x) - 1) below.
	{Name: "Selu", Attrs: []Attr{{Name: "alpha", Default: 1.67326319217681884765625}, {Name: "gamma", Default: 1.05070102214813232421875}},
		F: eachC(func(x float64, c Coef) float64 {
			if x > 0 {
				return float64(c[1]) * x
			}
			return float64(c[1]) * float64(c[0]) * math.Expm1(x)
		}),
		Deriv: fromX(func(x float64, c Coef) float64 {
			if x > 0 {
				return float64(c[1])
			}
			return float64(c[1]) * float64(c[0]) * math.Exp(x)
		})},
	{Name: "Sigmoid", F: each(func(x float64) float64 { return 1 / (1 + math.Exp(-x)) }),
		Deriv: fromY(func(y float64, _ Coef) float64 { return y * (1 - y) })},
	{Name: "Sign", F: each(sign), Int: func(v int64) int64 { return int64(sign(float64(v))) }},
	{Name: "Sin", F: each(math.Sin),
		Deriv: fromX(func(x float64, _ Coef) float64 { return math.Cos(x) })},
	{Name: "Softplus", F: each(softplus),
		Deriv: fromX(func(x float64, _ Coef) float64 { return logistic(x) })},
	{Name: "Softsign", F: each(func(x float64) float64 { return x / (1 + math.Abs(x)) }),
		Deriv: fromX(func(x float64, _ Coef) float64 {
			d := 1 + math.Abs(x)
			return 1 / (d * d)
		})},
	{Name: "Sqrt", F: each(math.Sqrt),
		Deriv: fromY(func(y float64, _ Coef) float64 { return 0.5 / y })},
	{Name: "Tanh", F: each(math.Tanh),
		Deriv: fromY(func(y float64, _ Coef) float64 { return 1 - y*y })},
	// ThresholdedRelu: x for x > alpha, 0 elsewhere.
	{Name: "ThresholdedRelu", Attrs: []Attr{{Name: "alpha", Default: 1}},
		F: eachC(func(x float64, c Coef) float64 {
			if x > float64(c[0]) {
				return x
			}
			return 0
		}),
		Deriv: fromX(func(x float64, c Coef) float64 { return b2f(x > float64(c[0])) })},
}

func sign(x float64) float64 {
	switch {
	case x > 0:
		return 1
	case x < 0:
		return -1
	}
	return x // 0, or NaN
}

func b2f(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

// erf32 is erf(x) to within 4.5e-7 (absolute; 7 float32 ulps of 1), as
// the ratio of an odd and an even polynomial in x on [-4, 4], outside of
// which erf is ±1 in float32: the rational approximation of Eigen's
// generic_fast_erf_float. About 5 times as fast as math.Erf.
func erf32(x float32) float32 {
	x = min(max(x, -4), 4) // NaN stays NaN
	x2 := x * x
	p := x2*-2.72614225801306e-10 + 2.77068142495902e-08
	p = x2*p - 2.10102402082508e-06
	p = x2*p - 5.69250639462346e-05
	p = x2*p - 7.34990630326855e-04
	p = x2*p - 2.95459980854025e-03
	p = x2*p - 1.60960333262415e-02
	q := x2*-1.45660718464996e-05 - 2.13374055278905e-04
	q = x2*q - 1.68282697438203e-03
	q = x2*q - 7.37332916720468e-03
	q = x2*q - 1.42647390514189e-02
	return x * p / q
}

// softplus is log(1 + exp(x)) without overflow for large x.
func softplus(x float64) float64 { return max(x, 0) + math.Log1p(math.Exp(-math.Abs(x))) }

func logistic(x float64) float64 { return 1 / (1 + math.Exp(-x)) }

// each makes F from a function of x computed in float64.
func each(f func(float64) float64) func(y, x []float32, c Coef) {
	return func(y, x []float32, _ Coef) {
		y = y[:len(x)]
		for i, v := range x {
			y[i] = float32(f(float64(v)))
		}
	}
}

// eachC is each for a function of x and the attributes.
func eachC(f func(float64, Coef) float64) func(y, x []float32, c Coef) {
	return func(y, x []float32, c Coef) {
		y = y[:len(x)]
		for i, v := range x {
			y[i] = float32(f(float64(v), c))
		}
	}
}

// fromX and fromY make a Derivative from f' computed in float64 from x, or
// from y = f(x).
func fromX(d func(x float64, c Coef) float64) Derivative { return Derivative{X, chain(d)} }
func fromY(d func(y float64, c Coef) float64) Derivative { return Derivative{Y, chain(d)} }

// chain makes Derivative.D from f' as a function of v (x or y).
func chain(d func(float64, Coef) float64) func(dx, dy, v []float32, c Coef, accumulate bool) {
	return func(dx, dy, v []float32, c Coef, accumulate bool) {
		dy, v = dy[:len(dx)], v[:len(dx)]
		for i := range dx {
			g := dy[i] * float32(d(float64(v[i]), c))
			if accumulate {
				g += dx[i]
			}
			dx[i] = g
		}
	}
}

// axpby sets dst = a*src, or adds that to dst when accumulate is set.
func axpby(dst, src []float32, a float32, accumulate bool) {
	if accumulate {
		axpy(dst, src, a)
		return
	}
	src = src[:len(dst)]
	for i, v := range src {
		dst[i] = a * v
	}
}

// Unary: y = op(x), with the attributes c. y may alias x.
func Unary(op *UnaryOp, y, x []float32, c Coef) {
	unaryTasks.For(len(y), elementwiseGrain, unaryTask{op: op, c: c, dst: y, a: x})
}

// UnaryBackward: dx = dy * op'(x), or dx += that when accumulate is set.
// v is what op.Deriv.From names: x, y = op(x), or nil.
func UnaryBackward(op *UnaryOp, dx, dy, v []float32, c Coef, accumulate bool) {
	if op.Deriv.D == nil {
		if !accumulate {
			Clear(dx)
		}
		return
	}
	unaryTasks.For(len(dx), elementwiseGrain, unaryTask{op: op, c: c, dst: dx, a: dy, v: v, backward: true, accumulate: accumulate})
}

// unaryTask is Unary (dst = y, a = x) or UnaryBackward (dst = dx, a = dy).
type unaryTask struct {
	op                   *UnaryOp
	c                    Coef
	dst, a, v            []float32
	backward, accumulate bool
}

var unaryTasks parallel.Tasks[unaryTask, *unaryTask]

func (t *unaryTask) Run(lo, hi int) {
	if !t.backward {
		t.op.F(t.dst[lo:hi], t.a[lo:hi], t.c)
		return
	}
	var v []float32
	if t.v != nil {
		v = t.v[lo:hi]
	}
	t.op.Deriv.D(t.dst[lo:hi], t.a[lo:hi], v, t.c, t.accumulate)
}
