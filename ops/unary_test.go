package ops

import (
	"math"
	"math/rand/v2"
	"slices"
	"sort"
	"testing"
)

// unaryCoef is each row's attributes at their defaults.
func unaryCoef(op *UnaryOp) Coef {
	var c Coef
	for i, a := range op.Attrs {
		c[i] = a.Default
	}
	return c
}

func TestUnaryTable(t *testing.T) {
	ops := UnaryOps()
	if !sort.SliceIsSorted(ops, func(i, j int) bool { return ops[i].Name < ops[j].Name }) {
		t.Error("unaryOps is not sorted by name")
	}
	for i, op := range ops {
		if i > 0 && ops[i-1].Name == op.Name {
			t.Errorf("%s: two rows", op.Name)
		}
		if len(op.Attrs) > len(Coef{}) {
			t.Errorf("%s: %d attributes, Coef holds %d", op.Name, len(op.Attrs), len(Coef{}))
		}
		if op.F == nil {
			t.Errorf("%s: no F", op.Name)
		}
		if op.Deriv.D == nil && op.Deriv.From != None {
			t.Errorf("%s: Deriv reads %v but has no D", op.Name, op.Deriv.From)
		}
	}
}

// Every row's derivative agrees with central differences of its F, at
// random points where F is finite, or lies between the one-sided
// differences where F curves strongly (Reciprocal near 0). A point within h of
// a kink or a jump (Abs at 0, Floor at integers) is recognised, as in
// graph's gradient check, by one-sided differences that disagree, one of
// which the derivative matches, and skipped; so is a point near a pole.
func TestUnaryDerivatives(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 1))
	const n, h = 512, 1e-2
	x := make([]float32, n)
	for i := range x {
		// Half in (-1, 1), half in (-4, 4).
		x[i] = float32(rng.Float64()*2 - 1)
		if i%2 == 1 {
			x[i] *= 4
		}
	}
	xs := [3][]float32{slices.Clone(x), make([]float32, n), make([]float32, n)}
	for i, v := range x {
		xs[1][i], xs[2][i] = v+h, v-h
	}
	dy := make([]float32, n)
	for i := range dy {
		dy[i] = float32(rng.NormFloat64())
	}
	for _, op := range UnaryOps() {
		c := unaryCoef(op)
		var ys [3][]float32
		for k := range ys {
			ys[k] = make([]float32, n)
			Unary(op, ys[k], xs[k], c)
		}
		dx := make([]float32, n)
		UnaryBackward(op, dx, dy, operand(op, x, ys[0]), c, false)
		checked := 0
		for i := range x {
			y, up, down := float64(ys[0][i]), float64(ys[1][i]), float64(ys[2][i])
			if !finite(y) || !finite(up) || !finite(down) {
				continue
			}
			hUp, hDown := float64(xs[1][i])-float64(x[i]), float64(x[i])-float64(xs[2][i])
			fd := (up - down) / (hUp + hDown)
			g := float64(dx[i]) / float64(dy[i])
			tol := func(v float64) float64 { return 1e-3 + 1e-2*math.Abs(v) }
			if math.Abs(g-fd) <= tol(fd) {
				checked++
				continue
			}
			right, left := (up-y)/hUp, (y-down)/hDown
			lo, hi := min(left, right), max(left, right)
			switch {
			case lo-tol(lo) <= g && g <= hi+tol(hi):
				checked++ // curved: f' is between the slopes on either side
				continue
			case math.Abs(right-left) > tol(right)+tol(left) && (math.Abs(g-right) <= tol(right) || math.Abs(g-left) <= tol(left)):
				continue // a kink
			case max(math.Abs(left), math.Abs(right)) > 1e3:
				continue // at a pole (Reciprocal at 0)
			}
			t.Errorf("%s'(%g) = %g, central difference %g (one-sided %g, %g)", op.Name, x[i], g, fd, left, right)
		}
		if checked < n/4 { // Log and Sqrt live on x > 0
			t.Errorf("%s: only %d of %d points checked", op.Name, checked, n)
		}
	}
}

func finite(v float64) bool { return !math.IsNaN(v) && !math.IsInf(v, 0) }

// operand returns what op's derivative reads.
func operand(op *UnaryOp, x, y []float32) []float32 {
	switch op.Deriv.From {
	case X:
		return x
	case Y:
		return y
	}
	return nil
}

// Unary may write in place, splits long tensors across cores without
// changing a bit, and UnaryBackward sets or adds as asked.
func TestUnaryInPlaceParallelAccumulate(t *testing.T) {
	rng := rand.New(rand.NewPCG(2, 2))
	n := 2*elementwiseGrain + 17
	x := make([]float32, n)
	for i := range x {
		x[i] = float32(rng.Float64()*1.8 - 0.9)
	}
	dy := make([]float32, n)
	for i := range dy {
		dy[i] = float32(rng.NormFloat64())
	}
	for _, op := range UnaryOps() {
		c := unaryCoef(op)
		want := make([]float32, n)
		op.F(want, x, c) // serially
		y := slices.Clone(x)
		Unary(op, y, y, c)
		if !equalBits(y, want) {
			t.Errorf("%s in place on %d elements differs from F run serially", op.Name, n)
		}
		v := operand(op, x, y)
		set := make([]float32, n)
		for i := range set {
			set[i] = float32(math.NaN()) // must be overwritten
		}
		UnaryBackward(op, set, dy, v, c, false)
		acc := slices.Clone(dy)
		UnaryBackward(op, acc, dy, v, c, true)
		for i := range set {
			if !(acc[i] == dy[i]+set[i] || math.IsNaN(float64(set[i])) && math.IsNaN(float64(acc[i]))) {
				t.Errorf("%s: accumulate: dx[%d] = %g, want %g + %g", op.Name, i, acc[i], dy[i], set[i])
				break
			}
		}
	}
}

func equalBits(a, b []float32) bool {
	return slices.EqualFunc(a, b, func(u, v float32) bool { return math.Float32bits(u) == math.Float32bits(v) })
}

func TestUnaryInts(t *testing.T) {
	in := []int64{-3, 0, 1, math.MaxInt32 + 1}
	for _, c := range []struct {
		name string
		want []int64
	}{
		{"Abs", []int64{3, 0, 1, math.MaxInt32 + 1}},
		{"Neg", []int64{3, 0, -1, -math.MaxInt32 - 1}},
		{"Sign", []int64{-1, 0, 1, 1}},
		{"Not", []int64{0, 1, 0, 0}},
	} {
		i := slices.IndexFunc(UnaryOps(), func(op *UnaryOp) bool { return op.Name == c.name })
		op := UnaryOps()[i]
		got := make([]int64, len(in))
		for j, v := range in {
			got[j] = op.Int(v)
		}
		if !slices.Equal(got, c.want) {
			t.Errorf("%s on %v = %v, want %v", c.name, in, got, c.want)
		}
	}
}

func TestUnaryNoAllocs(t *testing.T) {
	n := elementwiseGrain + 1 // split across cores
	x, y, dx, dy := make([]float32, n), make([]float32, n), make([]float32, n), make([]float32, n)
	for _, op := range UnaryOps() {
		c := unaryCoef(op)
		allocs := testing.AllocsPerRun(2, func() {
			Unary(op, y, x, c)
			UnaryBackward(op, dx, dy, operand(op, x, y), c, true)
			UnaryBackward(op, dx, dy, operand(op, x, y), c, false)
		})
		if allocs != 0 {
			t.Errorf("%s: %v allocations per forward and backward", op.Name, allocs)
		}
	}
}

// A MobileNetV3 layer's activation.
func BenchmarkUnary(b *testing.B) {
	n := 16 * 126 * 167
	x, y, dx, dy := make([]float32, n), make([]float32, n), make([]float32, n), make([]float32, n)
	for i := range x {
		x[i] = float32(i%13) - 6
	}
	for _, name := range []string{"HardSwish", "HardSigmoid", "Erf", "Neg"} {
		i := slices.IndexFunc(UnaryOps(), func(op *UnaryOp) bool { return op.Name == name })
		op := UnaryOps()[i]
		c := unaryCoef(op)
		b.Run(name, func(b *testing.B) {
			b.SetBytes(int64(8 * n))
			for b.Loop() {
				Unary(op, y, x, c)
			}
		})
		b.Run(name+"Backward", func(b *testing.B) {
			b.SetBytes(int64(12 * n))
			for b.Loop() {
				UnaryBackward(op, dx, dy, operand(op, x, y), c, true)
			}
		})
	}
}

// erf32 against math.Erf on a fine grid over [-6, 6], and at the edges.
func TestErf32(t *testing.T) {
	worst := 0.0
	for i := -1_000_000; i <= 1_000_000; i++ {
		x := float32(i) * 6e-6
		worst = max(worst, math.Abs(float64(erf32(x))-math.Erf(float64(x))))
	}
	if worst > 4.5e-7 {
		t.Errorf("erf32 is off math.Erf by up to %g, want at most 4.5e-7", worst)
	}
	inf := float32(math.Inf(1))
	for _, c := range [][2]float32{{0, 0}, {inf, 1}, {-inf, -1}, {1e-30, 1.1283791e-30}} {
		if got := erf32(c[0]); got != c[1] {
			t.Errorf("erf32(%g) = %g, want %g", c[0], got, c[1])
		}
	}
	if got := erf32(float32(math.NaN())); !math.IsNaN(float64(got)) {
		t.Errorf("erf32(NaN) = %g", got)
	}
}
