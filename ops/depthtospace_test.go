package ops

import (
	"fmt"
	"testing"
)

func TestDepthToSpace(t *testing.T) {
	for _, c := range []struct {
		dims []int
		b    int
	}{
		{[]int{1, 8, 2, 3}, 2},
		{[]int{2, 18, 3, 2}, 3},
		{[]int{1, 4, 1, 1}, 2},
	} {
		n, cc, h, w, b := c.dims[0], c.dims[1]/(c.b*c.b), c.dims[2], c.dims[3], c.b
		out := []int{n, cc, h * b, w * b}
		for _, crd := range []bool{false, true} {
			p, err := NewDepthToSpace(c.dims, b, crd)
			if err != nil {
				t.Fatal(err)
			}
			want := make([]int, shapeSize(out))
			forCoords(out, func(i int, o []int) {
				bi, bj := o[2]%b, o[3]%b
				ch := (bi*b+bj)*cc + o[1] // DCR: depth, column, row
				if crd {
					ch = o[1]*b*b + bi*b + bj
				}
				want[i] = ((o[0]*c.dims[1]+ch)*h+o[2]/b)*w + o[3]/b
			})
			checkRemap(t, fmt.Sprintf("depth to space %v by %d, crd %v", c.dims, b, crd), p, ramp(shapeSize(c.dims)), want)
		}
		// SpaceToDepth undoes DCR.
		s2d, err := NewSpaceToDepth(out, b)
		if err != nil {
			t.Fatal(err)
		}
		d2s, _ := NewDepthToSpace(c.dims, b, false)
		x := ramp(shapeSize(c.dims))
		y := make([]float32, len(x))
		back := make([]float32, len(x))
		Remap(y, x, 0, d2s)
		Remap(back, y, 0, s2d)
		for i := range x {
			if back[i] != x[i] {
				t.Fatalf("space to depth of depth to space %v: [%d] = %v", c.dims, i, back[i])
			}
		}
	}
}
