package ops

import (
	"fmt"
	"testing"
)

func TestExpand(t *testing.T) {
	for _, c := range []struct{ dims, out []int }{
		{[]int{3, 1}, []int{2, 3, 4}},
		{[]int{1}, []int{5}},
		{[]int{2, 3}, []int{2, 3}},
		{[]int{1, 64, 1, 1}, []int{1, 64, 30, 30}}, // a large non-injective scatter
	} {
		p, err := NewExpand(c.dims, c.out)
		if err != nil {
			t.Fatal(err)
		}
		want := make([]int, shapeSize(c.out))
		forCoords(c.out, func(i int, coord []int) { want[i] = broadcastOffset(coord, c.dims) })
		if p.Injective != (shapeSize(c.dims) == shapeSize(c.out)) {
			t.Errorf("expand %v to %v: Injective %v", c.dims, c.out, p.Injective)
		}
		checkRemap(t, fmt.Sprintf("expand %v to %v", c.dims, c.out), p, ramp(shapeSize(c.dims)), want)
	}
}

func TestTile(t *testing.T) {
	for _, c := range []struct{ dims, repeats []int }{
		{[]int{2, 3}, []int{2, 1}},
		{[]int{2, 3}, []int{1, 3}},
		{[]int{2, 1, 2}, []int{2, 3, 2}},
		{[]int{4}, []int{1}},
	} {
		p, err := NewTile(c.dims, c.repeats)
		if err != nil {
			t.Fatal(err)
		}
		out := make([]int, len(c.dims))
		for a, n := range c.dims {
			out[a] = n * c.repeats[a]
		}
		strides := contiguousStrides(c.dims)
		want := make([]int, shapeSize(out))
		forCoords(out, func(i int, coord []int) {
			for a, k := range coord {
				want[i] += k % c.dims[a] * strides[a]
			}
		})
		checkRemap(t, fmt.Sprintf("tile %v by %v", c.dims, c.repeats), p, ramp(shapeSize(c.dims)), want)
	}
}
