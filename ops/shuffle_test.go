package ops

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

// checkRemap runs p forward on x and backward on a random dy, and compares
// with want (the source index of each output element, -1 for fill): the
// forward copies, the backward adds each dy into the element it came from.
func checkRemap(t *testing.T, name string, p *RemapParams, x []float32, want []int) {
	t.Helper()
	if p.Size() != len(want) {
		t.Fatalf("%s: %d outputs, want %d", name, p.Size(), len(want))
	}
	const fill = -99
	y := make([]float32, len(want))
	Remap(y, x, fill, p)
	r := rand.New(rand.NewPCG(5, 6))
	dy := randFloats(r, len(y))
	dx := randFloats(r, len(x))
	wantDx := slices.Clone(dx)
	for i, src := range want {
		v := float32(fill)
		if src >= 0 {
			v = x[src]
			wantDx[src] += dy[i]
		}
		if y[i] != v {
			t.Fatalf("%s: y[%d] = %v, want %v (source %d)", name, i, y[i], v, src)
		}
	}
	RemapBackward(dx, dy, p)
	for i := range dx {
		if d := dx[i] - wantDx[i]; d > 1e-5 || d < -1e-5 {
			t.Fatalf("%s: dx[%d] = %v, want %v", name, i, dx[i], wantDx[i])
		}
	}
	ints := make([]int64, len(x))
	for i := range ints {
		ints[i] = int64(i)
	}
	gotInts := make([]int64, len(want))
	RemapInts(gotInts, ints, fill, p)
	for i, src := range want {
		w := int64(fill)
		if src >= 0 {
			w = int64(src)
		}
		if gotInts[i] != w {
			t.Fatalf("%s: RemapInts[%d] = %d, want %d", name, i, gotInts[i], w)
		}
	}
}

// ramp returns 0, 1, ..., n-1: each element is its own index.
func ramp(n int) []float32 {
	x := make([]float32, n)
	for i := range x {
		x[i] = float32(i)
	}
	return x
}

func TestTranspose(t *testing.T) {
	for _, c := range []struct{ dims, perm []int }{
		{[]int{2, 3, 4}, []int{2, 1, 0}},
		{[]int{2, 3, 4}, []int{0, 2, 1}},
		{[]int{1, 16, 40, 40}, []int{0, 2, 3, 1}}, // NCHW -> NHWC, parallel
		{[]int{1, 40, 40, 16}, []int{0, 3, 1, 2}},
		{[]int{7}, []int{0}},
		{[]int{}, []int{}},
	} {
		p, err := NewTranspose(c.dims, c.perm)
		if err != nil {
			t.Fatal(err)
		}
		outDims := make([]int, len(c.perm))
		for i, a := range c.perm {
			outDims[i] = c.dims[a]
		}
		inStrides := contiguousStrides(c.dims)
		want := make([]int, shapeSize(outDims))
		forCoords(outDims, func(i int, coord []int) {
			for d, a := range c.perm {
				want[i] += coord[d] * inStrides[a]
			}
		})
		checkRemap(t, fmt.Sprintf("transpose %v by %v", c.dims, c.perm), p, ramp(shapeSize(c.dims)), want)
	}
}

func TestGather(t *testing.T) {
	// [4,3] along axis 0 with a repeated index: its gradients add up.
	p, err := NewGather([]int{4, 3}, 0, []int{2, 0, 2})
	if err != nil {
		t.Fatal(err)
	}
	if p.Injective {
		t.Error("repeated indices: Injective")
	}
	checkRemap(t, "gather axis 0", p, ramp(12), []int{6, 7, 8, 0, 1, 2, 6, 7, 8})
	// [2,3,2] along axis 1.
	p, _ = NewGather([]int{2, 3, 2}, 1, []int{1})
	checkRemap(t, "gather axis 1", p, ramp(12), []int{2, 3, 8, 9})
	// A large gather, split across cores.
	p, _ = NewGather([]int{64, 1000}, 1, []int{999, 0, 5})
	var want []int
	for i := range 64 {
		want = append(want, i*1000+999, i*1000, i*1000+5)
	}
	checkRemap(t, "gather wide", p, ramp(64000), want)
}

func TestPad(t *testing.T) {
	for _, c := range []struct {
		name string
		dims []int
		pads []int
		mode PadMode
		want []int
	}{
		{"constant", []int{3}, []int{2, 4}, PadConstant, []int{-1, -1, 0, 1, 2, -1, -1, -1, -1}},
		{"edge", []int{3}, []int{2, 4}, PadEdge, []int{0, 0, 0, 1, 2, 2, 2, 2, 2}},
		{"reflect", []int{3}, []int{2, 4}, PadReflect, []int{2, 1, 0, 1, 2, 1, 0, 1, 2}},
		{"reflect wider than the input", []int{3}, []int{5, 0}, PadReflect, []int{1, 0, 1, 2, 1, 0, 1, 2}},
		{"reflect one element", []int{1}, []int{2, 1}, PadReflect, []int{0, 0, 0, 0}},
		{"crop", []int{4}, []int{-1, 1}, PadConstant, []int{1, 2, 3, -1}},
		{"crop and edge", []int{4}, []int{-3, 2}, PadEdge, []int{3, 3, 3}},
		{"2-D constant", []int{2, 2}, []int{1, 0, 0, 1}, PadConstant, []int{-1, -1, -1, 0, 1, -1, 2, 3, -1}},
		{"2-D reflect", []int{2, 3}, []int{1, 1, 0, 0}, PadReflect, []int{4, 3, 4, 5, 1, 0, 1, 2, 4, 3, 4, 5}},
		{"fill, and a crop to one column", []int{2, 3}, []int{1, -2, 0, 0}, PadConstant, []int{-1, 2, 5}},
	} {
		p, err := NewPad(c.dims, c.pads, c.mode)
		if err != nil {
			t.Fatal(err)
		}
		checkRemap(t, "pad "+c.name, p, ramp(shapeSize(c.dims)), c.want)
	}
	if _, err := NewPad([]int{3}, []int{-2, -2}, PadConstant); err == nil {
		t.Error("cropping 4 of 3 elements: no error")
	}
}

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

func TestShuffleNoAllocs(t *testing.T) {
	r := rand.New(rand.NewPCG(9, 10))
	x := randFloats(r, 16*40*40)
	y, dx := make([]float32, len(x)), make([]float32, len(x))
	tp, _ := NewTranspose([]int{1, 16, 40, 40}, []int{0, 2, 3, 1})
	pad, _ := NewPad([]int{1, 16, 40, 40}, []int{0, 0, 1, 1, 0, 0, 1, 1}, PadReflect)
	padded := make([]float32, pad.Size())
	cp := NewConcat([][]int{{1, 16, 40, 40}, {1, 16, 40, 40}}, 1)
	joined := make([]float32, 2*len(x))
	srcs, dsrcs := [][]float32{x, y}, [][]float32{dx, nil}
	run := func() {
		Remap(y, x, 0, tp)
		RemapBackward(dx, y, tp)
		Remap(padded, x, 0, pad)
		RemapBackward(dx, padded, pad)
		Concat(joined, srcs, cp)
		ConcatBackward(dsrcs, nil, joined, cp)
	}
	run()
	if n := testing.AllocsPerRun(10, run); n != 0 {
		t.Errorf("Remap + Concat allocate %v times per run", n)
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

func BenchmarkTranspose(b *testing.B) {
	r := rand.New(rand.NewPCG(1, 1))
	p, _ := NewTranspose([]int{1, 64, 112, 112}, []int{0, 2, 3, 1})
	x := randFloats(r, p.Size())
	y := make([]float32, len(x))
	b.SetBytes(int64(8 * len(x)))
	for b.Loop() {
		Remap(y, x, 0, p)
	}
}

// The kernels walk merged axes: a channel shuffle moves whole planes, a
// slice of channels one block per image, a broadcast one run per row.
func TestRemapMergesAxes(t *testing.T) {
	shuffle, _ := NewTranspose([]int{1, 2, 48, 16, 20}, []int{0, 2, 1, 3, 4})
	chunk, _ := NewSlice([]int{2, 96, 8, 8}, []int{0, 48, 0, 0}, []int{1, 1, 1, 1}, []int{2, 48, 8, 8})
	nhwc, _ := NewTranspose([]int{1, 16, 8, 8}, []int{0, 2, 3, 1})
	expand, _ := NewExpand([]int{3, 1, 1}, []int{3, 5, 7})
	for _, c := range []struct {
		name       string
		p          *RemapParams
		dims       []int
		contiguous bool
	}{
		{"channel shuffle", shuffle, []int{48, 2, 320}, true},
		{"slice of channels", chunk, []int{2, 3072}, true},
		{"NCHW to NHWC", nhwc, []int{64, 16}, false},
		{"expand", expand, []int{3, 35}, false},
	} {
		if !slices.Equal(c.p.dims, c.dims) || c.p.contiguous != c.contiguous {
			t.Errorf("%s: walks %v (contiguous %v), want %v (%v)", c.name, c.p.dims, c.p.contiguous, c.dims, c.contiguous)
		}
	}
}
