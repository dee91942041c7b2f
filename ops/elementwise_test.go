package ops

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"sort"
	"strings"
	"testing"
)

func TestNewBroadcastThree(t *testing.T) {
	out, p, err := NewBroadcast([]int{2, 1, 4}, []int{3, 1}, []int{1, 1, 4})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(out, []int{2, 3, 4}) || !slices.Equal(p.Dims, []int{2, 3, 4}) ||
		!slices.Equal(p.In[0], []int{4, 0, 1}) || !slices.Equal(p.In[1], []int{0, 1, 0}) || !slices.Equal(p.In[2], []int{0, 0, 1}) {
		t.Errorf("layout of [2 1 4], [3 1], [1 1 4]: out %v, %+v", out, p)
	}
	// The output's own shape as an input merges like the others.
	if _, p, _ = NewBroadcast([]int{2, 3, 4}, []int{2, 3, 4}, []int{3, 4}); !slices.Equal(p.Dims, []int{2, 12}) {
		t.Errorf("[2 3 4], [2 3 4], [3 4] merge to %v, want [2 12]", p.Dims)
	}
	for _, c := range []struct {
		shapes [][]int
		want   string
	}{
		{[][]int{{2, 1}, {1, 3}, {4, 1}}, "shapes [2 1] and [4 1] cannot be broadcast (dimension 0: 2 vs 4)"},
		{[][]int{{1, 3}, {2, 1}, {1, 5}}, "shapes [1 3] and [1 5] cannot be broadcast (dimension 1: 3 vs 5)"},
		{[][]int{{1}, {1}, {1}, {1}}, "4 shapes to broadcast, want 1 to 3"},
	} {
		if _, _, err := NewBroadcast(c.shapes...); err == nil || err.Error() != c.want {
			t.Errorf("%v: error %v, want %q", c.shapes, err, c.want)
		}
	}
}

func TestElementwiseTable(t *testing.T) {
	ops := ElementwiseOps()
	if !sort.SliceIsSorted(ops, func(i, j int) bool { return ops[i].Name < ops[j].Name }) {
		t.Error("elementwiseOps is not sorted by name")
	}
	for _, op := range ops {
		if (op.Grad.Kind == Partials) != (op.Grad.DA != nil && op.Grad.DB != nil) {
			t.Errorf("%s: Partials want DA and DB, and only they", op.Name)
		}
		if op.Grad.Kind == Partials && op.Variadic {
			t.Errorf("%s: Partials are defined for two inputs only", op.Name)
		}
		if op.Mean && op.Int != nil {
			t.Errorf("%s: a Mean is not defined on integers", op.Name)
		}
	}
}

var elementwiseCases = [][][]int{
	{{2, 3, 4}, {2, 3, 4}},
	{{1, 4, 3, 3}, {4, 1, 1}},
	{{3, 1, 5}, {4, 1}},
	{{}, {2, 3}},
	{{2, 1, 4}, {1, 3, 1}},
	{{2, 3}},                          // one input (variadic)
	{{3, 1, 1}, {1, 4, 1}, {1, 1, 5}}, // the fold grows
	{{2, 3}, {2, 3}, {3}, {2, 1}},
}

// grid returns n values from a grid of 0.5 in [-1.5, 2], so that Min and
// Max see ties and comparisons equal values; Pow's base is positive.
func grid(r *rand.Rand, n int, positive bool) []float32 {
	x := make([]float32, n)
	for i := range x {
		x[i] = float32(r.IntN(8)-3) * 0.5
		if positive {
			x[i] = float32(r.IntN(4)+1) * 0.5
		}
	}
	return x
}

// Every row against a naive evaluation of its F at broadcast coordinates,
// and its gradient against the rule its Kind states.
func TestElementwise(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for _, op := range ElementwiseOps() {
		for _, shapes := range elementwiseCases {
			if !op.Variadic && len(shapes) != 2 {
				continue
			}
			name := fmt.Sprintf("%s%v", op.Name, shapes)
			l, err := NewElementwise(shapes...)
			if err != nil {
				t.Fatal(err)
			}
			xs := make([][]float32, len(shapes))
			for k, s := range shapes {
				xs[k] = grid(r, elements(s), op.Name == "Pow" && k == 0)
			}
			y := make([]float32, elements(l.Out))
			Elementwise(op, y, xs, l)
			dy := randFloats(r, len(y))
			want := make([][]float64, len(xs))
			for k := range xs {
				want[k] = make([]float64, len(xs[k]))
			}
			forCoords(l.Out, func(i int, coord []int) {
				v := make([]float32, len(xs))
				for k, s := range shapes {
					v[k] = xs[k][broadcastOffset(coord, s)]
				}
				f := v[0]
				for _, x := range v[1:] {
					f = op.F(f, x)
				}
				if op.Mean {
					f /= float32(len(v))
				}
				if y[i] != f && !(math.IsNaN(float64(y[i])) && math.IsNaN(float64(f))) {
					t.Fatalf("%s: y%v = %v, want %v", name, coord, y[i], f)
				}
				for k, s := range shapes {
					var d float64
					switch op.Grad.Kind {
					case PassThrough:
						d = 1 / float64(len(xs))
						if !op.Mean {
							d = 1
						}
					case Partials:
						d = float64([]func(a, b, y float32) float32{op.Grad.DA, op.Grad.DB}[k](v[0], v[1], y[i]))
					case Select:
						if slices.Index(v, y[i]) == k {
							d = 1
						}
					}
					if len(xs) == 1 {
						d = 1
					}
					want[k][broadcastOffset(coord, s)] += d * float64(dy[i])
				}
			})
			scratch := make([]float32, l.ScratchSize(op))
			for _, acc := range []bool{false, true} {
				dxs := make([][]float32, len(xs))
				for k := range dxs {
					dxs[k] = make([]float32, len(xs[k]))
					for i := range dxs[k] {
						dxs[k][i] = float32(math.NaN()) // set mode must overwrite it
						if acc {
							dxs[k][i] = 1
						}
					}
				}
				ElementwiseBackward(op, dxs, dy, y, xs, l, slices.Repeat([]bool{acc}, len(xs)), scratch)
				for k := range dxs {
					for i, g := range dxs[k] {
						w := want[k][i]
						if acc {
							w++
						}
						if math.Abs(float64(g)-w) > 1e-5*(1+math.Abs(w)) {
							t.Fatalf("%s: accumulate %v: dx%d[%d] = %v, want %v", name, acc, k, i, g, w)
						}
					}
				}
			}
		}
	}
}

func TestElementwiseInts(t *testing.T) {
	get := func(name string) *ElementwiseOp {
		return ElementwiseOps()[slices.IndexFunc(ElementwiseOps(), func(op *ElementwiseOp) bool { return op.Name == name })]
	}
	l, err := NewElementwise([]int{4}, []int{})
	if err != nil {
		t.Fatal(err)
	}
	a := []int64{-3, 0, 2, 1 << 40}
	for _, c := range []struct {
		op   string
		b    int64
		want []int64
	}{
		{"Max", 1, []int64{1, 1, 2, 1 << 40}},
		{"Min", 1, []int64{-3, 0, 1, 1}},
		{"Equal", 2, []int64{0, 0, 1, 0}},
		{"Greater", 0, []int64{0, 0, 1, 1}},
		{"LessOrEqual", 0, []int64{1, 1, 0, 0}},
		{"And", 1, []int64{1, 0, 1, 1}},
		{"Xor", 1, []int64{0, 1, 0, 0}},
		{"Pow", 2, []int64{9, 0, 4, 0}}, // (2^40)^2 wraps to 0
		{"Pow", 3, []int64{-27, 0, 8, 0}},
		{"Pow", -1, []int64{0, 0, 0, 0}},
	} {
		got := make([]int64, 4)
		ElementwiseInts(get(c.op), got, [][]int64{a, {c.b}}, l)
		if !slices.Equal(got, c.want) {
			t.Errorf("%s(%v, %d) = %v, want %v", c.op, a, c.b, got, c.want)
		}
	}
	_, p, _ := NewBroadcast([]int{2, 1}, []int{2, 2}, []int{})
	got := make([]int64, 4)
	WhereInts(got, []int64{1, 0}, []int64{1, 2, 3, 4}, []int64{-1}, p)
	if want := []int64{1, 2, -1, -1}; !slices.Equal(got, want) {
		t.Errorf("WhereInts([[1] [0]], [[1 2] [3 4]], -1) = %v, want %v", got, want)
	}
	for _, c := range [][3]int64{{1, -3, 1}, {-1, -3, -1}, {-1, -2, 1}, {0, 0, 1}, {-2, 5, -32}} {
		if got := powInt(c[0], c[1]); got != c[2] {
			t.Errorf("powInt(%d, %d) = %d, want %d", c[0], c[1], got, c[2])
		}
	}
}

func TestWhere(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	for _, shapes := range [][][]int{
		{{2, 3, 4}, {2, 3, 4}, {2, 3, 4}},
		{{3, 1}, {1, 4}, {}},
		{{1, 4}, {3, 1}, {3, 4}},
	} {
		out, p, err := NewBroadcast(shapes...)
		if err != nil {
			t.Fatal(err)
		}
		c := grid(r, elements(shapes[0]), false)
		for i := range c {
			c[i] = max(c[i], 0) // half of them false
		}
		x, z := randFloats(r, elements(shapes[1])), randFloats(r, elements(shapes[2]))
		y := make([]float32, elements(out))
		Where(y, c, x, z, p)
		dy := randFloats(r, len(y))
		want := [][]float64{make([]float64, len(x)), make([]float64, len(z))}
		forCoords(out, func(i int, coord []int) {
			k := 1
			if c[broadcastOffset(coord, shapes[0])] != 0 {
				k = 0
			}
			j := broadcastOffset(coord, shapes[1+k])
			if v := [][]float32{x, z}[k][j]; y[i] != v {
				t.Fatalf("Where%v: y%v = %v, want %v", shapes, coord, y[i], v)
			}
			want[k][j] += float64(dy[i])
		})
		scratch := make([]float32, len(y))
		for k, w := range want {
			dx := make([]float32, len(w))
			for _, acc := range []bool{false, true} {
				WhereBackward(dx, dy, c, p, 1+k, acc, scratch)
			}
			for i := range dx {
				if math.Abs(float64(dx[i])-2*w[i]) > 1e-5*(1+math.Abs(w[i])) {
					t.Fatalf("Where%v: twice the gradient of input %d: [%d] = %v, want %v", shapes, 1+k, i, dx[i], 2*w[i])
				}
			}
		}
	}
}

func TestElementwiseErrors(t *testing.T) {
	if _, err := NewElementwise([]int{2, 3}, []int{3}, []int{4, 1, 2}); err == nil || !strings.Contains(err.Error(), "cannot be broadcast") {
		t.Errorf("[2 3], [3], [4 1 2]: error %v", err)
	}
	if _, err := NewElementwise(); err == nil {
		t.Error("no inputs: no error")
	}
}

func TestElementwiseNoAllocs(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	shapes := [][]int{{1, 16, 64, 64}, {16, 1, 1}, {1, 64, 64}}
	l, _ := NewElementwise(shapes...)
	xs := [][]float32{randFloats(r, 16*64*64), randFloats(r, 16), randFloats(r, 64*64)}
	dxs := [][]float32{make([]float32, 16*64*64), make([]float32, 16), make([]float32, 64*64)}
	y, dy := make([]float32, 16*64*64), randFloats(r, 16*64*64)
	_, p, _ := NewBroadcast(shapes...)
	for _, op := range ElementwiseOps() {
		if !op.Variadic {
			continue
		}
		scratch := make([]float32, l.ScratchSize(op))
		run := func() {
			Elementwise(op, y, xs, l)
			ElementwiseBackward(op, dxs, dy, y, xs, l, []bool{true, false, true}, scratch)
			Where(y, xs[0], xs[1], xs[2], p)
			WhereBackward(dxs[1], dy, xs[0], p, 1, true, y)
		}
		run()
		if n := testing.AllocsPerRun(3, run); n != 0 {
			t.Errorf("%s: %v allocations per run", op.Name, n)
		}
	}
}
