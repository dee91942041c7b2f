package ops

import (
	"fmt"
	"math"

	"github.com/deepdream-go/deepdream/internal/parallel"
)

// The element-wise operators of several tensors broadcast together (numpy
// rules), other than Add, Sub, Mul and Div (see Binary), are rows of one
// table, elementwiseOps: a name, f on floats and on integers, and how the
// gradient flows. Elementwise and ElementwiseBackward run any row on the
// layout NewElementwise makes; package graph registers every row as an
// ONNX operator. Where, whose three inputs play different parts, is
// below the table.

// ElementwiseOp is an element-wise function of two tensors, y = f(a, b),
// or, when Variadic, of one or more, folded from the left:
// f(f(x0, x1), x2)...
type ElementwiseOp struct {
	Name     string // the ONNX operator type
	Variadic bool   // one or more inputs (Sum, Max); otherwise two
	F        func(a, b float32) float32
	// Int is f on integers, for integer constants (shape arithmetic)
	// folded at plan time; nil where ONNX defines f on floats only.
	Int func(a, b int64) int64
	// IntB: b may be an integer constant when a is a float tensor (Pow's
	// exponent); it is then converted to float.
	IntB bool
	// Mean: y is the fold divided by the number of inputs.
	Mean bool
	// ToA: b broadcasts to a's shape, not a to b's (PRelu's slope).
	ToA  bool
	Grad Gradient
}

// Gradient says how the gradient of an ElementwiseOp reaches its inputs.
type Gradient struct {
	Kind GradKind
	// DA and DB are dy/da and dy/db for Kind Partials.
	DA, DB func(a, b, y float32) float32
}

// GradKind is a kind of Gradient.
type GradKind uint8

const (
	// Zero: y is piecewise constant (comparisons, logic).
	Zero GradKind = iota
	// Partials: da = dy*DA(a, b, y), db = dy*DB(a, b, y); two inputs.
	Partials
	// PassThrough: dy reaches every input (Sum; Mean divides it by the
	// number of inputs).
	PassThrough
	// Select: y is one of its inputs (Min, Max); dy reaches the first
	// input equal to y. (PyTorch's maximum splits it among tied inputs:
	// at a tie either is a subgradient.)
	Select
)

// Reads reports whether the gradient reads the inputs and the output.
func (g Gradient) Reads() bool { return g.Kind == Partials || g.Kind == Select }

// ElementwiseOps lists the table's rows, sorted by name.
func ElementwiseOps() []*ElementwiseOp {
	out := make([]*ElementwiseOp, len(elementwiseOps))
	for i := range elementwiseOps {
		out[i] = &elementwiseOps[i]
	}
	return out
}

// Booleans are 0 and 1, as integers and as floats; any other number is
// true. Max and Min pass NaNs through, as numpy's maximum does.
var elementwiseOps = []ElementwiseOp{
	{Name: "And", F: logicOp(func(a, b bool) bool { return a && b }), Int: logicOpInt(func(a, b bool) bool { return a && b })},
	{Name: "Equal", F: cmpOp(func(a, b float64) bool { return a == b }), Int: cmpOpInt(func(a, b int64) bool { return a == b })},
	{Name: "Greater", F: cmpOp(func(a, b float64) bool { return a > b }), Int: cmpOpInt(func(a, b int64) bool { return a > b })},
	{Name: "GreaterOrEqual", F: cmpOp(func(a, b float64) bool { return a >= b }), Int: cmpOpInt(func(a, b int64) bool { return a >= b })},
	{Name: "Less", F: cmpOp(func(a, b float64) bool { return a < b }), Int: cmpOpInt(func(a, b int64) bool { return a < b })},
	{Name: "LessOrEqual", F: cmpOp(func(a, b float64) bool { return a <= b }), Int: cmpOpInt(func(a, b int64) bool { return a <= b })},
	{Name: "Max", Variadic: true, F: func(a, b float32) float32 { return max(a, b) }, Int: func(a, b int64) int64 { return max(a, b) },
		Grad: Gradient{Kind: Select}},
	{Name: "Mean", Variadic: true, Mean: true, F: func(a, b float32) float32 { return a + b },
		Grad: Gradient{Kind: PassThrough}},
	{Name: "Min", Variadic: true, F: func(a, b float32) float32 { return min(a, b) }, Int: func(a, b int64) int64 { return min(a, b) },
		Grad: Gradient{Kind: Select}},
	{Name: "Or", F: logicOp(func(a, b bool) bool { return a || b }), Int: logicOpInt(func(a, b bool) bool { return a || b })},
	// PRelu: a where a >= 0, else b*a; b is the slope, broadcast to a.
	{Name: "PRelu", ToA: true,
		F: func(a, b float32) float32 {
			if a < 0 {
				return a * b
			}
			return a
		},
		Grad: Gradient{Kind: Partials,
			DA: func(a, b, _ float32) float32 {
				if a < 0 {
					return b
				}
				return 1
			},
			DB: func(a, _, _ float32) float32 { return min(a, 0) }}},
	// Pow: a^b; for b = 2 (LayerNorm's variance) a*a, which rounds as
	// float32(math.Pow(a, 2)) does (the float64 square is exact). The
	// gradient to b is y*ln(a), taken as 0 where a <= 0: there a^b is not
	// a real function of b.
	{Name: "Pow", F: pow, Int: powInt, IntB: true,
		Grad: Gradient{Kind: Partials,
			DA: func(a, b, _ float32) float32 {
				if b == 2 {
					return 2 * a
				}
				return float32(float64(b) * math.Pow(float64(a), float64(b)-1))
			},
			DB: func(a, _, y float32) float32 {
				if a <= 0 {
					return 0
				}
				return float32(float64(y) * math.Log(float64(a)))
			}}},
	{Name: "Sum", Variadic: true, F: func(a, b float32) float32 { return a + b },
		Grad: Gradient{Kind: PassThrough}},
	{Name: "Xor", F: logicOp(func(a, b bool) bool { return a != b }), Int: logicOpInt(func(a, b bool) bool { return a != b })},
}

func pow(a, b float32) float32 {
	if b == 2 {
		return a * a
	}
	return float32(math.Pow(float64(a), float64(b)))
}

// powInt is a^b in int64 arithmetic (wrapping on overflow); a negative b
// gives a^b truncated toward zero.
func powInt(a, b int64) int64 {
	if b < 0 {
		switch a {
		case 1:
			return 1
		case -1:
			return 1 - 2*(-b&1)
		}
		return 0 // includes 0^-1, which ONNX leaves undefined
	}
	y := int64(1)
	for ; b > 0; b >>= 1 {
		if b&1 == 1 {
			y *= a
		}
		a *= a
	}
	return y
}

func cmpOp(f func(a, b float64) bool) func(a, b float32) float32 {
	return func(a, b float32) float32 { return float32(b2f(f(float64(a), float64(b)))) }
}

func cmpOpInt(f func(a, b int64) bool) func(a, b int64) int64 {
	return func(a, b int64) int64 { return int64(b2f(f(a, b))) }
}

func logicOp(f func(a, b bool) bool) func(a, b float32) float32 {
	return func(a, b float32) float32 { return float32(b2f(f(a != 0, b != 0))) }
}

func logicOpInt(f func(a, b bool) bool) func(a, b int64) int64 {
	return func(a, b int64) int64 { return int64(b2f(f(a != 0, b != 0))) }
}

// ElementwiseLayout is the layout of an ElementwiseOp on inputs of given
// shapes: x0 and x1 against the output, then each further input against
// the output (which holds the fold so far).
type ElementwiseLayout struct {
	Out   []int        // the output's shape
	pair  *Broadcast   // inputs: the output, x0, x1
	rest  []*Broadcast // inputs: the output, x(k+2)
	sizes []int        // the inputs' element counts
}

// NewElementwise returns the layout of an element-wise operator on inputs
// of the given shapes, or an error when they cannot be broadcast together.
func NewElementwise(shapes ...[]int) (*ElementwiseLayout, error) {
	if len(shapes) == 0 {
		return nil, fmt.Errorf("no inputs")
	}
	l := &ElementwiseLayout{Out: shapes[0]}
	for _, s := range shapes[1:] {
		out, _, err := NewBroadcast(l.Out, s)
		if err != nil {
			return nil, err
		}
		l.Out = out
	}
	for _, s := range shapes {
		l.sizes = append(l.sizes, elements(s))
	}
	if len(shapes) == 1 {
		return l, nil
	}
	var err error
	if _, l.pair, err = NewBroadcast(l.Out, shapes[0], shapes[1]); err != nil {
		return nil, err
	}
	for _, s := range shapes[2:] {
		_, p, err := NewBroadcast(l.Out, s)
		if err != nil {
			return nil, err
		}
		l.rest = append(l.rest, p)
	}
	return l, nil
}

func elements(s []int) int {
	n := 1
	for _, d := range s {
		n *= d
	}
	return n
}

// of returns the layout that holds input k, and its index there.
func (l *ElementwiseLayout) of(k int) (*Broadcast, int) {
	if k < 2 {
		return l.pair, 1 + k
	}
	return l.rest[k-2], 1
}

// ScratchSize is the scratch memory, in floats, ElementwiseBackward needs:
// room for dy times the derivative, before it is summed over the axes an
// input was broadcast along, or masked for a Select.
func (l *ElementwiseLayout) ScratchSize(op *ElementwiseOp) int {
	out := elements(l.Out)
	switch op.Grad.Kind {
	case Select:
		return out
	case Partials:
		for _, n := range l.sizes {
			if n != out {
				return out
			}
		}
	}
	return 0
}

// Elementwise: y = op(xs...), broadcast by l. y may alias an input of the
// output's shape only when it is the first input.
func Elementwise(op *ElementwiseOp, y []float32, xs [][]float32, l *ElementwiseLayout) {
	if len(xs) == 1 {
		copy(y, xs[0])
		return
	}
	var count float32 = 1
	if op.Mean {
		count = float32(len(xs))
	}
	foldTasks.For(len(y), elementwiseGrain, foldTask[float32]{op.F, y, xs, l, count})
}

// ElementwiseInts is Elementwise on integers, with op.Int, for integer
// constants at plan time; op.Mean is not defined on them.
func ElementwiseInts(op *ElementwiseOp, y []int64, xs [][]int64, l *ElementwiseLayout) {
	if len(xs) == 1 {
		copy(y, xs[0])
		return
	}
	t := foldTask[int64]{op.Int, y, xs, l, 1}
	t.Run(0, len(y))
}

func scale(op *ElementwiseOp, n int) float32 {
	if op.Mean {
		return 1 / float32(n)
	}
	return 1
}

// foldTask computes y[lo:hi] = f(f(x0, x1), x2)..., divided by count.
type foldTask[T element] struct {
	f     func(a, b T) T
	y     []T
	xs    [][]T
	l     *ElementwiseLayout
	count T
}

var foldTasks parallel.Tasks[foldTask[float32], *foldTask[float32]]

func (t *foldTask[T]) Run(lo, hi int) {
	f, y, x0, x1 := t.f, t.y, t.xs[0], t.xs[1]
	s0, s1 := t.l.pair.inner(1), t.l.pair.inner(2)
	t.l.pair.runs(lo, hi, func(pos, n int, off [maxInputs]int) {
		for i := range n {
			y[pos+i] = f(x0[off[1]+i*s0], x1[off[2]+i*s1])
		}
	})
	for k, p := range t.l.rest {
		x, s := t.xs[k+2], p.inner(1)
		p.runs(lo, hi, func(pos, n int, off [maxInputs]int) {
			for i := range n {
				y[pos+i] = f(y[pos+i], x[off[1]+i*s])
			}
		})
	}
	if t.count != 1 {
		for i := lo; i < hi; i++ {
			y[i] /= t.count
		}
	}
}

// inner is input j's stride along the innermost dimension: 1, or 0 where
// it is broadcast.
func (p *Broadcast) inner(j int) int { return p.In[j][len(p.Dims)-1] }

// ElementwiseBackward: for each k with dxs[k] != nil, dxs[k] = the
// gradient through y = op(xs...) from dy, or dxs[k] += it where
// accumulate[k] is set. y and xs are the forward pass's (read only when
// op.Grad.Reads()); scratch holds l.ScratchSize(op) floats.
func ElementwiseBackward(op *ElementwiseOp, dxs [][]float32, dy, y []float32, xs [][]float32, l *ElementwiseLayout, accumulate []bool, scratch []float32) {
	for k, dx := range dxs {
		if dx == nil {
			continue
		}
		acc := accumulate[k]
		p, j := l.of(k)
		if len(xs) == 1 && op.Grad.Kind != Zero { // y = x0
			axpby(dx, dy, 1, acc)
			continue
		}
		switch op.Grad.Kind {
		case Zero:
			if !acc {
				Clear(dx)
			}
		case PassThrough:
			reduce(dx, dy, scale(op, len(xs)), p, j, acc)
		case Partials:
			d := op.Grad.DA
			if k == 1 {
				d = op.Grad.DB
			}
			t := gradTask{mode: gradPartial, dst: dx, dy: dy, y: y, a: xs[0], b: xs[1], p: l.pair, d: d, accumulate: acc}
			if len(dx) != len(dy) {
				t.dst, t.accumulate = scratch, false
			}
			gradTasks.For(len(dy), elementwiseGrain, t)
			if len(dx) != len(dy) {
				reduce(dx, scratch, 1, p, j, acc)
			}
		case Select:
			// scratch = dy where x_k == y, then 0 where an earlier input
			// equals y too.
			gradTasks.For(len(dy), elementwiseGrain, gradTask{mode: gradSelect, dst: scratch, dy: dy, y: y, a: xs[k], p: p, j: j})
			for i := range k {
				q, qj := l.of(i)
				gradTasks.For(len(dy), elementwiseGrain, gradTask{mode: gradUnselect, dst: scratch, y: y, a: xs[i], p: q, j: qj})
			}
			reduce(dx, scratch, 1, p, j, acc)
		}
	}
}

// reduce: dx = scale * g summed over the axes along which input j of p was
// broadcast, or dx += that when accumulate is set.
func reduce(dx, g []float32, scale float32, p *Broadcast, j int, accumulate bool) {
	if len(dx) == len(g) {
		axpby(dx, g, scale, accumulate)
		return
	}
	if !accumulate {
		Clear(dx)
	}
	SumBroadcast(dx, g, scale, p, j)
}

type gradMode uint8

const (
	gradPartial  gradMode = iota // dst (+)= dy * d(a, b, y), a and b inputs 1 and 2 of p
	gradSelect                   // dst = dy where a == y, else 0; a is input j of p
	gradUnselect                 // dst = 0 where a == y
	gradWhere                    // dst (+)= dy where (a != 0) == keep; a is input 0 of p
)

// gradTask computes a gradient, or the product of dy and a derivative
// that is yet to be summed over broadcast axes, over the output's
// elements.
type gradTask struct {
	mode       gradMode
	dst, dy, y []float32
	a, b       []float32
	p          *Broadcast
	j          int
	d          func(a, b, y float32) float32
	accumulate bool
	keep       bool
}

var gradTasks parallel.Tasks[gradTask, *gradTask]

func (t *gradTask) Run(lo, hi int) {
	dst, dy, y, a, b, d := t.dst, t.dy, t.y, t.a, t.b, t.d
	switch t.mode {
	case gradPartial:
		sa, sb := t.p.inner(1), t.p.inner(2)
		acc := t.accumulate
		t.p.runs(lo, hi, func(pos, n int, off [maxInputs]int) {
			for i := range n {
				g := dy[pos+i] * d(a[off[1]+i*sa], b[off[2]+i*sb], y[pos+i])
				if acc {
					g += dst[pos+i]
				}
				dst[pos+i] = g
			}
		})
	case gradSelect:
		j, s := t.j, t.p.inner(t.j)
		t.p.runs(lo, hi, func(pos, n int, off [maxInputs]int) {
			for i := range n {
				var g float32
				if a[off[j]+i*s] == y[pos+i] {
					g = dy[pos+i]
				}
				dst[pos+i] = g
			}
		})
	case gradUnselect:
		j, s := t.j, t.p.inner(t.j)
		t.p.runs(lo, hi, func(pos, n int, off [maxInputs]int) {
			for i := range n {
				if a[off[j]+i*s] == y[pos+i] {
					dst[pos+i] = 0
				}
			}
		})
	case gradWhere:
		s, keep, acc := t.p.inner(0), t.keep, t.accumulate
		t.p.runs(lo, hi, func(pos, n int, off [maxInputs]int) {
			for i := range n {
				var g float32
				if (a[off[0]+i*s] != 0) == keep {
					g = dy[pos+i]
				}
				if acc {
					g += dst[pos+i]
				}
				dst[pos+i] = g
			}
		})
	}
}

// Where: y = x where c is true (nonzero), else the third input, z;
// broadcast by p = NewBroadcast(c, x, z).
func Where(y, c, x, z []float32, p *Broadcast) {
	whereTasks.For(len(y), elementwiseGrain, whereTask{y, c, x, z, p})
}

// WhereBackward: dx = dy where c is true, summed over the axes along which
// x (input 1 of p) was broadcast; for input 2 (z), where c is false. dx +=
// that when accumulate is set. scratch holds len(dy) floats when that
// input was broadcast; nil will do otherwise.
func WhereBackward(dx, dy, c []float32, p *Broadcast, input int, accumulate bool, scratch []float32) {
	t := gradTask{mode: gradWhere, dst: dx, dy: dy, a: c, p: p, keep: input == 1, accumulate: accumulate}
	if len(dx) != len(dy) {
		t.dst, t.accumulate = scratch, false
	}
	gradTasks.For(len(dy), elementwiseGrain, t)
	if len(dx) != len(dy) {
		reduce(dx, scratch, 1, p, input, accumulate)
	}
}

// WhereInts is Where on integers, for constants at plan time.
func WhereInts(y, c, x, z []int64, p *Broadcast) { whereRange(y, c, x, z, p, 0, len(y)) }

type whereTask struct {
	y, c, x, z []float32
	p          *Broadcast
}

var whereTasks parallel.Tasks[whereTask, *whereTask]

func (t *whereTask) Run(lo, hi int) { whereRange(t.y, t.c, t.x, t.z, t.p, lo, hi) }

func whereRange[T element](y, c, x, z []T, p *Broadcast, lo, hi int) {
	sc, sx, sz := p.inner(0), p.inner(1), p.inner(2)
	p.runs(lo, hi, func(pos, n int, off [maxInputs]int) {
		for i := range n {
			v := z[off[2]+i*sz]
			if c[off[0]+i*sc] != 0 {
				v = x[off[1]+i*sx]
			}
			y[pos+i] = v
		}
	})
}
