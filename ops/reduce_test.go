package ops

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

// reduceGroups is the reference layout: for each output element (the kept
// coordinates, row-major), the input offsets it reduces, increasing.
func reduceGroups(dims, axes []int) [][]int {
	outDims := slices.Clone(dims)
	for _, a := range axes {
		outDims[a] = 1
	}
	groups := make([][]int, shapeSize(outDims))
	forCoords(dims, func(i int, coord []int) {
		j := 0
		for d, c := range coord {
			if slices.Contains(axes, d) {
				c = 0
			}
			j = j*outDims[d] + c
		}
		groups[j] = append(groups[j], i)
	})
	return groups
}

// reduceRef computes op over the values vs in float64.
func reduceRef(op ReduceOp, vs []float64) float64 {
	acc := 0.0
	switch op {
	case ReduceMax:
		acc = math.Inf(-1)
		for _, v := range vs {
			acc = max(acc, v)
		}
	case ReduceMin:
		acc = math.Inf(1)
		for _, v := range vs {
			acc = min(acc, v)
		}
	case ReduceProd:
		acc = 1
		for _, v := range vs {
			acc *= v
		}
	case ReduceLogSumExp:
		for _, v := range vs {
			acc += math.Exp(v)
		}
		acc = math.Log(acc)
	default:
		for _, v := range vs {
			switch op {
			case ReduceSumSquare, ReduceL2:
				acc += v * v
			case ReduceL1:
				acc += math.Abs(v)
			default:
				acc += v
			}
		}
		switch op {
		case ReduceMean:
			acc /= float64(len(vs))
		case ReduceL2:
			acc = math.Sqrt(acc)
		case ReduceLogSum:
			acc = math.Log(acc)
		}
	}
	return acc
}

// reduceGradRef is ∂y/∂vs[k] for y = op(vs), Max and Min picking the first
// extreme element.
func reduceGradRef(op ReduceOp, vs []float64, k int) float64 {
	y := reduceRef(op, vs)
	v := vs[k]
	switch op {
	case ReduceSum:
		return 1
	case ReduceMean:
		return 1 / float64(len(vs))
	case ReduceMax, ReduceMin:
		if slices.Index(vs, y) == k {
			return 1
		}
		return 0
	case ReduceProd:
		others := 1.0
		for i, w := range vs {
			if i != k {
				others *= w
			}
		}
		return others
	case ReduceSumSquare:
		return 2 * v
	case ReduceL1:
		switch {
		case v > 0:
			return 1
		case v < 0:
			return -1
		}
		return 0
	case ReduceL2:
		return v / y
	case ReduceLogSum:
		return 1 / math.Exp(y)
	case ReduceLogSumExp:
		return math.Exp(v - y)
	}
	panic("unknown op")
}

var reduceCases = []struct{ dims, axes []int }{
	{[]int{2, 3, 4}, []int{0}},
	{[]int{2, 3, 4}, []int{1}},
	{[]int{2, 3, 4}, []int{2}},
	{[]int{2, 3, 4}, []int{0, 2}},
	{[]int{2, 3, 4}, []int{0, 1, 2}},
	{[]int{2, 3, 4}, []int{}},
	{[]int{3, 1, 4, 1}, []int{1, 2}},                // size-1 axes dropped
	{[]int{1, 5, 1, 1}, []int{2, 3}},                // nothing left to reduce
	{[]int{2, 3, 2, 3, 2}, []int{0, 2, 4}},          // alternating, outer reduced axes
	{[]int{1, 8, 40, 50}, []int{2, 3}},              // global pool, parallel
	{[]int{1, 40, 30, 20}, []int{1}},                // over channels, strided
	{[]int{1, 30, 20, 48}, []int{3}},                // channels last (LayerNorm)
	{[]int{2, 2, 2, 2, 2, 2, 2, 2, 2}, []int{1, 8}}, // rank 9 merges to 5
}

func TestReduce(t *testing.T) {
	r := rand.New(rand.NewPCG(11, 12))
	ops := []ReduceOp{ReduceSum, ReduceMean, ReduceMax, ReduceMin, ReduceProd, ReduceSumSquare, ReduceL1, ReduceL2, ReduceLogSum, ReduceLogSumExp}
	for _, c := range reduceCases {
		p, err := NewReduce(c.dims, c.axes)
		if err != nil {
			t.Fatal(err)
		}
		groups := reduceGroups(c.dims, c.axes)
		if p.Out != len(groups) || p.Count != len(groups[0]) {
			t.Fatalf("%v over %v: Out %d, Count %d; want %d, %d", c.dims, c.axes, p.Out, p.Count, len(groups), len(groups[0]))
		}
		x := randFloats(r, shapeSize(c.dims))
		for _, op := range ops {
			name := fmt.Sprintf("%v of %v over %v", op, c.dims, c.axes)
			in := x
			switch op {
			case ReduceLogSum:
				in = slices.Clone(x) // positive sums
				for i, v := range in {
					in[i] = float32(math.Abs(float64(v))) + 0.1
				}
			case ReduceProd:
				in = slices.Clone(x) // products near 1, one zero somewhere
				for i, v := range in {
					in[i] = 1 + v/16
				}
				in[r.IntN(len(in))] = 0
			}
			y, check := guarded(r, p.Out)
			Reduce(op, y, in, p)
			check(t, name)
			dy := randFloats(r, p.Out)
			wantDx := make([]float64, len(in))
			for j, g := range groups {
				vs := make([]float64, len(g))
				for k, i := range g {
					vs[k] = float64(in[i])
				}
				want := reduceRef(op, vs)
				if math.Abs(float64(y[j])-want) > 1e-5*(1+math.Abs(want)) {
					t.Fatalf("%s: y[%d] = %v, want %v", name, j, y[j], want)
				}
				for k, i := range g {
					wantDx[i] = float64(dy[j]) * reduceGradRef(op, vs, k)
				}
			}
			for _, accumulate := range []bool{false, true} {
				dx, check := guarded(r, len(in))
				before := slices.Clone(dx)
				if !accumulate {
					for i := range dx {
						dx[i] = float32(math.NaN())
					}
				}
				ReduceBackward(op, dx, dy, in, y, p, accumulate)
				check(t, name)
				for i, v := range dx {
					want := wantDx[i]
					if accumulate {
						want += float64(before[i])
					}
					if math.Abs(float64(v)-want) > 1e-4*(1+math.Abs(want)) {
						t.Fatalf("%s, accumulate %v: dx[%d] = %v, want %v", name, accumulate, i, v, want)
					}
				}
			}
		}
	}
}

// Ties: Max and Min pass the gradient to the first of the equal elements.
func TestReduceMaxTies(t *testing.T) {
	p, _ := NewReduce([]int{2, 4}, []int{1})
	x := []float32{1, 3, 3, 2, -1, -1, -5, -5}
	y := make([]float32, 2)
	Reduce(ReduceMax, y, x, p)
	dx := make([]float32, 8)
	ReduceBackward(ReduceMax, dx, []float32{1, 2}, x, y, p, true)
	if want := []float32{0, 1, 0, 0, 2, 0, 0, 0}; !slices.Equal(dx, want) {
		t.Errorf("ReduceMax gradient %v, want %v", dx, want)
	}
	Reduce(ReduceMin, y, x, p)
	ReduceBackward(ReduceMin, dx, []float32{1, 2}, x, y, p, false)
	if want := []float32{1, 0, 0, 0, 0, 0, 2, 0}; !slices.Equal(dx, want) {
		t.Errorf("ReduceMin gradient %v, want %v", dx, want)
	}
}

// A product with two zeros has no gradient; with one, only the zero has.
func TestReduceProdZeros(t *testing.T) {
	p, _ := NewReduce([]int{2, 3}, []int{1})
	x := []float32{0, 2, 0, 3, 0, 5}
	y := make([]float32, 2)
	Reduce(ReduceProd, y, x, p)
	dx := make([]float32, 6)
	ReduceBackward(ReduceProd, dx, []float32{1, 1}, x, y, p, false)
	if want := []float32{0, 0, 0, 0, 15, 0}; !slices.Equal(dx, want) {
		t.Errorf("ReduceProd gradient %v, want %v", dx, want)
	}
}

func TestReduceInts(t *testing.T) {
	p, _ := NewReduce([]int{2, 3}, []int{1})
	x := []int64{1, 2, 4, -7, 5, 6}
	for _, c := range []struct {
		op   ReduceOp
		want []int64
	}{
		{ReduceSum, []int64{7, 4}},
		{ReduceMean, []int64{2, 1}},
		{ReduceProd, []int64{8, -210}},
		{ReduceMax, []int64{4, 6}},
		{ReduceMin, []int64{1, -7}},
	} {
		got := make([]int64, 2)
		ReduceInts(c.op, got, x, p)
		if !slices.Equal(got, c.want) {
			t.Errorf("%v: %v, want %v", c.op, got, c.want)
		}
	}
}

func TestArgReduce(t *testing.T) {
	// [2,4] along axis 1 and [2,3] along axis 0, ties first and last.
	p, _ := NewReduce([]int{2, 4}, []int{1})
	x := []float32{1, 3, 3, 2, -1, -5, -1, -5}
	for _, c := range []struct {
		largest, last bool
		want          []float32
	}{
		{true, false, []float32{1, 0}},
		{true, true, []float32{2, 2}},
		{false, false, []float32{0, 1}},
		{false, true, []float32{0, 3}},
	} {
		got := make([]float32, 2)
		ArgReduce(got, x, p, c.largest, c.last)
		if !slices.Equal(got, c.want) {
			t.Errorf("largest %v last %v: %v, want %v", c.largest, c.last, got, c.want)
		}
	}
	p, _ = NewReduce([]int{2, 3}, []int{0})
	ints := make([]int64, 3)
	ArgReduceInts(ints, []int64{1, 9, 3, 4, 2, 3}, p, true, false)
	if want := []int64{1, 0, 0}; !slices.Equal(ints, want) {
		t.Errorf("ArgReduceInts: %v, want %v", ints, want)
	}
}

func TestReduceNoAllocs(t *testing.T) {
	r := rand.New(rand.NewPCG(13, 14))
	p, _ := NewReduce([]int{1, 64, 40, 40}, []int{1})
	x := randFloats(r, 64*40*40)
	y, dy := make([]float32, p.Out), randFloats(r, p.Out)
	dx := make([]float32, len(x))
	run := func() {
		Reduce(ReduceMean, y, x, p)
		ReduceBackward(ReduceMean, dx, dy, nil, nil, p, true)
		Reduce(ReduceMax, y, x, p)
		ReduceBackward(ReduceMax, dx, dy, x, y, p, false)
	}
	run()
	if n := testing.AllocsPerRun(10, run); n != 0 {
		t.Errorf("Reduce allocates %v times per run", n)
	}
}

// Real layer shapes: a global average pool, a LayerNorm's mean over the
// channels of NHWC, and over the channels of NCHW.
func BenchmarkReduceMean(b *testing.B) {
	for _, c := range []struct {
		name       string
		dims, axes []int
	}{
		{"pool_1x192x64x48", []int{1, 192, 64, 48}, []int{2, 3}},
		{"nhwc_1x64x48x96", []int{1, 64, 48, 96}, []int{3}},
		{"nchw_1x96x64x48", []int{1, 96, 64, 48}, []int{1}},
	} {
		b.Run(c.name, func(b *testing.B) {
			p, _ := NewReduce(c.dims, c.axes)
			x := randFloats(rand.New(rand.NewPCG(1, 1)), shapeSize(c.dims))
			y := make([]float32, p.Out)
			dx := make([]float32, len(x))
			b.SetBytes(int64(4 * len(x)))
			for b.Loop() {
				Reduce(ReduceMean, y, x, p)
				ReduceBackward(ReduceMean, dx, y, nil, nil, p, false)
			}
		})
	}
}
