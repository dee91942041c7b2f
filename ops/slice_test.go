package ops

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
)

func TestSlice(t *testing.T) {
	for _, c := range []struct {
		dims, starts, steps, out []int
	}{
		{[]int{10}, []int{2}, []int{3}, []int{3}},                                           // 2, 5, 8
		{[]int{10}, []int{9}, []int{-4}, []int{3}},                                          // 9, 5, 1
		{[]int{3, 4}, []int{1, 0}, []int{1, 1}, []int{2, 4}},                                // rows 1, 2
		{[]int{3, 4}, []int{2, 3}, []int{-1, -2}, []int{3, 2}},                              // both reversed
		{[]int{1, 96, 16, 21}, []int{0, 48, 0, 0}, []int{1, 1, 1, 1}, []int{1, 48, 16, 21}}, // channel chunk
		{[]int{4, 5}, []int{0, 0}, []int{1, 1}, []int{4, 0}},                                // empty
	} {
		p, err := NewSlice(c.dims, c.starts, c.steps, c.out)
		if err != nil {
			t.Fatal(err)
		}
		strides := contiguousStrides(c.dims)
		want := make([]int, shapeSize(c.out))
		forCoords(c.out, func(i int, coord []int) {
			for a, k := range coord {
				want[i] += (c.starts[a] + k*c.steps[a]) * strides[a]
			}
		})
		checkRemap(t, fmt.Sprintf("slice %v from %v by %v", c.dims, c.starts, c.steps), p, ramp(shapeSize(c.dims)), want)
	}
}

func TestSplit(t *testing.T) {
	r := rand.New(rand.NewPCG(15, 16))
	for _, c := range []struct {
		shapes [][]int
		axis   int
	}{
		{[][]int{{2, 3}, {2, 1}, {2, 2}}, 1},
		{[][]int{{1, 3}, {2, 3}}, 0},
		{[][]int{{1, 48, 40, 40}, {1, 48, 40, 40}}, 1}, // ShuffleNet's chunk, parallel
		{[][]int{{3, 0, 2}, {3, 4, 2}}, 1},
	} {
		name := fmt.Sprintf("split into %v along %d", c.shapes, c.axis)
		p := NewConcat(c.shapes, c.axis)
		parts := make([][]float32, len(c.shapes))
		for k, s := range c.shapes {
			parts[k] = randFloats(r, shapeSize(s))
		}
		x := make([]float32, p.Outer*p.rowSize())
		Concat(x, parts, p) // Split is its inverse
		got := make([][]float32, len(parts))
		for k := range got {
			got[k] = make([]float32, len(parts[k]))
		}
		got[0] = nil // skipped
		Split(got, x, p)
		for k := 1; k < len(got); k++ {
			if !slices.Equal(got[k], parts[k]) {
				t.Fatalf("%s: part %d differs", name, k)
			}
		}
		// Backward: the parts joined, a nil one as zeros, set or added.
		dys := slices.Clone(parts)
		dys[0] = nil
		want := make([]float32, len(x))
		Concat(want, dys, p)
		for _, accumulate := range []bool{false, true} {
			dx := randFloats(r, len(x))
			before := slices.Clone(dx)
			SplitBackward(dx, dys, p, accumulate)
			for i := range dx {
				w := want[i]
				if accumulate {
					w += before[i]
				}
				if dx[i] != w {
					t.Fatalf("%s, accumulate %v: dx[%d] = %v, want %v", name, accumulate, i, dx[i], w)
				}
			}
		}
	}
}
