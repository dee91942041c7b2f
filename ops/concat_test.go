package ops

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

func TestConcat(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 8))
	for _, c := range []struct {
		shapes [][]int
		axis   int
	}{
		{[][]int{{2, 3}, {2, 1}, {2, 0}, {2, 4}}, 1},
		{[][]int{{2, 3}, {1, 3}}, 0},
		{[][]int{{1, 64, 20, 20}, {1, 32, 20, 20}, {1, 8, 20, 20}}, 1}, // one row, parallel
		{[][]int{{5, 2, 3}, {5, 2, 1}}, 2},
	} {
		name := fmt.Sprintf("concat %v on axis %d", c.shapes, c.axis)
		p := NewConcat(c.shapes, c.axis)
		srcs := make([][]float32, len(c.shapes))
		var want []float32
		for k, s := range c.shapes {
			srcs[k] = randFloats(r, shapeSize(s))
		}
		for o := range p.Outer { // the reference: rows side by side
			for _, s := range srcs {
				w := len(s) / p.Outer
				want = append(want, s[o*w:(o+1)*w]...)
			}
		}
		got := make([]float32, len(want))
		Concat(got, srcs, p)
		if !slices.Equal(got, want) {
			t.Fatalf("%s: got %v, want %v", name, got[:min(10, len(got))], want[:min(10, len(want))])
		}
		// A nil input leaves its part of dst alone (an input in place).
		kept := slices.Clone(got)
		for i := range kept {
			kept[i] = -float32(i)
		}
		partial := slices.Clone(kept)
		Concat(partial, append([][]float32{nil}, srcs[1:]...), p)
		w0 := len(srcs[0]) / p.Outer
		for i := range partial {
			want := got[i]
			if i%(len(got)/p.Outer) < w0 {
				want = kept[i]
			}
			if partial[i] != want {
				t.Fatalf("%s, input 0 nil: element %d = %v, want %v", name, i, partial[i], want)
			}
		}
		// Backward: each input gets its part added; a nil one is skipped.
		dsrcs := make([][]float32, len(srcs))
		for k := 1; k < len(srcs); k++ {
			dsrcs[k] = slices.Clone(srcs[k])
		}
		ConcatBackward(dsrcs, nil, got, p)
		for k := 1; k < len(srcs); k++ {
			for i, v := range dsrcs[k] {
				if v != 2*srcs[k][i] {
					t.Fatalf("%s: dx%d[%d] = %v, want %v", name, k, i, v, 2*srcs[k][i])
				}
			}
		}
		// The inputs not accumulated get their part whatever they held,
		// the others have it added.
		set := make([]bool, len(srcs))
		for k := range srcs {
			set[k] = k%2 == 1
			dsrcs[k] = slices.Clone(srcs[k])
			if set[k] {
				for i := range dsrcs[k] {
					dsrcs[k][i] = float32(math.NaN())
				}
			}
		}
		accumulate := make([]bool, len(set))
		for k := range set {
			accumulate[k] = !set[k]
		}
		ConcatBackward(dsrcs, accumulate, got, p)
		for k := range srcs {
			for i, v := range dsrcs[k] {
				want := 2 * srcs[k][i]
				if set[k] {
					want = srcs[k][i]
				}
				if v != want {
					t.Fatalf("%s: set %v: dx%d[%d] = %v, want %v", name, set[k], k, i, v, want)
				}
			}
		}
		ints := make([][]int64, len(srcs))
		var wantInts []int64
		for k, s := range srcs {
			for _, v := range s {
				ints[k] = append(ints[k], int64(v*100))
			}
		}
		for _, v := range want {
			wantInts = append(wantInts, int64(v*100))
		}
		gotInts := make([]int64, len(wantInts))
		ConcatInts(gotInts, ints, p)
		if !slices.Equal(gotInts, wantInts) {
			t.Fatalf("%s: ConcatInts differs", name)
		}
	}
}

// x joined with itself: both parts add into one gradient buffer.
func TestConcatBackwardRepeatedInput(t *testing.T) {
	shape := []int{1, 64, 20, 20}
	p := NewConcat([][]int{shape, shape}, 1)
	n := shapeSize(shape)
	dy := make([]float32, 2*n)
	for i := range dy {
		dy[i] = float32(i % 7)
	}
	dx := make([]float32, n)
	ConcatBackward([][]float32{dx, dx}, nil, dy, p)
	for i, v := range dx {
		if want := dy[i] + dy[n+i]; v != want {
			t.Fatalf("dx[%d] = %v, want %v", i, v, want)
		}
	}
}
